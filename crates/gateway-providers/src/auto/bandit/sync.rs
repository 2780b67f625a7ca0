//! [`BanditLoop`]: the bandit's link to the store, kept for the life of the process (across
//! configuration reloads). Every `sync_secs` its task moves the local observations to the
//! store in one batch, reads every instance's totals back and publishes them to the
//! installed [`Bandit`] as a new snapshot. Off the request path; a store failure keeps the
//! observations for the next round. A frozen bandit neither stores nor reloads: it keeps
//! the shares it was installed with.

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use arc_swap::{ArcSwap, ArcSwapOption};
use gateway_core::GatewayError;
use gateway_core::store::{ArmCounts, BanditStore};
use tokio::task::JoinHandle;

use super::Bandit;

/// The bandit's state as the store holds it, and the bandit currently routing.
pub struct BanditLoop {
    store: Arc<dyn BanditStore>,
    current: ArcSwapOption<Bandit>,
    /// The totals last read from the store.
    totals: ArcSwap<Vec<ArmCounts>>,
    /// Observations of a replaced bandit, not yet stored.
    pending: Mutex<Vec<ArmCounts>>,
}

impl std::fmt::Debug for BanditLoop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BanditLoop")
            .field("arms", &self.totals.load().len())
            .finish()
    }
}

impl BanditLoop {
    /// Reads the stored totals once (so that a restarted instance routes as it left off);
    /// an unreachable store starts from the priors and is read again on the next round.
    pub async fn open(store: Arc<dyn BanditStore>) -> Arc<BanditLoop> {
        let totals = match store.arm_counts().await {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(error = %e, "routing bandit: cannot read its state; starting from the priors");
                Vec::new()
            }
        };
        Arc::new(BanditLoop {
            store,
            current: ArcSwapOption::empty(),
            totals: ArcSwap::from_pointee(totals),
            pending: Mutex::new(Vec::new()),
        })
    }

    /// Makes `bandit` the one routing (a reloaded configuration), from the last totals read.
    /// The replaced one's observations are kept for the next round.
    pub fn install(&self, bandit: Option<Arc<Bandit>>) {
        if let Some(b) = &bandit {
            b.apply(&self.totals.load());
        }
        if let Some(old) = self.current.swap(bandit) {
            let deltas = old.take_deltas();
            self.pending
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend(deltas);
        }
    }

    /// The bandit routing now.
    pub fn current(&self) -> Option<Arc<Bandit>> {
        self.current.load_full()
    }

    /// `f` of the bandit routing now, without taking a reference count (the usage sink's
    /// per-call path: no write to memory other threads share).
    pub fn with_current<R>(&self, f: impl FnOnce(&Bandit) -> R) -> Option<R> {
        self.current.load().as_deref().map(f)
    }

    /// One round: store the local observations, read the totals, publish them.
    pub async fn sync_once(&self) -> Result<(), GatewayError> {
        let current = self.current();
        let mut deltas =
            std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()));
        if let Some(b) = &current {
            deltas.extend(b.take_deltas());
        }
        if current.is_none() && deltas.is_empty() {
            // No bandit configured: nothing to store, nothing to read.
            return Ok(());
        }
        if !deltas.is_empty()
            && let Err(e) = self.store.add_arm_counts(&deltas).await
        {
            // Back where they came from: the next round tries again.
            self.pending
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend(deltas);
            return Err(e);
        }
        if current.as_ref().is_some_and(|b| b.config.frozen) {
            return Ok(());
        }
        let totals = self.store.arm_counts().await?;
        if let Some(b) = &current {
            b.apply(&totals);
        }
        self.totals.store(Arc::new(totals));
        Ok(())
    }

    /// Runs [`BanditLoop::sync_once`] every `sync_secs` of the bandit installed (10 s while
    /// none is) until the loop is dropped.
    pub fn spawn(self: &Arc<Self>) -> JoinHandle<()> {
        let weak: Weak<BanditLoop> = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let every = weak
                    .upgrade()
                    .and_then(|l| l.current())
                    .map_or(10, |b| b.config.sync_secs);
                tokio::time::sleep(Duration::from_secs(every)).await;
                let Some(me) = weak.upgrade() else { return };
                if let Err(e) = me.sync_once().await {
                    tracing::warn!(error = %e, "routing bandit: sync with the store failed; retrying next round");
                }
            }
        })
    }

    /// Stores what is pending (shutdown).
    pub async fn flush(&self) -> Result<(), GatewayError> {
        self.sync_once().await
    }
}
