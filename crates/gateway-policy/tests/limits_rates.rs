//! Request and token rates, in-process, under paused time: every rate dimension, every scope,
//! reservations reconciled with real usage, and the headers' snapshot.

// Test helpers outside #[test] functions may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod limits_support;

use std::time::Duration;

use gateway_core::Usage;
use gateway_core::store::Limits;
use limits_support::*;

#[tokio::test(start_paused = true)]
async fn rpm_admits_the_limit_then_names_it_with_retry_after() {
    let l = limiter("[key]\nrpm = 3");
    let p = principal("acme", "key_1");
    for _ in 0..3 {
        done(&l, &p, "m").await.unwrap();
    }
    let err = call(&l, &p, "m", 0, 0).await.unwrap_err();
    let msg = message(&err);
    assert!(msg.contains("requests per minute (rpm)"), "{msg}");
    assert!(msg.contains("key 'key_1'"), "{msg}");
    let wait = retry_after(&err).unwrap();
    assert!(
        wait <= Duration::from_secs(20) && wait > Duration::from_secs(19),
        "{wait:?}"
    );
    tokio::time::advance(wait).await;
    done(&l, &p, "m").await.unwrap();
    assert!(call(&l, &p, "m", 0, 0).await.is_err());
}

#[tokio::test(start_paused = true)]
async fn rps_and_rpd_use_their_own_periods() {
    let l = limiter("[key]\nrps = 2\nrpd = 3");
    let p = principal("acme", "k");
    done(&l, &p, "m").await.unwrap();
    done(&l, &p, "m").await.unwrap();
    let err = call(&l, &p, "m", 0, 0).await.unwrap_err();
    assert!(message(&err).contains("(rps)"), "{}", message(&err));
    tokio::time::advance(Duration::from_millis(500)).await;
    done(&l, &p, "m").await.unwrap();
    tokio::time::advance(Duration::from_secs(5)).await;
    let err = call(&l, &p, "m", 0, 0).await.unwrap_err();
    assert!(
        message(&err).contains("requests per day (rpd)"),
        "{}",
        message(&err)
    );
    assert!(retry_after(&err).unwrap() > Duration::from_secs(7 * 3600));
    tokio::time::advance(Duration::from_secs(8 * 3600)).await;
    done(&l, &p, "m").await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_failed_call_still_counts_as_a_request() {
    let l = limiter("[key]\nrpm = 2");
    let p = principal("acme", "k");
    drop(call(&l, &p, "m", 0, 0).await.unwrap());
    drop(call(&l, &p, "m", 0, 0).await.unwrap());
    assert!(call(&l, &p, "m", 0, 0).await.is_err());
}

#[tokio::test(start_paused = true)]
async fn tpm_reserves_prompt_plus_max_tokens_and_reconciles() {
    let l = limiter("[key]\ntpm = 1000");
    let p = principal("acme", "k");
    let first = call(&l, &p, "m", 100, 400).await.unwrap();
    assert_eq!(first.snapshot.limit_tokens, Some(1000));
    assert_eq!(first.snapshot.remaining_tokens, Some(500));
    let second = call(&l, &p, "m", 100, 400).await.unwrap();
    let err = call(&l, &p, "m", 1, 0).await.unwrap_err();
    assert!(message(&err).contains("tokens per minute (tpm)"));
    // The first call really used 100 tokens: 400 come back.
    first.permit.complete(Some(&Usage::new(60, 40)), None);
    let third = call(&l, &p, "m", 0, 400).await.unwrap();
    assert!(call(&l, &p, "m", 1, 0).await.is_err());
    // Usage unknown (e.g. a cut stream without a usage chunk): the reservation stands.
    second.permit.complete(None, None);
    // Failed before the upstream answered: everything comes back.
    drop(third);
    let fourth = call(&l, &p, "m", 0, 400).await.unwrap();
    assert_eq!(fourth.snapshot.remaining_tokens, Some(0));
}

#[tokio::test(start_paused = true)]
async fn tpd_and_a_request_larger_than_the_limit() {
    let l = limiter("[key]\ntpd = 1000");
    let p = principal("acme", "k");
    let err = call(&l, &p, "m", 900, 200).await.unwrap_err();
    assert!(
        message(&err).contains("Request too large"),
        "{}",
        message(&err)
    );
    assert_eq!(retry_after(&err), None);
    let a = call(&l, &p, "m", 500, 500).await.unwrap();
    a.permit.complete(Some(&Usage::new(500, 500)), None);
    let err = call(&l, &p, "m", 100, 0).await.unwrap_err();
    assert!(message(&err).contains("tokens per day (tpd)"));
    // 100 tokens of a daily 1000 come back in 2.4 hours.
    tokio::time::advance(Duration::from_secs(8640)).await;
    assert!(call(&l, &p, "m", 100, 0).await.is_ok());
}

#[tokio::test(start_paused = true)]
async fn real_usage_above_the_reservation_is_charged() {
    let l = limiter("[key]\ntpm = 1000");
    let p = principal("acme", "k");
    let a = call(&l, &p, "m", 10, 10).await.unwrap();
    a.permit.complete(Some(&Usage::new(10, 990)), None);
    assert!(call(&l, &p, "m", 1, 0).await.is_err());
}

#[tokio::test(start_paused = true)]
async fn stored_limits_win_and_every_scope_counts_apart() {
    let l = limiter(
        "[key]\nrpm = 10\n[tenant]\nrpm = 3\n[models.shared]\nrpm = 4\n[key_models.\"*\"]\nrpm = 1",
    );
    let stored = with_key_limits(
        principal("acme", "strict"),
        Limits {
            rpm: Some(1),
            ..Limits::default()
        },
    );
    done(&l, &stored, "a").await.unwrap();
    let err = call(&l, &stored, "b", 0, 0).await.unwrap_err();
    assert!(message(&err).contains("key 'strict'"), "{}", message(&err));

    // key+model: one call per key on each model.
    let k = principal("other", "k");
    done(&l, &k, "a").await.unwrap();
    let err = call(&l, &k, "a", 0, 0).await.unwrap_err();
    assert!(
        message(&err).contains("key 'k' on model 'a'"),
        "{}",
        message(&err)
    );
    done(&l, &k, "b").await.unwrap();

    // Tenant: acme had 1 call (strict's first); two more keys reach its 3.
    done(&l, &principal("acme", "x"), "a").await.unwrap();
    done(&l, &principal("acme", "y"), "a").await.unwrap();
    let err = call(&l, &principal("acme", "z"), "a", 0, 0)
        .await
        .unwrap_err();
    assert!(message(&err).contains("tenant 'acme'"), "{}", message(&err));

    // Model: all callers together.
    for t in ["t1", "t2", "t3", "t4"] {
        done(&l, &principal(t, "k"), "shared").await.unwrap();
    }
    let err = call(&l, &principal("t5", "k"), "shared", 0, 0)
        .await
        .unwrap_err();
    assert!(
        message(&err).contains("model 'shared'"),
        "{}",
        message(&err)
    );
}

#[tokio::test(start_paused = true)]
async fn snapshot_reports_the_tightest_request_limit() {
    let l = limiter("[key]\nrpm = 10\n[tenant]\nrps = 100");
    let p = principal("acme", "k");
    let a = call(&l, &p, "m", 0, 0).await.unwrap();
    let s = &a.snapshot;
    assert_eq!(
        (s.limit_requests, s.remaining_requests),
        (Some(10), Some(9))
    );
    let reset = s.reset_requests_secs.unwrap();
    assert!((5.9..=6.1).contains(&reset), "{reset}");
    assert_eq!(s.limit_tokens, None);
}

#[tokio::test(start_paused = true)]
async fn no_rule_means_no_counting() {
    let l = limiter("");
    let p = principal("acme", "k");
    for _ in 0..1000 {
        done(&l, &p, "m").await.unwrap();
    }
    assert_eq!(
        l.stats().admitted,
        0,
        "unlimited calls do not touch counters"
    );
}
