//! Behavioural anomaly detection as the gateway runs it (`[anomaly]`, docs/security.md): the
//! engine is `gateway_policy::anomaly`; this module feeds it and acts on what it finds.
//!
//! - [`tap`]: [`AnomalyTap`], the usage sink in front of the telemetry's, turns each finished
//!   call into counter updates; the edge's failed authentications call
//!   [`Anomalies::auth_failure`]. Counters only on the request path: no lock, no allocation
//!   once an entity has its slot.
//! - [`watcher`]: one background task per instance wakes every `interval_secs`, folds the
//!   counters into the baselines ([`Detector`]), carries out the actions ([`actions`]),
//!   lifts throttles that ran out, and saves the baselines to the store (every ten folds and
//!   on shutdown); it reads them back at start.
//! - [`Anomalies`] is the handle the rest of the gateway holds (kept across reloads): the
//!   counters, the last [`RECENT`] anomalies raised here (`GET /admin/v1/anomalies`), and
//!   commands to the task (fold now, save now, a reloaded configuration).
//!
//! [`Detector`]: gateway_policy::anomaly::Detector

pub mod actions;
pub mod tap;
pub mod view;
pub mod watcher;

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use gateway_core::phases::account::UsageSink;
use gateway_policy::anomaly::{Anomaly, AnomalyConfig, Counters};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

pub use actions::Actors;
pub use tap::AnomalyTap;

/// Anomalies this instance remembers for the listing, newest last.
pub const RECENT: usize = 512;

/// Wall-clock time of the detector, in unix seconds: the system clock plus an offset that
/// only tests move ([`Anomalies::advance`]), so that hours of baselines, warm-up, cooldowns
/// and throttles unfold without waiting.
#[derive(Debug, Default)]
pub struct AnomalyClock {
    offset_secs: AtomicU64,
}

impl AnomalyClock {
    pub fn now(&self) -> u64 {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        wall.saturating_add(self.offset_secs.load(Ordering::Relaxed))
    }

    fn advance(&self, by: Duration) {
        self.offset_secs.fetch_add(by.as_secs(), Ordering::Relaxed);
    }
}

/// What the request path and the task share.
pub(crate) struct Core {
    pub counters: Counters,
    pub clock: AnomalyClock,
    /// The last [`RECENT`] anomalies raised here. Touched by the task once per anomaly and by
    /// the admin listing, never by the request path.
    pub recent: Mutex<VecDeque<Anomaly>>,
}

impl Core {
    pub(crate) fn remember(&self, anomaly: &Anomaly) {
        let mut recent = match self.recent.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if recent.len() >= RECENT {
            recent.pop_front();
        }
        recent.push_back(anomaly.clone());
    }
}

/// What the task is asked to do besides its schedule.
pub(crate) enum Command {
    /// Fold now; answered with the anomalies raised.
    Fold(oneshot::Sender<Vec<Anomaly>>),
    /// Save the baselines now (shutdown); answered once saved.
    Persist(oneshot::Sender<()>),
    /// A reloaded `[anomaly]` section.
    Configure(Box<AnomalyConfig>),
}

/// The running detection (cheap to clone; the task stops when the last clone drops).
/// Disabled (`[anomaly] enabled = false`): every method does nothing.
#[derive(Clone, Default)]
pub struct Anomalies {
    running: Option<Arc<Running>>,
}

struct Running {
    core: Arc<Core>,
    commands: mpsc::Sender<Command>,
    task: JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Anomalies {
    /// Starts the watcher task (none when disabled). `actors` carry out what it decides.
    pub fn start(config: &AnomalyConfig, actors: Actors) -> Self {
        if !config.enabled {
            return Anomalies::default();
        }
        let core = Arc::new(Core {
            counters: Counters::new(config.max_entities),
            clock: AnomalyClock::default(),
            recent: Mutex::new(VecDeque::new()),
        });
        let (commands, rx) = mpsc::channel(16);
        let task = tokio::spawn(watcher::run(core.clone(), config.clone(), actors, rx));
        Anomalies {
            running: Some(Arc::new(Running {
                core,
                commands,
                task,
            })),
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.running.is_some()
    }

    /// The pipeline's usage sink: `inner` behind the counters (just `inner` when disabled).
    pub fn sink(&self, inner: Arc<dyn UsageSink>) -> Arc<dyn UsageSink> {
        match &self.running {
            Some(r) => Arc::new(AnomalyTap::new(r.core.clone(), inner)),
            None => inner,
        }
    }

    /// The hot path of a failed authentication: `credential` is the hash of what was
    /// presented ([`Anomalies::credential_hash`]), 0 when nothing usable was; `tenant` the
    /// tenant of the existing key it named (revoked, expired, disabled), if any.
    pub fn auth_failure(
        &self,
        client: Option<IpAddr>,
        tenant: Option<&gateway_core::TenantId>,
        credential: u64,
    ) {
        if let Some(r) = &self.running {
            r.core
                .counters
                .observe_auth_failure(client, tenant.map(|t| t.as_str()), credential);
        }
    }

    /// A hash of a presented credential, for counting distinct guesses (never kept).
    pub fn credential_hash(&self, credential: &str) -> u64 {
        self.running
            .as_ref()
            .map_or(0, |r| r.core.counters.credential_hash(credential))
    }

    /// The anomalies raised here, newest first, of `tenant` only when given.
    pub fn recent(&self, tenant: Option<&str>, limit: usize) -> Vec<Anomaly> {
        let Some(r) = &self.running else {
            return Vec::new();
        };
        let recent = match r.core.recent.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        recent
            .iter()
            .rev()
            .filter(|a| tenant.is_none_or(|t| a.tenant.as_deref() == Some(t)))
            .take(limit)
            .cloned()
            .collect()
    }

    /// Folds now instead of waiting for the schedule; returns the anomalies raised (after
    /// their actions were carried out).
    pub async fn fold_now(&self) -> Vec<Anomaly> {
        let Some(r) = &self.running else {
            return Vec::new();
        };
        let (tx, rx) = oneshot::channel();
        if r.commands.send(Command::Fold(tx)).await.is_err() {
            return Vec::new();
        }
        rx.await.unwrap_or_default()
    }

    /// Saves every baseline changed since the last save (shutdown).
    pub async fn persist_now(&self) {
        if let Some(r) = &self.running {
            let (tx, rx) = oneshot::channel();
            if r.commands.send(Command::Persist(tx)).await.is_ok() {
                let _ = rx.await;
            }
        }
    }

    /// A reloaded configuration: thresholds, actions, warm-up, cooldown, idle release and
    /// opt-outs apply from the next fold; `enabled`, `interval_secs` and `max_entities` need a
    /// restart.
    pub fn reconfigure(&self, config: &AnomalyConfig) {
        if let Some(r) = &self.running {
            let _ = r
                .commands
                .try_send(Command::Configure(Box::new(config.clone())));
        }
    }

    /// Moves the detector's clock forward (tests: hours of history without waiting).
    pub fn advance(&self, by: Duration) {
        if let Some(r) = &self.running {
            r.core.clock.advance(by);
        }
    }

    /// The detector's current time (unix seconds).
    pub fn now(&self) -> u64 {
        self.running
            .as_ref()
            .map_or_else(|| AnomalyClock::default().now(), |r| r.core.clock.now())
    }
}
