//! The LLM judge of quality scoring through the whole gateway (`[quality.judge]`), with the
//! testkit mock answering as the judge (`mock-judge-<p>`, `mock-judge-prose`): sampled calls
//! are judged off the request path and the score lands on their usage record and in the
//! usage report; the judge's own calls are never judged and are accounted to the judge
//! tenant; the sampled share follows the rate (seeded) and per-tenant overrides; the daily
//! budget stops judging; a full queue drops and counts; a malformed verdict is counted.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use http::Method;
use serde_json::{Value, json};

const ADMIN_TOKEN: &str = "admin-token-0123456789abcdef";

fn sections(judge_upstream: &str, judge: &str) -> String {
    format!(
        r#"
[admin]
token = "{ADMIN_TOKEN}"

[models.judge]
provider = "mock"
upstream_model = "{judge_upstream}"

# One dollar a token: every judgment costs something.
[telemetry.prices."{judge_upstream}"]
input_per_mtok = 1000000.0
output_per_mtok = 1000000.0

[quality.judge]
model = "judge"
tenant = "quality-judge"
seed = 7
{judge}
"#
    )
}

async fn call(gw: &TestGateway, request_id: &str, text: &str) {
    let auth = gw.bearer();
    let body = json!({"model": "gpt-test", "messages": [{"role": "user", "content": text}]});
    let reply = send(
        Method::POST,
        &gw.url("/v1/chat/completions"),
        body.to_string(),
        &[
            ("content-type", "application/json"),
            ("authorization", auth.as_str()),
            ("x-request-id", request_id),
        ],
    )
    .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
}

fn count(gw: &TestGateway, result: &str) -> f64 {
    gw.state
        .judge
        .as_ref()
        .unwrap()
        .samples()
        .iter()
        .find(|s| {
            s.name == "gateway_quality_judge_cases"
                && s.labels.iter().any(|(k, v)| *k == "result" && v == result)
        })
        .map_or(-1.0, |s| s.value)
}

fn gauge(gw: &TestGateway, name: &str) -> f64 {
    let samples = gw.state.judge.as_ref().unwrap().samples();
    samples.iter().find(|s| s.name == name).unwrap().value
}

/// Waits until the judge has finished with `n` cases (scored, malformed, failed or over
/// budget).
async fn settled(gw: &TestGateway, n: f64) {
    for _ in 0..200 {
        let done: f64 = ["scored", "malformed", "failed", "over_budget"]
            .iter()
            .map(|r| count(gw, r))
            .sum();
        if done >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the judge did not finish {n} cases");
}

async fn usage(gw: &TestGateway, query: &str) -> Vec<Value> {
    let auth = format!("Bearer {ADMIN_TOKEN}");
    let reply = send(
        Method::GET,
        &gw.url(&format!("/admin/v1/usage?{query}")),
        "",
        &[("authorization", auth.as_str())],
    )
    .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.json()["data"].as_array().unwrap().clone()
}

#[tokio::test]
async fn sampled_calls_are_judged_stored_and_the_judge_is_billed_to_its_tenant() {
    let gw = TestGateway::start_with_sections(
        "",
        &sections(
            "mock-judge-80",
            "sample_rate = 1.0\ndaily_budget_usd = 1000000.0",
        ),
    )
    .await;
    for i in 0..3 {
        call(&gw, &format!("judged-{i}"), "Explain why the sky is blue.").await;
    }
    settled(&gw, 3.0).await;
    // Only the three callers' calls were handed over: the judge's own calls are not.
    assert_eq!(count(&gw, "sampled"), 3.0);
    assert_eq!(count(&gw, "scored"), 3.0);
    assert!((gauge(&gw, "gateway_quality_judge_score_sum") - 2.4).abs() < 1e-6);
    assert!(gauge(&gw, "gateway_quality_judge_cost_usd") > 0.0);
    // The scores reach the callers' usage records (retried until the records are written).
    gw.state.telemetry.flush().await;
    let mut judged = Vec::new();
    for _ in 0..100 {
        judged = usage(&gw, "tenant=acme&group_by=model").await;
        if judged.first().is_some_and(|r| r["judged_requests"] == 3) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        gw.state.telemetry.flush().await;
    }
    let row = &judged[0];
    assert_eq!(row["model"], "gpt-test");
    assert_eq!(row["judged_requests"], 3, "{row}");
    assert!(
        (row["avg_judge_score"].as_f64().unwrap() - 0.8).abs() < 1e-6,
        "{row}"
    );
    assert_eq!(count(&gw, "unstored"), 0.0);
    // The judge's calls are the judge tenant's usage, priced, and never judged themselves.
    let judge = usage(&gw, "tenant=quality-judge&group_by=model").await;
    assert_eq!(judge.len(), 1, "{judge:?}");
    assert_eq!(judge[0]["model"], "judge");
    assert_eq!(judge[0]["requests"], 3);
    assert!(judge[0]["cost_usd"].as_f64().unwrap() > 0.0);
    assert_eq!(judge[0]["judged_requests"], 0);
}

#[tokio::test]
async fn the_sampled_share_follows_the_rate_and_tenant_overrides() {
    let gw = TestGateway::start_with_sections(
        "",
        &sections(
            "mock-judge-50",
            "sample_rate = 1.0\ntenant_sample_rates = { acme = 0.25 }\ndaily_budget_usd = 1000000.0",
        ),
    )
    .await;
    for i in 0..40 {
        call(&gw, &format!("share-{i}"), "Hello there, how are you?").await;
    }
    let sampled = count(&gw, "sampled");
    // A quarter of 40, by a seeded hash of the request ids: not all, not none.
    assert!((4.0..=18.0).contains(&sampled), "{sampled}");
    settled(&gw, sampled).await;
    assert_eq!(count(&gw, "scored"), sampled);
}

#[tokio::test]
async fn the_daily_budget_stops_judging() {
    // The first judgment costs far more than a dollar; the budget is a dollar.
    let gw = TestGateway::start_with_sections(
        "",
        &sections(
            "mock-judge-90",
            "sample_rate = 1.0\ndaily_budget_usd = 1.0\nmax_concurrent = 1",
        ),
    )
    .await;
    for i in 0..4 {
        call(&gw, &format!("budget-{i}"), "Write a haiku about autumn.").await;
    }
    settled(&gw, 4.0).await;
    assert_eq!(count(&gw, "scored"), 1.0);
    assert_eq!(count(&gw, "over_budget"), 3.0);
}

#[tokio::test]
async fn a_full_queue_drops_and_counts() {
    // One judgment at a time, one case waiting, and a judge that takes 0.4 s.
    let gw = TestGateway::start_with_sections(
        "",
        &sections(
            "mock-slow-400",
            "sample_rate = 1.0\nmax_concurrent = 1\nqueue = 1\ndaily_budget_usd = 1000000.0",
        ),
    )
    .await;
    for i in 0..6 {
        call(&gw, &format!("flood-{i}"), "Tell me a joke.").await;
    }
    assert_eq!(count(&gw, "sampled"), 6.0);
    let dropped = count(&gw, "dropped");
    assert!(dropped >= 1.0, "{dropped}");
    // What was not dropped is judged (the slow mock answers prose: malformed).
    settled(&gw, 6.0 - dropped).await;
    assert_eq!(count(&gw, "malformed"), 6.0 - dropped);
}

#[tokio::test]
async fn a_verdict_that_is_not_strict_json_is_counted_malformed() {
    let gw = TestGateway::start_with_sections(
        "",
        &sections(
            "mock-judge-prose",
            "sample_rate = 1.0\ndaily_budget_usd = 1000000.0",
        ),
    )
    .await;
    call(
        &gw,
        "prose-1",
        "Summarise the plot of Hamlet in two sentences.",
    )
    .await;
    settled(&gw, 1.0).await;
    assert_eq!(count(&gw, "malformed"), 1.0);
    assert_eq!(count(&gw, "scored"), 0.0);
    gw.state.telemetry.flush().await;
    let rows = usage(&gw, "tenant=acme").await;
    assert_eq!(rows[0]["judged_requests"], 0);
}

#[tokio::test]
async fn a_cached_answer_is_not_judged_again() {
    let gw = TestGateway::start_with_sections(
        "",
        &format!(
            "[cache]\nenabled = true\n{}",
            sections(
                "mock-judge-70",
                "sample_rate = 1.0\ndaily_budget_usd = 1000000.0"
            )
        ),
    )
    .await;
    // The same request twice: the second is answered from the cache.
    call(&gw, "cached-1", "What is the capital of Portugal?").await;
    call(&gw, "cached-2", "What is the capital of Portugal?").await;
    settled(&gw, 1.0).await;
    assert_eq!(count(&gw, "sampled"), 1.0);
    assert_eq!(count(&gw, "scored"), 1.0);
}
