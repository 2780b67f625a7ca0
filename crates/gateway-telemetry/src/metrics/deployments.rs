//! Per-deployment router state (circuit, in-flight, attempts, failures), exported at scrape
//! time from the latest snapshot the edge hands over.

use std::sync::{Arc, Mutex};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

/// One deployment of one model group, as the router sees it now.
#[derive(Debug, Clone, PartialEq)]
pub struct DeploymentSnapshot {
    /// The public model name (group).
    pub model: String,
    pub provider: Arc<str>,
    pub upstream_model: Arc<str>,
    /// `closed`, `open` or `half_open`.
    pub circuit: &'static str,
    pub in_flight: u64,
    /// Upstream attempts since start, and how many failed.
    pub attempts: u64,
    pub failures: u64,
}

pub const CIRCUIT_STATES: [&str; 3] = ["closed", "open", "half_open"];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeploymentLabels {
    model: String,
    provider: Arc<str>,
    upstream_model: Arc<str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CircuitLabels {
    model: String,
    provider: Arc<str>,
    upstream_model: Arc<str>,
    state: &'static str,
}

#[derive(Debug, Default)]
pub(crate) struct DeploymentCollector {
    pub(crate) latest: Mutex<Vec<DeploymentSnapshot>>,
}

fn labels(d: &DeploymentSnapshot) -> DeploymentLabels {
    DeploymentLabels {
        model: d.model.clone(),
        provider: d.provider.clone(),
        upstream_model: d.upstream_model.clone(),
    }
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Collector for DeploymentCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let snapshots = match self.latest.lock() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        let mut family = encoder.encode_descriptor(
            "gateway_upstream_circuit_state",
            "Circuit breaker state of each deployment (1 for the current state)",
            None,
            MetricType::Gauge,
        )?;
        for d in &snapshots {
            for state in CIRCUIT_STATES {
                let l = CircuitLabels {
                    model: d.model.clone(),
                    provider: d.provider.clone(),
                    upstream_model: d.upstream_model.clone(),
                    state,
                };
                ConstGauge::new(i64::from(d.circuit == state)).encode(family.encode_family(&l)?)?;
            }
        }
        let mut family = encoder.encode_descriptor(
            "gateway_upstream_in_flight_requests",
            "Upstream calls in flight per deployment",
            None,
            MetricType::Gauge,
        )?;
        for d in &snapshots {
            ConstGauge::new(to_i64(d.in_flight)).encode(family.encode_family(&labels(d))?)?;
        }
        let mut family = encoder.encode_descriptor(
            "gateway_upstream_attempts",
            "Upstream attempts per deployment, retries and fallbacks included",
            None,
            MetricType::Counter,
        )?;
        for d in &snapshots {
            ConstCounter::new(d.attempts).encode(family.encode_family(&labels(d))?)?;
        }
        let mut family = encoder.encode_descriptor(
            "gateway_upstream_errors",
            "Failed upstream attempts per deployment (connect errors, timeouts, error statuses)",
            None,
            MetricType::Counter,
        )?;
        for d in &snapshots {
            ConstCounter::new(d.failures).encode(family.encode_family(&labels(d))?)?;
        }
        Ok(())
    }
}
