//! `[batches]`: how the Batch API's worker runs the lines of batches (`docs/batches.md`).
//!
//! ```toml
//! [batches]
//! concurrency = 8          # lines one instance runs at once
//! limit_share = 0.5        # share of each key's and tenant's limits batch lines may use
//! lease = "60s"            # how long a line or batch stays leased without renewal
//! poll_interval = "1s"     # how often an idle worker looks for work
//! ```

use std::time::Duration;

use serde::Deserialize;

use super::Problem;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BatchesConfig {
    /// Whether this instance runs batch work (every instance serves the API either way).
    pub worker: bool,
    /// Lines this instance runs at once, across batches.
    pub concurrency: u32,
    /// The share (0, 1] of each key's and tenant's limits that batch lines use together; the
    /// rest stays for interactive traffic. A line refused for a limit is retried later.
    pub limit_share: f64,
    /// How long a leased line or batch stays with an instance that stops renewing it (a
    /// crashed instance's lines are taken over after this).
    #[serde(deserialize_with = "gateway_core::duration::deserialize")]
    pub lease: Duration,
    /// How often an idle worker looks for work.
    #[serde(deserialize_with = "gateway_core::duration::deserialize")]
    pub poll_interval: Duration,
}

impl Default for BatchesConfig {
    fn default() -> Self {
        BatchesConfig {
            worker: true,
            concurrency: 8,
            limit_share: 0.5,
            lease: Duration::from_secs(60),
            poll_interval: Duration::from_secs(1),
        }
    }
}

impl BatchesConfig {
    pub(crate) fn validate(&self, problems: &mut Vec<Problem>) {
        if !(1..=1024).contains(&self.concurrency) {
            problems.push(Problem::new(
                "batches.concurrency",
                "must be between 1 and 1024",
            ));
        }
        if !(self.limit_share > 0.0 && self.limit_share <= 1.0) {
            problems.push(Problem::new(
                "batches.limit_share",
                "must be greater than 0 and at most 1",
            ));
        }
        if self.lease < Duration::from_secs(1) {
            problems.push(Problem::new("batches.lease", "must be at least 1s"));
        }
        if self.poll_interval < Duration::from_millis(10) || self.poll_interval > self.lease {
            problems.push(Problem::new(
                "batches.poll_interval",
                "must be at least 10ms and at most the lease",
            ));
        }
    }
}
