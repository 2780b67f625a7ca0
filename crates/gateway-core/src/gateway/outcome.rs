//! What the pipeline hands back for each kind of call.

use crate::metered_stream::GatewayStream;
use crate::phases::admission::LimitSnapshot;
use crate::phases::cache::CacheStatus;
use crate::phases::route::ServedBy;
use crate::types::{ChatResponse, EmbeddingsResponse};

/// A completed non-streamed call.
#[derive(Debug)]
pub struct ChatOutcome {
    pub response: ChatResponse,
    pub served_by: ServedBy,
    pub limits: LimitSnapshot,
    /// Provider cost of the call, when the price is known (zero for a cache hit).
    pub cost_usd: Option<f64>,
    /// What the response cache did (`None` when it does not apply).
    pub cache: Option<CacheStatus>,
}

/// A started streamed call; the stream is already guarded and metered.
pub struct StreamOutcome {
    pub stream: GatewayStream,
    pub served_by: ServedBy,
    pub limits: LimitSnapshot,
    pub cache: Option<CacheStatus>,
}

impl std::fmt::Debug for StreamOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamOutcome")
            .field("served_by", &self.served_by)
            .finish_non_exhaustive()
    }
}

/// A completed embeddings call.
#[derive(Debug)]
pub struct EmbeddingsOutcome {
    pub response: EmbeddingsResponse,
    pub served_by: ServedBy,
    pub limits: LimitSnapshot,
    /// Provider cost of the call, when the price is known.
    pub cost_usd: Option<f64>,
}
