//! The Anthropic Messages ingress and the simple `/query` API over the same pipeline.

// Test helpers outside #[test] functions may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use http::Method;

fn anthropic_headers(key: &str) -> Vec<(&'static str, String)> {
    vec![
        ("content-type", "application/json".to_owned()),
        ("x-api-key", key.to_owned()),
        ("anthropic-version", "2023-06-01".to_owned()),
    ]
}

async fn post_anthropic(gw: &TestGateway, path: &str, body: &str) -> Reply {
    let headers = anthropic_headers(&gw.key);
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    send(Method::POST, &gw.url(path), body.to_owned(), &headers).await
}

#[tokio::test]
async fn messages_round_trip_through_an_openai_upstream() {
    let gw = TestGateway::start().await;
    let body = r#"{"model":"gpt-test","max_tokens":64,"system":"Be brief.","messages":[{"role":"user","content":"Hello from Claude SDK"}]}"#;
    let reply = post_anthropic(&gw, "/v1/messages", body).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let msg = reply.json();
    assert_eq!(msg["type"], "message");
    assert_eq!(msg["role"], "assistant");
    assert_eq!(msg["model"], "gpt-test");
    assert_eq!(msg["stop_reason"], "end_turn");
    assert!(
        msg["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("Hello from Claude SDK")
    );
    assert!(msg["usage"]["input_tokens"].as_u64().unwrap() > 0);
    let upstream = gw.mock.requests().last().unwrap().json();
    assert_eq!(
        upstream["messages"][0]["role"], "system",
        "system prompt became a system message"
    );
    assert_eq!(upstream["max_tokens"], 64);
}

#[tokio::test]
async fn streamed_messages_follow_anthropic_event_order() {
    let gw = TestGateway::start().await;
    let body = r#"{"model":"gpt-test","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"Stream to me"}]}"#;
    let reply = post_anthropic(&gw, "/v1/messages", body).await;
    assert_eq!(reply.status, 200);
    let text = String::from_utf8_lossy(&reply.body).into_owned();
    let events: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("event: "))
        .collect();
    assert_eq!(events.first(), Some(&"message_start"));
    assert_eq!(events.last(), Some(&"message_stop"));
    assert!(
        events.contains(&"content_block_delta") && events.contains(&"message_delta"),
        "{events:?}"
    );
    let deltas: String = sse_data(&reply.body)
        .iter()
        .map(|d| serde_json::from_str::<serde_json::Value>(d).unwrap())
        .filter(|v| v["type"] == "content_block_delta")
        .filter_map(|v| v["delta"]["text"].as_str().map(str::to_owned))
        .collect();
    assert!(deltas.contains("Stream to me"), "{deltas}");
}

#[tokio::test]
async fn anthropic_errors_use_anthropic_shape() {
    let gw = TestGateway::start().await;
    let reply = post_anthropic(
        &gw,
        "/v1/messages",
        r#"{"model":"nope","max_tokens":5,"messages":[{"role":"user","content":"x"}]}"#,
    )
    .await;
    assert_eq!(reply.status, 404);
    let body = reply.json();
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "not_found_error");
    let missing = post_anthropic(
        &gw,
        "/v1/messages",
        r#"{"model":"gpt-test","messages":[{"role":"user","content":"x"}]}"#,
    )
    .await;
    assert_eq!(
        missing.status, 400,
        "max_tokens is required by the Messages API"
    );
    assert_eq!(missing.json()["error"]["type"], "invalid_request_error");
    let anonymous = send(
        Method::POST,
        &gw.url("/v1/messages"),
        "{}",
        &[("content-type", "application/json")],
    )
    .await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(anonymous.json()["error"]["type"], "authentication_error");
}

#[tokio::test]
async fn count_tokens_answers_without_calling_upstream() {
    let gw = TestGateway::start().await;
    let reply = post_anthropic(
        &gw,
        "/v1/messages/count_tokens",
        r#"{"model":"gpt-test","messages":[{"role":"user","content":"How many tokens is this sentence?"}]}"#,
    )
    .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert!(reply.json()["input_tokens"].as_u64().unwrap() > 0);
    assert!(gw.mock.requests().is_empty());
}

#[tokio::test]
async fn query_api_answers_and_validates() {
    let gw = TestGateway::start_with_sections("", "[query]\nmodel = \"gpt-test\"").await;
    let reply = gw
        .post("/query", r#"{"prompt":"Hello query","max_tokens":50}"#)
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let body = reply.json();
    assert!(body["response"].as_str().unwrap().contains("Hello query"));
    assert_eq!(body["provider"], "mock");
    assert_eq!(body["model"], "gpt-4o-mini");
    assert_eq!(body["cascade_path"], serde_json::json!(["mock"]));
    assert!(body["usage"]["total_tokens"].as_u64().unwrap() > 0);
    assert!(body["latency_ms"].as_f64().unwrap() >= 0.0);
    assert!(body.get("cost_estimate_usd").is_some());
    let upstream = gw.mock.requests().last().unwrap().json();
    assert_eq!(
        (
            upstream["max_tokens"].as_u64(),
            upstream["temperature"].as_f64()
        ),
        (Some(50), Some(0.7))
    );

    let too_long = format!(r#"{{"prompt":"{}"}}"#, "x".repeat(4001));
    for (body, param) in [
        (too_long.as_str(), "prompt"),
        (r#"{"prompt":""}"#, "prompt"),
        (r#"{"prompt":"hi","max_tokens":0}"#, "max_tokens"),
        (r#"{"prompt":"hi","max_tokens":4096}"#, "max_tokens"),
        (r#"{"prompt":"hi","temperature":2.5}"#, "temperature"),
    ] {
        let reply = gw.post("/query", body).await;
        assert_eq!(reply.status, 400, "{body}");
        assert_eq!(reply.json()["error"]["param"], param, "{body}");
    }
    let unknown_field = gw.post("/query", r#"{"prompt":"hi","stream":true}"#).await;
    assert_eq!(unknown_field.status, 400);
}
