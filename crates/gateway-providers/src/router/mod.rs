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

use gateway_core::phases::route::{Routed, Router, ServedBy};
use gateway_core::types::{EmbeddingsRequest, EmbeddingsResponse, ModelInfo};
use gateway_core::{
    ChatRequest, ChatResponse, ChatStream, GatewayError, Provider, ProviderError, RequestContext,
};

use health::{Health, InFlight};
pub use policy::{CircuitConfig, RoutingPolicy, Strategy, parse_duration};
use select::Rng;
pub use state::{CircuitStatus, DeploymentState};

/// One way to serve a model group.
#[derive(Clone)]
pub struct Deployment {
    pub provider: Arc<dyn Provider>,
    pub upstream_model: Arc<str>,
    pub weight: u32,
    /// Lower is tried first.
    pub priority: u32,
    pub region: Option<Arc<str>>,
}

impl std::fmt::Debug for Deployment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deployment")
            .field("provider", &self.provider.name())
            .field("upstream_model", &self.upstream_model)
            .field("weight", &self.weight)
            .field("priority", &self.priority)
            .field("region", &self.region)
            .finish()
    }
}

impl Deployment {
    /// Weight 1, priority 0, no region.
    pub fn new(provider: Arc<dyn Provider>, upstream_model: &str) -> Self {
        Deployment {
            provider,
            upstream_model: Arc::from(upstream_model),
            weight: 1,
            priority: 0,
            region: None,
        }
    }

    pub fn with_weight(mut self, weight: u32) -> Self {
        self.weight = weight;
        self
    }

    pub fn with_priority(mut self, priority: u32) -> Self {
        self.priority = priority;
        self
    }

    pub fn with_region(mut self, region: &str) -> Self {
        self.region = Some(Arc::from(region));
        self
    }

    fn served_by(&self, attempts: u32) -> ServedBy {
        ServedBy {
            provider: Arc::from(self.provider.name()),
            upstream_model: self.upstream_model.clone(),
            region: self.region.clone(),
            attempts,
        }
    }
}

/// A public model name, the deployments that can serve it and how to choose among them.
#[derive(Debug, Clone, Default)]
pub struct ModelGroup {
    pub name: String,
    pub deployments: Vec<Deployment>,
    pub routing: RoutingPolicy,
}

impl ModelGroup {
    /// A group with the default [`RoutingPolicy`].
    pub fn new(name: impl Into<String>, deployments: Vec<Deployment>) -> Self {
        ModelGroup {
            name: name.into(),
            deployments,
            routing: RoutingPolicy::default(),
        }
    }

    pub fn with_routing(mut self, routing: RoutingPolicy) -> Self {
        self.routing = routing;
        self
    }
}

#[derive(Debug)]
pub(crate) struct Slot {
    pub deployment: Deployment,
    pub health: Arc<Health>,
}

#[derive(Debug)]
struct Group {
    policy: RoutingPolicy,
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
                    requests: s.requests,
                    failures: s.failures,
                });
            }
        }
        out
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
            return Err(GatewayError::Forbidden(format!(
                "No deployment of model '{model}' is in a region this caller may use."
            )));
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
        let order = select::order(policy.strategy, &group.slots, &allowed, &self.rng);
        let deadline = Instant::now() + policy.deadline;
        let mut tried = vec![false; group.slots.len()];
        let (mut attempts, mut retries, mut skipped) = (0u32, 0u32, 0usize);
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
                if now + wait >= deadline {
                    break;
                }
                tokio::time::sleep(wait).await;
            }
            let slot = &slots[index];
            let Some(mut permit) = slot.health.try_acquire(Instant::now()) else {
                tried[index] = true;
                skipped += 1;
                continue;
            };
            attempts += 1;
            tried[index] = true;
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
                        served_by: slot.deployment.served_by(attempts),
                    });
                }
                Err(err) => {
                    let retryable = err.is_retryable();
                    if retryable {
                        permit.fail(Instant::now(), &policy.circuit);
                    } else {
                        permit.healthy();
                    }
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
        Err(match last {
            Some((err, _)) => err,
            None => GatewayError::Unavailable(format!(
                "Every deployment of model '{model}' is failing and temporarily out of rotation; retry later."
            )),
        })
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
        let mut req = req;
        let call = |d: &Deployment| {
            req.model.clear();
            req.model.push_str(&d.upstream_model);
            let r = req.clone();
            let provider = d.provider.clone();
            async move { provider.chat(&r).await }
        };
        self.run(&model, ctx, call, |v, _permit, _| v).await
    }

    async fn chat_stream(
        &self,
        req: ChatRequest,
        ctx: &RequestContext,
    ) -> Result<Routed<ChatStream>, GatewayError> {
        let model = req.model.clone();
        let mut req = req;
        let call = |d: &Deployment| {
            req.model.clear();
            req.model.push_str(&d.upstream_model);
            let r = req.clone();
            let provider = d.provider.clone();
            async move {
                let stream = provider.chat_stream(&r).await?;
                stream::first_event(stream).await
            }
        };
        self.run(&model, ctx, call, stream::guarded).await
    }

    async fn embeddings(
        &self,
        req: EmbeddingsRequest,
        ctx: &RequestContext,
    ) -> Result<Routed<EmbeddingsResponse>, GatewayError> {
        let model = req.model.clone();
        let mut req = req;
        let call = |d: &Deployment| {
            req.model.clear();
            req.model.push_str(&d.upstream_model);
            let r = req.clone();
            let provider = d.provider.clone();
            async move { provider.embeddings(&r).await }
        };
        self.run(&model, ctx, call, |v, _permit, _| v).await
    }
}
