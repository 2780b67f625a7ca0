//! The audit writer: the store's chain, the JSON-lines file (a mirror of the store's chain, or
//! a chain of its own), tamper detection in the file, and a full buffer that is reported.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use common::{MemoryStore, audit_event, metric, until};
use gateway_core::phases::account::AuditSink;
use gateway_core::store::AuditStore;
use gateway_telemetry::config::AuditConfig;
use gateway_telemetry::{AuditWriter, Metrics, verify_file};

fn config(store: bool, file: Option<std::path::PathBuf>, buffer: usize) -> AuditConfig {
    AuditConfig {
        store,
        file,
        buffer,
    }
}

fn lines(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn events_reach_the_store_chain_and_the_file_mirror() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit/audit.jsonl");
    let store = Arc::new(MemoryStore::default());
    let metrics = Arc::new(Metrics::new());
    let writer = AuditWriter::start(
        Some(store.clone() as Arc<dyn AuditStore>),
        &config(true, Some(path.clone()), 100),
        metrics.clone(),
    )
    .unwrap();
    for (i, action) in ["key.create", "auth.failed", "tenant.update"]
        .iter()
        .enumerate()
    {
        writer.audit(audit_event(action, &format!("actor-{i}")));
    }
    writer.flush().await;
    let stored = store.audit.lock().unwrap().clone();
    assert_eq!(stored.len(), 3);
    let file = lines(&path);
    assert_eq!(file.len(), 3);
    for (line, record) in file.iter().zip(&stored) {
        assert_eq!(line["seq"], record.seq);
        assert_eq!(line["hash"], record.hash.as_str());
        assert_eq!(line["prev_hash"], record.prev_hash.as_str());
        assert_eq!(line["action"], record.event.action.as_str());
        assert!(line["at"].as_str().unwrap().ends_with('Z'));
    }
    let v = verify_file(&path).unwrap();
    assert_eq!((v.checked, v.first_broken_seq), (3, None));
    let text = metrics.encode();
    assert_eq!(
        metric(
            &text,
            r#"gateway_telemetry_written_records_total{name="audit"}"#
        ),
        3.0
    );
}

#[tokio::test]
async fn a_file_of_its_own_resumes_its_chain_and_shows_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    for round in 0..2 {
        let writer = AuditWriter::start(
            None,
            &config(true, Some(path.clone()), 100),
            Arc::new(Metrics::new()),
        )
        .unwrap();
        writer.audit(audit_event("config.reload", &format!("system-{round}")));
        writer.audit(audit_event("key.revoke", "key_admin"));
        writer.flush().await;
    }
    let seqs: Vec<u64> = lines(&path)
        .iter()
        .map(|l| l["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [1, 2, 3, 4]);
    assert_eq!(verify_file(&path).unwrap().first_broken_seq, None);

    // Edit record 3 in place: verification names it.
    let text = std::fs::read_to_string(&path).unwrap();
    let tampered: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 2 {
                l.replace("system-1", "system-X")
            } else {
                l.to_owned()
            }
        })
        .collect();
    std::fs::write(&path, tampered.join("\n") + "\n").unwrap();
    let v = verify_file(&path).unwrap();
    assert_eq!(v.first_broken_seq, Some(3));

    // Delete record 2 instead: the link of record 3 breaks.
    let deleted: Vec<&str> = text
        .lines()
        .enumerate()
        .filter(|(i, _)| *i != 1)
        .map(|(_, l)| l)
        .collect();
    std::fs::write(&path, deleted.join("\n") + "\n").unwrap();
    assert_eq!(verify_file(&path).unwrap().first_broken_seq, Some(3));
}

#[tokio::test]
async fn a_full_buffer_is_counted_and_the_rest_is_written() {
    let store = Arc::new(MemoryStore::default());
    let metrics = Arc::new(Metrics::new());
    let writer = AuditWriter::start(
        Some(store.clone() as Arc<dyn AuditStore>),
        &config(true, None, 1),
        metrics.clone(),
    )
    .unwrap();
    let gate = store.gate.lock().await;
    writer.audit(audit_event("a.1", "x"));
    // The writer takes event 1 and stalls on the store.
    until(|| store.entered.load(Ordering::SeqCst) == 1).await;
    for i in 2..=4 {
        writer.audit(audit_event(&format!("a.{i}"), "x"));
    }
    let text = metrics.encode();
    assert_eq!(
        metric(
            &text,
            r#"gateway_telemetry_dropped_records_total{name="audit"}"#
        ),
        2.0
    );
    drop(gate);
    writer.flush().await;
    let actions: Vec<String> = store
        .audit
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.event.action.clone())
        .collect();
    assert_eq!(actions, ["a.1", "a.2"]);
}

#[tokio::test(start_paused = true)]
async fn a_store_outage_still_reaches_the_file_unchained() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let store = Arc::new(MemoryStore::default());
    store.fail.store(100, std::sync::atomic::Ordering::SeqCst);
    let writer = AuditWriter::start(
        Some(store.clone() as Arc<dyn AuditStore>),
        &config(true, Some(path.clone()), 10),
        Arc::new(Metrics::new()),
    )
    .unwrap();
    writer.audit(audit_event("tenant.delete", "admin"));
    writer.flush().await;
    let file = lines(&path);
    assert_eq!(file.len(), 1);
    assert_eq!(file[0]["action"], "tenant.delete");
    assert!(file[0]["seq"].is_null());
    assert_eq!(verify_file(&path).unwrap().checked, 0);
}
