//! How an anomaly looks on the wire: in `GET /admin/v1/anomalies`, in the `anomaly.detected`
//! webhook event's `data`, and in the audit event's details.

use std::time::{Duration, UNIX_EPOCH};

use gateway_policy::anomaly::Anomaly;
use schemars::JsonSchema;
use serde::Serialize;

/// One anomaly: an entity whose use departed from its baseline.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AnomalyView {
    #[schemars(extend("const" = "anomaly"))]
    pub object: &'static str,
    /// When it was detected (RFC 3339, UTC).
    pub detected_at: String,
    /// `key`, `tenant`, `network` (a client /24 or /48, for failed authentications) or
    /// `gateway` (every failed authentication).
    pub kind: &'static str,
    /// The key id, tenant id, network (`203.0.113.0/24`) or `*`.
    pub id: String,
    /// The tenant of a key or tenant; `null` for a network or the gateway.
    pub tenant: Option<String>,
    /// Who it concerns: `tenant` (a key or tenant of `tenant`; alerted to the tenant's
    /// webhook endpoints) or `network` (failed authentications that name no tenant, per
    /// client network or gateway-wide; alerted to the operator's endpoints,
    /// `[webhooks] operator_tenant`).
    pub scope: &'static str,
    /// The overall score: the highest signal score (z-like).
    pub score: f64,
    /// What was done: `record`, `alert`, `throttle` or `suspend` (each includes the ones
    /// before it, except that a suspension does not also throttle).
    pub action: &'static str,
    /// Every signal that scored, highest first.
    pub signals: Vec<SignalView>,
}

/// One scored signal, over the window that scored highest.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SignalView {
    /// `requests`, `tokens`, `cost_usd`, `errors`, `refusals`, `guardrail_findings`,
    /// `distinct_addresses`, `auth_failures`, `distinct_credentials`, `new_networks` or
    /// `new_models`.
    pub signal: &'static str,
    pub score: f64,
    pub observed: f64,
    pub expected: f64,
}

fn rounded(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

pub fn view(a: &Anomaly) -> AnomalyView {
    AnomalyView {
        object: "anomaly",
        detected_at: crate::http::admin::time_format(UNIX_EPOCH + Duration::from_secs(a.at)),
        kind: a.kind.as_str(),
        id: a.id.clone(),
        tenant: a.tenant.clone(),
        scope: scope(a),
        score: rounded(a.score),
        action: a.action.as_str(),
        signals: a
            .signals
            .iter()
            .map(|s| SignalView {
                signal: s.signal.as_str(),
                score: rounded(s.score),
                observed: rounded(s.observed),
                expected: rounded(s.expected),
            })
            .collect(),
    }
}

/// `tenant` when the anomaly has a tenant, `network` otherwise.
pub fn scope(a: &Anomaly) -> &'static str {
    if a.tenant.is_some() {
        "tenant"
    } else {
        "network"
    }
}

/// The audit target of an anomaly's entity: `key:ID`, `tenant:ID`, `network:CIDR`,
/// `gateway:*`.
pub fn target(a: &Anomaly) -> String {
    format!("{}:{}", a.kind.as_str(), a.id)
}
