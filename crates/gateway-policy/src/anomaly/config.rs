//! The `[anomaly]` configuration section.

use serde::{Deserialize, Serialize};

use super::counters::EntityKind;
use super::detector::AnomalyAction;

/// The `[anomaly]` section: behavioural anomaly detection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnomalyConfig {
    /// Count and score (the hot path then updates a few counters per request).
    pub enabled: bool,
    /// Seconds between folds of the counters into the baselines (one scoring interval).
    pub interval_secs: u64,
    /// Hours an entity is observed before it is scored (its baseline learns meanwhile).
    pub warm_up_hours: u64,
    /// Entities (keys, tenants, client networks) tracked at most; the counter table has
    /// this many slots and the longest idle entity is forgotten first.
    pub max_entities: usize,
    /// An entity idle this long gives its counter slot back (its baseline stays).
    pub idle_release_minutes: u32,
    /// After an anomaly, the same entity raises another only at a higher action, or after
    /// this long; its baselines do not learn meanwhile.
    pub cooldown_minutes: u32,
    /// Score at which an anomaly is recorded (audit event + metric).
    pub record_at: f64,
    /// Score at which it is also alerted (webhook event `anomaly.detected`).
    pub alert_at: f64,
    /// Score at which the key is also throttled; unset: never.
    pub throttle_at: Option<f64>,
    /// Score at which the key is also suspended until an administrator resumes it; unset: never.
    pub suspend_at: Option<f64>,
    /// The throttle: requests per minute the key is held to ...
    pub throttle_requests_per_minute: u32,
    /// ... for this many minutes.
    pub throttle_minutes: u32,
    /// Tenants whose keys are not scored (their counters are still kept, cheaply).
    pub opt_out_tenants: Vec<String>,
}

impl Default for AnomalyConfig {
    fn default() -> Self {
        AnomalyConfig {
            enabled: true,
            interval_secs: 60,
            warm_up_hours: 72,
            max_entities: 16_384,
            idle_release_minutes: 24 * 60,
            cooldown_minutes: 60,
            record_at: 6.0,
            alert_at: 9.0,
            throttle_at: None,
            suspend_at: None,
            throttle_requests_per_minute: 10,
            throttle_minutes: 60,
            opt_out_tenants: Vec::new(),
        }
    }
}

impl AnomalyConfig {
    /// Every problem, with its dotted key path under `anomaly`.
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut bad = |key: &str, msg: &str| out.push((format!("anomaly.{key}"), msg.to_owned()));
        if !(10..=3600).contains(&self.interval_secs) {
            bad("interval_secs", "must be between 10 and 3600");
        }
        if self.warm_up_hours > 24 * 90 {
            bad("warm_up_hours", "must be at most 2160 (90 days)");
        }
        if !(16..=1_000_000).contains(&self.max_entities) {
            bad("max_entities", "must be between 16 and 1000000");
        }
        if !(self.record_at.is_finite() && self.record_at > 0.0) {
            bad("record_at", "must be a positive number");
        }
        if !(self.alert_at.is_finite() && self.alert_at >= self.record_at) {
            bad("alert_at", "must be at least record_at");
        }
        if let Some(t) = self.throttle_at
            && !(t.is_finite() && t >= self.alert_at)
        {
            bad("throttle_at", "must be at least alert_at");
        }
        if let Some(s) = self.suspend_at
            && !(s.is_finite() && s >= self.throttle_at.unwrap_or(self.alert_at))
        {
            bad("suspend_at", "must be at least throttle_at (or alert_at)");
        }
        if self.throttle_requests_per_minute == 0 {
            bad("throttle_requests_per_minute", "must be at least 1");
        }
        if !(1..=7 * 24 * 60).contains(&self.throttle_minutes) {
            bad("throttle_minutes", "must be between 1 and 10080");
        }
        out
    }

    pub fn opted_out(&self, tenant: &str) -> bool {
        self.opt_out_tenants.iter().any(|t| t == tenant)
    }

    /// The action for an overall score of an entity of `kind`: throttling and suspension
    /// apply to keys only (a tenant or network anomaly is at most alerted).
    pub fn action_for(&self, kind: EntityKind, score: f64) -> Option<AnomalyAction> {
        let key = kind == EntityKind::Key;
        if key && self.suspend_at.is_some_and(|t| score >= t) {
            Some(AnomalyAction::Suspend)
        } else if key && self.throttle_at.is_some_and(|t| score >= t) {
            Some(AnomalyAction::Throttle)
        } else if score >= self.alert_at {
            Some(AnomalyAction::Alert)
        } else if score >= self.record_at {
            Some(AnomalyAction::Record)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_by_score_and_kind() {
        let c = AnomalyConfig {
            throttle_at: Some(12.0),
            suspend_at: Some(20.0),
            ..AnomalyConfig::default()
        };
        assert_eq!(c.action_for(EntityKind::Key, 5.0), None);
        assert_eq!(
            c.action_for(EntityKind::Key, 6.0),
            Some(AnomalyAction::Record)
        );
        assert_eq!(
            c.action_for(EntityKind::Key, 9.5),
            Some(AnomalyAction::Alert)
        );
        assert_eq!(
            c.action_for(EntityKind::Key, 13.0),
            Some(AnomalyAction::Throttle)
        );
        assert_eq!(
            c.action_for(EntityKind::Key, 25.0),
            Some(AnomalyAction::Suspend)
        );
        assert_eq!(
            c.action_for(EntityKind::Tenant, 25.0),
            Some(AnomalyAction::Alert)
        );
        assert!(c.problems().is_empty());
    }

    #[test]
    fn problems_name_the_key() {
        let c: AnomalyConfig = toml::from_str(
            "interval_secs = 1\nalert_at = 2.0\nsuspend_at = 1.0\nopt_out_tenants = [\"a\"]",
        )
        .unwrap();
        let keys: Vec<String> = c.problems().into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            keys,
            [
                "anomaly.interval_secs",
                "anomaly.alert_at",
                "anomaly.suspend_at"
            ]
        );
        assert!(c.opted_out("a"));
        assert!(toml::from_str::<AnomalyConfig>("nope = 1").is_err());
    }
}
