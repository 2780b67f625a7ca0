//! Concurrency limits and the per-tenant queue, in-process, under paused time.

// Test helpers outside #[test] functions may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod limits_support;

use std::sync::Arc;
use std::time::Duration;

use gateway_core::Usage;
use limits_support::*;
use tokio::sync::mpsc;

#[tokio::test(start_paused = true)]
async fn a_slot_frees_when_the_call_ends_however_it_ends() {
    let l = limiter("[key]\nmax_concurrency = 2");
    let p = principal("acme", "k");
    let a = call(&l, &p, "m", 0, 0).await.unwrap();
    let b = call(&l, &p, "m", 0, 0).await.unwrap();
    let err = call(&l, &p, "m", 0, 0).await.unwrap_err();
    let msg = message(&err);
    assert!(
        msg.contains("concurrent requests (max_concurrency)"),
        "{msg}"
    );
    assert_eq!(retry_after(&err), Some(Duration::from_secs(1)));
    a.permit.complete(Some(&Usage::new(1, 1)), None);
    let c = call(&l, &p, "m", 0, 0).await.unwrap();
    drop(b);
    drop(c);
    assert!(call(&l, &p, "m", 0, 0).await.is_ok());
}

#[tokio::test(start_paused = true)]
async fn tenant_and_model_concurrency_are_shared() {
    let l = limiter("[tenant]\nmax_concurrency = 1\n[models.big]\nmax_concurrency = 1");
    let held = call(&l, &principal("acme", "k1"), "m", 0, 0).await.unwrap();
    let err = call(&l, &principal("acme", "k2"), "m", 0, 0)
        .await
        .unwrap_err();
    assert!(message(&err).contains("tenant 'acme'"));
    let big = call(&l, &principal("other", "k"), "big", 0, 0)
        .await
        .unwrap();
    let err = call(&l, &principal("third", "k"), "big", 0, 0)
        .await
        .unwrap_err();
    assert!(message(&err).contains("model 'big'"));
    drop((held, big));
}

const QUEUED: &str = "[key]\nmax_concurrency = 1\n[queue]\nmax_depth = 2\nmax_wait = \"5s\"\n";

#[tokio::test(start_paused = true)]
async fn queued_calls_are_served_in_order_within_the_bound() {
    let l = limiter(QUEUED);
    let p = principal("acme", "k");
    let held = call(&l, &p, "m", 0, 0).await.unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    for i in 0..2 {
        let (l, p, tx) = (l.clone(), p.clone(), tx.clone());
        tokio::spawn(async move {
            let r = call(&l, &p, "m", 0, 0).await;
            let _ = tx.send((i, r.map(|a| a.permit)));
        });
        settle().await;
    }
    assert_eq!(l.queue_depth("acme"), 2);
    // A third waiter is over the depth: 429 at once.
    let err = call(&l, &p, "m", 0, 0).await.unwrap_err();
    assert!(message(&err).contains("queue is full"), "{}", message(&err));
    // Freeing the slot admits the first waiter, not the second.
    drop(held);
    let (first, permit) = rx.recv().await.unwrap();
    assert_eq!(first, 0);
    let permit = permit.unwrap();
    // The second waits until max_wait, then gets 429 naming the limit and the wait.
    tokio::time::advance(Duration::from_secs(5)).await;
    let (second, result) = rx.recv().await.unwrap();
    assert_eq!(second, 1);
    let msg = message(&result.err().unwrap());
    assert!(msg.contains("after waiting 5.0s in the queue"), "{msg}");
    drop(permit);
    let s = l.stats();
    assert_eq!((s.queued, s.queue_full, s.queue_timeouts), (2, 1, 1));
}

#[tokio::test(start_paused = true)]
async fn a_shared_slot_is_served_fairly_across_tenants() {
    let l = limiter("[models.m]\nmax_concurrency = 1\n[queue]\nmax_depth = 10\nmax_wait = \"60s\"");
    let held = call(&l, &principal("x", "k"), "m", 0, 0).await.unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let spawn = |tenant: &'static str| {
        let (l, tx) = (l.clone(), tx.clone());
        tokio::spawn(async move {
            let a = call(&l, &principal(tenant, "k"), "m", 0, 0).await.unwrap();
            let _ = tx.send((tenant, a.permit));
        });
    };
    // A noisy tenant queues five calls before a quiet one queues one.
    for _ in 0..5 {
        spawn("noisy");
        settle().await;
    }
    spawn("quiet");
    settle().await;
    drop(held);
    let mut order = Vec::new();
    for _ in 0..6 {
        let (tenant, permit) = rx.recv().await.unwrap();
        order.push(tenant);
        drop(permit);
    }
    let quiet_at = order.iter().position(|t| *t == "quiet").unwrap();
    assert!(
        quiet_at <= 1,
        "the quiet tenant waited behind the noisy one: {order:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_rate_limit_is_not_queued() {
    let l = limiter("[key]\nrpm = 1\nmax_concurrency = 1\n[queue]\nmax_depth = 5");
    let p = principal("acme", "k");
    let _held = call(&l, &p, "m", 0, 0).await.unwrap();
    let l2 = Arc::new(l.clone());
    let err = call(&l2, &p, "m", 0, 0).await.unwrap_err();
    // rpm refuses before the slot is even tried.
    assert!(message(&err).contains("(rpm)"), "{}", message(&err));
}
