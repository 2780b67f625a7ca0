//! Where the routing bandit's posteriors live between instances and restarts: per (rule,
//! task, candidate), the accumulated weighted successes and failures. Instances add their
//! local deltas in batches ([`BanditStore::add_arm_counts`]) and read the global totals back
//! ([`BanditStore::arm_counts`]); adding is commutative, so instances never overwrite each
//! other. [`MemoryBanditStore`] keeps them in the process (profiles without a SQL store).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::SystemTime;

use async_trait::async_trait;

use crate::GatewayError;

/// The counts of one arm: observed (weighted) successes and failures, not the prior.
#[derive(Debug, Clone, PartialEq)]
pub struct ArmCounts {
    pub rule: String,
    pub task: String,
    pub candidate: String,
    pub successes: f64,
    pub failures: f64,
    /// Batches added to this arm so far (every instance's).
    pub version: i64,
    pub updated_at: SystemTime,
}

/// The bandit's shared state.
#[async_trait]
pub trait BanditStore: Send + Sync {
    /// Adds each delta's successes and failures to its arm (creating it), in one transaction.
    /// `version` and `updated_at` of the deltas are ignored: the store counts and stamps.
    async fn add_arm_counts(&self, deltas: &[ArmCounts]) -> Result<(), GatewayError>;
    /// Every arm's totals.
    async fn arm_counts(&self) -> Result<Vec<ArmCounts>, GatewayError>;
}

/// A [`BanditStore`] in memory: shared by whatever holds it, lost when the process ends.
#[derive(Debug, Default)]
pub struct MemoryBanditStore {
    arms: Mutex<BTreeMap<(String, String, String), ArmCounts>>,
}

#[async_trait]
impl BanditStore for MemoryBanditStore {
    async fn add_arm_counts(&self, deltas: &[ArmCounts]) -> Result<(), GatewayError> {
        let mut arms = self.arms.lock().unwrap_or_else(|p| p.into_inner());
        let now = SystemTime::now();
        for d in deltas {
            let key = (d.rule.clone(), d.task.clone(), d.candidate.clone());
            let arm = arms.entry(key).or_insert_with(|| ArmCounts {
                successes: 0.0,
                failures: 0.0,
                version: 0,
                updated_at: now,
                ..d.clone()
            });
            arm.successes += d.successes;
            arm.failures += d.failures;
            arm.version += 1;
            arm.updated_at = now;
        }
        Ok(())
    }

    async fn arm_counts(&self) -> Result<Vec<ArmCounts>, GatewayError> {
        let arms = self.arms.lock().unwrap_or_else(|p| p.into_inner());
        Ok(arms.values().cloned().collect())
    }
}
