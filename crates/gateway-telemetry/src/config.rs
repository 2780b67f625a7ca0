//! The `[telemetry]` configuration section.
//!
//! ```toml
//! [telemetry]
//! log_prompts_for_tenants = []          # prompts are never logged unless a tenant is listed
//!
//! [telemetry.metrics]
//! enabled = true                        # GET /metrics
//!
//! [telemetry.otlp]                      # traces; off unless an endpoint is set
//! endpoint = "http://127.0.0.1:4318"    # OTLP/HTTP (protobuf); /v1/traces is appended
//! service_name = "llm-gateway"
//! sample_ratio = 1.0                    # of root traces; a caller's sampled flag wins
//!
//! [telemetry.usage]
//! detail = "request"                    # a row per call; "minute": totals per minute
//! batch_size = 1024
//! flush_interval_ms = 200
//! buffer = 10000
//! retention = "90d"                     # delete older records hourly; kept forever if unset
//!
//! [telemetry.audit]
//! store = true                          # the hash-chained audit table
//! file = "/var/log/llm-gateway/audit.jsonl"
//! buffer = 10000
//!
//! [telemetry.prices."gpt-4o"]           # overrides or extends the shipped price table
//! input_per_mtok = 2.5
//! output_per_mtok = 10.0
//! cached_input_per_mtok = 1.25
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::prices::ModelPrice;

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetryConfig {
    pub metrics: MetricsConfig,
    pub otlp: OtlpConfig,
    pub usage: UsageConfig,
    pub audit: AuditConfig,
    /// Per model (upstream name, optionally `provider/model`), overriding the shipped table.
    pub prices: BTreeMap<String, ModelPrice>,
    /// Tenants whose prompts and completions may appear in logs. Empty: nobody's.
    pub log_prompts_for_tenants: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Serve `GET /metrics` (Prometheus / OpenMetrics text).
    pub enabled: bool,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig { enabled: true }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OtlpConfig {
    /// OTLP/HTTP collector, e.g. `http://127.0.0.1:4318`; `None` disables trace export.
    pub endpoint: Option<String>,
    pub service_name: String,
    /// Fraction of new root traces sampled, 0.0 to 1.0. A caller's `traceparent` decides for
    /// the traces it continues.
    pub sample_ratio: f64,
}

impl Default for OtlpConfig {
    fn default() -> Self {
        OtlpConfig {
            endpoint: None,
            service_name: "llm-gateway".to_owned(),
            sample_ratio: 1.0,
        }
    }
}

impl OtlpConfig {
    /// The traces URL: the endpoint with `/v1/traces` appended unless already there.
    pub fn traces_url(&self) -> Option<String> {
        let endpoint = self.endpoint.as_deref()?.trim_end_matches('/');
        Some(if endpoint.ends_with("/v1/traces") {
            endpoint.to_owned()
        } else {
            format!("{endpoint}/v1/traces")
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UsageConfig {
    /// What is kept of each call: its own record, or only its share of per-minute totals.
    pub detail: UsageDetail,
    /// Records written per store transaction, at most.
    pub batch_size: usize,
    /// How long a record may wait for its batch to fill: with the time of one store write,
    /// the most a process killed without warning (SIGKILL, OOM) loses of completed calls.
    pub flush_interval_ms: u64,
    /// Records buffered between the request path and the writer; beyond it they are
    /// counted as dropped and logged.
    pub buffer: usize,
    /// How long records are kept (`"90d"`); older ones are deleted once an hour. `None`
    /// keeps them forever.
    #[serde(deserialize_with = "some_duration")]
    pub retention: Option<Duration>,
}

/// How much of each call the usage store keeps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UsageDetail {
    /// A record per call (request id, status, tokens, cost, latencies, provider...): the
    /// trail to answer "what happened to this request".
    #[default]
    Request,
    /// Per UTC minute, tenant, subject and model, the totals the usage API reports (calls,
    /// errors, cache hits, tokens, cost), added up in memory and written once per flush
    /// interval. Far fewer rows and less work per call; no per-call trail.
    Minute,
}

/// Default `flush_interval_ms`: a crash loses at most the calls of the last 200 ms (plus
/// one store write), at one small write per interval when idle.
pub const DEFAULT_FLUSH_INTERVAL_MS: u64 = 200;

/// Longest `flush_interval_ms`: the loss bound on a crash stays seconds, not minutes.
pub const MAX_FLUSH_INTERVAL_MS: u64 = 10_000;

/// Shortest `retention`: a typo such as `"30s"` must not empty the usage table.
pub const MIN_USAGE_RETENTION: Duration = Duration::from_secs(3600);

/// Longest `retention` (100 years): beyond it, keep forever by leaving it unset.
pub const MAX_USAGE_RETENTION: Duration = Duration::from_secs(100 * 365 * 86_400);

fn some_duration<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    gateway_core::duration::deserialize(d).map(Some)
}

impl Default for UsageConfig {
    fn default() -> Self {
        UsageConfig {
            detail: UsageDetail::Request,
            batch_size: 1024,
            flush_interval_ms: DEFAULT_FLUSH_INTERVAL_MS,
            buffer: 10_000,
            retention: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// Append to the store's hash-chained audit log (`gatewayctl audit verify`).
    pub store: bool,
    /// Also append each event as one JSON line to this file (the store's `seq`/`hash` when
    /// the store is on; a chain of its own, same algorithm, when it is off).
    pub file: Option<PathBuf>,
    /// Events buffered before the writer; beyond it they are counted as dropped and logged.
    pub buffer: usize,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            store: true,
            file: None,
            buffer: 10_000,
        }
    }
}

impl TelemetryConfig {
    /// Problems as `(dotted key path under prefix, message)` (prefix e.g. `"telemetry"`);
    /// empty when valid.
    pub fn problems(&self, prefix: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut push = |key: &str, msg: &str| out.push((format!("{prefix}.{key}"), msg.to_owned()));
        if let Some(endpoint) = &self.otlp.endpoint
            && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
        {
            push("otlp.endpoint", "must be an http:// or https:// URL");
        }
        if !(0.0..=1.0).contains(&self.otlp.sample_ratio) {
            push("otlp.sample_ratio", "must be between 0.0 and 1.0");
        }
        if self.otlp.service_name.trim().is_empty() {
            push("otlp.service_name", "must not be empty");
        }
        if self.usage.batch_size == 0 {
            push("usage.batch_size", "must be at least 1");
        }
        if !(1..=MAX_FLUSH_INTERVAL_MS).contains(&self.usage.flush_interval_ms) {
            push(
                "usage.flush_interval_ms",
                "must be between 1 and 10000 (it bounds what a crash loses)",
            );
        }
        if self.usage.buffer == 0 {
            push("usage.buffer", "must be at least 1");
        }
        if let Some(retention) = self.usage.retention
            && !(MIN_USAGE_RETENTION..=MAX_USAGE_RETENTION).contains(&retention)
        {
            push(
                "usage.retention",
                "must be between 1h and 36500d (leave it unset to keep records forever)",
            );
        }
        if self.audit.buffer == 0 {
            push("audit.buffer", "must be at least 1");
        }
        for (model, price) in &self.prices {
            for (field, value) in price.fields() {
                if !(value.is_finite() && value >= 0.0) {
                    push(
                        &format!("prices.\"{model}\".{field}"),
                        "must be a non-negative number",
                    );
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_problems() {
        let c: TelemetryConfig = serde_json::from_str("{}").unwrap();
        assert!(c.metrics.enabled && c.audit.store && c.otlp.endpoint.is_none());
        assert!(c.problems("telemetry").is_empty());
        let bad: TelemetryConfig = serde_json::from_str(
            r#"{"otlp": {"endpoint": "udp://x", "sample_ratio": 2.0},
                "usage": {"batch_size": 0},
                "prices": {"m": {"input_per_mtok": -1.0, "output_per_mtok": 1.0}}}"#,
        )
        .unwrap();
        let keys: Vec<String> = bad.problems("telemetry").into_iter().map(|p| p.0).collect();
        assert_eq!(
            keys,
            [
                "telemetry.otlp.endpoint",
                "telemetry.otlp.sample_ratio",
                "telemetry.usage.batch_size",
                "telemetry.prices.\"m\".input_per_mtok"
            ]
        );
        assert!(serde_json::from_str::<TelemetryConfig>(r#"{"usage": {"batch": 1}}"#).is_err());
    }

    #[test]
    fn usage_retention_parses_durations_and_is_bounded() {
        let parse = |json: &str| serde_json::from_str::<TelemetryConfig>(json);
        assert_eq!(parse("{}").unwrap().usage.retention, None);
        let ninety = parse(r#"{"usage": {"retention": "90d"}}"#).unwrap();
        assert_eq!(
            ninety.usage.retention,
            Some(Duration::from_secs(90 * 86_400))
        );
        assert!(ninety.problems("telemetry").is_empty());
        for too_short_or_long in [r#""30s""#, r#""36501d""#] {
            let c = parse(&format!(
                r#"{{"usage": {{"retention": {too_short_or_long}}}}}"#
            ))
            .unwrap();
            let keys: Vec<String> = c.problems("telemetry").into_iter().map(|p| p.0).collect();
            assert_eq!(keys, ["telemetry.usage.retention"], "{too_short_or_long}");
        }
        let err = parse(r#"{"usage": {"retention": "ninety days"}}"#).unwrap_err();
        assert!(err.to_string().contains("invalid duration"), "{err}");
    }

    #[test]
    fn the_usage_flush_interval_is_short_and_bounded() {
        let parse = |json: &str| serde_json::from_str::<TelemetryConfig>(json).unwrap();
        // It bounds the usage a crash loses (docs/security.md, "Durability").
        assert_eq!(parse("{}").usage.flush_interval_ms, 200);
        for bad in [0, 10_001] {
            let c = parse(&format!(r#"{{"usage": {{"flush_interval_ms": {bad}}}}}"#));
            let keys: Vec<String> = c.problems("telemetry").into_iter().map(|p| p.0).collect();
            assert_eq!(keys, ["telemetry.usage.flush_interval_ms"], "{bad}");
        }
    }

    #[test]
    fn usage_detail_is_per_request_unless_minute_is_asked() {
        let parse = |json: &str| serde_json::from_str::<TelemetryConfig>(json);
        assert_eq!(parse("{}").unwrap().usage.detail, UsageDetail::Request);
        let minute = parse(r#"{"usage": {"detail": "minute"}}"#).unwrap();
        assert_eq!(minute.usage.detail, UsageDetail::Minute);
        let err = parse(r#"{"usage": {"detail": "hourly"}}"#).unwrap_err();
        assert!(
            err.to_string().contains("unknown variant `hourly`"),
            "{err}"
        );
    }

    #[test]
    fn traces_url_appends_the_signal_path_once() {
        let mut c = OtlpConfig::default();
        assert_eq!(c.traces_url(), None);
        c.endpoint = Some("http://127.0.0.1:4318/".into());
        assert_eq!(c.traces_url().unwrap(), "http://127.0.0.1:4318/v1/traces");
        c.endpoint = Some("http://h/v1/traces".into());
        assert_eq!(c.traces_url().unwrap(), "http://h/v1/traces");
    }
}
