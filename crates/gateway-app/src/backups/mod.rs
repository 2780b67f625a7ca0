//! Backups of the SQL store (`[backup]`, see `docs/operations.md`): taken on demand through
//! the admin API or on a schedule by a background task, one at a time across instances (the
//! store's backup lease: a PostgreSQL advisory lock), written as encrypted archives
//! (`gateway_store::backup`) into the configured directory, which keeps the newest `keep`.
//!
//! A scheduled backup appends a `backup.created` audit event; the schedule reads the newest
//! one, so several instances over one PostgreSQL take one backup per interval between them.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use gateway_core::GatewayError;
use gateway_core::store::{AuditEvent, AuditOutcome, AuditQuery, AuditStore, unix_millis};
use gateway_store::backup::{BACKUP_EXTENSION, backup_file_name, read_manifest};
use gateway_store::{BackupError, BackupKey, Manifest, SqlStore, StoreError};
use serde::Serialize;
use tokio::task::JoinHandle;

use crate::config::BackupConfig;

/// The audit action of a scheduled backup (the admin API's own is `backup.create`).
pub const SCHEDULED_ACTION: &str = "backup.created";

/// Counters and the last success, for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BackupStats {
    /// Unix seconds of the newest successful backup known (0: none yet).
    pub last_success_unix: f64,
    pub last_size_bytes: u64,
    pub last_duration_secs: f64,
    pub successes: u64,
    pub failures: u64,
}

/// One archive in the directory.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct BackupEntry {
    /// The file name without `.gwbackup`.
    pub id: String,
    pub size_bytes: u64,
    /// The authenticated manifest; absent when it could not be read (see `error`).
    #[schemars(with = "Option<serde_json::Value>")]
    pub manifest: Option<Manifest>,
    pub error: Option<String>,
}

struct Inner {
    store: Arc<SqlStore>,
    dir: PathBuf,
    key: BackupKey,
    keep: usize,
    running: tokio::sync::Mutex<()>,
    stats: Mutex<BackupStats>,
}

/// The backup service; clones share it. The schedule stops when the last clone is dropped.
#[derive(Clone)]
pub struct Backups {
    inner: Arc<Inner>,
    _scheduler: Option<Arc<Scheduler>>,
}

/// Why a backup was not taken.
#[derive(Debug, thiserror::Error)]
pub enum BackupFailure {
    #[error("another backup is running")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("backup directory: {0}")]
    Io(#[from] std::io::Error),
}

impl BackupFailure {
    pub fn into_gateway(self) -> GatewayError {
        match self {
            BackupFailure::Busy => GatewayError::Unavailable(
                "Another backup is running (here or on another instance); retry when it has finished."
                    .to_owned(),
            ),
            other => {
                tracing::error!(error = %other, "backup failed");
                GatewayError::Unavailable("The backup failed; see the gateway's log.".to_owned())
            }
        }
    }
}

impl Backups {
    /// The service when `[backup] key` is set (the schedule too when `interval` is).
    pub fn start(store: Arc<SqlStore>, config: &BackupConfig, data_dir: &Path) -> Option<Self> {
        let key = BackupKey::from_base64(config.key.as_ref()?.expose()).ok()?;
        let inner = Arc::new(Inner {
            store,
            dir: config.dir_under(data_dir),
            key,
            keep: config.keep.max(1),
            running: tokio::sync::Mutex::new(()),
            stats: Mutex::new(BackupStats::default()),
        });
        let scheduler = config
            .interval
            .map(|every| Arc::new(Scheduler::spawn(inner.clone(), every)));
        Some(Backups {
            inner,
            _scheduler: scheduler,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    pub fn stats(&self) -> BackupStats {
        *lock(&self.inner.stats)
    }

    /// Takes a backup now (the admin API).
    pub async fn create(&self) -> Result<BackupEntry, BackupFailure> {
        self.inner.take(None).await?.ok_or(BackupFailure::Busy)
    }

    /// Every archive in the directory, newest first.
    pub async fn list(&self) -> Result<Vec<BackupEntry>, BackupFailure> {
        let mut out = Vec::new();
        for (id, path) in archives(&self.inner.dir).await?.into_iter().rev() {
            out.push(self.inner.entry(id, &path).await);
        }
        Ok(out)
    }

    /// One archive by id (`None` if no such file).
    pub async fn get(&self, id: &str) -> Result<Option<BackupEntry>, BackupFailure> {
        if id.is_empty()
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
            || id.starts_with('.')
        {
            return Ok(None);
        }
        let path = self.inner.dir.join(format!("{id}.{BACKUP_EXTENSION}"));
        if !tokio::fs::try_exists(&path).await? {
            return Ok(None);
        }
        Ok(Some(self.inner.entry(id.to_owned(), &path).await))
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// `(id, path)` of every `*.gwbackup` in `dir`, oldest first (names sort by time).
async fn archives(dir: &Path) -> Result<Vec<(String, PathBuf)>, std::io::Error> {
    let mut out = Vec::new();
    let mut entries = match tokio::fs::read_dir(dir).await {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    let suffix = format!(".{BACKUP_EXTENSION}");
    while let Some(e) = entries.next_entry().await? {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(id) = name.strip_suffix(&suffix) {
            out.push((id.to_owned(), e.path()));
        }
    }
    out.sort();
    Ok(out)
}

impl Inner {
    async fn entry(&self, id: String, path: &Path) -> BackupEntry {
        let size_bytes = tokio::fs::metadata(path).await.map_or(0, |m| m.len());
        match read_manifest(path, &self.key).await {
            Ok(m) => BackupEntry {
                id,
                size_bytes,
                manifest: Some(m),
                error: None,
            },
            Err(e) => BackupEntry {
                id,
                size_bytes,
                manifest: None,
                error: Some(e.to_string()),
            },
        }
    }

    /// Takes a backup unless one runs here or on another instance (`Ok(None)`). Scheduled
    /// (`due` = the interval): only when no scheduled backup is newer than the interval.
    async fn take(&self, due: Option<Duration>) -> Result<Option<BackupEntry>, BackupFailure> {
        let Ok(_running) = self.running.try_lock() else {
            return Ok(None);
        };
        let Some(_lease) = self.store.try_backup_lease().await? else {
            return Ok(None);
        };
        if let Some(interval) = due
            && let Some(last) = self.last_scheduled().await
            && SystemTime::now()
                .duration_since(last)
                .is_ok_and(|age| age < interval)
        {
            return Ok(None);
        }
        let started = Instant::now();
        let result = self.write().await;
        {
            let mut stats = lock(&self.stats);
            match &result {
                Ok(entry) => {
                    stats.successes += 1;
                    stats.last_success_unix = unix_secs(SystemTime::now());
                    stats.last_size_bytes = entry.size_bytes;
                    stats.last_duration_secs = started.elapsed().as_secs_f64();
                }
                Err(_) => stats.failures += 1,
            }
        }
        let entry = result?;
        if due.is_some() {
            self.record_scheduled(&entry).await;
        }
        self.prune().await;
        Ok(Some(entry))
    }

    async fn write(&self) -> Result<BackupEntry, BackupFailure> {
        tokio::fs::create_dir_all(&self.dir).await?;
        let name = backup_file_name(SystemTime::now());
        let path = self.dir.join(&name);
        let manifest = self.store.create_backup(&path, &self.key).await?;
        let size_bytes = tokio::fs::metadata(&path).await?.len();
        tracing::info!(
            backup = %manifest.id,
            size_bytes,
            duration_ms = manifest.duration_ms,
            "backup written"
        );
        Ok(BackupEntry {
            id: manifest.id.clone(),
            size_bytes,
            manifest: Some(manifest),
            error: None,
        })
    }

    /// When the newest scheduled backup (of any instance) was taken.
    async fn last_scheduled(&self) -> Option<SystemTime> {
        let query = AuditQuery {
            action: Some(SCHEDULED_ACTION.to_owned()),
            newest_first: true,
            limit: 1,
            ..AuditQuery::default()
        };
        match self.store.list_audit(&query).await {
            Ok(records) => records.first().map(|r| r.event.at),
            Err(e) => {
                tracing::warn!(error = %e, "reading the last scheduled backup failed");
                None
            }
        }
    }

    async fn record_scheduled(&self, entry: &BackupEntry) {
        let event = AuditEvent {
            at: SystemTime::now(),
            tenant: None,
            actor: "scheduler".to_owned(),
            action: SCHEDULED_ACTION.to_owned(),
            target: Some(entry.id.clone()),
            outcome: AuditOutcome::Success,
            ip: None,
            details: serde_json::json!({
                "size_bytes": entry.size_bytes,
                "dir": self.dir.display().to_string(),
            }),
        };
        if let Err(e) = self.store.append_audit(&event).await {
            tracing::warn!(error = %e, "recording the scheduled backup failed");
        }
    }

    /// Deletes the oldest `gateway-*` archives beyond `keep` (other files are left alone).
    async fn prune(&self) {
        let Ok(all) = archives(&self.dir).await else {
            return;
        };
        let ours: Vec<_> = all
            .into_iter()
            .filter(|(id, _)| id.starts_with("gateway-"))
            .collect();
        let excess = ours.len().saturating_sub(self.keep);
        for (id, path) in ours.into_iter().take(excess) {
            match tokio::fs::remove_file(&path).await {
                Ok(()) => tracing::info!(backup = %id, "old backup deleted (retention)"),
                Err(e) => tracing::warn!(backup = %id, error = %e, "deleting an old backup failed"),
            }
        }
    }

    /// At start: the newest scheduled backup of any instance counts as the last success.
    async fn load_last_success(&self) {
        if let Some(at) = self.last_scheduled().await {
            let mut stats = lock(&self.stats);
            if stats.last_success_unix == 0.0 {
                stats.last_success_unix = unix_secs(at);
            }
        }
    }
}

fn unix_secs(t: SystemTime) -> f64 {
    unix_millis(t) as f64 / 1000.0
}

/// How often the schedule looks whether a backup is due: a quarter of the interval, at
/// most every five minutes.
pub fn check_every(interval: Duration) -> Duration {
    (interval / 4).clamp(Duration::from_secs(1), Duration::from_secs(300))
}

/// The scheduled-backup task; aborted when dropped.
struct Scheduler(JoinHandle<()>);

impl Scheduler {
    fn spawn(inner: Arc<Inner>, interval: Duration) -> Scheduler {
        Scheduler(tokio::spawn(async move {
            inner.load_last_success().await;
            let mut every = tokio::time::interval(check_every(interval));
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                match inner.take(Some(interval)).await {
                    Ok(_) => {}
                    Err(BackupFailure::Busy) => {}
                    Err(e) => tracing::error!(error = %e, "scheduled backup failed"),
                }
            }
        }))
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl From<BackupError> for BackupFailure {
    fn from(e: BackupError) -> Self {
        BackupFailure::Store(StoreError::Backup(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_checks_often_enough_but_not_too_often() {
        assert_eq!(
            check_every(Duration::from_secs(60)),
            Duration::from_secs(15)
        );
        assert_eq!(
            check_every(Duration::from_secs(86_400)),
            Duration::from_secs(300)
        );
    }
}
