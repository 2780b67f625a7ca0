//! The externally visible state of each deployment (for `/ready` and the admin API).

use std::sync::Arc;

use serde::Serialize;

use super::health::{Circuit, Snapshot};

/// Circuit breaker position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub enum CircuitStatus {
    Closed,
    Open,
    HalfOpen,
}

/// One deployment of one model group, as the router sees it now.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct DeploymentState {
    /// The public model name (group).
    pub model: String,
    pub provider: Arc<str>,
    pub upstream_model: Arc<str>,
    pub region: Option<Arc<str>>,
    pub priority: u32,
    pub weight: u32,
    pub circuit: CircuitStatus,
    pub consecutive_failures: u32,
    /// Milliseconds until an open circuit lets a probe through.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_in_ms: Option<u64>,
    /// Peak-EWMA latency of successful calls (to the first event for streams); `None` before any.
    pub ewma_latency_ms: Option<f64>,
    pub in_flight: u64,
    /// The adaptive concurrency limit (calls in flight at most); `None` when off.
    pub concurrency_limit: Option<u32>,
    /// Attempts since start, and how many of them failed.
    pub requests: u64,
    pub failures: u64,
}

impl DeploymentState {
    /// Whether requests can go to this deployment now (closed, or ready for a probe).
    pub fn available(&self) -> bool {
        self.circuit != CircuitStatus::Open || self.retry_in_ms == Some(0)
    }
}

pub(crate) fn circuit_status(
    s: &Snapshot,
    now: tokio::time::Instant,
) -> (CircuitStatus, Option<u64>) {
    match s.circuit {
        Circuit::Closed => (CircuitStatus::Closed, None),
        Circuit::HalfOpen { .. } => (CircuitStatus::HalfOpen, None),
        Circuit::Open { until } => {
            let left = until.saturating_duration_since(now).as_millis();
            (
                CircuitStatus::Open,
                Some(u64::try_from(left).unwrap_or(u64::MAX)),
            )
        }
    }
}
