//! Series of behavioural anomaly detection: anomalies raised by action and entity kind, the
//! entities tracked, and observations dropped because the counter table was full. Both
//! labels are fixed sets.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabels {
    action: &'static str,
    kind: &'static str,
}

#[derive(Debug, Default)]
pub struct AnomalyMetrics {
    anomalies: Family<ActionLabels, Counter>,
    tracked: Gauge,
    overflow: Gauge,
}

impl AnomalyMetrics {
    pub(super) fn register(&self, r: &mut Registry) {
        r.register(
            "gateway_anomalies",
            "Anomalies raised, by action (record, alert, throttle, suspend) and entity kind (key, tenant, network, gateway)",
            self.anomalies.clone(),
        );
        r.register(
            "gateway_anomaly_entities",
            "Entities (keys, tenants, client networks) whose baselines anomaly detection keeps",
            self.tracked.clone(),
        );
        r.register(
            "gateway_anomaly_counter_overflow",
            "Observations anomaly detection dropped because its counter table was full (since start)",
            self.overflow.clone(),
        );
    }

    /// One anomaly raised with `action` on an entity of `kind`.
    pub fn raised(&self, action: &'static str, kind: &'static str) {
        self.anomalies
            .get_or_create(&ActionLabels { action, kind })
            .inc();
    }

    /// After a fold: the entities tracked and the observations dropped so far.
    pub fn folded(&self, tracked: usize, overflow: u64) {
        self.tracked.set(i64::try_from(tracked).unwrap_or(i64::MAX));
        self.overflow
            .set(i64::try_from(overflow).unwrap_or(i64::MAX));
    }
}
