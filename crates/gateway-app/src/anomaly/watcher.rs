//! The background task: one per instance. Every `interval_secs` (or when asked) it folds the
//! counters into the baselines, carries out the actions of what scored, remembers the
//! anomalies for the listing and lifts the throttles that ran out. It reads the saved
//! baselines back before its first fold, saves those that changed every [`SAVE_EVERY`]
//! folds and when asked (shutdown), and prunes the saved ones idle for [`RETAIN_SECS`].

use std::sync::Arc;
use std::time::Duration;

use gateway_core::store::StoredBaseline;
use gateway_policy::anomaly::{Anomaly, AnomalyConfig, Detector, EntityKind, StoredEntity};
use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;

use super::actions::LOG_TARGET;
use super::{Actors, Command, Core};

/// Folds between two saves of the baselines.
pub const SAVE_EVERY: u32 = 10;
/// Saved baselines idle this long are deleted (the longest warm-up).
pub const RETAIN_SECS: u64 = 90 * 24 * 3600;
/// Baselines written per transaction.
const SAVE_CHUNK: usize = 500;

fn kind_of(name: &str) -> Option<EntityKind> {
    [
        EntityKind::Key,
        EntityKind::Tenant,
        EntityKind::Network,
        EntityKind::Gateway,
    ]
    .into_iter()
    .find(|k| k.as_str() == name)
}

struct Watcher {
    core: Arc<Core>,
    config: AnomalyConfig,
    detector: Detector,
    actors: Actors,
    folds: u32,
    /// Baselines active at or after this time (unix seconds) are saved next.
    saved_up_to: u64,
}

pub(crate) async fn run(
    core: Arc<Core>,
    config: AnomalyConfig,
    actors: Actors,
    mut commands: mpsc::Receiver<Command>,
) {
    let mut w = Watcher {
        detector: Detector::new(config.clone()),
        core,
        config,
        actors,
        folds: 0,
        saved_up_to: 0,
    };
    w.restore().await;
    let mut ticks = tokio::time::interval(Duration::from_secs(w.config.interval_secs.max(1)));
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    ticks.tick().await; // the first tick is immediate
    loop {
        tokio::select! {
            _ = ticks.tick() => {
                w.fold().await;
            }
            command = commands.recv() => match command {
                None => break,
                Some(Command::Fold(answer)) => {
                    let raised = w.fold().await;
                    let _ = answer.send(raised);
                }
                Some(Command::Persist(answer)) => {
                    w.save().await;
                    let _ = answer.send(());
                }
                Some(Command::Configure(config)) => w.configure(*config),
            },
        }
    }
}

impl Watcher {
    fn configure(&mut self, mut config: AnomalyConfig) {
        // Fixed at start: the table's size and the schedule.
        config.enabled = self.config.enabled;
        config.interval_secs = self.config.interval_secs;
        config.max_entities = self.config.max_entities;
        self.detector.set_config(config.clone());
        self.config = config;
    }

    async fn fold(&mut self) -> Vec<Anomaly> {
        let now = self.core.clock.now();
        let raised = self.detector.fold(&self.core.counters, now);
        for a in &raised {
            self.core.remember(a);
            self.actors.act(a, &self.config, now).await;
        }
        self.actors.lift_throttles(now).await;
        if let Some(t) = &self.actors.telemetry {
            t.metrics()
                .anomaly()
                .folded(self.detector.len(), self.core.counters.overflow());
        }
        self.folds = self.folds.wrapping_add(1);
        if self.folds.is_multiple_of(SAVE_EVERY) {
            self.save().await;
        }
        raised
    }

    async fn restore(&mut self) {
        let Some(store) = &self.actors.store else {
            return;
        };
        let rows = match store.load_anomaly_baselines(self.config.max_entities).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(target: LOG_TARGET, error = %e, "could not read the saved anomaly baselines; starting afresh");
                return;
            }
        };
        let count = rows.len();
        let stored: Vec<StoredEntity> = rows
            .into_iter()
            .filter_map(|r| {
                Some(StoredEntity {
                    kind: kind_of(&r.kind)?,
                    id: r.id,
                    tenant: r.tenant,
                    state: r.state,
                    updated_at: r.updated_at,
                })
            })
            .collect();
        let unknown_kind = count - stored.len();
        let unreadable = unknown_kind + self.detector.import(&self.core.counters, stored);
        tracing::info!(target: LOG_TARGET, restored = count - unreadable, unreadable, "anomaly baselines restored");
    }

    async fn save(&mut self) {
        let Some(store) = &self.actors.store else {
            return;
        };
        let now = self.core.clock.now();
        let rows: Vec<StoredBaseline> = self
            .detector
            .export(self.saved_up_to)
            .into_iter()
            .map(|s| StoredBaseline {
                kind: s.kind.as_str().to_owned(),
                id: s.id,
                tenant: s.tenant,
                state: s.state,
                updated_at: s.updated_at,
            })
            .collect();
        for chunk in rows.chunks(SAVE_CHUNK) {
            if let Err(e) = store.save_anomaly_baselines(chunk).await {
                tracing::warn!(target: LOG_TARGET, error = %e, "could not save anomaly baselines");
                return;
            }
        }
        self.saved_up_to = now;
        if let Err(e) = store
            .prune_anomaly_baselines(now.saturating_sub(RETAIN_SECS))
            .await
        {
            tracing::warn!(target: LOG_TARGET, error = %e, "could not prune anomaly baselines");
        }
    }
}
