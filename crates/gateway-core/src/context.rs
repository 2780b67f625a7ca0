//! Per-request context passed through every phase.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use crate::principal::Principal;

/// Which inbound API a request came through (low-cardinality, used in metrics and audit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    ChatCompletions,
    Messages,
    Query,
    Embeddings,
    /// The OpenAI Responses API (`/v1/responses`).
    Responses,
    Models,
    GuardrailsCheck,
    /// Gemini `generateContent` and `streamGenerateContent`.
    GenerateContent,
    /// Gemini `embedContent` and `batchEmbedContents`.
    EmbedContent,
    /// The Files API (`/v1/files`): uploads count against request limits.
    Files,
}

impl Endpoint {
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::ChatCompletions => "chat_completions",
            Endpoint::Messages => "messages",
            Endpoint::Query => "query",
            Endpoint::Embeddings => "embeddings",
            Endpoint::Responses => "responses",
            Endpoint::Models => "models",
            Endpoint::GuardrailsCheck => "guardrails_check",
            Endpoint::GenerateContent => "generate_content",
            Endpoint::EmbedContent => "embed_content",
            Endpoint::Files => "files",
        }
    }
}

/// Constraints on where a request may be routed, set by policy and residency phases.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RouteConstraints {
    /// Only deployments tagged with one of these regions may serve the request.
    pub regions: Option<Arc<[String]>>,
}

/// Request headers the edge captured for the custom policy (`[policies] headers`): lower-case
/// name and value. Empty unless the policy asks for some.
pub type CapturedHeaders = Arc<[(String, String)]>;

/// What the pipeline knows of one request: who asked, through which API, from where, and what
/// the edge learned on the way in. Built once by the edge (or an embedding service) and
/// passed to every phase; nothing of it travels in task-locals.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub request_id: Arc<str>,
    pub principal: Principal,
    pub endpoint: Endpoint,
    pub received_at: Instant,
    pub client_ip: Option<IpAddr>,
    pub constraints: RouteConstraints,
    /// What the caller asked of the response cache.
    pub cache: crate::phases::cache::CacheDirectives,
    /// The operator allowed this tenant's prompts and completions in the logs
    /// ([`crate::content_log`]). Off unless the edge turns it on.
    pub log_content: bool,
    /// The tenant is in pass-through (zero-knowledge) mode: its content is not stored, not
    /// logged and not cached; only metadata (usage, cost, audit without content) is kept.
    /// Wins over `log_content`.
    pub passthrough: bool,
    /// Headers captured for the custom policy's `input.headers` (`None`: none).
    pub headers: Option<CapturedHeaders>,
    /// Set when the call is a line of a batch: its usage names the batch, and admission
    /// holds it to a share of the caller's limits.
    pub batch: Option<BatchCall>,
}

/// What the pipeline knows of a batch line's batch.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchCall {
    /// The batch id (`batch_...`).
    pub id: Arc<str>,
    /// The share (0, 1] of the key's and tenant's limits that batch lines may use together,
    /// so that interactive traffic keeps the rest.
    pub limit_share: f64,
}

impl RequestContext {
    pub fn new(request_id: impl Into<Arc<str>>, principal: Principal, endpoint: Endpoint) -> Self {
        let constraints = RouteConstraints {
            regions: principal.allowed_regions.clone(),
        };
        RequestContext {
            request_id: request_id.into(),
            principal,
            endpoint,
            received_at: Instant::now(),
            client_ip: None,
            constraints,
            cache: Default::default(),
            log_content: false,
            passthrough: false,
            headers: None,
            batch: None,
        }
    }
}
