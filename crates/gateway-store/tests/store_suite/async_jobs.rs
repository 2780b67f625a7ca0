//! Asynchronous calls: tenant scoping, cancel only while pending, the job state machine
//! (lease, fence, take-over once marked retried, fail after a second expiry), notification
//! and retention, and two instances leasing disjoint jobs.

use std::collections::BTreeSet;
use std::time::Duration;

use gateway_core::TenantId;
use gateway_core::store::{AsyncJob, AsyncJobStore, AsyncResult, AsyncStatus};

use crate::harness::Harness;
use crate::tenants::now_ms;

const LEASE: Duration = Duration::from_secs(30);

fn job(id: &str, tenant: &str) -> AsyncJob {
    let now = now_ms();
    AsyncJob {
        id: id.to_owned(),
        tenant: TenantId::new(tenant),
        route: "/v1/chat/completions".to_owned(),
        status: AsyncStatus::Pending,
        request: "{\"body\":\"{}\"}".to_owned(),
        callback_url: Some("https://hooks.example.com/a".to_owned()),
        result: None,
        attempts: 0,
        retried: false,
        notified: false,
        created_at: now,
        updated_at: now,
        completed_at: None,
    }
}

fn answer(status: u16) -> AsyncResult {
    AsyncResult {
        status,
        headers: "{\"content-type\":\"application/json\"}".to_owned(),
        body: "{\"ok\":true}".to_owned(),
    }
}

pub async fn async_jobs_are_scoped_and_cancelled_only_while_pending(h: &Harness) {
    let s = &h.store;
    let (acme, other) = (TenantId::new("acme"), TenantId::new("other"));
    let stored = job("async_1", "acme");
    s.create_job(&stored).await.unwrap();
    assert!(s.create_job(&stored).await.is_err(), "duplicate id");
    assert_eq!(s.get_job(&acme, "async_1").await.unwrap(), Some(stored));
    assert_eq!(s.get_job(&other, "async_1").await.unwrap(), None);
    assert_eq!(
        s.cancel_job(&other, "async_1", now_ms()).await.unwrap(),
        None
    );
    assert_eq!(s.pending_jobs().await.unwrap(), 1);
    let cancelled = s
        .cancel_job(&acme, "async_1", now_ms())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cancelled.status, AsyncStatus::Cancelled);
    assert!(cancelled.completed_at.is_some());
    assert_eq!(s.pending_jobs().await.unwrap(), 0);
    assert!(
        s.lease_jobs("w", 10, now_ms(), LEASE)
            .await
            .unwrap()
            .is_empty(),
        "a cancelled job never runs"
    );
    // Running: cancel changes nothing.
    s.create_job(&job("async_2", "acme")).await.unwrap();
    assert_eq!(
        s.lease_jobs("w", 10, now_ms(), LEASE).await.unwrap().len(),
        1
    );
    let running = s
        .cancel_job(&acme, "async_2", now_ms())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(running.status, AsyncStatus::Running);
    let counts = s.count_jobs().await.unwrap();
    assert!(counts.contains(&(AsyncStatus::Running, 1)), "{counts:?}");
    assert!(counts.contains(&(AsyncStatus::Cancelled, 1)), "{counts:?}");
    assert!(counts.contains(&(AsyncStatus::Pending, 0)), "{counts:?}");
}

pub async fn async_jobs_move_through_the_state_machine(h: &Harness) {
    let s = &h.store;
    let acme = TenantId::new("acme");
    s.create_job(&job("async_a", "acme")).await.unwrap();
    s.create_job(&job("async_b", "acme")).await.unwrap();
    let now = now_ms();
    let leased = s.lease_jobs("w1", 10, now, LEASE).await.unwrap();
    let ids: Vec<&str> = leased.iter().map(|j| j.id.as_str()).collect();
    assert_eq!(ids, ["async_a", "async_b"], "oldest first");
    assert!(leased.iter().all(|j| j.attempts == 1 && !j.retried));
    assert!(leased.iter().all(|j| j.status == AsyncStatus::Running));
    assert!(s.lease_jobs("w2", 10, now, LEASE).await.unwrap().is_empty());
    // Only the holder records the answer, once.
    assert!(
        !s.complete_job("async_a", "w2", &answer(200), now)
            .await
            .unwrap()
    );
    assert!(
        s.complete_job("async_a", "w1", &answer(200), now)
            .await
            .unwrap()
    );
    assert!(
        !s.complete_job("async_a", "w1", &answer(500), now)
            .await
            .unwrap()
    );
    let done = s.get_job(&acme, "async_a").await.unwrap().unwrap();
    assert_eq!(done.status, AsyncStatus::Completed);
    assert_eq!(done.result, Some(answer(200)));
    assert!(!done.notified);
    // Renewal keeps the other lease alive past its first expiry.
    let later = now + LEASE - Duration::from_secs(1);
    assert_eq!(s.renew_job_leases("w1", later, LEASE).await.unwrap(), 1);
    assert!(
        s.lease_jobs("w2", 10, now + LEASE + Duration::from_secs(1), LEASE)
            .await
            .unwrap()
            .is_empty()
    );
    // Notification, then retention.
    let unnotified = s.unnotified_jobs(10).await.unwrap();
    assert_eq!(
        unnotified.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(),
        ["async_a"]
    );
    s.mark_notified("async_a").await.unwrap();
    assert!(s.unnotified_jobs(10).await.unwrap().is_empty());
    assert_eq!(
        s.delete_jobs_before(now).await.unwrap(),
        0,
        "not older than the cutoff"
    );
    assert_eq!(
        s.delete_jobs_before(now + Duration::from_secs(1))
            .await
            .unwrap(),
        1
    );
    assert_eq!(s.get_job(&acme, "async_a").await.unwrap(), None);
    assert!(
        s.get_job(&acme, "async_b").await.unwrap().is_some(),
        "a running job is kept"
    );
}

pub async fn an_expired_async_lease_is_taken_over_once(h: &Harness) {
    let s = &h.store;
    let acme = TenantId::new("acme");
    s.create_job(&job("async_x", "acme")).await.unwrap();
    let t0 = now_ms();
    assert_eq!(s.lease_jobs("dead", 10, t0, LEASE).await.unwrap().len(), 1);
    // The holder stopped: after its lease, another takes the job over, marked retried.
    let t1 = t0 + LEASE + Duration::from_secs(1);
    let taken = s.lease_jobs("w2", 10, t1, LEASE).await.unwrap();
    assert_eq!(taken.len(), 1);
    assert!(taken[0].retried);
    assert_eq!(taken[0].attempts, 2);
    assert!(
        !s.complete_job("async_x", "dead", &answer(200), t1)
            .await
            .unwrap(),
        "fenced"
    );
    // That one stops too: the job fails rather than being sent a third time.
    let t2 = t1 + LEASE + Duration::from_secs(1);
    assert!(s.lease_jobs("w3", 10, t2, LEASE).await.unwrap().is_empty());
    let failed = s.get_job(&acme, "async_x").await.unwrap().unwrap();
    assert_eq!(failed.status, AsyncStatus::Failed);
    assert_eq!(failed.result, None);
    assert_eq!(
        s.unnotified_jobs(10).await.unwrap().len(),
        1,
        "a failed job is notified too"
    );
}

pub async fn two_instances_lease_disjoint_async_jobs(h: &Harness) {
    let a = &h.store;
    let b = h.second_instance().await;
    for i in 0..100 {
        a.create_job(&job(&format!("async_{i:03}"), "acme"))
            .await
            .unwrap();
    }
    let now = now_ms();
    let (la, lb) = tokio::join!(
        a.lease_jobs("a", 60, now, LEASE),
        b.lease_jobs("b", 60, now, LEASE)
    );
    let (la, lb) = (la.unwrap(), lb.unwrap());
    assert_eq!(la.len() + lb.len(), 100, "{} + {}", la.len(), lb.len());
    let sa: BTreeSet<String> = la.into_iter().map(|j| j.id).collect();
    let sb: BTreeSet<String> = lb.into_iter().map(|j| j.id).collect();
    assert!(sa.is_disjoint(&sb), "a job leased twice");
}
