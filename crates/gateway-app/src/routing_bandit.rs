//! The routing bandit as the gateway runs it (`[prompt_routing.bandit]`, docs/routing.md
//! "The loop"): the engine is `gateway_providers::auto::bandit`; this module links it to
//! the store, feeds it and exports its shares.
//!
//! - [`RoutingBandit::start`] opens the [`BanditLoop`] over the SQL store (the edge profile,
//!   which has none: over memory) and starts its sync task; kept across reloads, each
//!   assembled configuration installs its bandit ([`RoutingBandit::install`]).
//! - [`RoutingBandit::sink`]: the usage sink in front of the others; a call the bandit chose
//!   (its route reason says `bandit`) feeds its quality score to the posterior.
//! - [`RoutingBandit::feedback`]: `POST /v1/feedback` feeds the caller's score (weighted
//!   `feedback_weight`).
//! - [`RoutingBandit::samples`]: the gauge `gateway_routing_bandit_share` by rule, task and
//!   candidate.

use std::sync::Arc;

use gateway_core::features::TaskType;
use gateway_core::phases::account::{UsageRecord, UsageSink};
use gateway_core::store::BanditStore;
use gateway_providers::auto::bandit::sync::BanditLoop;
use gateway_providers::auto::{Bandit, Evidence};
use gateway_telemetry::metrics::Sample;
use tokio::task::JoinHandle;

/// The running link (cheap to clone; the sync task stops when the last clone drops).
#[derive(Clone)]
pub struct RoutingBandit {
    running: Arc<Running>,
}

struct Running {
    lp: Arc<BanditLoop>,
    task: JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RoutingBandit {
    /// Reads the stored state and starts syncing (every `sync_secs` of the installed bandit).
    pub async fn start(store: Arc<dyn BanditStore>) -> Self {
        let lp = BanditLoop::open(store).await;
        let task = lp.spawn();
        RoutingBandit {
            running: Arc::new(Running { lp, task }),
        }
    }

    /// The bandit of a newly assembled configuration (`None`: no bandit configured).
    pub fn install(&self, bandit: Option<Arc<Bandit>>) {
        self.running.lp.install(bandit);
    }

    /// The bandit routing now.
    pub fn current(&self) -> Option<Arc<Bandit>> {
        self.running.lp.current()
    }

    /// `inner` behind the tap that feeds quality scores to the bandit.
    pub fn sink(&self, inner: Arc<dyn UsageSink>) -> Arc<dyn UsageSink> {
        Arc::new(BanditTap {
            lp: self.running.lp.clone(),
            inner,
        })
    }

    /// A caller's feedback on a call (its stored route reason and task).
    pub fn feedback(&self, route_reason: Option<&str>, task: Option<&str>, score: f64) {
        let (Some(reason), Some(task)) = (route_reason, task.and_then(TaskType::from_name)) else {
            return;
        };
        self.running
            .lp
            .with_current(|b| b.observe_reason(reason, task, score, Evidence::Feedback));
    }

    /// Stores what was observed since the last round (shutdown; tests).
    pub async fn flush(&self) {
        if let Err(e) = self.running.lp.flush().await {
            tracing::warn!(error = %e, "routing bandit: final sync failed");
        }
    }

    /// The share of each (rule, task, candidate), for `/metrics`.
    pub fn samples(&self) -> Vec<Sample> {
        let Some(bandit) = self.current() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for rule in bandit.rules() {
            for task in TaskType::ALL {
                for candidate in &rule.candidates {
                    let Some(share) = bandit.share(&rule.name, task, candidate) else {
                        continue;
                    };
                    out.push(
                        Sample::gauge(
                            "gateway_routing_bandit_share",
                            "Share of a routing rule's calls of a task type the bandit gives a candidate",
                            share,
                        )
                        .with_owned_label("rule", rule.name.to_string())
                        .with_label("task", task.as_str())
                        .with_owned_label("candidate", candidate.to_string()),
                    );
                }
            }
        }
        out
    }
}

/// Feeds each bandit-chosen call's quality score, then hands the record on.
struct BanditTap {
    lp: Arc<BanditLoop>,
    inner: Arc<dyn UsageSink>,
}

impl BanditTap {
    fn observe(&self, record: &UsageRecord) {
        let (Some(reason), Some(task), Some(quality)) =
            (&record.route_reason, record.task, &record.quality)
        else {
            return;
        };
        if !reason.contains(" bandit ") {
            return;
        }
        let score = f64::from(quality.score);
        self.lp
            .with_current(|b| b.observe_reason(reason, task, score, Evidence::Score));
    }
}

impl UsageSink for BanditTap {
    fn record(&self, record: UsageRecord) {
        self.observe(&record);
        self.inner.record(record);
    }

    fn record_call(&self, record: UsageRecord, client_ip: Option<std::net::IpAddr>) {
        self.observe(&record);
        self.inner.record_call(record, client_ip);
    }
}
