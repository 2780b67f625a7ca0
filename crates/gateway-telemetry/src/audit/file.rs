//! The JSON-lines audit file: one event per line, hash-chained like the store's log
//! (`hash = hex(SHA-256([seq, at_ms, tenant, actor, action, target, outcome, ip, details,
//! prev_hash]))`, `details` as its compact JSON text), so [`verify_file`] can prove a copy
//! unaltered. With the store on, each line carries the store's own `seq` and hashes.

use std::io::{BufRead, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use gateway_core::store::{AuditEvent, AuditRecord, AuditVerification, unix_millis};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::error::TelemetryError;

/// `prev_hash` of the first record.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// How far from the end of an existing file the last line is looked for.
const TAIL_BYTES: u64 = 256 * 1024;

/// The chain hash of one record (the same algorithm as the store's).
pub fn chain_hash(
    seq: u64,
    at_ms: i64,
    event: &AuditEvent,
    details: &str,
    prev_hash: &str,
) -> String {
    let preimage = json!([
        seq,
        at_ms,
        event.tenant.as_ref().map(|t| t.as_str()),
        event.actor,
        event.action,
        event.target,
        event.outcome.as_str(),
        event.ip,
        details,
        prev_hash
    ])
    .to_string();
    hex::encode(Sha256::digest(preimage.as_bytes()))
}

/// One line of the file.
pub(crate) fn line(event: &AuditEvent, chain: Option<(u64, &str, &str)>) -> String {
    let at_ms = unix_millis(event.at);
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(at_ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        });
    let (seq, prev_hash, hash) = match chain {
        Some((seq, prev, hash)) => (Some(seq), Some(prev), Some(hash)),
        None => (None, None, None),
    };
    json!({
        "seq": seq,
        "at": at,
        "at_ms": at_ms,
        "tenant": event.tenant.as_ref().map(|t| t.as_str()),
        "actor": event.actor,
        "action": event.action,
        "target": event.target,
        "outcome": event.outcome.as_str(),
        "ip": event.ip,
        "details": event.details,
        "prev_hash": prev_hash,
        "hash": hash,
    })
    .to_string()
}

/// The append-only file and, when it keeps its own chain, the chain's tail.
pub(crate) struct AuditFile {
    path: PathBuf,
    file: tokio::fs::File,
    /// `(seq, hash)` of the last chained line.
    tail: (u64, String),
}

impl AuditFile {
    /// Open for appending, resuming the chain from the file's last line.
    pub(crate) fn open(path: &Path) -> Result<AuditFile, TelemetryError> {
        let err = |message: String| TelemetryError::AuditFile {
            path: path.display().to_string(),
            message,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(path)
            .map_err(|e| err(e.to_string()))?;
        let tail = last_chained(&mut file).map_err(|e| err(e.to_string()))?;
        Ok(AuditFile {
            path: path.to_owned(),
            file: tokio::fs::File::from_std(file),
            tail,
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Append a record the store has chained.
    pub(crate) async fn append_stored(&mut self, r: &AuditRecord) -> std::io::Result<()> {
        let text = line(&r.event, Some((r.seq, &r.prev_hash, &r.hash)));
        self.write(text).await
    }

    /// Append an event on the file's own chain.
    pub(crate) async fn append_chained(&mut self, event: &AuditEvent) -> std::io::Result<()> {
        let seq = self.tail.0 + 1;
        let details = event.details.to_string();
        let hash = chain_hash(seq, unix_millis(event.at), event, &details, &self.tail.1);
        let text = line(event, Some((seq, &self.tail.1, &hash)));
        self.write(text).await?;
        self.tail = (seq, hash);
        Ok(())
    }

    /// Append an event that could not be chained (the store failed).
    pub(crate) async fn append_unchained(&mut self, event: &AuditEvent) -> std::io::Result<()> {
        self.write(line(event, None)).await
    }

    async fn write(&mut self, mut text: String) -> std::io::Result<()> {
        text.push('\n');
        self.file.write_all(text.as_bytes()).await?;
        self.file.flush().await
    }

    pub(crate) async fn sync(&mut self) -> std::io::Result<()> {
        self.file.sync_data().await
    }
}

/// `(seq, hash)` of the last chained line, or the genesis when there is none.
fn last_chained(file: &mut std::fs::File) -> std::io::Result<(u64, String)> {
    let len = file.metadata()?.len();
    file.seek(SeekFrom::Start(len.saturating_sub(TAIL_BYTES)))?;
    let mut text = String::new();
    file.read_to_string(&mut text)?;
    let last = text
        .lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find_map(|v| Some((v.get("seq")?.as_u64()?, v.get("hash")?.as_str()?.to_owned())));
    Ok(last.unwrap_or((0, GENESIS_HASH.to_owned())))
}

/// Re-compute the chain of an audit file. Lines the store could not chain (no `seq`) are
/// skipped; `first_broken_seq` names the first line whose hash or link does not match (for
/// a line that is not valid JSON: the `seq` it should have had).
pub fn verify_file(path: &Path) -> std::io::Result<AuditVerification> {
    let file = std::io::BufReader::new(std::fs::File::open(path)?);
    let mut checked = 0u64;
    let (mut last_seq, mut last_hash) = (0u64, GENESIS_HASH.to_owned());
    for text in file.lines() {
        let text = text?;
        if text.trim().is_empty() {
            continue;
        }
        let broken = Some(last_seq + 1);
        let Ok(v) = serde_json::from_str::<Value>(&text) else {
            return Ok(AuditVerification {
                checked: checked + 1,
                first_broken_seq: broken,
            });
        };
        let Some(seq) = v.get("seq").and_then(Value::as_u64) else {
            continue;
        };
        checked += 1;
        let ok = parse_event(&v).is_some_and(|(event, at_ms)| {
            let prev = v
                .get("prev_hash")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let hash = v.get("hash").and_then(Value::as_str).unwrap_or_default();
            seq == last_seq + 1
                && prev == last_hash
                && chain_hash(seq, at_ms, &event, &event.details.to_string(), prev) == hash
        });
        if !ok {
            return Ok(AuditVerification {
                checked,
                first_broken_seq: Some(seq),
            });
        }
        last_seq = seq;
        last_hash = v
            .get("hash")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
    }
    Ok(AuditVerification {
        checked,
        first_broken_seq: None,
    })
}

fn parse_event(v: &Value) -> Option<(AuditEvent, i64)> {
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let at_ms = v.get("at_ms")?.as_i64()?;
    let event = AuditEvent {
        at: gateway_core::store::from_unix_millis(at_ms),
        tenant: text("tenant").map(|t| gateway_core::TenantId::new(&t)),
        actor: text("actor")?,
        action: text("action")?,
        target: text("target"),
        outcome: gateway_core::store::AuditOutcome::parse(v.get("outcome")?.as_str()?)?,
        ip: text("ip"),
        details: v.get("details")?.clone(),
    };
    Some((event, at_ms))
}
