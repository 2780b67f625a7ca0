//! Batches: tenant scoping, the line state machine (lease, fence, defer, take-over once, fail
//! after a second expiry), batch-level leases, and two instances sharing one batch.

use std::collections::BTreeSet;
use std::time::Duration;

use gateway_core::TenantId;
use gateway_core::store::{BatchQuery, BatchRecord, BatchStatus, BatchStore, ItemOutcome, NewItem};
use serde_json::json;

use crate::harness::Harness;
use crate::tenants::now_ms;

const LEASE: Duration = Duration::from_secs(30);

fn batch(id: &str, tenant: &str) -> BatchRecord {
    let now = now_ms();
    BatchRecord {
        id: id.to_owned(),
        tenant: TenantId::new(tenant),
        owner: json!({"subject": "key_1"}),
        endpoint: "/v1/chat/completions".to_owned(),
        input_file_id: "file-in".to_owned(),
        completion_window: "24h".to_owned(),
        metadata: Some(json!({"job": "nightly"})),
        status: BatchStatus::Validating,
        errors: None,
        output_file_id: None,
        error_file_id: None,
        created_at: now,
        expires_at: now + Duration::from_secs(86_400),
        in_progress_at: None,
        finalizing_at: None,
        completed_at: None,
        failed_at: None,
        expired_at: None,
        cancelling_at: None,
        cancelled_at: None,
        counts: Default::default(),
    }
}

fn items(n: u64) -> Vec<NewItem> {
    (1..=n)
        .map(|line| NewItem {
            line,
            custom_id: format!("req-{line}"),
            body: format!("{{\"n\":{line}}}"),
        })
        .collect()
}

/// Creates a batch and validates `n` lines into it, leaving it `in_progress`.
async fn running(s: &dyn BatchStore, id: &str, n: u64) {
    s.create_batch(&batch(id, "acme")).await.unwrap();
    let claimed = s.claim_batch("v", now_ms(), LEASE).await.unwrap().unwrap();
    assert_eq!(claimed.id, id);
    s.add_items(id, "v", &items(n), true).await.unwrap();
    assert!(s.end_validation(id, "v", Ok(n), now_ms()).await.unwrap());
}

pub async fn batches_are_scoped_to_their_tenant(h: &Harness) {
    let s = &h.store;
    let (acme, other) = (TenantId::new("acme"), TenantId::new("other"));
    let stored = batch("batch_1", "acme");
    s.create_batch(&stored).await.unwrap();
    assert!(s.create_batch(&stored).await.is_err(), "duplicate id");
    let got = s.get_batch(&acme, "batch_1").await.unwrap().unwrap();
    assert_eq!(got, stored);
    assert_eq!(s.get_batch(&other, "batch_1").await.unwrap(), None);
    assert_eq!(
        s.cancel_batch(&other, "batch_1", now_ms()).await.unwrap(),
        None
    );
    assert_eq!(
        s.get_batch(&acme, "batch_1").await.unwrap().unwrap().status,
        BatchStatus::Validating,
        "another tenant's cancel changes nothing"
    );
    s.create_batch(&batch("batch_2", "acme")).await.unwrap();
    s.create_batch(&batch("batch_3", "other")).await.unwrap();
    let q = |after: Option<&str>, limit| BatchQuery {
        after: after.map(str::to_owned),
        limit,
    };
    let ids = |v: Vec<BatchRecord>| v.into_iter().map(|b| b.id).collect::<Vec<_>>();
    assert_eq!(
        ids(s.list_batches(&acme, &q(None, 10)).await.unwrap()),
        ["batch_2", "batch_1"]
    );
    assert_eq!(
        ids(s
            .list_batches(&acme, &q(Some("batch_2"), 10))
            .await
            .unwrap()),
        ["batch_1"]
    );
    assert_eq!(
        ids(s.list_batches(&other, &q(None, 10)).await.unwrap()),
        ["batch_3"]
    );
    let cancelled = s.cancel_batch(&acme, "batch_1", now_ms()).await.unwrap();
    assert_eq!(cancelled.unwrap().status, BatchStatus::Cancelling);
}

pub async fn lines_move_through_the_state_machine(h: &Harness) {
    let s = &h.store;
    running(s, "batch_a", 3).await;
    let now = now_ms();
    let leased = s.lease_items("w1", 10, now, LEASE).await.unwrap();
    assert_eq!(leased.iter().map(|i| i.line).collect::<Vec<_>>(), [1, 2, 3]);
    assert!(leased.iter().all(|i| i.attempts == 1 && !i.retried));
    assert!(
        s.lease_items("w2", 10, now, LEASE)
            .await
            .unwrap()
            .is_empty()
    );
    // A holder that is not the lessee cannot record a result (fencing).
    assert!(
        !s.complete_item("batch_a", 1, "w2", ItemOutcome::Done, "{}")
            .await
            .unwrap()
    );
    assert!(
        s.complete_item("batch_a", 1, "w1", ItemOutcome::Done, "{\"ok\":1}")
            .await
            .unwrap()
    );
    assert!(
        !s.complete_item("batch_a", 1, "w1", ItemOutcome::Done, "{}")
            .await
            .unwrap(),
        "once"
    );
    assert!(
        s.complete_item("batch_a", 2, "w1", ItemOutcome::Failed, "{\"e\":1}")
            .await
            .unwrap()
    );
    // A line a limit refused comes back, not before its time, without counting an attempt.
    let later = now + Duration::from_secs(5);
    assert!(s.defer_item("batch_a", 3, "w1", later).await.unwrap());
    assert!(
        s.lease_items("w1", 10, now, LEASE)
            .await
            .unwrap()
            .is_empty()
    );
    let again = s.lease_items("w1", 10, later, LEASE).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(
        (again[0].line, again[0].attempts, again[0].retried),
        (3, 1, false)
    );
    let acme = TenantId::new("acme");
    let mid = s.get_batch(&acme, "batch_a").await.unwrap().unwrap();
    assert_eq!(
        (mid.counts.total, mid.counts.completed, mid.counts.failed),
        (3, 1, 1)
    );
    assert_eq!(
        s.finish_drained(later).await.unwrap(),
        0,
        "a line is still leased"
    );
    assert!(
        s.complete_item("batch_a", 3, "w1", ItemOutcome::Done, "{}")
            .await
            .unwrap()
    );
    assert_eq!(s.finish_drained(later).await.unwrap(), 1);
    let fin = s.claim_batch("f", later, LEASE).await.unwrap().unwrap();
    assert_eq!(fin.status, BatchStatus::Finalizing);
    let finished = s.finished_items("batch_a", 0, 2).await.unwrap();
    assert_eq!(finished.iter().map(|i| i.line).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(finished[0].result.as_deref(), Some("{\"ok\":1}"));
    assert_eq!(finished[1].outcome, ItemOutcome::Failed);
    assert_eq!(s.finished_items("batch_a", 2, 10).await.unwrap().len(), 1);
    assert!(
        !s.end_batch("batch_a", "other", None, None, later)
            .await
            .unwrap()
    );
    assert!(
        s.end_batch("batch_a", "f", Some("file-o"), Some("file-e"), later)
            .await
            .unwrap()
    );
    let done = s.get_batch(&acme, "batch_a").await.unwrap().unwrap();
    assert_eq!(done.status, BatchStatus::Completed);
    assert_eq!(
        (done.counts.total, done.counts.completed, done.counts.failed),
        (3, 2, 1)
    );
    assert_eq!(done.output_file_id.as_deref(), Some("file-o"));
    assert!(done.completed_at.is_some());
    assert!(
        s.claim_batch("f", later, LEASE).await.unwrap().is_none(),
        "nothing left to do"
    );
}

pub async fn an_expired_lease_is_taken_over_once(h: &Harness) {
    let s = &h.store;
    running(s, "batch_c", 2).await;
    let t0 = now_ms();
    assert_eq!(s.lease_items("dead", 10, t0, LEASE).await.unwrap().len(), 2);
    // The holder renews line leases while it lives.
    let t1 = t0 + Duration::from_secs(20);
    assert_eq!(s.renew_leases("dead", t1, LEASE).await.unwrap(), 2);
    let t2 = t0 + Duration::from_secs(40);
    assert!(
        s.lease_items("w", 10, t2, LEASE).await.unwrap().is_empty(),
        "renewed"
    );
    // It died: after its lease, another holder takes the lines over, marked retried.
    let t3 = t1 + LEASE + Duration::from_millis(1);
    let taken = s.lease_items("w", 10, t3, LEASE).await.unwrap();
    assert_eq!(taken.len(), 2);
    assert!(taken.iter().all(|i| i.retried && i.attempts == 2));
    assert!(
        !s.complete_item("batch_c", 1, "dead", ItemOutcome::Done, "{}")
            .await
            .unwrap()
    );
    assert!(
        s.complete_item("batch_c", 1, "w", ItemOutcome::Done, "{}")
            .await
            .unwrap()
    );
    // A second expiry of the same line fails it rather than sending it a third time.
    let t4 = t3 + LEASE + Duration::from_millis(1);
    assert!(s.lease_items("x", 10, t4, LEASE).await.unwrap().is_empty());
    let finished = s.finished_items("batch_c", 0, 10).await.unwrap();
    assert_eq!(finished.len(), 2);
    assert_eq!(
        (finished[1].outcome, finished[1].result.clone()),
        (ItemOutcome::Failed, None)
    );
    assert!(finished.iter().all(|i| i.retried));
}

pub async fn validation_failure_cancel_and_expiry(h: &Harness) {
    let s = &h.store;
    let acme = TenantId::new("acme");
    // A failed validation keeps the errors and no line.
    s.create_batch(&batch("batch_f", "acme")).await.unwrap();
    let t = now_ms();
    assert_eq!(
        s.claim_batch("v", t, LEASE).await.unwrap().unwrap().id,
        "batch_f"
    );
    assert!(
        s.claim_batch("v2", t, LEASE).await.unwrap().is_none(),
        "leased"
    );
    s.add_items("batch_f", "v", &items(2), true).await.unwrap();
    assert!(
        s.add_items("batch_f", "v2", &items(2), true).await.is_err(),
        "not the holder"
    );
    let errors = json!({"object": "list", "data": [{"code": "x", "line": 2}]});
    assert!(
        s.end_validation("batch_f", "v", Err(errors.clone()), t)
            .await
            .unwrap()
    );
    let failed = s.get_batch(&acme, "batch_f").await.unwrap().unwrap();
    assert_eq!(
        (failed.status, failed.errors),
        (BatchStatus::Failed, Some(errors))
    );
    assert!(s.lease_items("w", 10, t, LEASE).await.unwrap().is_empty());
    // A cancelled batch waits for its leased lines, then ends cancelled.
    running(s, "batch_g", 3).await;
    let leased = s.lease_items("w", 1, t, LEASE).await.unwrap();
    assert_eq!(leased.len(), 1);
    s.cancel_batch(&acme, "batch_g", t).await.unwrap();
    assert!(
        s.lease_items("w", 10, t, LEASE).await.unwrap().is_empty(),
        "no new lines"
    );
    assert!(
        s.claim_batch("f", t, LEASE).await.unwrap().is_none(),
        "a line in flight"
    );
    assert!(
        s.complete_item("batch_g", 1, "w", ItemOutcome::Done, "{}")
            .await
            .unwrap()
    );
    let claimed = s.claim_batch("f", t, LEASE).await.unwrap().unwrap();
    assert_eq!(claimed.status, BatchStatus::Cancelling);
    assert!(
        s.end_batch("batch_g", "f", Some("file-o"), None, t)
            .await
            .unwrap()
    );
    let cancelled = s.get_batch(&acme, "batch_g").await.unwrap().unwrap();
    assert_eq!(cancelled.status, BatchStatus::Cancelled);
    assert_eq!((cancelled.counts.total, cancelled.counts.completed), (3, 1));
    // An expired batch fails its unfinished lines and ends expired.
    let mut short = batch("batch_h", "acme");
    short.expires_at = t + Duration::from_secs(1);
    s.create_batch(&short).await.unwrap();
    s.claim_batch("v", t, LEASE).await.unwrap().unwrap();
    s.add_items("batch_h", "v", &items(2), true).await.unwrap();
    s.end_validation("batch_h", "v", Ok(2), t).await.unwrap();
    let late = t + Duration::from_secs(2);
    let claimed = s.claim_batch("e", late, LEASE).await.unwrap().unwrap();
    assert_eq!(
        (claimed.id.as_str(), claimed.status),
        ("batch_h", BatchStatus::InProgress)
    );
    s.expire_batch("batch_h", late).await.unwrap();
    assert!(s.end_batch("batch_h", "e", None, None, late).await.unwrap());
    let expired = s.get_batch(&acme, "batch_h").await.unwrap().unwrap();
    assert_eq!(expired.status, BatchStatus::Expired);
    assert_eq!((expired.counts.completed, expired.counts.failed), (0, 2));
}

pub async fn two_instances_lease_disjoint_lines(h: &Harness) {
    let a = &h.store;
    let b = h.second_instance().await;
    running(a, "batch_s", 200).await;
    let now = now_ms();
    let (la, lb) = tokio::join!(
        a.lease_items("a", 120, now, LEASE),
        b.lease_items("b", 120, now, LEASE)
    );
    let (la, lb) = (la.unwrap(), lb.unwrap());
    assert_eq!(la.len() + lb.len(), 200, "{} + {}", la.len(), lb.len());
    let sa: BTreeSet<u64> = la.iter().map(|i| i.line).collect();
    let sb: BTreeSet<u64> = lb.iter().map(|i| i.line).collect();
    assert!(sa.is_disjoint(&sb), "a line leased twice");
}

pub async fn usage_groups_by_batch(h: &Harness) {
    use gateway_core::store::{UsageDimension, UsageQuery, UsageStore};
    let s = &h.store;
    let at = crate::usage::day0();
    let mut records = Vec::new();
    for (batch, n) in [(Some("batch_x"), 3), (Some("batch_y"), 1), (None, 2)] {
        for _ in 0..n {
            let mut r = crate::usage::rec("acme", "key_1", "m", at, (1, 1), Some(0.5));
            r.batch_id = batch.map(std::sync::Arc::from);
            records.push(r);
        }
    }
    s.insert_usage(&records).await.unwrap();
    let groups = s
        .query_usage(&UsageQuery {
            group_by: vec![UsageDimension::Batch],
            ..UsageQuery::default()
        })
        .await
        .unwrap();
    let mut got: Vec<(Option<String>, u64)> = groups
        .into_iter()
        .map(|g| (g.batch, g.totals.requests))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            (None, 2),
            (Some("batch_x".to_owned()), 3),
            (Some("batch_y".to_owned()), 1)
        ]
    );
}
