//! Spend limits: reservations priced by the cost model, reconciled with the real cost, calendar
//! windows, unpriced models, and concurrent callers that cannot spend past the cap.

// Test helpers outside #[test] functions may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod limits_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use gateway_core::Usage;
use gateway_policy::limits::{Limiter, LimitsConfig};
use limits_support::*;

// FlatPrice: $1 per 1000 tokens.

#[tokio::test(start_paused = true)]
async fn daily_budget_reserves_the_priced_estimate_and_reconciles() {
    let l = priced("[key]\nbudget_usd_daily = 1.0");
    let p = principal("acme", "k");
    let a = call(&l, &p, "m", 100, 300).await.unwrap(); // $0.40 reserved
    let _b = call(&l, &p, "m", 100, 300).await.unwrap(); // $0.80
    let err = call(&l, &p, "m", 100, 300).await.unwrap_err();
    let msg = message(&err);
    assert!(
        msg.contains("Budget exhausted") && msg.contains("daily spend"),
        "{msg}"
    );
    assert!(msg.contains("1.00 USD"), "{msg}");
    assert!(retry_after(&err).unwrap() <= Duration::from_secs(86_400));
    // The first call really cost $0.10: $0.30 comes back.
    a.permit.complete(Some(&Usage::new(50, 50)), Some(0.10));
    assert!(call(&l, &p, "m", 100, 300).await.is_ok());
}

#[tokio::test(start_paused = true)]
async fn budgets_reset_with_their_calendar_window() {
    let l = priced("[tenant]\nbudget_usd_daily = 0.5\nbudget_usd_monthly = 0.9");
    let p = principal("acme", "k");
    let a = call(&l, &p, "m", 0, 500).await.unwrap();
    a.permit.complete(Some(&Usage::new(0, 500)), Some(0.5));
    let err = call(&l, &p, "m", 0, 1).await.unwrap_err();
    assert!(
        message(&err).contains("(budget_usd_daily)"),
        "{}",
        message(&err)
    );
    tokio::time::advance(retry_after(&err).unwrap()).await;
    let b = call(&l, &p, "m", 0, 400).await.unwrap();
    b.permit.complete(Some(&Usage::new(0, 400)), Some(0.4));
    // Next day again, but the month is spent unless the month rolled over too.
    tokio::time::advance(Duration::from_secs(86_400)).await;
    // Admitted only when the test started at the end of a month (the month rolled over).
    if let Err(err) = call(&l, &p, "m", 0, 1).await {
        assert!(message(&err).contains("(budget_usd_monthly)"));
    }
    tokio::time::advance(Duration::from_secs(32 * 86_400)).await;
    assert!(call(&l, &p, "m", 0, 1).await.is_ok());
}

#[tokio::test(start_paused = true)]
async fn unpriced_models_are_allowed_or_refused_as_configured() {
    let allow = priced("[key]\nbudget_usd_daily = 1.0");
    let p = principal("acme", "k");
    for _ in 0..5 {
        let a = call(&allow, &p, "unpriced-model", 10_000, 10_000)
            .await
            .unwrap();
        a.permit.complete(Some(&Usage::new(1, 1)), None);
    }
    assert_eq!(allow.stats().unpriced, 5);
    let reject = priced("unpriced = \"reject\"\n[key]\nbudget_usd_daily = 1.0");
    let err = call(&reject, &p, "unpriced-model", 1, 1).await.unwrap_err();
    assert!(
        message(&err).contains("no known price"),
        "{}",
        message(&err)
    );
    // Without a cost model at all, every call is unpriced.
    let none = limiter("[key]\nbudget_usd_daily = 1.0");
    assert!(call(&none, &p, "m", 1_000_000, 1).await.is_ok());
}

#[tokio::test(start_paused = true)]
async fn a_call_priced_above_the_whole_budget_is_too_large() {
    let l = priced("[key]\nbudget_usd_monthly = 0.5");
    let err = call(&l, &principal("a", "k"), "m", 0, 600)
        .await
        .unwrap_err();
    assert!(
        message(&err).contains("Request too large"),
        "{}",
        message(&err)
    );
}

/// Many concurrent callers on a real multi-threaded runtime: every call reserves $0.05 and
/// really costs between $0.01 and $0.05. Admitted reservations never exceed the cap, so the
/// real spend cannot either (bound: zero overshoot when cost <= estimate).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_cannot_spend_past_the_cap() {
    let l = priced("[tenant]\nbudget_usd_daily = 1.0");
    let spent_micros = Arc::new(AtomicU64::new(0));
    let admitted = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for i in 0..200u64 {
        let (l, spent, admitted) = (l.clone(), spent_micros.clone(), admitted.clone());
        tasks.push(tokio::spawn(async move {
            let p = principal("acme", &format!("key-{}", i % 7));
            if let Ok(a) = call(&l, &p, "m", 10, 40).await {
                admitted.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(i % 5)).await;
                let tokens = 10 + (i % 5) * 10; // 10..=50 tokens: $0.01..=$0.05
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
    let spent = spent_micros.load(Ordering::Relaxed);
    assert!(spent <= 1_000_000, "spent {spent} micro-USD of a 1 USD cap");
    // Calls that cost less than reserved gave money back, so more than 20 got through.
    assert!(admitted.load(Ordering::Relaxed) >= 20);
}

/// When the real cost exceeds the reservation (a provider ignoring max_tokens), the overshoot
/// is at most the sum of the excesses of the calls admitted before the cap was reached.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overshoot_is_bounded_by_the_excess_over_reservations() {
    let config: LimitsConfig = config("[tenant]\nbudget_usd_daily = 1.0");
    let l = Limiter::new(&config, Some(Arc::new(FlatPrice))).unwrap();
    let mut held = Vec::new();
    // 20 concurrent calls of $0.05 fill the cap; each then really costs $0.06.
    for i in 0..25 {
        if let Ok(a) = call(&l, &principal("acme", &format!("k{i}")), "m", 0, 50).await {
            held.push(a);
        }
    }
    assert_eq!(held.len(), 20);
    for a in held {
        a.permit.complete(Some(&Usage::new(0, 60)), Some(0.06));
    }
    // Spent $1.20 = cap + 20 x $0.01 excess; nothing more is admitted.
    let err = call(&l, &principal("acme", "late"), "m", 0, 1)
        .await
        .unwrap_err();
    assert!(message(&err).contains("Budget exhausted"));
}
