//! Phase 4: admit — rate, token, concurrency and spend limits. Implemented in `gateway-policy`.

use async_trait::async_trait;

use crate::context::RequestContext;
use crate::error::GatewayError;
use crate::types::{ChatRequest, Usage};

/// Output tokens reserved for a call that does not set `max_tokens`/`max_completion_tokens`.
pub const DEFAULT_MAX_OUTPUT_TOKENS: u64 = 1024;

/// What a request is expected to consume, reserved before the call.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageEstimate {
    /// The public model name the caller asked for.
    pub model: String,
    pub prompt_tokens: u64,
    /// `max_tokens` (or [`DEFAULT_MAX_OUTPUT_TOKENS`]) times `n`; zero for embeddings.
    pub max_output_tokens: u64,
}

impl UsageEstimate {
    /// Prompt tokens plus the most the call may produce: what token limits reserve.
    pub fn total_tokens(&self) -> u64 {
        self.prompt_tokens.saturating_add(self.max_output_tokens)
    }

    /// The output budget of `req`: `max_tokens` (or the default) for each of its `n` choices.
    pub fn max_output_of(req: &ChatRequest) -> u64 {
        req.max_output_tokens()
            .map_or(DEFAULT_MAX_OUTPUT_TOKENS, u64::from)
            .saturating_mul(u64::from(req.n.unwrap_or(1).max(1)))
    }

    /// A tokenizer-free estimate: about four bytes a prompt token (see
    /// [`crate::gateway::estimate_prompt_tokens`]).
    pub fn rough(req: &ChatRequest) -> Self {
        UsageEstimate {
            model: req.model.clone(),
            prompt_tokens: crate::gateway::estimate_prompt_tokens(req),
            max_output_tokens: Self::max_output_of(req),
        }
    }
}

/// The current state of the limit closest to exhaustion, for `x-ratelimit-*` headers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LimitSnapshot {
    pub limit_requests: Option<u64>,
    pub remaining_requests: Option<u64>,
    pub reset_requests_secs: Option<f64>,
    pub limit_tokens: Option<u64>,
    pub remaining_tokens: Option<u64>,
    pub reset_tokens_secs: Option<f64>,
}

/// A held admission. Completing it reconciles the reservation with real usage; dropping it
/// without completing releases the reservation (the call failed or was cancelled).
pub trait Permit: Send {
    fn complete(self: Box<Self>, usage: Option<&Usage>, cost_usd: Option<f64>);

    /// For a streamed call under a hard token or spend limit: how much output it may produce
    /// before it must reserve more ([`crate::phases::output_cap::cap_output`] enforces it).
    /// `None` (the default): no such limit applies, the stream is not metered.
    fn output_allowance(&mut self) -> Option<Box<dyn OutputAllowance>> {
        None
    }
}

/// The future of [`OutputAllowance::extend`].
pub type Extension = std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send>>;

/// The output tokens a streamed call has reserved on its token and spend limits, and the way
/// to reserve more while it streams.
pub trait OutputAllowance: Send {
    /// Output tokens reserved so far: the admission's, then each extension's.
    fn granted(&self) -> u64;
    /// Prompt tokens the admission reserved (the usage charged when a stream is stopped).
    fn prompt_tokens(&self) -> u64;
    /// Reserve one more block of output; `false` when a hard limit would be crossed (the
    /// stream is then stopped). Extensions stay charged in full.
    fn extend(&mut self) -> Extension;
}

pub struct Admitted {
    pub permit: Box<dyn Permit>,
    pub snapshot: LimitSnapshot,
}

impl std::fmt::Debug for Admitted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admitted")
            .field("snapshot", &self.snapshot)
            .finish_non_exhaustive()
    }
}

#[async_trait]
pub trait Admission: Send + Sync {
    /// What `req` is expected to consume. The default counts about four bytes a token;
    /// implementations with a tokenizer count better (and may skip counting when no token or
    /// spend limit applies to `ctx`).
    fn estimate(&self, ctx: &RequestContext, req: &ChatRequest) -> UsageEstimate {
        let _ = ctx;
        UsageEstimate::rough(req)
    }

    /// Admit, queue or reject (429 with `retry-after`, naming the limit).
    async fn admit(
        &self,
        ctx: &RequestContext,
        estimate: &UsageEstimate,
    ) -> Result<Admitted, GatewayError>;
}
