//! The usage writer: batching, the flush interval, flush on shutdown, retries, a full
//! buffer that is counted rather than silent, and retention.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use common::{MemoryStore, until, usage_counter, usage_record};
use gateway_core::phases::account::UsageSink;
use gateway_telemetry::config::UsageConfig;
use gateway_telemetry::retention::prune_usage;
use gateway_telemetry::{Metrics, UsageWriter};

fn config(batch_size: usize, flush_interval_ms: u64, buffer: usize) -> UsageConfig {
    UsageConfig {
        batch_size,
        flush_interval_ms,
        buffer,
        ..UsageConfig::default()
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
    assert_eq!(usage_counter(&text, "written_records"), 7.0);
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
    until(|| store.entered.load(Ordering::SeqCst) == 1).await;
    for n in 2..=6 {
        writer.record(usage_record(n));
    }
    let text = metrics.encode();
    assert_eq!(usage_counter(&text, "dropped_records"), 3.0);
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
    assert_eq!(usage_counter(&text, "write_errors"), 2.0);
    assert_eq!(usage_counter(&text, "dropped_records"), 0.0);
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

/// A record `age` old.
fn aged(n: u64, age: Duration) -> gateway_core::phases::account::UsageRecord {
    let mut r = usage_record(n);
    r.at = SystemTime::now() - age;
    r
}

#[tokio::test]
async fn retention_deletes_expired_records_when_the_writer_starts() {
    const DAY: Duration = Duration::from_secs(86_400);
    let store = Arc::new(MemoryStore::default());
    store
        .batches
        .lock()
        .unwrap()
        .push(vec![aged(1, 3 * DAY), aged(2, DAY / 2), aged(3, 2 * DAY)]);
    let mut with_retention = config(10, 60_000, 100);
    with_retention.retention = Some(DAY);
    let _writer =
        UsageWriter::start(store.clone(), &with_retention, Arc::new(Metrics::new())).unwrap();
    until(|| store.records().len() == 1).await;
    assert_eq!(store.records()[0].request_id.as_ref(), "req-2");
}

#[tokio::test]
async fn prune_usage_keeps_what_is_younger_than_the_retention() {
    let store = Arc::new(MemoryStore::default());
    store.batches.lock().unwrap().push(vec![
        aged(1, Duration::from_secs(7_200)),
        aged(2, Duration::ZERO),
    ]);
    let hour = Duration::from_secs(3_600);
    assert_eq!(prune_usage(&*store, hour).await.unwrap(), 1);
    assert_eq!(prune_usage(&*store, hour).await.unwrap(), 0);
    // A retention longer than the clock can count back keeps everything.
    assert_eq!(prune_usage(&*store, Duration::MAX).await.unwrap(), 0);
    assert_eq!(store.records().len(), 1);
}
