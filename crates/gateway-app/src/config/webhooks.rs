//! `[webhooks]`: how signed webhooks (docs/webhooks.md) and asynchronous calls are delivered.
//!
//! ```toml
//! [webhooks]
//! allow_private = ["127.0.0.1/32"]  # CIDRs that may be called although not public
//! allow_http = false                # plain http:// URLs (https only by default)
//! timeout = "10s"                   # per attempt: connect, send, answer
//! max_concurrency = 16              # attempts in flight per instance
//! max_response_bytes = 4096         # of a receiver's answer, read then discarded
//! retry_window = "24h"              # retries with backoff until then, then dead letter
//! secret_overlap = "24h"            # a rotated-out secret still signs this long
//! budget_thresholds = [50, 80, 100] # percent of a budget that emit budget.threshold
//! guardrail_sample_rate = 0.1       # share of guardrail blocks that emit an event
//! key_expiring_within = "7d"        # key.expiring is sent this long before expiry
//! operator_tenant = "ops"           # gateway-wide events (deployment.circuit_opened) go to
//!                                   # this tenant's endpoints; unset: to every subscribed one.
//!                                   # anomaly.detected of scope network: only here (unset:
//!                                   # logged, never sent to every tenant)
//! circuit_event_interval = "5m"     # at most one circuit_opened per deployment this often
//! retention = "30d"                 # finished deliveries and async jobs are kept this long
//! ```

use std::time::Duration;

use ipnet::IpNet;
use serde::Deserialize;

use super::Problem;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhooksConfig {
    /// Networks (CIDR) that webhook and callback URLs may reach although they are private,
    /// loopback, link-local and the like; nothing but public addresses otherwise.
    pub allow_private: Vec<String>,
    /// Whether `http://` URLs are accepted (default: https only).
    pub allow_http: bool,
    #[serde(deserialize_with = "gateway_core::duration::deserialize")]
    pub timeout: Duration,
    pub max_concurrency: usize,
    pub max_response_bytes: usize,
    #[serde(deserialize_with = "gateway_core::duration::deserialize")]
    pub retry_window: Duration,
    #[serde(deserialize_with = "gateway_core::duration::deserialize")]
    pub secret_overlap: Duration,
    pub budget_thresholds: Vec<u8>,
    pub guardrail_sample_rate: f64,
    #[serde(deserialize_with = "gateway_core::duration::deserialize")]
    pub key_expiring_within: Duration,
    /// The tenant whose endpoints receive gateway-wide events (`deployment.circuit_opened`);
    /// `None`: every endpoint subscribed to them, whatever its tenant. Anomalies that name no
    /// tenant (`anomaly.detected`, scope `network`) go only to this tenant's endpoints; with
    /// `None` they are logged.
    pub operator_tenant: Option<String>,
    /// A flapping circuit reports `deployment.circuit_opened` at most once per deployment in
    /// this long.
    #[serde(deserialize_with = "gateway_core::duration::deserialize")]
    pub circuit_event_interval: Duration,
    #[serde(deserialize_with = "gateway_core::duration::deserialize")]
    pub retention: Duration,
    /// How often the dispatcher looks for due deliveries when nothing woke it.
    #[serde(deserialize_with = "gateway_core::duration::deserialize")]
    pub poll_interval: Duration,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        WebhooksConfig {
            allow_private: Vec::new(),
            allow_http: false,
            timeout: Duration::from_secs(10),
            max_concurrency: 16,
            max_response_bytes: 4096,
            retry_window: Duration::from_secs(86_400),
            secret_overlap: Duration::from_secs(86_400),
            budget_thresholds: vec![50, 80, 100],
            guardrail_sample_rate: 0.1,
            key_expiring_within: Duration::from_secs(7 * 86_400),
            operator_tenant: None,
            circuit_event_interval: Duration::from_secs(300),
            retention: Duration::from_secs(30 * 86_400),
            poll_interval: Duration::from_secs(1),
        }
    }
}

impl WebhooksConfig {
    /// The allowlist, parsed (entries that do not parse are reported by `validate`).
    pub fn allowed_networks(&self) -> Vec<IpNet> {
        self.allow_private
            .iter()
            .filter_map(|c| c.trim().parse().ok())
            .collect()
    }

    pub(crate) fn validate(&self, problems: &mut Vec<Problem>) {
        for (i, cidr) in self.allow_private.iter().enumerate() {
            if cidr.trim().parse::<IpNet>().is_err() {
                problems.push(Problem::new(
                    &format!("webhooks.allow_private[{i}]"),
                    format!("'{cidr}' is not a CIDR such as \"10.0.0.0/8\" or \"::1/128\""),
                ));
            }
        }
        let positive = [
            ("webhooks.timeout", self.timeout),
            ("webhooks.retry_window", self.retry_window),
            ("webhooks.poll_interval", self.poll_interval),
            ("webhooks.retention", self.retention),
            (
                "webhooks.circuit_event_interval",
                self.circuit_event_interval,
            ),
        ];
        for (path, value) in positive {
            if value.is_zero() {
                problems.push(Problem::new(path, "must be greater than 0"));
            }
        }
        if self
            .operator_tenant
            .as_deref()
            .is_some_and(|t| t.trim().is_empty())
        {
            problems.push(Problem::new(
                "webhooks.operator_tenant",
                "must name a tenant (or be left out)",
            ));
        }
        if self.max_concurrency == 0 || self.max_concurrency > 1024 {
            problems.push(Problem::new(
                "webhooks.max_concurrency",
                "must be between 1 and 1024",
            ));
        }
        if self.max_response_bytes > 1 << 20 {
            problems.push(Problem::new(
                "webhooks.max_response_bytes",
                "must be at most 1048576",
            ));
        }
        if self.budget_thresholds.iter().any(|p| *p == 0 || *p > 100) {
            problems.push(Problem::new(
                "webhooks.budget_thresholds",
                "percentages must be between 1 and 100",
            ));
        }
        if !(0.0..=1.0).contains(&self.guardrail_sample_rate) {
            problems.push(Problem::new(
                "webhooks.guardrail_sample_rate",
                "must be between 0 and 1",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_values_are_reported_with_their_path() {
        let config = WebhooksConfig {
            allow_private: vec!["127.0.0.1/32".into(), "localhost".into()],
            max_concurrency: 0,
            budget_thresholds: vec![50, 101],
            guardrail_sample_rate: 2.0,
            ..WebhooksConfig::default()
        };
        let mut problems = Vec::new();
        config.validate(&mut problems);
        let paths: Vec<_> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "webhooks.allow_private[1]",
                "webhooks.max_concurrency",
                "webhooks.budget_thresholds",
                "webhooks.guardrail_sample_rate"
            ]
        );
        assert_eq!(config.allowed_networks().len(), 1);
        let mut none = Vec::new();
        WebhooksConfig::default().validate(&mut none);
        assert!(none.is_empty());
    }
}
