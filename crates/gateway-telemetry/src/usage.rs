//! [`UsageWriter`]: usage records off the hot path. `record` only queues (bounded); a
//! background task writes batches to the [`UsageStore`] when a batch fills or the flush
//! interval passes. A full queue drops the record, counts it and logs an error; a failed
//! batch is retried before it is given up (also counted and logged). [`UsageWriter::flush`]
//! waits until everything queued before it is written — call it on graceful shutdown.
//!
//! With `detail = "minute"` calls are not queued: they are added to per-minute totals
//! ([`crate::usage_minutes`]), which the background task writes once per flush interval.

use std::sync::Arc;
use std::time::Duration;

use gateway_core::phases::account::{UsageRecord, UsageSink};
use gateway_core::store::UsageStore;
use tokio::sync::{Notify, mpsc, oneshot};

use crate::config::{UsageConfig, UsageDetail};
use crate::error::TelemetryError;
use crate::metrics::Metrics;
use crate::retention::Pruner;
use crate::throttle::Throttle;
use crate::usage_minutes::{MinuteTask, MinuteTotals};

/// Attempts per batch before it is dropped.
pub(crate) const WRITE_ATTEMPTS: u32 = 4;

// Records travel unboxed: no allocation per call on the request path.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Command {
    Record(UsageRecord),
    Flush(oneshot::Sender<()>),
}

/// Queues usage records for batched writes. Implements [`UsageSink`].
pub struct UsageWriter {
    tx: mpsc::Sender<Command>,
    /// Wakes the writer before its interval ends: a batch is waiting, or a flush.
    wake: Arc<Notify>,
    batch_size: usize,
    /// `detail = "minute"`: calls are added up here instead of being queued.
    minutes: Option<Arc<MinuteTotals>>,
    metrics: Arc<Metrics>,
    overflow: Throttle,
    /// Deletes expired records when `retention` is set.
    _pruner: Option<Pruner>,
}

impl std::fmt::Debug for UsageWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsageWriter").finish_non_exhaustive()
    }
}

impl UsageWriter {
    /// Start the writer task on the current tokio runtime.
    pub fn start(
        store: Arc<dyn UsageStore>,
        config: &UsageConfig,
        metrics: Arc<Metrics>,
    ) -> Result<UsageWriter, TelemetryError> {
        let runtime =
            tokio::runtime::Handle::try_current().map_err(|_| TelemetryError::NoRuntime)?;
        let (tx, rx) = mpsc::channel(config.buffer.max(1));
        let wake = Arc::new(Notify::new());
        let batch_size = config.batch_size.max(1);
        let pruner = config
            .retention
            .map(|retention| Pruner::spawn(&runtime, store.clone(), retention));
        let interval = Duration::from_millis(config.flush_interval_ms.max(1));
        let minutes = match config.detail {
            UsageDetail::Request => {
                let task = WriterTask {
                    store,
                    metrics: metrics.clone(),
                    batch_size,
                    interval,
                    wake: wake.clone(),
                };
                runtime.spawn(task.run(rx));
                None
            }
            UsageDetail::Minute => {
                let totals = Arc::new(MinuteTotals::default());
                let task = MinuteTask {
                    store,
                    metrics: metrics.clone(),
                    totals: totals.clone(),
                    interval,
                };
                runtime.spawn(task.run(rx));
                Some(totals)
            }
        };
        Ok(UsageWriter {
            tx,
            wake,
            batch_size,
            minutes,
            metrics,
            overflow: Throttle::default(),
            _pruner: pruner,
        })
    }

    /// Wait until every record queued before this call is written (or given up).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Command::Flush(done)).await.is_ok() {
            self.wake.notify_one();
            let _ = wait.await;
        }
    }
}

impl UsageSink for UsageWriter {
    fn record(&self, record: UsageRecord) {
        if let Some(minutes) = &self.minutes {
            minutes.add(record);
            return;
        }
        let sent = self.tx.try_send(Command::Record(record));
        // The writer is not woken for each record, only once a batch is waiting.
        if self.tx.max_capacity() - self.tx.capacity() >= self.batch_size {
            self.wake.notify_one();
        }
        if let Err(err) = sent {
            self.metrics.dropped("usage", 1);
            let request_id = match &err {
                mpsc::error::TrySendError::Full(Command::Record(r))
                | mpsc::error::TrySendError::Closed(Command::Record(r)) => r.request_id.clone(),
                _ => Arc::from(""),
            };
            if let Some(suppressed) = self.overflow.allow() {
                tracing::error!(
                    %request_id,
                    suppressed,
                    "usage buffer is full: a usage record was dropped (raise telemetry.usage.buffer)"
                );
            }
        }
    }
}

struct WriterTask {
    store: Arc<dyn UsageStore>,
    metrics: Arc<Metrics>,
    batch_size: usize,
    interval: Duration,
    wake: Arc<Notify>,
}

impl WriterTask {
    async fn run(self, mut rx: mpsc::Receiver<Command>) {
        let mut batch: Vec<UsageRecord> = Vec::with_capacity(self.batch_size);
        let mut waiting: Vec<oneshot::Sender<()>> = Vec::new();
        let mut open = true;
        while open {
            // Block for the first record of a batch; then, rather than being woken for every
            // record (a cross-thread wake-up per request), take what has queued each time the
            // interval ends, a batch is waiting or a flush is asked for.
            let first = match rx.recv().await {
                Some(cmd) => cmd,
                None => break,
            };
            let deadline = tokio::time::Instant::now() + self.interval;
            let mut next = Some(first);
            loop {
                match next.take() {
                    Some(Command::Record(r)) => batch.push(r),
                    Some(Command::Flush(done)) => {
                        waiting.push(done);
                        break;
                    }
                    None => {}
                }
                if batch.len() >= self.batch_size {
                    break;
                }
                match rx.try_recv() {
                    Ok(cmd) => next = Some(cmd),
                    Err(mpsc::error::TryRecvError::Disconnected) => {
                        open = false;
                        break;
                    }
                    Err(mpsc::error::TryRecvError::Empty) => {
                        if tokio::time::Instant::now() >= deadline {
                            break;
                        }
                        tokio::select! {
                            () = tokio::time::sleep_until(deadline) => {}
                            () = self.wake.notified() => {}
                        }
                    }
                }
            }
            self.write(&mut batch).await;
            for done in waiting.drain(..) {
                let _ = done.send(());
            }
        }
        // Every sender is gone: write what is left.
        self.write(&mut batch).await;
    }

    async fn write(&self, batch: &mut Vec<UsageRecord>) {
        if batch.is_empty() {
            return;
        }
        let n = batch.len() as u64;
        let mut backoff = Duration::from_millis(100);
        for attempt in 1..=WRITE_ATTEMPTS {
            match self.store.insert_usage(batch).await {
                Ok(()) => {
                    self.metrics.written("usage", n);
                    batch.clear();
                    return;
                }
                Err(e) => {
                    self.metrics.write_error("usage");
                    tracing::warn!(error = %e, records = n, attempt, "writing usage records failed");
                    if attempt < WRITE_ATTEMPTS {
                        tokio::time::sleep(backoff).await;
                        backoff *= 2;
                    }
                }
            }
        }
        self.metrics.dropped("usage", n);
        tracing::error!(
            records = n,
            "usage records dropped after repeated write failures"
        );
        batch.clear();
    }
}
