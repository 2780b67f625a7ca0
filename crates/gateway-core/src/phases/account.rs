//! Phase 9: account — usage records and audit events. Sinks never block the request path.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::principal::TenantId;
use crate::types::Usage;

/// What one call consumed and how it went.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageRecord {
    pub request_id: Arc<str>,
    pub at: SystemTime,
    pub tenant: TenantId,
    pub subject: Arc<str>,
    pub endpoint: &'static str,
    /// The public model name the caller asked for.
    pub model: String,
    pub provider: Option<Arc<str>>,
    pub upstream_model: Option<Arc<str>>,
    pub usage: Option<Usage>,
    /// `None` when the model has no known price (unknown, not zero).
    pub cost_usd: Option<f64>,
    pub status: u16,
    pub latency: Duration,
    pub time_to_first_token: Option<Duration>,
    pub stream: bool,
    pub cache_hit: bool,
    /// The client went away before the response completed.
    pub cancelled: bool,
}

/// Receives usage records. `record` must return at once (buffer and write in the background).
pub trait UsageSink: Send + Sync {
    fn record(&self, record: UsageRecord);
}

/// Prices calls. Implemented by `gateway-telemetry`'s model price table.
pub trait CostModel: Send + Sync {
    /// Cost in USD of `usage` on `upstream_model` at `provider`; `None` when the price is unknown.
    fn cost_usd(&self, provider: &str, upstream_model: &str, usage: &Usage) -> Option<f64>;
}
