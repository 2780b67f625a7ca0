//! `llm-gateway backup ...`: backups without a serving gateway (the binary parses the
//! command line; this does the work). `create` snapshots a store into an archive, `verify`
//! checks an archive without any database, `restore` loads one into an empty store (migrated
//! to this gateway's schema first, and refused unless that is the backup's schema version).
//!
//! The key is the configuration's `[backup] key` when `-c` is given, else the environment
//! variable named by `--key-env` (`GATEWAY_BACKUP_KEY`): never a command-line argument,
//! which other users of the host could read.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use gateway_store::backup::{BackupKey, Manifest, RestoreOptions, backup_file_name, verify_backup};
use gateway_store::{SqlStore, StoreError};

use crate::config::Config;

/// Why a backup command failed.
#[derive(Debug, thiserror::Error)]
pub enum BackupCommandError {
    /// Bad input (no key, no store, an invalid configuration): exit 2.
    #[error("{0}")]
    Usage(String),
    /// The archive or the store refused (damaged, wrong key, schema mismatch...): exit 1.
    #[error("{0}")]
    Failed(String),
}

impl BackupCommandError {
    pub fn exit_code(&self) -> u8 {
        match self {
            BackupCommandError::Usage(_) => 2,
            BackupCommandError::Failed(_) => 1,
        }
    }
}

impl From<StoreError> for BackupCommandError {
    fn from(e: StoreError) -> Self {
        BackupCommandError::Failed(e.to_string())
    }
}

/// Where the key and the store come from.
#[derive(Debug, Clone, Default)]
pub struct Source {
    /// A gateway configuration: its `[backup] key`, `[store]` and data directory.
    pub config: Option<PathBuf>,
    /// A store URL (`sqlite://PATH?mode=rwc`, `postgres://...`), instead of the configuration's.
    pub database_url: Option<String>,
    /// The environment variable holding the key when no configuration gives one.
    pub key_env: String,
}

impl Source {
    fn load_config(&self) -> Result<Option<Config>, BackupCommandError> {
        match &self.config {
            None => Ok(None),
            Some(path) => Config::load(path).map(Some).map_err(|e| {
                BackupCommandError::Usage(format!("invalid configuration {}: {e}", path.display()))
            }),
        }
    }

    fn key(&self, config: Option<&Config>) -> Result<BackupKey, BackupCommandError> {
        let text = match config.and_then(|c| c.backup.key.as_ref()) {
            Some(key) => key.expose().clone(),
            None => std::env::var(&self.key_env).map_err(|_| {
                BackupCommandError::Usage(format!(
                    "no backup key: set [backup] key in the configuration (-c) or the {} \
                     environment variable (32 bytes, base64: openssl rand -base64 32)",
                    self.key_env
                ))
            })?,
        };
        BackupKey::from_base64(&text).map_err(|e| BackupCommandError::Usage(e.to_string()))
    }

    async fn store(&self, config: Option<&Config>) -> Result<SqlStore, BackupCommandError> {
        let url = match (&self.database_url, config) {
            (Some(url), _) => url.clone(),
            (None, Some(c)) if c.store.signed_file.is_none() => {
                if c.store.database_url.is_none() {
                    std::fs::create_dir_all(&c.server.data_dir).map_err(|e| {
                        BackupCommandError::Failed(format!(
                            "cannot create {}: {e}",
                            c.server.data_dir.display()
                        ))
                    })?;
                }
                c.store.url(&c.server.data_dir)
            }
            _ => {
                return Err(BackupCommandError::Usage(
                    "which store? pass --database-url URL or -c CONFIG".to_owned(),
                ));
            }
        };
        Ok(SqlStore::connect(&url).await?)
    }
}

/// A manifest for people.
pub fn describe(m: &Manifest) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "backup          {}", m.id);
    let _ = writeln!(
        out,
        "created at      {} (unix ms {}), took {} ms",
        crate::http::admin::time_format(gateway_core::store::from_unix_millis(m.created_at_ms)),
        m.created_at_ms,
        m.duration_ms
    );
    let _ = writeln!(
        out,
        "store           {} at schema version {} (gateway {})",
        m.backend, m.schema_version, m.gateway_version
    );
    match &m.audit_head {
        Some(h) => {
            let _ = writeln!(out, "audit head      seq {} hash {}", h.seq, h.hash);
        }
        None => {
            let _ = writeln!(out, "audit head      (empty log)");
        }
    }
    let _ = writeln!(
        out,
        "payload         {} bytes, sha256 {}",
        m.payload_bytes, m.payload_sha256
    );
    let _ = writeln!(out, "tables");
    for t in &m.tables {
        let _ = writeln!(out, "  {:<28} {:>12} rows", t.name, t.rows);
    }
    out.trim_end().to_owned()
}

/// `llm-gateway backup create`: into `out` (a file, or a directory for a timestamped name).
pub async fn create(source: &Source, out: &Path) -> Result<String, BackupCommandError> {
    let config = source.load_config()?;
    let key = source.key(config.as_ref())?;
    let store = source.store(config.as_ref()).await?;
    let path = if out.is_dir() {
        out.join(backup_file_name(std::time::SystemTime::now()))
    } else {
        out.to_owned()
    };
    let result = store.create_backup(&path, &key).await;
    store.close().await;
    let manifest = result?;
    Ok(format!(
        "written {}\n{}",
        path.display(),
        describe(&manifest)
    ))
}

/// `llm-gateway backup verify FILE`: no database involved.
pub async fn verify(source: &Source, file: &Path) -> Result<String, BackupCommandError> {
    let config = source.load_config()?;
    let key = source.key(config.as_ref())?;
    let manifest = verify_backup(file, &key)
        .await
        .map_err(|e| BackupCommandError::Failed(format!("{}: {e}", file.display())))?;
    Ok(format!(
        "ok: every chunk authenticates, the checksum, the row counts and the audit chain match\n{}",
        describe(&manifest)
    ))
}

/// `llm-gateway backup restore FILE`: into the store of `--database-url` or `-c`.
pub async fn restore(
    source: &Source,
    file: &Path,
    replace: bool,
) -> Result<String, BackupCommandError> {
    let config = source.load_config()?;
    let key = source.key(config.as_ref())?;
    let store = source.store(config.as_ref()).await?;
    let actor = std::env::var("USER").unwrap_or_else(|_| "llm-gateway backup restore".to_owned());
    let result = store
        .restore_backup(file, &key, &RestoreOptions { replace, actor })
        .await;
    store.close().await;
    let report = result?;
    Ok(format!(
        "restored {} into the {} store: counts and audit chain verified ({} records), \
         gap since the backup {} s recorded as audit event #{} (backup.restored)\n{}",
        file.display(),
        report.manifest.backend,
        report.audit_checked,
        report.gap_ms / 1000,
        report.audit_seq,
        describe(&report.manifest)
    ))
}
