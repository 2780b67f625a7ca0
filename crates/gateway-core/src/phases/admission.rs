//! Phase 4: admit — rate, token, concurrency and spend limits. Implemented in `gateway-policy`.

use async_trait::async_trait;

use crate::context::RequestContext;
use crate::error::GatewayError;
use crate::types::Usage;

/// What a request is expected to consume, reserved before the call.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageEstimate {
    pub model: String,
    pub prompt_tokens: u64,
    pub max_output_tokens: u64,
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
    /// Admit, queue or reject (429 with `retry-after`, naming the limit).
    async fn admit(
        &self,
        ctx: &RequestContext,
        estimate: &UsageEstimate,
    ) -> Result<Admitted, GatewayError>;
}
