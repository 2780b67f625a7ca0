//! [`AnomalyTap`]: the pipeline's usage sink when anomaly detection is on. Each finished
//! call updates the key's and the tenant's counters (a few relaxed atomic operations; no
//! lock, no allocation once both have a slot), then goes on to the telemetry's sink.

use std::net::IpAddr;
use std::sync::Arc;

use gateway_core::phases::account::{UsageRecord, UsageSink};
use gateway_policy::anomaly::CallObservation;

use super::Core;

pub struct AnomalyTap {
    core: Arc<Core>,
    inner: Arc<dyn UsageSink>,
}

impl AnomalyTap {
    pub(crate) fn new(core: Arc<Core>, inner: Arc<dyn UsageSink>) -> Self {
        AnomalyTap { core, inner }
    }
}

/// A refusal by the gateway: policy or permission (403), a guardrail or custom policy block
/// (422), a limit (429). A guardrail block is also counted in the findings (each of its
/// findings once): the two signals are not exclusive, a blocked call raises both.
fn refused(status: u16) -> bool {
    matches!(status, 403 | 422 | 429)
}

impl UsageSink for AnomalyTap {
    fn record(&self, record: UsageRecord) {
        self.record_call(record, None);
    }

    fn record_call(&self, record: UsageRecord, client_ip: Option<IpAddr>) {
        let refused = refused(record.status);
        let observation = CallObservation {
            tenant: record.tenant.as_str(),
            key: &record.subject,
            model: &record.model,
            client: client_ip,
            tokens: record
                .usage
                .as_ref()
                .map_or(0, |u| u.prompt_tokens + u.completion_tokens),
            cost_usd: record.cost_usd.unwrap_or(0.0),
            error: record.status >= 400 && !refused && !record.cancelled,
            refused,
            findings: record.guardrail_findings.count,
        };
        self.core.counters.observe_call(&observation);
        self.inner.record_call(record, client_ip);
    }
}
