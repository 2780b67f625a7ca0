//! How a model group routes: strategy, retry budget, backoff, deadline and circuit breaker.
//! It deserialises from the app's TOML (`[models.NAME.routing]`), every field optional:
//!
//! ```toml
//! [models.gpt-4o.routing]
//! strategy = "priority"          # priority | weighted_random | least_latency | least_outstanding | nearest
//! max_attempts = 3               # upstream calls in all, retries and fallbacks included
//! base_backoff = "100ms"         # first retry waits about this (exponential, with jitter)
//! max_backoff = "2s"
//! deadline = "60s"               # total time for all attempts (to the first streamed event)
//! circuit = { failure_threshold = 5, cooldown = "30s" }
//! ```
//!
//! Durations are strings with a unit (`ms`, `s`, `m`, `h`; fractions allowed) or integer
//! milliseconds.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use gateway_core::duration::deserialize as duration;
pub use gateway_core::duration::parse_duration;

/// Which deployment of a group is tried first (and which next, on fallback).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// The cascade: lowest `priority` first; among equal priorities, weighted random.
    #[default]
    Priority,
    /// Random in proportion to `weight` (weight 0: only as a last resort).
    WeightedRandom,
    /// Lowest peak-EWMA latency times (in-flight + 1); unmeasured deployments first.
    LeastLatency,
    /// Fewest requests in flight.
    LeastOutstanding,
    /// The region with the lowest measured latency first (a region's latency is that of its
    /// fastest deployment whose circuit admits calls; unmeasured regions are explored first),
    /// then the next region when a region's deployments fail. Residency constraints are
    /// applied before, so a pinned caller never crosses its boundary.
    Nearest,
}

/// What a model does with request parameters its upstream has no form for (`seed`,
/// penalties, `logit_bias`, `logprobs` towards Anthropic...): `[models.NAME]
/// unsupported_params = "drop" | "reject"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnsupportedParams {
    /// Leave them out and name them in the `x-gateway-dropped-params` response header.
    #[default]
    Drop,
    /// Refuse the call with a 400 naming the first one.
    Reject,
}

/// Per-deployment circuit breaker settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CircuitConfig {
    /// Consecutive failures that open the circuit.
    pub failure_threshold: u32,
    /// How long an open circuit stays open before one probe request is let through.
    #[serde(deserialize_with = "duration")]
    pub cooldown: Duration,
}

impl Default for CircuitConfig {
    fn default() -> Self {
        CircuitConfig {
            failure_threshold: 5,
            cooldown: Duration::from_secs(30),
        }
    }
}

/// A model group's routing policy.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RoutingPolicy {
    pub strategy: Strategy,
    /// Upstream calls per request, retries and fallbacks included (at least 1).
    pub max_attempts: u32,
    #[serde(deserialize_with = "duration")]
    pub base_backoff: Duration,
    #[serde(deserialize_with = "duration")]
    pub max_backoff: Duration,
    /// Total time for all attempts of one request.
    #[serde(deserialize_with = "duration")]
    pub deadline: Duration,
    pub circuit: CircuitConfig,
}

impl Default for RoutingPolicy {
    fn default() -> Self {
        RoutingPolicy {
            strategy: Strategy::Priority,
            max_attempts: 3,
            base_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            deadline: Duration::from_secs(60),
            circuit: CircuitConfig::default(),
        }
    }
}

impl RoutingPolicy {
    /// Problems as `(dotted key path, message)` under `prefix` (e.g. `models.gpt-4o.routing`).
    pub fn problems(&self, prefix: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut bad = |key: &str, msg: &str| out.push((format!("{prefix}.{key}"), msg.to_owned()));
        if self.max_attempts == 0 {
            bad("max_attempts", "must be at least 1");
        }
        if self.base_backoff > self.max_backoff {
            bad("base_backoff", "must not exceed max_backoff");
        }
        if self.deadline.is_zero() {
            bad("deadline", "must be greater than zero");
        }
        if self.circuit.failure_threshold == 0 {
            bad("circuit.failure_threshold", "must be at least 1");
        }
        if self.circuit.cooldown.is_zero() {
            bad("circuit.cooldown", "must be greater than zero");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_policy_is_the_default_and_unknown_keys_fail() {
        let p: RoutingPolicy = serde_json::from_str("{}").unwrap();
        assert_eq!(p, RoutingPolicy::default());
        let p: RoutingPolicy = serde_json::from_str(
            r#"{"strategy":"least_latency","max_attempts":5,"base_backoff":50,"deadline":"10s","circuit":{"cooldown":"1m"}}"#,
        )
        .unwrap();
        assert_eq!(p.strategy, Strategy::LeastLatency);
        assert_eq!(p.base_backoff, Duration::from_millis(50));
        assert_eq!(
            p.circuit,
            CircuitConfig {
                failure_threshold: 5,
                cooldown: Duration::from_secs(60)
            }
        );
        assert!(serde_json::from_str::<RoutingPolicy>(r#"{"retries":2}"#).is_err());
        assert!(serde_json::from_str::<RoutingPolicy>(r#"{"circuit":{"threshold":2}}"#).is_err());
    }

    #[test]
    fn problems_name_their_keys() {
        let p = RoutingPolicy {
            max_attempts: 0,
            base_backoff: Duration::from_secs(5),
            ..RoutingPolicy::default()
        };
        let keys: Vec<String> = p
            .problems("models.m.routing")
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(
            keys,
            [
                "models.m.routing.max_attempts",
                "models.m.routing.base_backoff"
            ]
        );
    }
}
