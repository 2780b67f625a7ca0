//! The Redis backend: several limiters (instances) sharing one Redis behave like one, and an
//! unreachable Redis gives the configured fail-open or fail-closed behaviour.
//!
//! Needs `GATEWAY_TEST_REDIS_URL` (skipped with one line without it; with
//! `GATEWAY_REQUIRE_SERVICES=1` an unreachable Redis fails). The fail-mode tests need no Redis.

// Test helpers outside #[test] functions may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod limits_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use gateway_core::{GatewayError, Usage};
use gateway_policy::limits::{FailMode, LimitEvents, Limiter};
use limits_support::*;

async fn redis_url() -> Option<String> {
    let Ok(url) = std::env::var("GATEWAY_TEST_REDIS_URL") else {
        println!("skipping: GATEWAY_TEST_REDIS_URL is not set");
        return None;
    };
    let addr = url
        .trim_start_matches("redis://")
        .split(['/', '?'])
        .next()
        .unwrap_or_default()
        .rsplit('@')
        .next()
        .unwrap_or_default()
        .to_owned();
    let reachable = tokio::time::timeout(
        Duration::from_secs(2),
        tokio::net::TcpStream::connect(&addr),
    )
    .await
    .is_ok_and(|c| c.is_ok());
    if !reachable {
        assert!(
            std::env::var("GATEWAY_REQUIRE_SERVICES").as_deref() != Ok("1"),
            "Redis at {url} is unreachable and GATEWAY_REQUIRE_SERVICES=1"
        );
        println!("skipping: Redis at {url} is unreachable");
        return None;
    }
    Some(url)
}

/// The `[limits]` text of limiters ("instances") sharing one Redis and one key prefix unique
/// to this test run, with 2 s leases.
fn shared_config(url: &str, test: &str, limits: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let prefix = format!("gwtest:{test}:{}:{nanos}:", std::process::id());
    format!(
        "backend = \"redis\"\n[redis]\nurl = \"{url}\"\nkey_prefix = \"{prefix}\"\ntimeout = \"2s\"\nlease = \"2s\"\n{limits}"
    )
}

fn instances_of(text: &str, n: usize) -> Vec<Limiter> {
    (0..n)
        .map(|_| Limiter::new(&config(text), Some(Arc::new(FlatPrice))).unwrap())
        .collect()
}

fn instances(url: &str, test: &str, limits: &str, n: usize) -> Vec<Limiter> {
    instances_of(&shared_config(url, test, limits), n)
}

/// An instance of `text` that takes a slot as `p` and crashes: its runtime (on a thread of
/// its own) stops, so no lease renewal, and the slot is never released.
fn crashed_instance(text: &str, p: &gateway_core::Principal) {
    let (text, p) = (text.to_owned(), p.clone());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let admitted = rt.block_on(async {
            let l = instances_of(&text, 1).remove(0);
            for _ in 0..250 {
                if let Ok(admitted) = call(&l, &p, "m", 0, 0).await {
                    return admitted;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            panic!("the crashing instance never got a slot");
        });
        rt.shutdown_background();
        // Outside any runtime the permit cannot reach Redis: the slot stays taken.
        drop(admitted);
    })
    .join()
    .unwrap();
}

async fn eventually(mut f: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while !f().await {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "condition never held"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_admit_exactly_the_shared_rate() {
    let Some(url) = redis_url().await else { return };
    let ls = instances(&url, "rate", "[tenant]\nrpm = 30", 3);
    let admitted = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..120 {
        let (l, admitted) = (ls[i % 3].clone(), admitted.clone());
        tasks.push(tokio::spawn(async move {
            if done(&l, &principal("acme", &format!("k{i}")), "m")
                .await
                .is_ok()
            {
                admitted.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let n = admitted.load(Ordering::Relaxed);
    // GCRA refills 30 per minute: at most 30 + 30 * elapsed / 60 in any stretch from full.
    let refill = (30.0 * start.elapsed().as_secs_f64() / 60.0).floor() as u64;
    assert!(
        (30..=30 + refill).contains(&n),
        "admitted {n}, refill {refill}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_slots_are_shared_and_leased() {
    let Some(url) = redis_url().await else { return };
    let text = shared_config(&url, "slots", "[key]\nmax_concurrency = 2");
    let ls = instances_of(&text, 3);
    let p = principal("acme", "k");
    let a = call(&ls[0], &p, "m", 0, 0).await.unwrap();
    let b = call(&ls[1], &p, "m", 0, 0).await.unwrap();
    let err = call(&ls[2], &p, "m", 0, 0).await.unwrap_err();
    assert!(message(&err).contains("max_concurrency"));
    a.permit.complete(Some(&Usage::new(1, 1)), None);
    drop(b);
    // An instance takes a slot (once one is free: releases run in the background) and
    // crashes without releasing it: its 2 s lease, no longer renewed, frees it.
    crashed_instance(&text, &p);
    let started = Instant::now();
    eventually(async || match call(&ls[0], &p, "m", 0, 0).await {
        Ok(x) => {
            let y = call(&ls[1], &p, "m", 0, 0).await;
            drop(x);
            y.is_ok()
        }
        Err(_) => false,
    })
    .await;
    assert!(
        started.elapsed() >= Duration::from_millis(1000),
        "the lease expired too early"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_call_keeps_its_slot_past_its_lease() {
    let Some(url) = redis_url().await else { return };
    let ls = instances(&url, "renew", "[key]\nmax_concurrency = 1", 2);
    let p = principal("acme", "k");
    let running = call(&ls[0], &p, "m", 0, 0).await.unwrap();
    // Three leases later the call still runs, so its slot must still be taken.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let err = call(&ls[1], &p, "m", 0, 0).await.unwrap_err();
    assert!(message(&err).contains("max_concurrency"), "{err:?}");
    drop(running);
    eventually(async || call(&ls[1], &p, "m", 0, 0).await.is_ok()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_reservations_reconcile_across_instances() {
    let Some(url) = redis_url().await else { return };
    let ls = instances(&url, "tokens", "[key]\ntpm = 1000", 2);
    let p = principal("acme", "k");
    let first = call(&ls[0], &p, "m", 100, 400).await.unwrap();
    assert_eq!(first.snapshot.remaining_tokens, Some(500));
    let _second = call(&ls[1], &p, "m", 100, 400).await.unwrap();
    assert!(call(&ls[1], &p, "m", 50, 0).await.is_err());
    first.permit.complete(Some(&Usage::new(60, 40)), None);
    eventually(async || call(&ls[1], &p, "m", 0, 380).await.is_ok()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_instances_cannot_spend_past_the_cap() {
    let Some(url) = redis_url().await else { return };
    let ls = instances(&url, "budget", "[tenant]\nbudget_usd_daily = 1.0", 3);
    let spent = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for i in 0..150u64 {
        let (l, spent) = (ls[i as usize % 3].clone(), spent.clone());
        tasks.push(tokio::spawn(async move {
            if let Ok(a) = call(&l, &principal("acme", "k"), "m", 10, 40).await {
                let tokens = 10 + (i % 5) * 10;
                spent.fetch_add(tokens * 1000, Ordering::Relaxed);
                a.permit.complete(
                    Some(&Usage::new(10, tokens - 10)),
                    Some(tokens as f64 / 1000.0),
                );
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let spent = spent.load(Ordering::Relaxed);
    assert!(spent <= 1_000_000, "spent {spent} micro-USD of a 1 USD cap");
    // At least the 20 reservations of $0.05 that fit the cap were admitted ($0.01 at least each).
    assert!(spent >= 200_000, "too little admitted: {spent}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_call_gets_a_slot_freed_by_another_instance() {
    let Some(url) = redis_url().await else { return };
    let ls = instances(
        &url,
        "queue",
        "[tenant]\nmax_concurrency = 1\n[queue]\nmax_depth = 4\nmax_wait = \"5s\"\npoll_interval = \"20ms\"",
        2,
    );
    let held = call(&ls[0], &principal("acme", "a"), "m", 0, 0)
        .await
        .unwrap();
    let waiter = {
        let l = ls[1].clone();
        tokio::spawn(async move {
            call(&l, &principal("acme", "b"), "m", 0, 0)
                .await
                .map(|_| ())
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!waiter.is_finished());
    drop(held);
    waiter.await.unwrap().unwrap();
}

#[derive(Default)]
struct Counting {
    down: AtomicU64,
}

impl LimitEvents for Counting {
    fn on_backend_unavailable(&self, _: &str, _: FailMode) {
        self.down.fetch_add(1, Ordering::Relaxed);
    }
}

fn unreachable_limiter(mode: &str, events: Arc<Counting>) -> Limiter {
    let text = format!(
        "backend = \"redis\"\non_backend_error = \"{mode}\"\n[redis]\nurl = \"redis://127.0.0.1:1\"\ntimeout = \"200ms\"\n[key]\nrpm = 1"
    );
    Limiter::builder(&config(&text))
        .events(events)
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_redis_fails_open_when_configured() {
    let events = Arc::new(Counting::default());
    let l = unreachable_limiter("open", events.clone());
    let p = principal("acme", "k");
    for _ in 0..5 {
        done(&l, &p, "m").await.unwrap();
    }
    let s = l.stats();
    assert_eq!((s.backend_errors, s.fail_open, s.fail_closed), (5, 5, 0));
    assert!(s.backend_down);
    assert_eq!(
        events.down.load(Ordering::Relaxed),
        1,
        "one event per outage"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_redis_fails_closed_when_configured() {
    let events = Arc::new(Counting::default());
    let l = unreachable_limiter("closed", events.clone());
    for _ in 0..3 {
        match call(&l, &principal("acme", "k"), "m", 0, 0).await {
            Err(e @ GatewayError::Unavailable(_)) => assert_eq!(e.status(), 503),
            other => panic!("expected 503, got {other:?}"),
        }
    }
    assert_eq!(l.stats().fail_closed, 3);
    assert_eq!(events.down.load(Ordering::Relaxed), 1);
}
