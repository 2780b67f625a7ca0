//! [`AuditWriter`]: security events off the request path. `audit` only queues (bounded); a
//! background task appends each event to the store's hash-chained log and, when configured,
//! to a JSON-lines file. A full queue drops the event, counts it
//! (`gateway_telemetry_dropped_records{name="audit"}`) and logs an error naming the action;
//! it is never silent. [`AuditWriter::flush`] waits for everything queued before it.

mod file;

use std::sync::Arc;
use std::time::Duration;

use gateway_core::phases::account::AuditSink;
use gateway_core::store::{AuditEvent, AuditStore};
use tokio::sync::{mpsc, oneshot};

use file::AuditFile;
pub use file::{GENESIS_HASH, chain_hash, verify_file};

use crate::config::AuditConfig;
use crate::error::TelemetryError;
use crate::metrics::Metrics;
use crate::throttle::Throttle;

const WRITE_ATTEMPTS: u32 = 4;

enum Command {
    Event(Box<AuditEvent>),
    Flush(oneshot::Sender<()>),
}

/// Queues audit events for the store and the file. Implements [`AuditSink`].
pub struct AuditWriter {
    tx: mpsc::Sender<Command>,
    metrics: Arc<Metrics>,
    overflow: Throttle,
}

impl std::fmt::Debug for AuditWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditWriter").finish_non_exhaustive()
    }
}

impl AuditWriter {
    /// Start the writer on the current tokio runtime. `store` is used when `config.store`
    /// is on; the file is opened (and its chain resumed) now, so a bad path fails startup.
    pub fn start(
        store: Option<Arc<dyn AuditStore>>,
        config: &AuditConfig,
        metrics: Arc<Metrics>,
    ) -> Result<AuditWriter, TelemetryError> {
        let runtime =
            tokio::runtime::Handle::try_current().map_err(|_| TelemetryError::NoRuntime)?;
        let file = config.file.as_deref().map(AuditFile::open).transpose()?;
        let (tx, rx) = mpsc::channel(config.buffer.max(1));
        let task = WriterTask {
            store: store.filter(|_| config.store),
            file,
            metrics: metrics.clone(),
        };
        runtime.spawn(task.run(rx));
        Ok(AuditWriter {
            tx,
            metrics,
            overflow: Throttle::default(),
        })
    }

    /// Wait until every event queued before this call is written (and the file synced).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Command::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

impl AuditSink for AuditWriter {
    fn audit(&self, event: AuditEvent) {
        if let Err(err) = self.tx.try_send(Command::Event(Box::new(event))) {
            self.metrics.dropped("audit", 1);
            let (action, actor) = match &err {
                mpsc::error::TrySendError::Full(Command::Event(e))
                | mpsc::error::TrySendError::Closed(Command::Event(e)) => {
                    (e.action.clone(), e.actor.clone())
                }
                _ => (String::new(), String::new()),
            };
            if let Some(suppressed) = self.overflow.allow() {
                tracing::error!(
                    action,
                    actor,
                    suppressed,
                    "audit buffer is full: an audit event was dropped (raise telemetry.audit.buffer)"
                );
            }
        }
    }
}

struct WriterTask {
    store: Option<Arc<dyn AuditStore>>,
    file: Option<AuditFile>,
    metrics: Arc<Metrics>,
}

impl WriterTask {
    async fn run(mut self, mut rx: mpsc::Receiver<Command>) {
        while let Some(cmd) = rx.recv().await {
            match cmd {
                Command::Event(event) => self.write(&event).await,
                Command::Flush(done) => {
                    if let Some(file) = &mut self.file
                        && let Err(e) = file.sync().await
                    {
                        tracing::error!(error = %e, "syncing the audit file failed");
                    }
                    let _ = done.send(());
                }
            }
        }
        if let Some(file) = &mut self.file {
            let _ = file.sync().await;
        }
    }

    async fn write(&mut self, event: &AuditEvent) {
        let stored = match &self.store {
            Some(store) => match append_with_retry(store.as_ref(), event, &self.metrics).await {
                Some(record) => {
                    self.metrics.written("audit", 1);
                    Some(Some(record))
                }
                None => Some(None),
            },
            None => None,
        };
        let Some(file) = &mut self.file else {
            if matches!(stored, Some(None)) {
                self.metrics.dropped("audit", 1);
                tracing::error!(
                    action = event.action,
                    actor = event.actor,
                    "audit event lost: the store refused it repeatedly"
                );
            }
            return;
        };
        let result = match &stored {
            Some(Some(record)) => file.append_stored(record).await,
            Some(None) => file.append_unchained(event).await,
            None => file.append_chained(event).await,
        };
        match result {
            Ok(()) if stored.is_none() => self.metrics.written("audit", 1),
            Ok(()) => {}
            Err(e) => {
                self.metrics.write_error("audit");
                let path = file.path().display().to_string();
                tracing::error!(error = %e, path, action = event.action, "writing the audit file failed");
                if stored.as_ref().is_none_or(Option::is_none) {
                    self.metrics.dropped("audit", 1);
                }
            }
        }
    }
}

async fn append_with_retry(
    store: &dyn AuditStore,
    event: &AuditEvent,
    metrics: &Metrics,
) -> Option<gateway_core::store::AuditRecord> {
    let mut backoff = Duration::from_millis(50);
    for attempt in 1..=WRITE_ATTEMPTS {
        match store.append_audit(event).await {
            Ok(record) => return Some(record),
            Err(e) => {
                metrics.write_error("audit");
                tracing::warn!(error = %e, action = event.action, attempt, "appending an audit event failed");
                if attempt < WRITE_ATTEMPTS {
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                }
            }
        }
    }
    None
}
