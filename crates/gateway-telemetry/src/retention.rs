//! Usage retention: with `[telemetry.usage] retention` set, a background task deletes the
//! records older than it, once when the writer starts and then every [`PRUNE_EVERY`].

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use gateway_core::GatewayError;
use gateway_core::store::UsageStore;
use tokio::task::JoinHandle;

/// How often expired usage records are deleted.
pub const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Deletes the records of `store` older than `retention` now; returns how many went.
pub async fn prune_usage(store: &dyn UsageStore, retention: Duration) -> Result<u64, GatewayError> {
    match SystemTime::now().checked_sub(retention) {
        Some(cutoff) => store.delete_usage_before(cutoff).await,
        // Longer ago than the clock can say: nothing can be that old.
        None => Ok(0),
    }
}

/// The pruning task; stopped when dropped with its writer (tests start and drop many).
pub(crate) struct Pruner(JoinHandle<()>);

impl Pruner {
    pub(crate) fn spawn(
        runtime: &tokio::runtime::Handle,
        store: Arc<dyn UsageStore>,
        retention: Duration,
    ) -> Pruner {
        Pruner(runtime.spawn(async move {
            let mut every = tokio::time::interval(PRUNE_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                match prune_usage(&*store, retention).await {
                    Ok(0) => {}
                    Ok(deleted) => {
                        tracing::info!(deleted, ?retention, "expired usage records deleted");
                    }
                    // The next hour tries again; the rows stay meanwhile.
                    Err(e) => tracing::warn!(error = %e, "deleting expired usage records failed"),
                }
            }
        }))
    }
}

impl Drop for Pruner {
    fn drop(&mut self) {
        self.0.abort();
    }
}
