//! `detail = "minute"`: calls are added up per (minute, tenant, subject, model) and written
//! once per flush interval, on flush and when the writer goes; retried, never counted twice.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use common::{MemoryStore, until, usage_counter, usage_record};
use gateway_core::TenantId;
use gateway_core::phases::account::{UsageRecord, UsageSink};
use gateway_core::store::UsageTotals;
use gateway_telemetry::config::{UsageConfig, UsageDetail};
use gateway_telemetry::{Metrics, UsageWriter};

fn per_minute(flush_interval_ms: u64) -> UsageConfig {
    UsageConfig {
        detail: UsageDetail::Minute,
        flush_interval_ms,
        ..UsageConfig::default()
    }
}

/// Record `n` of tenant `tenant`, ended `minute` minutes after a fixed instant.
fn call(n: u64, tenant: &str, minute: u64) -> UsageRecord {
    let mut r = usage_record(n);
    r.tenant = TenantId::new(tenant);
    r.at = UNIX_EPOCH + Duration::from_secs(1_800_000_000 + 60 * minute + n % 60);
    r
}

fn writer(store: &Arc<MemoryStore>, config: &UsageConfig) -> (UsageWriter, Arc<Metrics>) {
    let metrics = Arc::new(Metrics::new());
    let writer = UsageWriter::start(store.clone(), config, metrics.clone()).unwrap();
    (writer, metrics)
}

#[tokio::test]
async fn calls_are_added_up_per_minute_tenant_subject_and_model() {
    let store = Arc::new(MemoryStore::default());
    let (writer, metrics) = writer(&store, &per_minute(60_000));
    for n in 1..=4 {
        writer.record(call(n, "acme", 0));
    }
    let mut failed = call(5, "acme", 0);
    failed.status = 502;
    failed.usage = None;
    failed.cost_usd = None;
    writer.record(failed);
    writer.record(call(6, "acme", 1));
    writer.record(call(7, "beta", 0));
    writer.flush().await;

    // One write, three rows: nothing per call reaches the store.
    assert_eq!(store.minute_writes.lock().unwrap().len(), 1);
    assert!(store.records().is_empty());
    let mut rows = store.minutes();
    rows.sort_by(|a, b| (a.0.minute_ms, &a.0.tenant).cmp(&(b.0.minute_ms, &b.0.tenant)));
    let summary: Vec<(i64, &str, u64)> = rows
        .iter()
        .map(|(k, t)| (k.minute_ms - rows[0].0.minute_ms, &*k.tenant.0, t.requests))
        .collect();
    assert_eq!(
        summary,
        [(0, "acme", 5), (0, "beta", 1), (60_000, "acme", 1)]
    );
    assert_eq!(rows[0].0.minute_ms % 60_000, 0);
    assert_eq!(
        (&*rows[0].0.subject, rows[0].0.model.as_str()),
        ("key_1", "gpt-test")
    );
    // usage_record(n) used 10n prompt and n completion tokens at $0.001.
    assert_eq!(
        rows[0].1,
        UsageTotals {
            requests: 5,
            errors: 1,
            cache_hits: 0,
            prompt_tokens: 100,
            completion_tokens: 10,
            total_tokens: 110,
            cost_usd: rows[0].1.cost_usd,
            unpriced_requests: 1,
            guardrail_findings: 0,
        }
    );
    assert!((rows[0].1.cost_usd - 0.004).abs() < 1e-12);
    let text = metrics.encode();
    assert_eq!(usage_counter(&text, "written_records"), 7.0);
}

#[tokio::test]
async fn each_flush_writes_only_what_came_since_the_last() {
    let store = Arc::new(MemoryStore::default());
    let (writer, _) = writer(&store, &per_minute(60_000));
    writer.record(call(1, "acme", 0));
    writer.flush().await;
    writer.record(call(2, "acme", 0));
    writer.record(call(3, "acme", 0));
    writer.flush().await;
    // Nothing new: no empty write either.
    writer.flush().await;
    let writes: Vec<u64> = store
        .minute_writes
        .lock()
        .unwrap()
        .iter()
        .map(|w| w.iter().map(|m| m.totals.requests).sum())
        .collect();
    assert_eq!(writes, [1, 2]);
    assert_eq!(store.minutes()[0].1.requests, 3);
}

#[tokio::test(start_paused = true)]
async fn totals_are_written_when_the_interval_ends() {
    let store = Arc::new(MemoryStore::default());
    let (writer, _) = writer(&store, &per_minute(1_000));
    writer.record(call(1, "acme", 0));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(store.minutes().is_empty());
    until(|| store.minutes().len() == 1).await;
}

#[tokio::test(start_paused = true)]
async fn a_failed_write_is_retried_and_counted_once() {
    let store = Arc::new(MemoryStore::default());
    store.fail.store(2, std::sync::atomic::Ordering::SeqCst);
    let (writer, metrics) = writer(&store, &per_minute(60_000));
    writer.record(call(1, "acme", 0));
    writer.record(call(2, "acme", 0));
    writer.flush().await;
    assert_eq!(store.minutes()[0].1.requests, 2);
    let text = metrics.encode();
    assert_eq!(usage_counter(&text, "write_errors"), 2.0);
    assert_eq!(usage_counter(&text, "dropped_records"), 0.0);
}

#[tokio::test(start_paused = true)]
async fn totals_are_dropped_and_counted_when_the_store_stays_down() {
    let store = Arc::new(MemoryStore::default());
    store.fail.store(100, std::sync::atomic::Ordering::SeqCst);
    let (writer, metrics) = writer(&store, &per_minute(60_000));
    for n in 1..=3 {
        writer.record(call(n, "acme", 0));
    }
    writer.flush().await;
    assert!(store.minutes().is_empty());
    let text = metrics.encode();
    assert_eq!(usage_counter(&text, "dropped_records"), 3.0);
}

#[tokio::test]
async fn dropping_the_writer_still_writes_what_was_counted() {
    let store = Arc::new(MemoryStore::default());
    let (writer, _) = writer(&store, &per_minute(60_000));
    writer.record(call(1, "acme", 0));
    drop(writer);
    until(|| store.minutes().len() == 1).await;
}

/// Calls counted on several threads while flushes empty the totals: each call lands in
/// exactly one write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_counted_during_flushes_are_written_once() {
    use std::sync::atomic::{AtomicU64, Ordering};
    const THREADS: u64 = 4;
    const FLUSHES: u64 = 5;
    let store = Arc::new(MemoryStore::default());
    let (writer, _) = writer(&store, &per_minute(60_000));
    let writer = Arc::new(writer);
    let flushes = Arc::new(AtomicU64::new(0));
    let counted = Arc::new(AtomicU64::new(0));
    // Each thread counts until the flushes below are done, so the two overlap.
    let counting: Vec<_> = (0..THREADS)
        .map(|thread| {
            let (writer, flushes, counted) = (writer.clone(), flushes.clone(), counted.clone());
            std::thread::spawn(move || {
                let mut n = 0;
                while flushes.load(Ordering::Acquire) < FLUSHES {
                    writer.record(call(thread * 1_000_000 + n, "acme", n % 3));
                    counted.fetch_add(1, Ordering::Relaxed);
                    n += 1;
                }
            })
        })
        .collect();
    for _ in 0..FLUSHES {
        until(|| counted.load(Ordering::Relaxed) > 0).await;
        writer.flush().await;
        flushes.fetch_add(1, Ordering::Release);
    }
    for thread in counting {
        thread.join().unwrap();
    }
    writer.flush().await;
    let written: u64 = store.minutes().iter().map(|(_, t)| t.requests).sum();
    assert_eq!(written, counted.load(Ordering::Relaxed));
}
