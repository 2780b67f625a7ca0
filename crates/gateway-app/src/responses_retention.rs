//! Retention of stored responses (`[responses] retention`): a background task deletes the
//! stored Responses API answers older than it, once at start and then every
//! [`PURGE_EVERY`]. It runs as long as the process's lasting state and stops with it.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use gateway_core::GatewayError;
use gateway_core::store::ResponseStore;
use tokio::task::JoinHandle;

/// How often expired responses are deleted.
pub const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// Deletes the responses of `store` created more than `retention` ago; how many went.
pub async fn purge_responses(
    store: &dyn ResponseStore,
    retention: Duration,
) -> Result<u64, GatewayError> {
    match SystemTime::now().checked_sub(retention) {
        Some(cutoff) => store.delete_responses_before(cutoff).await,
        // Longer ago than the clock can say: nothing can be that old.
        None => Ok(0),
    }
}

/// Where responses are stored, and the task that deletes them when they expire: kept as
/// long as any state holds it, across configuration reloads.
#[derive(Clone)]
pub struct StoredResponses {
    pub store: Arc<dyn ResponseStore>,
    _purger: Arc<ResponsePurger>,
}

impl StoredResponses {
    /// `store`, purged of responses older than `retention` (the task runs on the current
    /// runtime).
    pub fn start(store: Arc<dyn ResponseStore>, retention: Duration) -> Self {
        StoredResponses {
            _purger: Arc::new(ResponsePurger::spawn(store.clone(), retention)),
            store,
        }
    }
}

/// The purge task; aborted when dropped (tests build and drop many states).
struct ResponsePurger(JoinHandle<()>);

impl ResponsePurger {
    fn spawn(store: Arc<dyn ResponseStore>, retention: Duration) -> ResponsePurger {
        ResponsePurger(tokio::spawn(async move {
            let mut every = tokio::time::interval(PURGE_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                match purge_responses(&*store, retention).await {
                    Ok(0) => {}
                    Ok(deleted) => {
                        tracing::info!(deleted, ?retention, "expired stored responses deleted");
                    }
                    // The next round tries again; the rows stay meanwhile.
                    Err(e) => tracing::warn!(error = %e, "deleting expired responses failed"),
                }
            }
        }))
    }
}

impl Drop for ResponsePurger {
    fn drop(&mut self) {
        self.0.abort();
    }
}
