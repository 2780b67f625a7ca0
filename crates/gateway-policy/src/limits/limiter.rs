//! [`Limiter`]: the admission phase. It resolves the rules of a call, reserves its estimate
//! on every rule at once (or on none), queues calls refused only by a concurrency limit, and
//! hands out a permit that reconciles the reservation with real usage.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arc_swap::ArcSwap;
use async_trait::async_trait;
use tokio::time::Instant;

use gateway_core::phases::account::CostModel;
use gateway_core::phases::admission::{Admission, Admitted, UsageEstimate};
use gateway_core::{ChatRequest, GatewayError, RequestContext, Usage};

use super::allowance::Spec;
use super::backend::{Ask, Backend, BackendDown, Decision, Denial, RuleView};
use super::clock::{Clock, window_at, window_start};
use super::config::{BackendKind, FailMode, LimitsConfig, TokenCount, UnpricedMode};
use super::estimate::{Family, prompt_tokens};
use super::events::{
    BudgetSpend, LimitEvents, LimiterStats, Rejection, StatsSnapshot, TracingEvents,
};
use super::memory::MemoryBackend;
use super::messages;
use super::permit::{LimitPermit, snapshot, unlimited};
use super::queue::Queues;
use super::redis_backend::RedisBackend;
use super::rules::{
    Dimension, Kind, Rule, Scope, add_batch_share, needs_tokens, resolve, usd_to_micros,
};

/// Building a limiter failed.
#[derive(Debug, thiserror::Error)]
pub enum LimitsError {
    #[error("invalid limits configuration: {}", .0.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join("; "))]
    InvalidConfig(Vec<(String, String)>),
    #[error("limits backend: {0}")]
    Backend(String),
}

/// One deployment of a public model, to price reservations and pick a tokenizer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub provider: String,
    pub upstream_model: String,
}

pub(crate) struct Inner {
    config: ArcSwap<LimitsConfig>,
    pub(crate) backend: Box<dyn Backend>,
    pub(crate) queues: Queues,
    events: Arc<dyn LimitEvents>,
    pub(crate) stats: Arc<LimiterStats>,
    cost_model: Option<Arc<dyn CostModel>>,
    targets: HashMap<String, Vec<Target>>,
    families: HashMap<String, Family>,
    clock: Clock,
    outage_since: AtomicU64,
}

/// The limits phase; cheap to clone (clones share counters).
#[derive(Clone)]
pub struct Limiter {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter")
            .field("stats", &self.inner.stats.snapshot())
            .finish_non_exhaustive()
    }
}

/// Builds a [`Limiter`].
pub struct LimiterBuilder {
    config: LimitsConfig,
    cost_model: Option<Arc<dyn CostModel>>,
    events: Arc<dyn LimitEvents>,
    targets: HashMap<String, Vec<Target>>,
}

impl LimiterBuilder {
    /// Price reservations of spend limits (without it, spend limits count unpriced calls).
    pub fn cost_model(mut self, cost_model: Option<Arc<dyn CostModel>>) -> Self {
        self.cost_model = cost_model;
        self
    }

    pub fn events(mut self, events: Arc<dyn LimitEvents>) -> Self {
        self.events = events;
        self
    }

    /// A deployment of the public model `model`: reservations are priced at the dearest
    /// deployment, and prompts counted with the first deployment's tokenizer.
    pub fn target(mut self, model: &str, provider: &str, upstream_model: &str) -> Self {
        self.targets
            .entry(model.to_owned())
            .or_default()
            .push(Target {
                provider: provider.to_owned(),
                upstream_model: upstream_model.to_owned(),
            });
        self
    }

    /// Build; the Redis backend needs a tokio runtime (it connects lazily, so an unreachable
    /// Redis is not an error here but the fail mode at admission).
    pub fn build(self) -> Result<Limiter, LimitsError> {
        let problems = self.config.problems("limits");
        if !problems.is_empty() {
            return Err(LimitsError::InvalidConfig(problems));
        }
        let clock = Clock::new();
        let stats = Arc::new(LimiterStats::default());
        let backend: Box<dyn Backend> = match self.config.backend {
            BackendKind::Memory => Box::new(MemoryBackend::new(clock)),
            BackendKind::Redis => Box::new(
                RedisBackend::new(&self.config.redis, clock, stats.clone())
                    .map_err(|e| LimitsError::Backend(e.to_string()))?,
            ),
        };
        let families = self
            .targets
            .iter()
            .filter_map(|(m, ts)| Some((m.clone(), Family::of(&ts.first()?.upstream_model))))
            .collect();
        Ok(Limiter {
            inner: Arc::new(Inner {
                config: ArcSwap::from_pointee(self.config),
                backend,
                queues: Queues::default(),
                events: self.events,
                stats,
                cost_model: self.cost_model,
                targets: self.targets,
                families,
                clock,
                outage_since: AtomicU64::new(0),
            }),
        })
    }
}

impl Limiter {
    pub fn builder(config: &LimitsConfig) -> LimiterBuilder {
        LimiterBuilder {
            config: config.clone(),
            cost_model: None,
            events: Arc::new(TracingEvents),
            targets: HashMap::new(),
        }
    }

    /// A limiter over `config`, pricing spend with `cost_model` when given.
    pub fn new(
        config: &LimitsConfig,
        cost_model: Option<Arc<dyn CostModel>>,
    ) -> Result<Limiter, LimitsError> {
        Limiter::builder(config).cost_model(cost_model).build()
    }

    pub fn stats(&self) -> StatsSnapshot {
        self.inner.stats.snapshot()
    }

    /// Apply new limit values, queue settings and modes at once (the backend and its Redis
    /// settings are fixed at start).
    pub fn reload(&self, config: &LimitsConfig) -> Result<(), LimitsError> {
        let problems = config.problems("limits");
        if !problems.is_empty() {
            return Err(LimitsError::InvalidConfig(problems));
        }
        self.inner.config.store(Arc::new(config.clone()));
        Ok(())
    }

    /// Calls of `tenant` waiting in the queue now (this instance).
    pub fn queue_depth(&self, tenant: &str) -> usize {
        self.inner.queues.depth(tenant)
    }

    /// With `token_count = "tokenizer"`, load the tables of the configured models now rather
    /// than on a first call; the default estimate has none to load.
    pub fn warm_up(&self) {
        if self.inner.config.load().token_count != TokenCount::Tokenizer {
            return;
        }
        for family in self.inner.families.values() {
            family.warm_up();
        }
    }

    fn family(&self, model: &str) -> Family {
        self.inner
            .families
            .get(model)
            .copied()
            .unwrap_or_else(|| Family::of(model))
    }

    /// The estimate priced at the dearest deployment; `None` when no price is known.
    fn price(&self, est: &UsageEstimate) -> Option<f64> {
        let model = self.inner.cost_model.as_ref()?;
        let usage = Usage::new(est.prompt_tokens, est.max_output_tokens);
        match self.inner.targets.get(&est.model) {
            Some(targets) if !targets.is_empty() => targets
                .iter()
                .filter_map(|t| model.cost_usd(&t.provider, &t.upstream_model, &usage))
                .reduce(f64::max),
            _ => model.cost_usd("", &est.model, &usage),
        }
    }

    async fn attempt(&self, ask: &Ask<'_>, mode: FailMode) -> Result<Decision, GatewayError> {
        match self.inner.backend.acquire(ask).await {
            Ok(d) => {
                if self.inner.stats.backend_answered() {
                    let since = self.inner.outage_since.swap(0, Ordering::AcqRel);
                    let outage = self.inner.clock.nanos().saturating_sub(since);
                    self.inner
                        .events
                        .on_backend_recovered(std::time::Duration::from_nanos(outage));
                }
                Ok(d)
            }
            Err(BackendDown(e)) => {
                if self.inner.stats.backend_failed(mode) {
                    self.inner
                        .outage_since
                        .store(self.inner.clock.nanos(), Ordering::Release);
                    self.inner.events.on_backend_unavailable(&e, mode);
                }
                match mode {
                    FailMode::Open => Ok(Decision::Granted {
                        held: Box::new(super::permit::Nothing),
                        views: Vec::new(),
                    }),
                    FailMode::Closed => Err(GatewayError::Unavailable(
                        "Rate limits cannot be checked right now (the limits backend is unreachable); retry shortly.".to_owned(),
                    )),
                }
            }
        }
    }

    fn refuse(
        &self,
        ctx: &RequestContext,
        est: &UsageEstimate,
        ask: &Ask<'_>,
        denial: Denial,
        waited: Option<std::time::Duration>,
    ) -> GatewayError {
        let rule: &Rule = &ask.rules[denial.index];
        self.inner.stats.bump_rejected();
        let p = &ctx.principal;
        self.inner.events.on_rejected(&Rejection {
            tenant: p.tenant.as_str(),
            subject: &p.subject,
            model: &est.model,
            scope: rule.scope,
            dimension: rule.dimension,
            limit: rule.limit,
            retry_after: denial.retry_after,
            waited,
        });
        messages::refused(p, &est.model, rule, ask.amount(rule), denial, waited)
    }

    /// What a stream of `est` may reserve beyond its admission, under `rules`' token and
    /// spend limits; `None` without such limits.
    fn allowance(
        &self,
        config: &LimitsConfig,
        est: &UsageEstimate,
        rules: &[Rule],
    ) -> Option<Spec> {
        let rules = Spec::hard_rules(rules)?;
        let block_tokens = config.default_max_tokens_reservation;
        let spends = rules
            .iter()
            .any(|r| matches!(r.dimension.kind(), Kind::Spend(_)));
        let block = UsageEstimate {
            model: est.model.clone(),
            prompt_tokens: 0,
            max_output_tokens: block_tokens,
        };
        let block_cost_micros = match spends.then(|| self.price(&block)).flatten() {
            Some(usd) => usd_to_micros(usd),
            None => 0,
        };
        Some(Spec {
            rules,
            prompt_tokens: est.prompt_tokens,
            reserved_output: est.max_output_tokens,
            block_tokens,
            block_cost_micros,
            fail_mode: config.on_backend_error,
        })
    }

    fn grant(
        &self,
        ctx: &RequestContext,
        rules: &[Rule],
        d: Decision,
        allowance: Option<Spec>,
    ) -> Option<Admitted> {
        match d {
            Decision::Granted { held, views } => {
                self.inner.stats.bump_admitted();
                self.report_budgets(ctx, rules, &views);
                let snapshot = snapshot(rules, &views);
                let permit = LimitPermit::new(held, self.inner.clone(), allowance);
                Some(Admitted {
                    permit: Box::new(permit),
                    snapshot,
                })
            }
            Decision::Denied(_) => None,
        }
    }

    /// Tells [`LimitEvents::on_budget_spend`] where each tenant and key budget of a granted
    /// call stands (a fail-open grant has no views, and reports nothing).
    fn report_budgets(&self, ctx: &RequestContext, rules: &[Rule], views: &[RuleView]) {
        let wall = self.inner.clock.wall();
        for (rule, view) in rules.iter().zip(views) {
            let Kind::Spend(window) = rule.dimension.kind() else {
                continue;
            };
            if !matches!(rule.scope, Scope::Tenant | Scope::Key) || rule.id.ends_with("/batch") {
                continue;
            }
            let span = window_at(window, wall);
            let p = &ctx.principal;
            self.inner.events.on_budget_spend(&BudgetSpend {
                tenant: p.tenant.as_str(),
                subject: &p.subject,
                scope: rule.scope,
                dimension: rule.dimension,
                rule_id: &rule.id,
                budget_micros: rule.limit,
                spent_micros: rule.limit.saturating_sub(view.remaining),
                period_start: window_start(window, span),
                period_end: span.ends_at,
            });
        }
    }

    /// Wait in the tenant's queue for a concurrency slot, re-trying when one frees.
    async fn queue(
        &self,
        ctx: &RequestContext,
        est: &UsageEstimate,
        ask: &Ask<'_>,
        config: &LimitsConfig,
        first: Denial,
    ) -> Result<Admitted, GatewayError> {
        let tenant = ctx.principal.tenant.as_str();
        let started = Instant::now();
        let deadline = started + config.queue.max_wait;
        let ticket = match self.inner.queues.enter(tenant, config.queue.max_depth) {
            Ok(t) => t,
            Err(depth) => {
                self.inner.stats.bump_queue_full();
                self.inner.events.on_queue_full(tenant, depth);
                return Err(messages::queue_full(&ctx.principal, depth));
            }
        };
        self.inner.stats.bump_queued();
        let timed_out = |denial: Denial| {
            self.inner.stats.bump_queue_timeout();
            self.refuse(ctx, est, ask, denial, Some(started.elapsed()))
        };
        let Ok(_turn) = tokio::time::timeout_at(deadline, ticket.turn()).await else {
            return Err(timed_out(first));
        };
        loop {
            let notified = self.inner.queues.notify().notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let decision = self.attempt(ask, config.on_backend_error).await?;
            let denial = match decision {
                Decision::Denied(d) => d,
                granted => {
                    let allowance = self.allowance(config, est, ask.rules);
                    return self
                        .grant(ctx, ask.rules, granted, allowance)
                        .ok_or_else(|| timed_out(first));
                }
            };
            if ask.rules[denial.index].dimension != Dimension::Concurrency {
                return Err(self.refuse(ctx, est, ask, denial, Some(started.elapsed())));
            }
            tokio::select! {
                () = &mut notified => {}
                () = tokio::time::sleep(config.queue.poll_interval) => {}
                () = tokio::time::sleep_until(deadline) => return Err(timed_out(denial)),
            }
        }
    }
}

impl Limiter {
    /// Admits a request that is not a model call (a file upload): the caller's key and tenant
    /// request-rate (`rps`, `rpm`, `rpd`) and concurrency limits count it like any call; token,
    /// spend and model limits do not apply. Refused with the same 429 as a model call; the
    /// permit holds the concurrency slot until completed or dropped.
    pub async fn admit_request(&self, ctx: &RequestContext) -> Result<Admitted, GatewayError> {
        let config = self.inner.config.load_full();
        let mut rules = resolve(&config, &ctx.principal, "");
        rules.retain(|r| {
            matches!(r.scope, Scope::Tenant | Scope::Key)
                && matches!(
                    r.dimension.kind(),
                    Kind::Rate { tokens: false, .. } | Kind::Concurrency
                )
        });
        if rules.is_empty() {
            return Ok(unlimited());
        }
        let ask = Ask {
            rules: &rules,
            tokens: 0,
            cost_micros: 0,
        };
        let est = UsageEstimate {
            model: String::new(),
            prompt_tokens: 0,
            max_output_tokens: 0,
        };
        match self.attempt(&ask, config.on_backend_error).await? {
            Decision::Denied(denial) => Err(self.refuse(ctx, &est, &ask, denial, None)),
            granted => self
                .grant(ctx, &rules, granted, None)
                .ok_or_else(|| GatewayError::Internal("limits: lost a grant".to_owned())),
        }
    }
}

#[async_trait]
impl Admission for Limiter {
    fn estimate(&self, ctx: &RequestContext, req: &ChatRequest) -> UsageEstimate {
        let config = self.inner.config.load();
        if !needs_tokens(&config, &ctx.principal, &req.model) {
            return UsageEstimate::rough(req);
        }
        let choices = u64::from(req.n.unwrap_or(1).max(1));
        let max_output = req
            .max_output_tokens()
            .map_or(config.default_max_tokens_reservation, u64::from);
        UsageEstimate {
            model: req.model.clone(),
            prompt_tokens: prompt_tokens(req, self.family(&req.model), config.token_count),
            max_output_tokens: max_output.saturating_mul(choices),
        }
    }

    async fn admit(
        &self,
        ctx: &RequestContext,
        est: &UsageEstimate,
    ) -> Result<Admitted, GatewayError> {
        let config = self.inner.config.load_full();
        let mut rules = resolve(&config, &ctx.principal, &est.model);
        if let Some(batch) = &ctx.batch {
            add_batch_share(&mut rules, batch.limit_share);
        }
        if rules.is_empty() {
            return Ok(unlimited());
        }
        let spends = rules
            .iter()
            .any(|r| matches!(r.dimension.kind(), Kind::Spend(_)));
        let cost_micros = match (spends, spends.then(|| self.price(est)).flatten()) {
            (false, _) => 0,
            (true, Some(usd)) => usd_to_micros(usd),
            (true, None) => {
                self.inner.stats.bump_unpriced();
                if config.unpriced == UnpricedMode::Reject {
                    self.inner.stats.bump_rejected();
                    return Err(messages::unpriced(&est.model));
                }
                0
            }
        };
        let ask = Ask {
            rules: &rules,
            tokens: est.total_tokens(),
            cost_micros,
        };
        let decision = self.attempt(&ask, config.on_backend_error).await?;
        let denial = match decision {
            Decision::Denied(d) => d,
            granted => {
                let allowance = self.allowance(&config, est, &rules);
                return self
                    .grant(ctx, &rules, granted, allowance)
                    .ok_or_else(|| GatewayError::Internal("limits: lost a grant".to_owned()));
            }
        };
        let queueable =
            rules[denial.index].dimension == Dimension::Concurrency && config.queue.max_depth > 0;
        if queueable {
            self.queue(ctx, est, &ask, &config, denial).await
        } else {
            Err(self.refuse(ctx, est, &ask, denial, None))
        }
    }
}
