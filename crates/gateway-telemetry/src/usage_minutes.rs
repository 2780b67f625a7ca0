//! `[telemetry.usage] detail = "minute"`: each call is added to in-memory totals per (UTC
//! minute, tenant, subject, model), and a background task writes what has built up once per
//! flush interval (and on [`crate::UsageWriter::flush`]). A call costs a map update instead of
//! a queued record and a database row; the store adds each write to the totals it holds.

use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;

use gateway_core::phases::account::UsageRecord;
use gateway_core::store::{MinuteKey, UsageMinute, UsageStore, UsageTotals};
use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;

use crate::metrics::Metrics;
use crate::usage::{Command, WRITE_ATTEMPTS};

/// The totals not yet written, in a sharded map: calls on different connection threads
/// update them without a lock they all share. Hashed with foldhash (randomly seeded per map):
/// the keys are the gateway's own tenants, subjects and models, and the map is emptied every
/// flush.
#[derive(Default)]
pub(crate) struct MinuteTotals {
    pending: DashMap<MinuteKey, UsageTotals, foldhash::fast::RandomState>,
}

impl MinuteTotals {
    /// Counts one call. Its strings move into the key when its minute is new.
    pub(crate) fn add(&self, record: UsageRecord) {
        let mut one = UsageTotals::default();
        one.add_record(&record);
        self.pending
            .entry(MinuteKey::of(record))
            .or_default()
            .merge(&one);
    }

    /// Everything counted so far, leaving the totals empty. Each shard is emptied under its
    /// lock, so a call counted meanwhile is either taken now or left for the next flush.
    fn take(&self) -> Vec<UsageMinute> {
        let mut taken = Vec::with_capacity(self.pending.len());
        self.pending.retain(|key, totals| {
            taken.push(UsageMinute {
                key: key.clone(),
                totals: *totals,
            });
            false
        });
        taken
    }
}

pub(crate) struct MinuteTask {
    pub(crate) store: Arc<dyn UsageStore>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) totals: Arc<MinuteTotals>,
    pub(crate) interval: Duration,
}

impl MinuteTask {
    pub(crate) async fn run(self, mut rx: mpsc::Receiver<Command>) {
        let mut tick = tokio::time::interval(self.interval);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        // The first tick completes at once; nothing has been counted yet.
        tick.tick().await;
        loop {
            let mut flushed = None;
            let mut open = true;
            tokio::select! {
                _ = tick.tick() => {}
                command = rx.recv() => match command {
                    Some(Command::Flush(done)) => flushed = Some(done),
                    Some(Command::Record(record)) => self.totals.add(record),
                    None => open = false,
                },
            }
            self.write(self.totals.take()).await;
            if let Some(done) = flushed {
                let _ = done.send(());
            }
            if !open {
                return;
            }
        }
    }

    async fn write(&self, minutes: Vec<UsageMinute>) {
        if minutes.is_empty() {
            return;
        }
        let calls: u64 = minutes.iter().map(|m| m.totals.requests).sum();
        let mut backoff = Duration::from_millis(100);
        for attempt in 1..=WRITE_ATTEMPTS {
            // The write is one transaction: a failed attempt added nothing, so a retry
            // cannot count a call twice.
            match self.store.add_usage_minutes(&minutes).await {
                Ok(()) => {
                    self.metrics.written("usage", calls);
                    return;
                }
                Err(e) => {
                    self.metrics.write_error("usage");
                    tracing::warn!(error = %e, rows = minutes.len(), attempt, "writing usage totals failed");
                    if attempt < WRITE_ATTEMPTS {
                        tokio::time::sleep(backoff).await;
                        backoff *= 2;
                    }
                }
            }
        }
        self.metrics.dropped("usage", calls);
        tracing::error!(calls, "usage totals dropped after repeated write failures");
    }
}
