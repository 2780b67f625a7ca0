//! An in-memory usage and audit store for the writer tests, with a gate to stall writes and
//! a counter of writes to fail.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use gateway_core::phases::account::UsageRecord;
use gateway_core::store::{
    AuditEvent, AuditOutcome, AuditQuery, AuditRecord, AuditStore, AuditVerification, MinuteKey,
    UsageAggregate, UsageMinute, UsageQuery, UsageStore, UsageTotals, unix_millis,
};
use gateway_core::{GatewayError, TenantId, Usage};
use gateway_telemetry::audit::{GENESIS_HASH, chain_hash};
use serde_json::json;

#[derive(Default)]
pub struct MemoryStore {
    /// Usage batches as written.
    pub batches: Mutex<Vec<Vec<UsageRecord>>>,
    /// Per-minute totals as written, one entry per call of `add_usage_minutes`.
    pub minute_writes: Mutex<Vec<Vec<UsageMinute>>>,
    pub audit: Mutex<Vec<AuditRecord>>,
    /// Held by a test to stall every write.
    pub gate: tokio::sync::Mutex<()>,
    /// Writes that reached the store (counted before they wait on `gate`).
    pub entered: AtomicU32,
    /// Writes to fail before succeeding again.
    pub fail: AtomicU32,
}

impl MemoryStore {
    pub fn records(&self) -> Vec<UsageRecord> {
        self.batches
            .lock()
            .unwrap()
            .iter()
            .flatten()
            .cloned()
            .collect()
    }

    /// The stored totals per key: what the writes added up to.
    pub fn minutes(&self) -> Vec<(MinuteKey, UsageTotals)> {
        let mut sums: Vec<(MinuteKey, UsageTotals)> = Vec::new();
        for minute in self.minute_writes.lock().unwrap().iter().flatten() {
            match sums.iter_mut().find(|(key, _)| *key == minute.key) {
                Some((_, totals)) => totals.merge(&minute.totals),
                None => sums.push((minute.key.clone(), minute.totals)),
            }
        }
        sums
    }

    pub fn batch_sizes(&self) -> Vec<usize> {
        self.batches.lock().unwrap().iter().map(Vec::len).collect()
    }

    /// Wait for the gate, counting the write as entered first.
    async fn open(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.entered.fetch_add(1, Ordering::SeqCst);
        self.gate.lock().await
    }

    fn failing(&self) -> bool {
        self.fail
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }
}

#[async_trait]
impl UsageStore for MemoryStore {
    async fn insert_usage(&self, records: &[UsageRecord]) -> Result<(), GatewayError> {
        let _open = self.open().await;
        if self.failing() {
            return Err(GatewayError::Unavailable("store down".into()));
        }
        self.batches.lock().unwrap().push(records.to_vec());
        Ok(())
    }

    async fn add_usage_minutes(&self, minutes: &[UsageMinute]) -> Result<(), GatewayError> {
        let _open = self.open().await;
        if self.failing() {
            return Err(GatewayError::Unavailable("store down".into()));
        }
        self.minute_writes.lock().unwrap().push(minutes.to_vec());
        Ok(())
    }

    async fn query_usage(&self, _: &UsageQuery) -> Result<Vec<UsageAggregate>, GatewayError> {
        Ok(Vec::new())
    }

    async fn delete_usage_before(&self, cutoff: SystemTime) -> Result<u64, GatewayError> {
        let mut deleted = 0;
        for batch in self.batches.lock().unwrap().iter_mut() {
            let before = batch.len();
            batch.retain(|r| r.at >= cutoff);
            deleted += (before - batch.len()) as u64;
        }
        Ok(deleted)
    }
}

#[async_trait]
impl AuditStore for MemoryStore {
    async fn append_audit(&self, event: &AuditEvent) -> Result<AuditRecord, GatewayError> {
        let _open = self.open().await;
        if self.failing() {
            return Err(GatewayError::Unavailable("store down".into()));
        }
        let mut log = self.audit.lock().unwrap();
        let (seq, prev) = log.last().map_or((1, GENESIS_HASH.to_owned()), |r| {
            (r.seq + 1, r.hash.clone())
        });
        let hash = chain_hash(
            seq,
            unix_millis(event.at),
            event,
            &event.details.to_string(),
            &prev,
        );
        let record = AuditRecord {
            seq,
            event: event.clone(),
            prev_hash: prev,
            hash,
        };
        log.push(record.clone());
        Ok(record)
    }

    async fn list_audit(&self, _: &AuditQuery) -> Result<Vec<AuditRecord>, GatewayError> {
        Ok(self.audit.lock().unwrap().clone())
    }

    async fn verify_audit(&self) -> Result<AuditVerification, GatewayError> {
        Ok(AuditVerification {
            checked: 0,
            first_broken_seq: None,
        })
    }
}

pub fn usage_record(n: u64) -> UsageRecord {
    UsageRecord {
        request_id: Arc::from(format!("req-{n}").as_str()),
        at: SystemTime::now(),
        tenant: TenantId::new("acme"),
        subject: Arc::from("key_1"),
        endpoint: "chat_completions",
        model: "gpt-test".to_owned(),
        provider: Some(Arc::from("openai")),
        upstream_model: Some(Arc::from("gpt-4o-mini")),
        usage: Some(Usage::new(10 * n, n)),
        cost_usd: Some(0.001),
        saved_cost_usd: None,
        status: 200,
        latency: Duration::from_millis(30),
        upstream_latency: Some(Duration::from_millis(29)),
        time_to_first_token: None,
        stream: false,
        cache_hit: false,
        cancelled: false,
        batch_id: None,
        quality: None,
        task: None,
        route_reason: None,
        guardrail_findings: Default::default(),
    }
}

pub fn audit_event(action: &str, actor: &str) -> AuditEvent {
    AuditEvent {
        at: SystemTime::now(),
        tenant: Some(TenantId::new("acme")),
        actor: actor.to_owned(),
        action: action.to_owned(),
        target: Some("key_9".to_owned()),
        outcome: AuditOutcome::Success,
        ip: Some("127.0.0.1".to_owned()),
        details: json!({"request_id": "req-1", "roles": ["admin"], "n": 1.5}),
    }
}

/// The value of one series in the metrics text (0 when absent).
pub fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| {
            let (name, value) = l.rsplit_once(' ')?;
            (name == series).then(|| value.parse().unwrap())
        })
        .unwrap_or(0.0)
}

/// The usage writer's counter `what` (`written_records`, `dropped_records`, `write_errors`).
pub fn usage_counter(text: &str, what: &str) -> f64 {
    metric(
        text,
        &format!("gateway_telemetry_{what}_total{{name=\"usage\"}}"),
    )
}

/// Let spawned tasks run until `done` holds (bounded).
pub async fn until(mut done: impl FnMut() -> bool) {
    for _ in 0..2000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!("condition not reached");
}
