//! Output past the reservation: calls without `max_tokens` reserve
//! `default_max_tokens_reservation`, and a stream under a token or spend limit reserves one
//! more block each time it reaches its reservation, until the limit would be crossed. Blocks
//! stay charged; the permit reconciles its own reservation with the rest of real usage.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod limits_support;

use gateway_core::phases::admission::Admission;
use gateway_core::{ChatRequest, Message, Role, Usage};
use limits_support::*;

fn request(max_tokens: Option<u32>) -> ChatRequest {
    ChatRequest {
        model: "m".into(),
        messages: vec![Message::text(Role::User, "hi")],
        max_tokens,
        ..ChatRequest::default()
    }
}

#[tokio::test(start_paused = true)]
async fn calls_without_max_tokens_reserve_the_configured_default() {
    let l = limiter("default_max_tokens_reservation = 300\n[key]\ntpm = 10000");
    let p = principal("acme", "k");
    let est = l.estimate(&ctx(&p), &request(None));
    assert_eq!(est.max_output_tokens, 300);
    assert_eq!(
        l.estimate(&ctx(&p), &request(Some(50))).max_output_tokens,
        50
    );
    // The default stays 1024.
    let l = limiter("[key]\ntpm = 10000");
    assert_eq!(l.estimate(&ctx(&p), &request(None)).max_output_tokens, 1024);
}

#[tokio::test(start_paused = true)]
async fn a_stream_extends_its_reservation_until_the_limit_would_be_crossed() {
    let l = limiter("default_max_tokens_reservation = 100\n[key]\ntpm = 1000");
    let p = principal("acme", "k");
    let mut a = call(&l, &p, "m", 50, 100).await.unwrap();
    let mut allowance = a.permit.output_allowance().expect("a token limit applies");
    assert_eq!(allowance.granted(), 100);
    assert_eq!(allowance.prompt_tokens(), 50);
    // 150 reserved; 850 left: eight more blocks of 100, then no more.
    let mut blocks = 0;
    while allowance.extend().await {
        blocks += 1;
        assert!(blocks <= 8, "extended past the limit");
    }
    assert_eq!(blocks, 8);
    assert_eq!(allowance.granted(), 900);
    drop(allowance);
    // Real usage 50 + 900: the blocks (800) stay charged, the admission's 150 reconciles
    // to 150. 50 tokens are left of the 1000.
    a.permit.complete(Some(&Usage::new(50, 900)), None);
    let err = call(&l, &p, "m", 60, 0).await.unwrap_err();
    assert!(message(&err).contains("tpm"), "{err:?}");
    let _rest = call(&l, &p, "m", 40, 0).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn unused_blocks_are_not_refunded_but_the_admission_is() {
    let l = limiter("default_max_tokens_reservation = 100\n[key]\ntpm = 1000");
    let p = principal("acme", "k");
    let mut a = call(&l, &p, "m", 50, 100).await.unwrap();
    let mut allowance = a.permit.output_allowance().unwrap();
    assert!(allowance.extend().await);
    drop(allowance);
    // Used 10 in all: the admission's 150 is refunded, the block of 100 stays.
    a.permit.complete(Some(&Usage::new(5, 5)), None);
    // (A permit dropped unused is refunded: keep this one.)
    let _rest = call(&l, &p, "m", 0, 900).await.unwrap();
    assert!(call(&l, &p, "m", 0, 100).await.is_err());
}

#[tokio::test(start_paused = true)]
async fn no_allowance_without_token_or_spend_limits() {
    let l = limiter("[key]\nrpm = 10\nmax_concurrency = 2");
    let p = principal("acme", "k");
    let mut a = call(&l, &p, "m", 50, 100).await.unwrap();
    assert!(a.permit.output_allowance().is_none());
    let mut b = call(&priced("[key]\nbudget_usd_daily = 1.0"), &p, "m", 50, 100)
        .await
        .unwrap();
    assert!(b.permit.output_allowance().is_some());
}
