//! The router: public model groups -> deployments (provider + upstream model + weight +
//! priority + region), chosen per the group's [`Strategy`], with retries (exponential backoff
//! with jitter, honouring `retry-after`), fallback to the next deployment on retryable failures,
//! a total deadline, and a circuit breaker per deployment.
//!
//! Rules, per request: deployments outside the caller's allowed regions are never used (and
//! none left is a 403); open circuits are skipped (all open is a 503); a retryable failure
//! (connect error, timeout, 408/409/429/5xx) moves on to the next untried deployment at once,
//! or, when every admissible deployment was tried, retries after a backoff; a non-retryable
//! failure is returned at once; `max_attempts` and `deadline` bound it all. A stream falls back
//! only until its first event: the router hands it out after that, and never switches again.

mod adaptive;
mod deployment;
mod health;
mod policy;
mod select;
mod state;
mod stream;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use gateway_core::phases::route::{CircuitObserver, Routed, Router};
use gateway_core::types::{EmbeddingsRequest, EmbeddingsResponse, ModelInfo};
use gateway_core::{
    ChatRequest, ChatResponse, ChatStream, DeniedBy, GatewayError, LimitKind, ProviderError,
    RequestContext,
};

pub use adaptive::AdaptiveConfig;
use deployment::Slot;
pub use deployment::{Deployment, ModelGroup};
use health::InFlight;
pub use policy::{CircuitConfig, RoutingPolicy, Strategy, UnsupportedParams, parse_duration};
use select::Rng;
pub use state::{CircuitStatus, DeploymentState};

#[derive(Debug)]
struct Group {
    policy: RoutingPolicy,
    unsupported_params: UnsupportedParams,
    slots: Vec<Slot>,
}

#[derive(Debug)]
pub struct ModelRouter {
    groups: HashMap<String, Group>,
    rng: Rng,
}

impl Default for ModelRouter {
    fn default() -> Self {
        ModelRouter::new(Vec::new())
    }
}

/// Exponential backoff before retry number `retry` (1-based), with equal jitter.
fn backoff(policy: &RoutingPolicy, retry: u32, rng: &Rng) -> Duration {
    let exp = policy
        .base_backoff
        .saturating_mul(1u32 << retry.saturating_sub(1).min(20));
    let capped = exp.min(policy.max_backoff);
    capped / 2 + capped.mul_f64(rng.unit() / 2.0)
}

impl ModelRouter {
    pub fn new(groups: impl IntoIterator<Item = ModelGroup>) -> Self {
        let groups = groups
            .into_iter()
            .map(|g| {
                let mut slots: Vec<Slot> = g
                    .deployments
                    .into_iter()
                    .map(|deployment| Slot {
                        deployment,
                        health: Arc::default(),
                    })
                    .collect();
                slots.sort_by_key(|s| s.deployment.priority);
                (
                    g.name,
                    Group {
                        policy: g.routing,
                        unsupported_params: g.unsupported_params,
                        slots,
                    },
                )
            })
            .collect();
        ModelRouter {
            groups,
            rng: Rng::from_time(),
        }
    }

    /// Fix the random source (weighted choices, jitter) for reproducible tests.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.rng = Rng::new(seed);
        self
    }

    /// Set every deployment's adaptive concurrency (on by default: see [`AdaptiveConfig`]).
    /// Call before routing: it resets the deployments' health (an observer set before is kept).
    pub fn with_adaptive(mut self, config: AdaptiveConfig) -> Self {
        for group in self.groups.values_mut() {
            for slot in &mut group.slots {
                let health = health::Health::with_adaptive(config);
                if let Some(notice) = slot.health.notice.get() {
                    let _ = health.notice.set(notice.clone());
                }
                slot.health = Arc::new(health);
            }
        }
        self
    }

    /// Tell `observer` whenever a deployment's circuit opens (the router reports each
    /// opening; de-duplicating a flapping circuit is the observer's business).
    pub fn with_circuit_observer(self, observer: Arc<dyn CircuitObserver>) -> Self {
        for (name, group) in &self.groups {
            let model: Arc<str> = Arc::from(name.as_str());
            for slot in &group.slots {
                let d = &slot.deployment;
                let _ = slot.health.notice.set(health::Notice {
                    observer: observer.clone(),
                    model: model.clone(),
                    provider: d.provider_name.clone(),
                    upstream_model: d.upstream_model.clone(),
                    region: d.region.clone(),
                });
            }
        }
        self
    }

    /// Every deployment's state, by model group then try order.
    pub fn deployment_states(&self) -> Vec<DeploymentState> {
        let now = Instant::now();
        let mut names: Vec<&String> = self.groups.keys().collect();
        names.sort();
        let mut out = Vec::new();
        for name in names {
            for slot in self
                .groups
                .get(name)
                .map(|g| g.slots.as_slice())
                .unwrap_or_default()
            {
                let d = &slot.deployment;
                let s = slot.health.snapshot();
                let (circuit, retry_in_ms) = state::circuit_status(&s, now);
                out.push(DeploymentState {
                    model: name.clone(),
                    provider: Arc::from(d.provider.name()),
                    upstream_model: d.upstream_model.clone(),
                    region: d.region.clone(),
                    priority: d.priority,
                    weight: d.weight,
                    circuit,
                    consecutive_failures: s.consecutive_failures,
                    retry_in_ms,
                    ewma_latency_ms: s.ewma_latency.map(|l| l.as_secs_f64() * 1000.0),
                    in_flight: s.in_flight,
                    concurrency_limit: s.concurrency_limit,
                    requests: s.requests,
                    failures: s.failures,
                });
            }
        }
        out
    }

    /// The smoothed latency of a model group's fastest deployment, in milliseconds, once
    /// calls have been seen (prompt-type routing breaks cost ties with it).
    pub fn latency_ms(&self, model: &str) -> Option<f64> {
        self.groups
            .get(model)?
            .slots
            .iter()
            .filter_map(|s| s.health.latency_nanos())
            .reduce(f64::min)
            .map(|n| n / 1e6)
    }

    /// The unsupported-parameter policy of a model group (drop when unknown).
    fn param_policy(&self, model: &str) -> UnsupportedParams {
        self.groups
            .get(model)
            .map_or(UnsupportedParams::default(), |g| g.unsupported_params)
    }

    /// The routing policy of a model group.
    pub fn policy(&self, model: &str) -> Option<&RoutingPolicy> {
        self.groups.get(model).map(|g| &g.policy)
    }

    fn group(
        &self,
        model: &str,
        ctx: &RequestContext,
    ) -> Result<(&Group, Vec<usize>), GatewayError> {
        let group = self
            .groups
            .get(model)
            .ok_or_else(|| GatewayError::ModelNotFound(model.to_owned()))?;
        let allowed: Vec<usize> = (0..group.slots.len())
            .filter(
                |&i| match (&ctx.constraints.regions, &group.slots[i].deployment.region) {
                    (None, _) => true,
                    (Some(regions), Some(region)) => {
                        regions.iter().any(|r| r.as_str() == &**region)
                    }
                    (Some(_), None) => false,
                },
            )
            .collect();
        if allowed.is_empty() {
            return Err(GatewayError::forbidden(
                DeniedBy::Region,
                format!("No deployment of model '{model}' is in a region this caller may use."),
            ));
        }
        Ok((group, allowed))
    }

    /// Run `call` against the group's deployments until one succeeds or the policy gives up.
    /// `finish` turns a success and its still-open permit into the value handed out.
    async fn run<T, U, F, Fut>(
        &self,
        model: &str,
        ctx: &RequestContext,
        mut call: F,
        finish: impl FnOnce(T, InFlight, CircuitConfig) -> U,
    ) -> Result<Routed<U>, GatewayError>
    where
        F: FnMut(&Deployment) -> Fut,
        Fut: std::future::Future<Output = Result<T, ProviderError>>,
    {
        let (group, allowed) = self.group(model, ctx)?;
        let policy = &group.policy;
        let order = select::order(policy.strategy, &group.slots, allowed, &self.rng);
        let deadline = health::later(Instant::now(), policy.deadline);
        let mut tried = vec![false; group.slots.len()];
        let mut path: Vec<Arc<str>> = Vec::with_capacity(1);
        let (mut attempts, mut retries, mut skipped) = (0u32, 0u32, 0usize);
        let mut saturated = false;
        let mut last: Option<(GatewayError, Option<Duration>)> = None;
        while attempts < policy.max_attempts.max(1) && skipped <= group.slots.len() {
            let now = Instant::now();
            let slots = &group.slots;
            let fresh = order
                .iter()
                .copied()
                .find(|&i| !tried[i] && slots[i].health.admits(now));
            let Some(index) =
                fresh.or_else(|| order.iter().copied().find(|&i| slots[i].health.admits(now)))
            else {
                break;
            };
            if fresh.is_none() {
                retries += 1;
                let retry_after = last.as_ref().and_then(|(_, ra)| *ra).unwrap_or_default();
                let wait = backoff(policy, retries, &self.rng).max(retry_after);
                if health::later(now, wait) >= deadline {
                    break;
                }
                tokio::time::sleep(wait).await;
            }
            let slot = &slots[index];
            let Some(mut permit) = slot.health.try_acquire(Instant::now()) else {
                saturated |= slot.health.saturated();
                tried[index] = true;
                skipped += 1;
                continue;
            };
            attempts += 1;
            tried[index] = true;
            path.push(slot.deployment.provider_name.clone());
            let provider = slot.deployment.provider.name();
            let result = match tokio::time::timeout_at(deadline, call(&slot.deployment)).await {
                Ok(result) => result,
                Err(_) => Err(ProviderError::Timeout(gateway_core::TimeoutPhase::Total)),
            };
            match result {
                Ok(value) => {
                    permit.succeed(Instant::now());
                    let value = finish(value, permit, policy.circuit);
                    return Ok(Routed {
                        value,
                        served_by: slot.deployment.served_by(attempts, path),
                    });
                }
                Err(err) => {
                    let retryable = err.is_retryable();
                    permit.failed(&err, Instant::now(), &policy.circuit);
                    tracing::warn!(
                        request_id = %ctx.request_id,
                        model,
                        provider,
                        upstream_model = %slot.deployment.upstream_model,
                        attempt = attempts,
                        retryable,
                        error = %err,
                        "upstream attempt failed"
                    );
                    let retry_after = match &err {
                        ProviderError::Status {
                            status: 429,
                            retry_after,
                            ..
                        } => *retry_after,
                        _ => None,
                    };
                    last = Some((err.into_gateway_error(provider), retry_after));
                    if !retryable || Instant::now() >= deadline {
                        break;
                    }
                }
            }
        }
        let err = match last {
            Some((err, _)) => err,
            None if saturated => GatewayError::RateLimited {
                limit: LimitKind::Concurrency,
                message: format!(
                    "Every deployment of model '{model}' is at its concurrency limit (the provider is pushing back); retry shortly."
                ),
                retry_after: Some(Duration::from_secs(1)),
            },
            None => GatewayError::Unavailable(format!(
                "Every deployment of model '{model}' is failing and temporarily out of rotation; retry later."
            )),
        };
        Err(match &ctx.constraints.regions {
            Some(regions) => in_regions(err, regions),
            None => err,
        })
    }
}

/// A pinned caller's failure says why no other deployment was tried: residency, not chance.
fn in_regions(err: GatewayError, regions: &[String]) -> GatewayError {
    let pinned = |message: &str| {
        format!(
            "No deployment in region(s) {} could serve the request, and it is not sent elsewhere: {message}",
            regions.join(", ")
        )
    };
    match err {
        GatewayError::Upstream {
            status,
            message,
            retry_after,
            retryable,
        } => GatewayError::Upstream {
            status,
            message: pinned(&message),
            retry_after,
            retryable,
        },
        GatewayError::Unavailable(message) => GatewayError::Unavailable(pinned(&message)),
        other => other,
    }
}

#[async_trait]
impl Router for ModelRouter {
    fn models(&self) -> Vec<ModelInfo> {
        let mut models: Vec<ModelInfo> = self
            .groups
            .iter()
            .map(|(name, g)| {
                let owner = g
                    .slots
                    .first()
                    .map_or("gateway", |s| s.deployment.provider.name());
                ModelInfo::new(name.clone(), owner)
            })
            .collect();
        models.sort_by(|a, b| a.id.cmp(&b.id));
        models
    }

    fn knows(&self, model: &str) -> bool {
        self.groups.contains_key(model)
    }

    async fn chat(
        &self,
        req: ChatRequest,
        ctx: &RequestContext,
    ) -> Result<Routed<ChatResponse>, GatewayError> {
        let model = req.model.clone();
        let params = self.param_policy(&model);
        let mut req = Arc::new(req);
        let call = |d: &Deployment| {
            let r = for_deployment(&mut req, d);
            let provider = d.provider.clone();
            let checked = params_for(params, provider.as_ref(), &r, &model);
            async move {
                let dropped = checked?;
                Ok((provider.chat(&r).await?, dropped))
            }
        };
        self.run(&model, ctx, call, |v, _permit, _| v)
            .await
            .map(with_dropped)
    }

    async fn chat_stream(
        &self,
        req: ChatRequest,
        ctx: &RequestContext,
    ) -> Result<Routed<ChatStream>, GatewayError> {
        let model = req.model.clone();
        let params = self.param_policy(&model);
        let mut req = Arc::new(req);
        let call = |d: &Deployment| {
            let r = for_deployment(&mut req, d);
            let provider = d.provider.clone();
            let checked = params_for(params, provider.as_ref(), &r, &model);
            async move {
                let dropped = checked?;
                let stream = provider.chat_stream(&r).await?;
                Ok((stream::first_event(stream).await?, dropped))
            }
        };
        self.run(&model, ctx, call, |(peeked, dropped), permit, circuit| {
            (stream::guarded(peeked, permit, circuit), dropped)
        })
        .await
        .map(with_dropped)
    }

    async fn embeddings(
        &self,
        req: EmbeddingsRequest,
        ctx: &RequestContext,
    ) -> Result<Routed<EmbeddingsResponse>, GatewayError> {
        let model = req.model.clone();
        let mut req = Arc::new(req);
        let call = |d: &Deployment| {
            let r = for_deployment(&mut req, d);
            let provider = d.provider.clone();
            async move { provider.embeddings(&r).await }
        };
        self.run(&model, ctx, call, |v, _permit, _| v).await
    }
}

/// The parameters of `req` that `provider` would leave out, under `policy`: the list to report
/// (`drop`), or the refusal naming the first (`reject`). The refusal names the model as the
/// caller did (`public_model`), not the deployment's upstream model.
fn params_for(
    policy: UnsupportedParams,
    provider: &dyn gateway_core::Provider,
    req: &ChatRequest,
    public_model: &str,
) -> Result<Vec<&'static str>, ProviderError> {
    let unsupported = provider.unsupported_params(req);
    match (policy, unsupported.first()) {
        (UnsupportedParams::Reject, Some(&param)) => Err(ProviderError::UnsupportedParam {
            param,
            message: format!(
                "The parameter '{param}' is not supported by the provider serving model '{}' \
                 ({}); remove it, or ask the operator to set unsupported_params = \"drop\".",
                public_model,
                provider.name()
            ),
        }),
        _ => Ok(unsupported),
    }
}

/// A routed value and the parameters dropped for it -> the value, the drop recorded.
fn with_dropped<T>(routed: Routed<(T, Vec<&'static str>)>) -> Routed<T> {
    let (value, dropped_params) = routed.value;
    let mut served_by = routed.served_by;
    served_by.dropped_params = dropped_params;
    Routed { value, served_by }
}

/// Requests that name their model, so each attempt can carry its deployment's model name.
trait ModelNamed: Clone {
    fn model_mut(&mut self) -> &mut String;
}

impl ModelNamed for ChatRequest {
    fn model_mut(&mut self) -> &mut String {
        &mut self.model
    }
}

impl ModelNamed for EmbeddingsRequest {
    fn model_mut(&mut self) -> &mut String {
        &mut self.model
    }
}

/// The request as `d` must receive it. Attempts run one after another, so the previous
/// attempt's handle is gone by now and the model is rewritten in place: no per-attempt copy
/// of the whole request (messages can be large).
fn for_deployment<R: ModelNamed>(req: &mut Arc<R>, d: &Deployment) -> Arc<R> {
    let model = Arc::make_mut(req).model_mut();
    if *model != *d.upstream_model {
        model.clear();
        model.push_str(&d.upstream_model);
    }
    req.clone()
}
