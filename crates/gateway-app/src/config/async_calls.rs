//! `[async]`: asynchronous single calls (`Prefer: respond-async`, `docs/async.md`).
//!
//! ```toml
//! [async]
//! worker = true            # whether this instance runs async jobs (all serve the API)
//! concurrency = 8          # jobs one instance runs at once
//! max_pending = 10000      # jobs waiting across instances; more are refused with 429
//! lease = "60s"            # how long a running job stays leased without renewal
//! poll_interval = "1s"     # how often an idle worker looks for work
//! retention = "24h"        # how long a finished job's answer is kept
//! ```

use std::time::Duration;

use serde::Deserialize;

use super::Problem;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AsyncConfig {
    /// Whether this instance runs async jobs (every instance accepts and answers them).
    pub worker: bool,
    /// Jobs this instance runs at once.
    pub concurrency: u32,
    /// Jobs waiting to run, across instances, at most: a submission beyond is refused with
    /// 429 and `retry-after`.
    pub max_pending: u64,
    /// How long a running job stays with an instance that stops renewing its lease (a
    /// stopped instance's jobs are taken over, once, after this).
    #[serde(deserialize_with = "gateway_core::duration::deserialize")]
    pub lease: Duration,
    /// How often an idle worker looks for work (a submission on the same instance wakes it
    /// at once).
    #[serde(deserialize_with = "gateway_core::duration::deserialize")]
    pub poll_interval: Duration,
    /// How long a finished job (its answer) is kept before it is deleted.
    #[serde(deserialize_with = "gateway_core::duration::deserialize")]
    pub retention: Duration,
}

impl Default for AsyncConfig {
    fn default() -> Self {
        AsyncConfig {
            worker: true,
            concurrency: 8,
            max_pending: 10_000,
            lease: Duration::from_secs(60),
            poll_interval: Duration::from_secs(1),
            retention: Duration::from_secs(86_400),
        }
    }
}

impl AsyncConfig {
    pub(crate) fn validate(&self, problems: &mut Vec<Problem>) {
        if !(1..=1024).contains(&self.concurrency) {
            problems.push(Problem::new(
                "async.concurrency",
                "must be between 1 and 1024",
            ));
        }
        if self.max_pending == 0 {
            problems.push(Problem::new("async.max_pending", "must be at least 1"));
        }
        if self.lease < Duration::from_secs(1) {
            problems.push(Problem::new("async.lease", "must be at least 1s"));
        }
        if self.poll_interval < Duration::from_millis(10) || self.poll_interval > self.lease {
            problems.push(Problem::new(
                "async.poll_interval",
                "must be at least 10ms and at most the lease",
            ));
        }
        if self.retention < Duration::from_secs(60) {
            problems.push(Problem::new("async.retention", "must be at least 60s"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_are_named() {
        let mut problems = Vec::new();
        AsyncConfig::default().validate(&mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        let bad = AsyncConfig {
            concurrency: 0,
            max_pending: 0,
            lease: Duration::from_millis(10),
            retention: Duration::from_secs(1),
            ..AsyncConfig::default()
        };
        bad.validate(&mut problems);
        let text = format!("{problems:?}");
        for key in [
            "async.concurrency",
            "async.max_pending",
            "async.lease",
            "async.poll_interval",
            "async.retention",
        ] {
            assert!(text.contains(key), "{key} in {text}");
        }
    }
}
