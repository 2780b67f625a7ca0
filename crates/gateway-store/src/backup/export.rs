//! Taking a consistent snapshot while the gateway serves, and writing it as payload lines.
//!
//! SQLite: `VACUUM INTO` a temporary file next to the archive (SQLite's own consistent copy,
//! taken in one read transaction at native speed, so the WAL is held back only briefly),
//! then the copy is exported at leisure and deleted. PostgreSQL: one `REPEATABLE READ READ
//! ONLY` transaction reads the schema and every table, so all of it is one snapshot while
//! writers carry on; rows stream from the server (`row_to_json`) without being collected.

use std::path::Path;

use base64::Engine;
use futures_util::TryStreamExt;
use serde_json::{Map, Value};
use sqlx::sqlite::{SqliteConnectOptions, SqliteRow};
use sqlx::{AssertSqlSafe, Column, Connection, Row, SqliteConnection, TypeInfo, ValueRef};

use super::archive::ArchiveWriter;
use super::error::BackupError;
use super::manifest::{AuditHead, TableRows};
use super::payload::{AUDIT_TABLE, section_line};
use super::schema::{self, TableInfo, quote};
use crate::error::StoreError;

/// What an export produced, for the manifest.
pub(crate) struct Exported {
    pub schema_version: i64,
    pub tables: Vec<TableRows>,
    pub audit_head: Option<AuditHead>,
}

fn select_sql(t: &TableInfo, what: &str) -> String {
    let order = if t.primary_key.is_empty() {
        String::new()
    } else {
        let cols: Vec<String> = t.primary_key.iter().map(|c| quote(c)).collect();
        format!(" ORDER BY {}", cols.join(", "))
    };
    format!("SELECT {what} FROM {} AS t{order}", quote(&t.name))
}

/// Tracks the last audit row written (rows go out in `seq` order).
fn note_head(head: &mut Option<AuditHead>, row: &Map<String, Value>) {
    if let (Some(seq), Some(hash)) = (
        row.get("seq").and_then(Value::as_i64),
        row.get("hash").and_then(Value::as_str),
    ) {
        *head = Some(AuditHead {
            seq,
            hash: hash.to_owned(),
        });
    }
}

pub(crate) async fn sqlite(
    pool: &sqlx::SqlitePool,
    snapshot: &Path,
    out: &mut ArchiveWriter,
) -> Result<Exported, StoreError> {
    let _ = tokio::fs::remove_file(snapshot).await;
    let target = snapshot
        .to_str()
        .ok_or_else(|| StoreError::Config("backup path is not UTF-8".to_owned()))?;
    sqlx::query("VACUUM INTO $1")
        .bind(target)
        .execute(pool)
        .await?;
    let result = sqlite_copy(snapshot, out).await;
    let _ = tokio::fs::remove_file(snapshot).await;
    result
}

async fn sqlite_copy(snapshot: &Path, out: &mut ArchiveWriter) -> Result<Exported, StoreError> {
    let options = SqliteConnectOptions::new()
        .filename(snapshot)
        .read_only(true);
    let mut conn = SqliteConnection::connect_with(&options).await?;
    let schema_version = schema::sqlite_schema_version(&mut conn).await?;
    let tables = schema::sqlite_tables(&mut conn).await?;
    let mut counts = Vec::with_capacity(tables.len());
    let mut audit_head = None;
    for t in &tables {
        out.write(&section_line(&t.name, &t.columns)).await?;
        let cols: Vec<String> = t.columns.iter().map(|c| quote(c)).collect();
        let sql = select_sql(t, &cols.join(", "));
        let mut rows = sqlx::query(AssertSqlSafe(sql)).fetch(&mut conn);
        let mut n = 0u64;
        let mut line = Vec::new();
        while let Some(row) = rows.try_next().await? {
            let object = sqlite_row(&row)?;
            if t.name == AUDIT_TABLE {
                note_head(&mut audit_head, &object);
            }
            line.clear();
            serde_json::to_writer(&mut line, &Value::Object(object))
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            line.push(b'\n');
            out.write(&line).await?;
            n += 1;
        }
        counts.push(TableRows {
            name: t.name.clone(),
            rows: n,
        });
    }
    drop(conn);
    Ok(Exported {
        schema_version,
        tables: counts,
        audit_head,
    })
}

/// One SQLite row as a JSON object, each value by its storage class.
fn sqlite_row(row: &SqliteRow) -> Result<Map<String, Value>, StoreError> {
    let mut object = Map::with_capacity(row.columns().len());
    for (i, col) in row.columns().iter().enumerate() {
        let raw = row.try_get_raw(i)?;
        let value = if raw.is_null() {
            Value::Null
        } else {
            match raw.type_info().name() {
                "INTEGER" => Value::from(row.try_get_unchecked::<i64, _>(i)?),
                "REAL" => serde_json::Number::from_f64(row.try_get_unchecked::<f64, _>(i)?)
                    .map_or(Value::Null, Value::Number),
                "BLOB" => {
                    let bytes: Vec<u8> = row.try_get_unchecked(i)?;
                    serde_json::json!({
                        "$blob": base64::engine::general_purpose::STANDARD.encode(bytes)
                    })
                }
                _ => Value::String(row.try_get_unchecked::<String, _>(i)?),
            }
        };
        object.insert(col.name().to_owned(), value);
    }
    Ok(object)
}

pub(crate) async fn postgres(
    pool: &sqlx::PgPool,
    out: &mut ArchiveWriter,
) -> Result<Exported, StoreError> {
    let mut tx = pool
        .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await?;
    let schema_version = schema::pg_schema_version(&mut tx).await?;
    let tables = schema::pg_tables(&mut tx).await?;
    let mut counts = Vec::with_capacity(tables.len());
    let mut audit_head = None;
    for t in &tables {
        out.write(&section_line(&t.name, &t.columns)).await?;
        let sql = select_sql(t, "row_to_json(t)::text");
        let mut rows = sqlx::query(AssertSqlSafe(sql)).fetch(&mut *tx);
        let mut n = 0u64;
        while let Some(row) = rows.try_next().await? {
            let mut text: String = row.try_get(0)?;
            if t.name == AUDIT_TABLE {
                let object: Map<String, Value> =
                    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                note_head(&mut audit_head, &object);
            }
            text.push('\n');
            out.write(text.as_bytes()).await?;
            n += 1;
        }
        counts.push(TableRows {
            name: t.name.clone(),
            rows: n,
        });
    }
    tx.commit().await?;
    Ok(Exported {
        schema_version,
        tables: counts,
        audit_head,
    })
}

impl From<BackupError> for StoreError {
    fn from(e: BackupError) -> Self {
        StoreError::Backup(e)
    }
}
