//! Restoring an archive into a store of the same kind and schema version, all or nothing.

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::{Map, Value};
use sqlx::{AssertSqlSafe, PgConnection, Row, SqliteConnection};

use super::archive::PayloadLines;
use super::error::BackupError;
use super::manifest::Manifest;
use super::payload::{Checker, Line, parse_line};
use super::schema::{TableInfo, quote};
use crate::error::StoreError;

/// Rows per PostgreSQL insert (one `json_populate_recordset` statement).
const PG_BATCH_ROWS: usize = 500;
const PG_BATCH_BYTES: usize = 4 * 1024 * 1024;

/// The target's tables must be exactly the backup's, column for column.
pub(crate) fn check_tables(manifest: &Manifest, target: &[TableInfo]) -> Result<(), BackupError> {
    let mut want: Vec<&str> = manifest.tables.iter().map(|t| t.name.as_str()).collect();
    let mut have: Vec<&str> = target.iter().map(|t| t.name.as_str()).collect();
    want.sort_unstable();
    have.sort_unstable();
    if want != have {
        return Err(BackupError::Schema(format!(
            "the backup has tables [{}], the target store [{}]",
            want.join(", "),
            have.join(", ")
        )));
    }
    Ok(())
}

fn check_columns(table: &TableInfo, archived: &[String]) -> Result<(), BackupError> {
    let mut a: Vec<&String> = archived.iter().collect();
    let mut b: Vec<&String> = table.columns.iter().collect();
    a.sort();
    b.sort();
    if a != b {
        return Err(BackupError::Schema(format!(
            "table {} has other columns in the backup than in the target store",
            table.name
        )));
    }
    Ok(())
}

fn find<'t>(tables: &'t [TableInfo], name: &str) -> Result<&'t TableInfo, BackupError> {
    tables
        .iter()
        .find(|t| t.name == name)
        .ok_or_else(|| BackupError::Schema(format!("table {name} is not in the target store")))
}

/// Reads every line, checks it, and hands rows to `insert` table by table.
pub(crate) async fn sqlite(
    conn: &mut SqliteConnection,
    tables: &[TableInfo],
    manifest: &Manifest,
    mut lines: PayloadLines,
) -> Result<(), StoreError> {
    let mut checker = Checker::new(manifest);
    let mut current: Option<(&TableInfo, String)> = None;
    while let Some(line) = lines.next_line().await? {
        match parse_line(&line)? {
            Line::Section(s) => {
                checker.section(&s)?;
                let table = find(tables, &s.table)?;
                check_columns(table, &s.columns)?;
                let cols: Vec<String> = table.columns.iter().map(|c| quote(c)).collect();
                let marks: Vec<String> = (1..=cols.len()).map(|i| format!("${i}")).collect();
                let sql = format!(
                    "INSERT INTO {} ({}) VALUES ({})",
                    quote(&table.name),
                    cols.join(", "),
                    marks.join(", ")
                );
                current = Some((table, sql));
            }
            Line::Row(row) => {
                checker.row(&row)?;
                let Some((table, sql)) = &current else {
                    return Err(BackupError::Malformed("a row before any table".to_owned()).into());
                };
                let mut q = sqlx::query(AssertSqlSafe(sql.as_str()));
                for col in &table.columns {
                    q = match row.get(col) {
                        None | Some(Value::Null) => q.bind(None::<i64>),
                        Some(Value::Bool(b)) => q.bind(i64::from(*b)),
                        Some(Value::Number(n)) => match n.as_i64() {
                            Some(i) => q.bind(i),
                            None => q.bind(n.as_f64().unwrap_or(f64::NAN)),
                        },
                        Some(Value::String(s)) => q.bind(s.clone()),
                        Some(Value::Object(o)) => q.bind(blob(o)?),
                        Some(Value::Array(_)) => {
                            return Err(
                                BackupError::Malformed(format!("array value in {col}")).into()
                            );
                        }
                    };
                }
                q.execute(&mut *conn).await?;
            }
        }
    }
    let (sha, bytes) = lines.digest();
    checker.finish(&sha, bytes)?;
    Ok(())
}

fn blob(o: &Map<String, Value>) -> Result<Vec<u8>, BackupError> {
    o.get("$blob")
        .and_then(Value::as_str)
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .ok_or_else(|| BackupError::Malformed("an object value that is not a blob".to_owned()))
}

struct PgBatch {
    sql: String,
    rows: String,
    count: usize,
}

impl PgBatch {
    async fn flush(&mut self, conn: &mut PgConnection) -> Result<(), StoreError> {
        if self.count == 0 {
            return Ok(());
        }
        self.rows.push(']');
        sqlx::query(AssertSqlSafe(self.sql.as_str()))
            .bind(std::mem::take(&mut self.rows))
            .execute(&mut *conn)
            .await?;
        self.count = 0;
        Ok(())
    }

    fn push(&mut self, line: &[u8]) -> Result<(), BackupError> {
        let text = std::str::from_utf8(line)
            .map_err(|_| BackupError::Malformed("a row is not UTF-8".to_owned()))?;
        self.rows.push(if self.count == 0 { '[' } else { ',' });
        self.rows.push_str(text);
        self.count += 1;
        Ok(())
    }
}

pub(crate) async fn postgres(
    conn: &mut PgConnection,
    tables: &[TableInfo],
    manifest: &Manifest,
    mut lines: PayloadLines,
) -> Result<(), StoreError> {
    let mut checker = Checker::new(manifest);
    let mut batch: Option<PgBatch> = None;
    while let Some(line) = lines.next_line().await? {
        match parse_line(&line)? {
            Line::Section(s) => {
                checker.section(&s)?;
                if let Some(b) = batch.as_mut() {
                    b.flush(conn).await?;
                }
                let table = find(tables, &s.table)?;
                check_columns(table, &s.columns)?;
                let cols: Vec<String> = table.columns.iter().map(|c| quote(c)).collect();
                let cols = cols.join(", ");
                let name = quote(&table.name);
                batch = Some(PgBatch {
                    sql: format!(
                        "INSERT INTO {name} ({cols}) OVERRIDING SYSTEM VALUE \
                         SELECT {cols} FROM json_populate_recordset(NULL::{name}, $1::json)"
                    ),
                    rows: String::new(),
                    count: 0,
                });
            }
            Line::Row(row) => {
                checker.row(&row)?;
                let Some(b) = batch.as_mut() else {
                    return Err(BackupError::Malformed("a row before any table".to_owned()).into());
                };
                b.push(&line)?;
                if b.count >= PG_BATCH_ROWS || b.rows.len() >= PG_BATCH_BYTES {
                    b.flush(conn).await?;
                }
            }
        }
    }
    if let Some(b) = batch.as_mut() {
        b.flush(conn).await?;
    }
    let (sha, bytes) = lines.digest();
    checker.finish(&sha, bytes)?;
    // Identity and serial columns continue after the restored rows.
    for t in tables {
        for col in &t.identity {
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence($1, $2), \
                 coalesce((SELECT max({c}) FROM {n}), 0) + 1, false)",
                c = quote(col),
                n = quote(&t.name)
            );
            sqlx::query(AssertSqlSafe(sql))
                .bind(quote(&t.name))
                .bind(col)
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}

/// Rows per table, from the database.
pub(crate) async fn sqlite_counts(
    conn: &mut SqliteConnection,
    tables: &[TableInfo],
) -> Result<BTreeMap<String, i64>, StoreError> {
    let mut out = BTreeMap::new();
    for t in tables {
        let sql = format!("SELECT count(*) FROM {}", quote(&t.name));
        let n: i64 = sqlx::query(AssertSqlSafe(sql))
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?;
        out.insert(t.name.clone(), n);
    }
    Ok(out)
}

pub(crate) async fn pg_counts(
    conn: &mut PgConnection,
    tables: &[TableInfo],
) -> Result<BTreeMap<String, i64>, StoreError> {
    let mut out = BTreeMap::new();
    for t in tables {
        let sql = format!("SELECT count(*) FROM {}", quote(&t.name));
        let n: i64 = sqlx::query(AssertSqlSafe(sql))
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?;
        out.insert(t.name.clone(), n);
    }
    Ok(out)
}
