//! Backup and restore of the whole store: a consistent online snapshot of every table,
//! written as one encrypted, authenticated archive with a manifest; verification without a
//! database; restore into an empty store of the same kind and schema version.
//!
//! Entry points: [`SqlStore::create_backup`], [`verify_backup`], [`read_manifest`],
//! [`SqlStore::restore_backup`]. The format is documented in `archive.rs` (the file) and
//! `payload.rs` (what is inside); the procedures in `docs/operations.md`.

mod archive;
mod error;
mod export;
mod manifest;
mod payload;
mod restore;
mod schema;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use gateway_core::store::{AuditEvent, AuditOutcome, AuditStore, unix_millis};

pub use archive::BackupKey;
pub use error::BackupError;
pub use manifest::{AuditHead, Manifest, TableRows};

use crate::connect::SqlStore;
use crate::error::StoreError;
use crate::pool::Backend;
use archive::{ArchiveReader, ArchiveWriter, PayloadLines};
use payload::{Checker, Line, parse_line};

/// The file name extension of archives.
pub const BACKUP_EXTENSION: &str = "gwbackup";
/// The archive format written by this version.
pub const FORMAT_VERSION: u32 = 1;

/// How a restore treats a target that already holds rows.
#[derive(Debug, Clone, Default)]
pub struct RestoreOptions {
    /// Delete every row of the target first (in the restore's transaction) instead of
    /// refusing a store that is not empty.
    pub replace: bool,
    /// Who restores, for the audit event (`gatewayctl`, an operator's name).
    pub actor: String,
}

/// What a restore did.
#[derive(Debug, Clone)]
pub struct RestoreReport {
    pub manifest: Manifest,
    /// When the restore finished, unix milliseconds.
    pub restored_at_ms: i64,
    /// From the backup's snapshot to the restore: what the store may have lost.
    pub gap_ms: i64,
    /// Audit records checked after the restore (the restored chain plus the restore's own).
    pub audit_checked: u64,
    /// The `backup.restored` audit record's sequence number.
    pub audit_seq: u64,
}

/// Reads and authenticates the manifest alone (fast: the payload is not read).
pub async fn read_manifest(path: &Path, key: &BackupKey) -> Result<Manifest, BackupError> {
    let mut reader = ArchiveReader::open(path, key).await?;
    decode_manifest(&reader.manifest().await?)
}

fn decode_manifest(bytes: &[u8]) -> Result<Manifest, BackupError> {
    let m: Manifest = serde_json::from_slice(bytes)
        .map_err(|e| BackupError::Malformed(format!("manifest: {e}")))?;
    if m.format != FORMAT_VERSION {
        return Err(BackupError::NotAnArchive);
    }
    Ok(m)
}

async fn open_payload(
    path: &Path,
    key: &BackupKey,
) -> Result<(Manifest, PayloadLines), BackupError> {
    let mut reader = ArchiveReader::open(path, key).await?;
    let manifest = decode_manifest(&reader.manifest().await?)?;
    Ok((manifest, PayloadLines::new(reader)))
}

/// Decrypts and checks the whole archive without a database: every chunk authenticates,
/// the payload's SHA-256 and length match the manifest, every table's row count matches,
/// and the audit chain inside is unbroken up to the manifest's head.
pub async fn verify_backup(path: &Path, key: &BackupKey) -> Result<Manifest, BackupError> {
    let (manifest, mut lines) = open_payload(path, key).await?;
    let mut checker = Checker::new(&manifest);
    while let Some(line) = lines.next_line().await? {
        match parse_line(&line)? {
            Line::Section(s) => checker.section(&s)?,
            Line::Row(row) => checker.row(&row)?,
        }
    }
    let (sha, bytes) = lines.digest();
    checker.finish(&sha, bytes)?;
    Ok(manifest)
}

/// `dir/gateway-YYYYMMDDTHHMMSSmmmZ.gwbackup` for `at` (UTC): names sort by time.
pub fn backup_file_name(at: SystemTime) -> String {
    let ms = unix_millis(at);
    let (secs, millis) = (ms.div_euclid(1000), ms.rem_euclid(1000));
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "gateway-{y:04}{m:02}{d:02}T{:02}{:02}{:02}{millis:03}Z.{BACKUP_EXTENSION}",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Howard Hinnant's days-to-civil (proleptic Gregorian).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

impl SqlStore {
    /// Takes a consistent snapshot of every table while the store serves and writes it to
    /// `path` (created; written as `path.partial` and renamed when complete and synced).
    pub async fn create_backup(
        &self,
        path: &Path,
        key: &BackupKey,
    ) -> Result<Manifest, StoreError> {
        let started = Instant::now();
        let created_at_ms = unix_millis(SystemTime::now());
        let partial = sibling(path, ".partial");
        let result = self
            .write_backup(path, &partial, key, started, created_at_ms)
            .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&partial).await;
        }
        result
    }

    async fn write_backup(
        &self,
        path: &Path,
        partial: &Path,
        key: &BackupKey,
        started: Instant,
        created_at_ms: i64,
    ) -> Result<Manifest, StoreError> {
        let file = tokio::fs::File::create(partial)
            .await
            .map_err(BackupError::from)?;
        let mut out = ArchiveWriter::create(file, key).await?;
        let exported = match &self.backend {
            Backend::Sqlite(pool) => {
                export::sqlite(pool, &sibling(path, ".snapshot"), &mut out).await?
            }
            Backend::Postgres(pool) => export::postgres(pool, &mut out).await?,
        };
        let (payload_sha256, payload_bytes) = out.payload_digest();
        let id = path
            .file_name()
            .and_then(|n| n.to_str())
            .map(|n| n.strip_suffix(&format!(".{BACKUP_EXTENSION}")).unwrap_or(n))
            .unwrap_or("backup")
            .to_owned();
        let manifest = Manifest {
            format: FORMAT_VERSION,
            id,
            gateway_version: env!("CARGO_PKG_VERSION").to_owned(),
            backend: self.backend.name().to_owned(),
            schema_version: exported.schema_version,
            created_at_ms,
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            tables: exported.tables,
            audit_head: exported.audit_head,
            payload_bytes,
            payload_sha256,
        };
        let bytes =
            serde_json::to_vec(&manifest).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        out.finish(&bytes).await?;
        tokio::fs::rename(partial, path)
            .await
            .map_err(BackupError::from)?;
        Ok(manifest)
    }

    /// The highest migration applied to this store.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        match &self.backend {
            Backend::Sqlite(pool) => {
                schema::sqlite_schema_version(&mut *pool.acquire().await?).await
            }
            Backend::Postgres(pool) => schema::pg_schema_version(&mut *pool.acquire().await?).await,
        }
    }

    /// Rows per table, for every table a backup covers (the migration ledger excluded).
    pub async fn table_counts(&self) -> Result<BTreeMap<String, i64>, StoreError> {
        match &self.backend {
            Backend::Sqlite(pool) => {
                let mut conn = pool.acquire().await?;
                let tables = schema::sqlite_tables(&mut conn).await?;
                restore::sqlite_counts(&mut conn, &tables).await
            }
            Backend::Postgres(pool) => {
                let mut conn = pool.acquire().await?;
                let tables = schema::pg_tables(&mut conn).await?;
                restore::pg_counts(&mut conn, &tables).await
            }
        }
    }

    /// Restores `path` into this store: same backend, same schema version, empty (or
    /// `replace`). One transaction: the archive is checked completely (chunks, checksum,
    /// counts, audit chain) before it commits, and nothing is written if anything fails.
    /// Then the counts and the audit chain are verified in the database, and a
    /// `backup.restored` audit event records the restore and the gap since the snapshot.
    ///
    /// The gateway should not serve this store meanwhile (stop it, or restore into a new
    /// database and point the gateway at it).
    pub async fn restore_backup(
        &self,
        path: &Path,
        key: &BackupKey,
        options: &RestoreOptions,
    ) -> Result<RestoreReport, StoreError> {
        let (manifest, lines) = open_payload(path, key).await?;
        if manifest.backend != self.backend.name() {
            return Err(BackupError::Backend {
                backup: manifest.backend.clone(),
                store: self.backend.name().to_owned(),
            }
            .into());
        }
        let store_version = self.schema_version().await?;
        if store_version != manifest.schema_version {
            return Err(BackupError::SchemaVersion {
                backup: manifest.schema_version,
                store: store_version,
                gateway_version: manifest.gateway_version.clone(),
            }
            .into());
        }
        let counts = match &self.backend {
            Backend::Sqlite(pool) => {
                let mut conn = pool.acquire().await?;
                let tables = schema::sqlite_tables(&mut conn).await?;
                restore::check_tables(&manifest, &tables)?;
                let before = restore::sqlite_counts(&mut conn, &tables).await?;
                refuse_non_empty(&before, options)?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE").await?;
                sqlx::query("PRAGMA defer_foreign_keys = ON")
                    .execute(&mut *tx)
                    .await?;
                for t in tables.iter().rev() {
                    let sql = format!("DELETE FROM {}", schema::quote(&t.name));
                    sqlx::query(sqlx::AssertSqlSafe(sql))
                        .execute(&mut *tx)
                        .await?;
                }
                restore::sqlite(&mut tx, &tables, &manifest, lines).await?;
                tx.commit().await?;
                restore::sqlite_counts(&mut conn, &tables).await?
            }
            Backend::Postgres(pool) => {
                let mut conn = pool.acquire().await?;
                let tables = schema::pg_tables(&mut conn).await?;
                restore::check_tables(&manifest, &tables)?;
                let before = restore::pg_counts(&mut conn, &tables).await?;
                refuse_non_empty(&before, options)?;
                let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                for t in tables.iter().rev() {
                    let sql = format!("DELETE FROM {}", schema::quote(&t.name));
                    sqlx::query(sqlx::AssertSqlSafe(sql))
                        .execute(&mut *tx)
                        .await?;
                }
                restore::postgres(&mut tx, &tables, &manifest, lines).await?;
                tx.commit().await?;
                restore::pg_counts(&mut conn, &tables).await?
            }
        };
        for t in &manifest.tables {
            let got = counts.get(&t.name).copied().unwrap_or(0);
            if u64::try_from(got).ok() != Some(t.rows) {
                return Err(BackupError::Counts(format!(
                    "{}: manifest {}, restored {got}",
                    t.name, t.rows
                ))
                .into());
            }
        }
        let chain = self.verify_audit().await.map_err(|e| {
            StoreError::Corrupt(format!("audit verification after restore failed: {e}"))
        })?;
        if let Some(seq) = chain.first_broken_seq {
            return Err(BackupError::ChainBroken {
                seq: i64::try_from(seq).unwrap_or(i64::MAX),
            }
            .into());
        }
        let now = SystemTime::now();
        let restored_at_ms = unix_millis(now);
        let gap_ms = restored_at_ms - manifest.created_at_ms;
        let event = AuditEvent {
            at: now,
            tenant: None,
            actor: if options.actor.is_empty() {
                "restore".to_owned()
            } else {
                options.actor.clone()
            },
            action: "backup.restored".to_owned(),
            target: Some(manifest.id.clone()),
            outcome: AuditOutcome::Success,
            ip: None,
            details: serde_json::json!({
                "backup_created_at_ms": manifest.created_at_ms,
                "restored_at_ms": restored_at_ms,
                "gap_ms": gap_ms,
                "schema_version": manifest.schema_version,
                "gateway_version": manifest.gateway_version,
                "audit_head_seq": manifest.audit_head.as_ref().map(|h| h.seq),
                "note": "events, usage and changes between the backup and the restore are not in this store",
            }),
        };
        let record = self.append_audit(&event).await.map_err(|e| {
            StoreError::Corrupt(format!(
                "recording the restore in the audit log failed: {e}"
            ))
        })?;
        Ok(RestoreReport {
            manifest,
            restored_at_ms,
            gap_ms,
            audit_checked: chain.checked + 1,
            audit_seq: record.seq,
        })
    }
}

/// PostgreSQL advisory lock key of backups (one at a time across instances).
const PG_BACKUP_LOCK: i64 = 0x0067_7762_6163_6b75; // "gwbacku"

/// Held while a backup runs: on PostgreSQL a transaction-scoped advisory lock on a
/// connection of its own, released when this is dropped (or the process dies); on SQLite
/// nothing (one process serves a SQLite file; the caller's mutex covers it).
pub struct BackupLease {
    _pg: Option<sqlx::Transaction<'static, sqlx::Postgres>>,
}

impl SqlStore {
    /// The backup lease, or `None` when another instance holds it.
    pub async fn try_backup_lease(&self) -> Result<Option<BackupLease>, StoreError> {
        match &self.backend {
            Backend::Sqlite(_) => Ok(Some(BackupLease { _pg: None })),
            Backend::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                let got: bool = sqlx::Row::try_get(
                    &sqlx::query("SELECT pg_try_advisory_xact_lock($1)")
                        .bind(PG_BACKUP_LOCK)
                        .fetch_one(&mut *tx)
                        .await?,
                    0,
                )?;
                Ok(got.then_some(BackupLease { _pg: Some(tx) }))
            }
        }
    }
}

fn refuse_non_empty(
    counts: &BTreeMap<String, i64>,
    options: &RestoreOptions,
) -> Result<(), BackupError> {
    if options.replace {
        return Ok(());
    }
    match counts.iter().find(|(_, n)| **n > 0) {
        Some((table, rows)) => Err(BackupError::NotEmpty {
            table: table.clone(),
            rows: *rows,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn file_names_sort_by_time_in_utc() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_millis(1_765_000_000_123);
        assert_eq!(backup_file_name(at), "gateway-20251206T054640123Z.gwbackup");
        let later = at + Duration::from_secs(1);
        assert!(backup_file_name(later) > backup_file_name(at));
    }
}
