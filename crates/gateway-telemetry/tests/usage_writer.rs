//! The usage writer: batching, the flush interval, flush on shutdown, retries and a full
//! buffer that is counted rather than silent.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{MemoryStore, metric, until, usage_record};
use gateway_core::phases::account::UsageSink;
use gateway_telemetry::config::UsageConfig;
use gateway_telemetry::{Metrics, UsageWriter};

fn config(batch_size: usize, flush_interval_ms: u64, buffer: usize) -> UsageConfig {
    UsageConfig {
        batch_size,
        flush_interval_ms,
        buffer,
    }
}

#[tokio::test]
async fn batches_fill_and_flush_writes_the_rest() {
    let store = Arc::new(MemoryStore::default());
    let metrics = Arc::new(Metrics::new());
    let writer =
        UsageWriter::start(store.clone(), &config(3, 60_000, 100), metrics.clone()).unwrap();
    for n in 1..=7 {
        writer.record(usage_record(n));
    }
    writer.flush().await;
    assert_eq!(store.batch_sizes().iter().sum::<usize>(), 7);
    assert!(
        store.batch_sizes().iter().all(|&n| n <= 3),
        "{:?}",
        store.batch_sizes()
    );
    let ids: Vec<String> = store
        .records()
        .iter()
        .map(|r| r.request_id.to_string())
        .collect();
    assert_eq!(ids, (1..=7).map(|n| format!("req-{n}")).collect::<Vec<_>>());
    let text = metrics.encode();
    assert_eq!(
        metric(
            &text,
            r#"gateway_telemetry_written_records_total{name="usage"}"#
        ),
        7.0
    );
}

/// The writer is not woken per record, but a full batch is written at once, long before the
/// interval ends.
#[tokio::test(start_paused = true)]
async fn a_full_batch_is_written_before_the_interval() {
    let store = Arc::new(MemoryStore::default());
    let writer = UsageWriter::start(
        store.clone(),
        &config(3, 60_000, 100),
        Arc::new(Metrics::new()),
    )
    .unwrap();
    for n in 1..=4 {
        writer.record(usage_record(n));
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    until(|| store.records().len() >= 3).await;
    assert_eq!(
        store.batch_sizes(),
        [3],
        "the fourth waits for the interval"
    );
}

#[tokio::test(start_paused = true)]
async fn a_partial_batch_is_written_after_the_flush_interval() {
    let store = Arc::new(MemoryStore::default());
    let writer = UsageWriter::start(
        store.clone(),
        &config(100, 500, 100),
        Arc::new(Metrics::new()),
    )
    .unwrap();
    writer.record(usage_record(1));
    writer.record(usage_record(2));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(store.records().is_empty(), "written before the interval");
    tokio::time::sleep(Duration::from_millis(500)).await;
    until(|| store.records().len() == 2).await;
    assert_eq!(store.batch_sizes(), [2]);
}

#[tokio::test]
async fn a_full_buffer_drops_and_counts_never_blocks() {
    let store = Arc::new(MemoryStore::default());
    let metrics = Arc::new(Metrics::new());
    let writer = UsageWriter::start(store.clone(), &config(1, 60_000, 2), metrics.clone()).unwrap();
    let gate = store.gate.lock().await;
    writer.record(usage_record(1));
    // The writer takes record 1 and stalls on the store; two more fit in the buffer.
    tokio::time::sleep(Duration::from_millis(50)).await;
    for n in 2..=6 {
        writer.record(usage_record(n));
    }
    let text = metrics.encode();
    assert_eq!(
        metric(
            &text,
            r#"gateway_telemetry_dropped_records_total{name="usage"}"#
        ),
        3.0
    );
    drop(gate);
    writer.flush().await;
    let ids: Vec<String> = store
        .records()
        .iter()
        .map(|r| r.request_id.to_string())
        .collect();
    assert_eq!(ids, ["req-1", "req-2", "req-3"]);
}

#[tokio::test(start_paused = true)]
async fn failed_writes_are_retried() {
    let store = Arc::new(MemoryStore::default());
    store.fail.store(2, std::sync::atomic::Ordering::SeqCst);
    let metrics = Arc::new(Metrics::new());
    let writer = UsageWriter::start(store.clone(), &config(10, 10, 100), metrics.clone()).unwrap();
    writer.record(usage_record(1));
    writer.flush().await;
    assert_eq!(store.records().len(), 1);
    let text = metrics.encode();
    assert_eq!(
        metric(
            &text,
            r#"gateway_telemetry_write_errors_total{name="usage"}"#
        ),
        2.0
    );
    assert_eq!(
        metric(
            &text,
            r#"gateway_telemetry_dropped_records_total{name="usage"}"#
        ),
        0.0
    );
}

#[tokio::test]
async fn dropping_the_writer_still_writes_what_was_queued() {
    let store = Arc::new(MemoryStore::default());
    let writer = UsageWriter::start(
        store.clone(),
        &config(100, 60_000, 100),
        Arc::new(Metrics::new()),
    )
    .unwrap();
    writer.record(usage_record(1));
    drop(writer);
    until(|| store.records().len() == 1).await;
}

#[test]
fn starting_outside_a_runtime_is_an_error() {
    let store = Arc::new(MemoryStore::default());
    let err =
        UsageWriter::start(store, &UsageConfig::default(), Arc::new(Metrics::new())).unwrap_err();
    assert!(err.to_string().contains("tokio runtime"));
}
