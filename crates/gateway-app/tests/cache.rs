//! The response cache in the served pipeline: miss then hit, bypass, tenant isolation, and a
//! cached answer replayed to a streaming caller.

// Test helpers outside #[test] functions may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use http::Method;

fn body(stream: bool) -> String {
    serde_json::json!({"model": "gpt-test", "stream": stream, "temperature": 0,
        "messages": [{"role": "user", "content": "What is the capital of France?"}]})
    .to_string()
}

/// Wait until the cache has written the first fill (fills are stored in the background).
async fn filled(gw: &TestGateway) {
    let cache = gw.state.cache.as_ref().expect("cache enabled");
    assert!(
        gateway_testkit::eventually(Duration::from_secs(10), || cache.stats().stores >= 1).await,
        "the cache fill was never written: {:?}",
        cache.stats()
    );
}

async fn cached_gateway() -> TestGateway {
    TestGateway::start_with_sections("", "[cache]\nenabled = true").await
}

#[tokio::test]
async fn second_identical_request_is_a_hit_and_never_reaches_upstream() {
    let gw = cached_gateway().await;
    let first = gw.post("/v1/chat/completions", &body(false)).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.headers["x-gateway-cache"], "miss");
    // The fill is written in the background.
    filled(&gw).await;
    let second = gw.post("/v1/chat/completions", &body(false)).await;
    assert_eq!(second.headers["x-gateway-cache"], "hit");
    // The miss cost what the upstream charged; the hit costs nothing.
    let cost = |r: &Reply| r.headers["x-gateway-cost-usd"].to_str().unwrap().to_owned();
    assert!(
        cost(&first).parse::<f64>().unwrap() > 0.0,
        "{}",
        cost(&first)
    );
    assert_eq!(cost(&second), "0");
    assert_eq!(
        first.json()["choices"][0]["message"]["content"],
        second.json()["choices"][0]["message"]["content"]
    );
    assert_eq!(
        gw.mock.requests().len(),
        1,
        "the hit was served without the upstream"
    );
}

#[tokio::test]
async fn bypass_header_and_nonzero_temperature_skip_the_cache() {
    let gw = cached_gateway().await;
    gw.post("/v1/chat/completions", &body(false)).await;
    filled(&gw).await;
    let auth = gw.bearer();
    let headers = [
        ("content-type", "application/json"),
        ("authorization", auth.as_str()),
        ("x-gateway-cache", "bypass"),
    ];
    let bypass = send(
        Method::POST,
        &gw.url("/v1/chat/completions"),
        body(false),
        &headers,
    )
    .await;
    assert_eq!(bypass.headers["x-gateway-cache"], "bypass");
    let warm = body(false).replace("\"temperature\":0", "\"temperature\":0.9");
    let warm = gw.post("/v1/chat/completions", &warm).await;
    assert_eq!(warm.headers["x-gateway-cache"], "bypass");
    assert_eq!(gw.mock.requests().len(), 3);
}

#[tokio::test]
async fn tenants_never_share_answers() {
    let gw = cached_gateway().await;
    gw.post("/v1/chat/completions", &body(false)).await;
    filled(&gw).await;
    let other = issue_key(&gw.state, "globex").await;
    let auth = format!("Bearer {other}");
    let headers = [
        ("content-type", "application/json"),
        ("authorization", auth.as_str()),
    ];
    let reply = send(
        Method::POST,
        &gw.url("/v1/chat/completions"),
        body(false),
        &headers,
    )
    .await;
    assert_eq!(reply.headers["x-gateway-cache"], "miss");
    assert_eq!(gw.mock.requests().len(), 2);
}

#[tokio::test]
async fn a_cached_answer_is_replayed_as_a_stream() {
    let gw = cached_gateway().await;
    let first = gw.post("/v1/chat/completions", &body(false)).await;
    let expected = first.json()["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    filled(&gw).await;
    let streamed = gw.post("/v1/chat/completions", &body(true)).await;
    assert_eq!(streamed.headers["x-gateway-cache"], "hit");
    let events = sse_data(&streamed.body);
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
    let text: String = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str::<serde_json::Value>(e).unwrap())
        .filter_map(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(text, expected);
    assert_eq!(gw.mock.requests().len(), 1);
    // Asked with its usage, the replay says what it cost: nothing.
    let with_usage = body(true).replace(
        "\"stream\":true",
        "\"stream\":true,\"stream_options\":{\"include_usage\":true}",
    );
    let replay = gw.post("/v1/chat/completions", &with_usage).await;
    assert_eq!(replay.headers["x-gateway-cache"], "hit");
    assert!(replay.headers.get("x-gateway-cost-usd").is_none());
    let usage_chunk = sse_data(&replay.body)
        .iter()
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str::<serde_json::Value>(d).unwrap())
        .find(|c| c["usage"].is_object())
        .expect("a usage chunk");
    assert_eq!(usage_chunk["x_gateway_cost_usd"], "0", "{usage_chunk}");
}

#[tokio::test]
async fn a_streamed_answer_fills_the_cache_once_complete() {
    let gw = cached_gateway().await;
    let streamed = gw.post("/v1/chat/completions", &body(true)).await;
    assert_eq!(streamed.headers["x-gateway-cache"], "miss");
    filled(&gw).await;
    let plain = gw.post("/v1/chat/completions", &body(false)).await;
    assert_eq!(plain.headers["x-gateway-cache"], "hit");
    assert_eq!(gw.mock.requests().len(), 1);
}

const ADMIN: &str = "admin-token-for-cache-tests-0123";

#[tokio::test]
async fn admin_invalidation_empties_the_cache_and_is_admin_only() {
    let sections = format!("[cache]\nenabled = true\n[admin]\ntoken = \"{ADMIN}\"");
    let gw = TestGateway::start_with_sections("", &sections).await;
    gw.post("/v1/chat/completions", &body(false)).await;
    filled(&gw).await;
    assert_eq!(
        gw.post("/v1/chat/completions", &body(false)).await.headers["x-gateway-cache"],
        "hit"
    );

    let url = gw.url("/admin/v1/cache/invalidate");
    let developer = gw.bearer();
    let denied = send(
        Method::POST,
        &url,
        r#"{"scope":"tenant","tenant":"acme"}"#,
        &[("authorization", developer.as_str())],
    )
    .await;
    assert_eq!(denied.status, 403);
    let admin = format!("Bearer {ADMIN}");
    let done = send(
        Method::POST,
        &url,
        r#"{"scope":"tenant","tenant":"acme"}"#,
        &[("authorization", admin.as_str())],
    )
    .await;
    assert_eq!(done.status, 200, "{:?}", done.body);
    assert_eq!(done.json()["removed"], 1);
    assert_eq!(
        gw.post("/v1/chat/completions", &body(false)).await.headers["x-gateway-cache"],
        "miss"
    );

    let states = send(
        Method::GET,
        &gw.url("/admin/v1/deployments"),
        "",
        &[("authorization", admin.as_str())],
    )
    .await;
    assert_eq!(states.status, 200);
    let data = states.json()["data"].as_array().unwrap().clone();
    let test_model = data.iter().find(|d| d["model"] == "gpt-test").unwrap();
    assert_eq!(test_model["circuit"], "closed");
    assert_eq!(test_model["provider"], "mock");
}

#[tokio::test]
async fn a_gateway_whose_cache_redis_is_down_starts_degraded_and_answers() {
    // A port where nothing listens.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let gw = TestGateway::start_with_sections(
        "",
        &format!(
            "[cache]\nenabled = true\nbackend = \"redis\"\nredis_url = \"redis://127.0.0.1:{port}\""
        ),
    )
    .await;
    let ready = gw.get("/ready").await;
    assert_eq!(ready.status, 200, "degraded, still ready: {:?}", ready.body);
    assert_eq!(ready.json()["checks"]["cache"]["state"], "down");
    let answer = gw.post("/v1/chat/completions", &body(false)).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.headers["x-gateway-cache"], "miss");
    let metrics = gw.get("/metrics").await;
    let text = String::from_utf8_lossy(&metrics.body);
    assert!(text.contains("gateway_cache_backend_down 1"), "{text}");
    assert!(text.contains("gateway_cache_errors_total"), "{text}");
}
