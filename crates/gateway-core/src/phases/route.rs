//! Phase 7: route and call — choose a deployment for a public model name, call it, retry and
//! fall back. Implemented by `gateway-providers`' router.

use std::sync::Arc;

use async_trait::async_trait;

use crate::context::RequestContext;
use crate::error::GatewayError;
use crate::provider::ChatStream;
use crate::types::{ChatRequest, ChatResponse, EmbeddingsRequest, EmbeddingsResponse, ModelInfo};

/// Which deployment served a call.
#[derive(Debug, Clone, PartialEq)]
pub struct ServedBy {
    pub provider: Arc<str>,
    pub upstream_model: Arc<str>,
    pub region: Option<Arc<str>>,
    /// Upstream attempts made, including retries and fallbacks (1 when the first succeeded).
    pub attempts: u32,
    /// The providers attempted, in order, ending with the one that served (the cascade path).
    pub path: Vec<Arc<str>>,
    /// Request parameters the serving upstream has no form for, left out under the model's
    /// `drop` policy (the edge names them in `x-gateway-dropped-params`).
    pub dropped_params: Vec<&'static str>,
    /// Why a call to a virtual model went to this model group (prompt-type routing; the
    /// edge's `x-gateway-route-reason`). `None` when the caller named a model.
    pub route_reason: Option<Arc<str>>,
    /// The task the prompt classifier saw in the request, when routing classified it.
    pub task: Option<crate::features::TaskType>,
}

#[derive(Debug)]
pub struct Routed<T> {
    pub value: T,
    pub served_by: ServedBy,
}

#[async_trait]
pub trait Router: Send + Sync {
    /// Public model names with their owner.
    fn models(&self) -> Vec<ModelInfo>;

    fn knows(&self, model: &str) -> bool;

    /// `req.model` is the public name; the router rewrites it per deployment.
    async fn chat(
        &self,
        req: ChatRequest,
        ctx: &RequestContext,
    ) -> Result<Routed<ChatResponse>, GatewayError>;

    /// Falls back only before the stream is handed out: once a caller holds the stream,
    /// the deployment is fixed.
    async fn chat_stream(
        &self,
        req: ChatRequest,
        ctx: &RequestContext,
    ) -> Result<Routed<ChatStream>, GatewayError>;

    async fn embeddings(
        &self,
        req: EmbeddingsRequest,
        ctx: &RequestContext,
    ) -> Result<Routed<EmbeddingsResponse>, GatewayError>;
}

/// A deployment's circuit breaker opened: it failed `failure_threshold` times in a row, or the
/// probe after its cooldown failed. The router reports every opening; what to do with it
/// (a webhook, an alert) and how to de-duplicate a flapping circuit is the observer's business.
#[derive(Debug, Clone, PartialEq)]
pub struct CircuitOpened {
    /// The public model group.
    pub model: Arc<str>,
    /// The provider's configured name.
    pub provider: Arc<str>,
    pub upstream_model: Arc<str>,
    pub region: Option<Arc<str>>,
    /// Consecutive failures that opened it.
    pub consecutive_failures: u32,
    /// How long it stays open before a probe is let through.
    pub cooldown: std::time::Duration,
    /// Whether it opened again after a failed probe (rather than from closed).
    pub reopened: bool,
}

/// Told when a deployment's circuit opens. Called on the request path, outside any lock:
/// return at once (queue the work).
pub trait CircuitObserver: Send + Sync {
    fn circuit_opened(&self, event: &CircuitOpened);
}
