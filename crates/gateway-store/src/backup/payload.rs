//! The payload inside the archive: JSON lines, table by table in restore order.
//!
//! ```text
//! #{"table":"tenants","columns":["id","name",...]}
//! {"id":"acme","name":"Acme",...}
//! ...
//! ```
//!
//! A line starting with `#` opens a table; every other line is one row as a JSON object
//! keyed by column (SQLite: integers, reals, text, null, and blobs as `{"$blob": base64}`;
//! PostgreSQL: `row_to_json`, restored with `json_populate_recordset`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::error::BackupError;
use super::manifest::{AuditHead, Manifest};
use crate::chain::{ChainFields, GENESIS_HASH, chain_hash};

/// The table of the audit hash chain.
pub(crate) const AUDIT_TABLE: &str = "audit_events";

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Section {
    pub table: String,
    pub columns: Vec<String>,
}

pub(crate) enum Line {
    Section(Section),
    Row(Map<String, Value>),
}

pub(crate) fn section_line(table: &str, columns: &[String]) -> Vec<u8> {
    let mut line = b"#".to_vec();
    line.extend_from_slice(
        serde_json::json!({"table": table, "columns": columns})
            .to_string()
            .as_bytes(),
    );
    line.push(b'\n');
    line
}

pub(crate) fn parse_line(line: &[u8]) -> Result<Line, BackupError> {
    if let Some(rest) = line.strip_prefix(b"#") {
        let section = serde_json::from_slice(rest)
            .map_err(|e| BackupError::Malformed(format!("table header: {e}")))?;
        return Ok(Line::Section(section));
    }
    match serde_json::from_slice(line) {
        Ok(Value::Object(row)) => Ok(Line::Row(row)),
        Ok(_) => Err(BackupError::Malformed(
            "a row is not a JSON object".to_owned(),
        )),
        Err(e) => Err(BackupError::Malformed(format!("row: {e}"))),
    }
}

/// Checks, row by row in payload order, everything `verify` promises: tables in the
/// manifest's order with its row counts, and an unbroken audit chain ending at its head.
pub(crate) struct Checker<'m> {
    manifest: &'m Manifest,
    next_table: usize,
    current: Option<(String, u64)>,
    counted: Vec<(String, u64)>,
    last_seq: i64,
    last_hash: String,
}

impl<'m> Checker<'m> {
    pub(crate) fn new(manifest: &'m Manifest) -> Self {
        Checker {
            manifest,
            next_table: 0,
            current: None,
            counted: Vec::new(),
            last_seq: 0,
            last_hash: GENESIS_HASH.to_owned(),
        }
    }

    fn close_current(&mut self) {
        if let Some(done) = self.current.take() {
            self.counted.push(done);
        }
    }

    pub(crate) fn section(&mut self, s: &Section) -> Result<(), BackupError> {
        self.close_current();
        let expected = self.manifest.tables.get(self.next_table).ok_or_else(|| {
            BackupError::Malformed(format!("table {} is not in the manifest", s.table))
        })?;
        if expected.name != s.table {
            return Err(BackupError::Malformed(format!(
                "table {} where the manifest has {}",
                s.table, expected.name
            )));
        }
        self.next_table += 1;
        self.current = Some((s.table.clone(), 0));
        Ok(())
    }

    pub(crate) fn row(&mut self, row: &Map<String, Value>) -> Result<(), BackupError> {
        let Some((table, count)) = self.current.as_mut() else {
            return Err(BackupError::Malformed(
                "a row before any table header".to_owned(),
            ));
        };
        *count += 1;
        if table == AUDIT_TABLE {
            self.audit_row(row)?;
        }
        Ok(())
    }

    fn audit_row(&mut self, row: &Map<String, Value>) -> Result<(), BackupError> {
        let text = |k: &str| row.get(k).and_then(Value::as_str);
        let int = |k: &str| row.get(k).and_then(Value::as_i64);
        let seq = int("seq").unwrap_or(-1);
        let broken = BackupError::ChainBroken { seq };
        let (Some(at_ms), Some(actor), Some(action), Some(outcome), Some(details)) = (
            int("at_ms"),
            text("actor"),
            text("action"),
            text("outcome"),
            text("details"),
        ) else {
            return Err(broken);
        };
        let (Some(prev_hash), Some(hash)) = (text("prev_hash"), text("hash")) else {
            return Err(broken);
        };
        let fields = ChainFields {
            seq,
            at_ms,
            tenant: text("tenant"),
            actor,
            action,
            target: text("target"),
            outcome,
            ip: text("ip"),
            details,
            prev_hash,
        };
        if seq != self.last_seq + 1 || prev_hash != self.last_hash || chain_hash(&fields) != hash {
            return Err(broken);
        }
        self.last_seq = seq;
        self.last_hash = hash.to_owned();
        Ok(())
    }

    /// After the last line: counts, checksum and chain head against the manifest.
    pub(crate) fn finish(mut self, sha256: &str, bytes: u64) -> Result<(), BackupError> {
        self.close_current();
        if sha256 != self.manifest.payload_sha256 || bytes != self.manifest.payload_bytes {
            return Err(BackupError::Checksum {
                expected: self.manifest.payload_sha256.clone(),
                actual: sha256.to_owned(),
            });
        }
        let expected: Vec<(String, u64)> = self
            .manifest
            .tables
            .iter()
            .map(|t| (t.name.clone(), t.rows))
            .collect();
        if self.counted != expected {
            let diff: Vec<String> = expected
                .iter()
                .map(|(name, rows)| {
                    let got = self
                        .counted
                        .iter()
                        .find(|(n, _)| n == name)
                        .map_or(0, |(_, r)| *r);
                    (name, rows, got)
                })
                .filter(|(_, rows, got)| *rows != got)
                .map(|(name, rows, got)| format!("{name}: manifest {rows}, archive {got}"))
                .collect();
            return Err(BackupError::Counts(diff.join("; ")));
        }
        let head = (self.last_seq > 0).then(|| AuditHead {
            seq: self.last_seq,
            hash: self.last_hash.clone(),
        });
        if head != self.manifest.audit_head {
            return Err(BackupError::ChainBroken { seq: self.last_seq });
        }
        Ok(())
    }
}
