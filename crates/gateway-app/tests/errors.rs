//! The error table: every kind of bad input or upstream failure gets the right status and an
//! OpenAI-style body that says what is wrong, without leaking upstream secrets.

// Test helpers outside #[test] functions may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use http::Method;

struct Case {
    name: &'static str,
    method: Method,
    path: &'static str,
    body: String,
    status: u16,
    error_type: &'static str,
    message_contains: &'static str,
}

fn case(
    name: &'static str,
    body: impl Into<String>,
    status: u16,
    error_type: &'static str,
    message_contains: &'static str,
) -> Case {
    Case {
        name,
        method: Method::POST,
        path: "/v1/chat/completions",
        body: body.into(),
        status,
        error_type,
        message_contains,
    }
}

#[tokio::test]
async fn error_table() {
    let gw = TestGateway::start_with("max_body_bytes = 2048").await;
    let cases = vec![
        case(
            "malformed json",
            r#"{"model": "gpt-test", "messages": ["#,
            400,
            "invalid_request_error",
            "not valid JSON",
        ),
        case("empty body", "", 400, "invalid_request_error", "empty"),
        case(
            "wrong type",
            r#"{"model": 5, "messages": []}"#,
            400,
            "invalid_request_error",
            "invalid type",
        ),
        case(
            "missing messages",
            r#"{"model": "gpt-test"}"#,
            400,
            "invalid_request_error",
            "messages",
        ),
        case(
            "empty messages",
            r#"{"model": "gpt-test", "messages": []}"#,
            400,
            "invalid_request_error",
            "at least one message",
        ),
        case(
            "unknown role",
            r#"{"model": "gpt-test", "messages": [{"role": "robot", "content": "hi"}]}"#,
            400,
            "invalid_request_error",
            "robot",
        ),
        case(
            "temperature out of range",
            r#"{"model": "gpt-test", "temperature": 3, "messages": [{"role": "user", "content": "hi"}]}"#,
            400,
            "invalid_request_error",
            "temperature",
        ),
        case(
            "unknown model",
            chat_body("no-such-model", false),
            404,
            "invalid_request_error",
            "no-such-model",
        ),
        case(
            "oversized body",
            format!(
                r#"{{"model": "gpt-test", "messages": [{{"role": "user", "content": "{}"}}]}}"#,
                "x".repeat(4096)
            ),
            413,
            "invalid_request_error",
            "2048",
        ),
        case(
            "upstream 429",
            chat_body("upstream-429", false),
            429,
            "rate_limit_error",
            "rate limiting",
        ),
        case(
            "upstream 500",
            chat_body("upstream-500", false),
            502,
            "upstream_error",
            "status 500",
        ),
        case(
            "upstream 400",
            chat_body("upstream-400", false),
            400,
            "invalid_request_error",
            "temperature",
        ),
        case(
            "upstream rejects our key",
            chat_body("upstream-401", false),
            502,
            "upstream_error",
            "credentials",
        ),
        case(
            "upstream malformed",
            chat_body("upstream-malformed", false),
            502,
            "upstream_error",
            "could not read",
        ),
        case(
            "upstream timeout",
            chat_body("upstream-slow", false),
            504,
            "timeout_error",
            "did not answer in time",
        ),
        Case {
            name: "unknown path",
            method: Method::POST,
            path: "/v1/nothing",
            body: String::new(),
            status: 404,
            error_type: "invalid_request_error",
            message_contains: "/v1/nothing",
        },
        Case {
            name: "wrong method",
            method: Method::GET,
            path: "/v1/chat/completions",
            body: String::new(),
            status: 405,
            error_type: "invalid_request_error",
            message_contains: "GET",
        },
    ];
    let auth = gw.bearer();
    for c in cases {
        let headers = [
            ("content-type", "application/json"),
            ("authorization", auth.as_str()),
        ];
        let reply = send(c.method, &gw.url(c.path), c.body, &headers).await;
        assert_eq!(
            reply.status.as_u16(),
            c.status,
            "{}: {:?}",
            c.name,
            reply.body
        );
        let body = reply.json();
        let error = &body["error"];
        assert_eq!(error["type"], c.error_type, "{}: {body}", c.name);
        let message = error["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(c.message_contains),
            "{}: message {message:?}",
            c.name
        );
        let raw = String::from_utf8_lossy(&reply.body);
        assert!(
            !raw.contains("sk-upstream-secret") && !raw.contains("sk-upstr"),
            "{}: leaked {raw}",
            c.name
        );
        assert!(reply.headers.contains_key("x-request-id"), "{}", c.name);
        if c.status == 429 {
            assert_eq!(reply.headers["retry-after"], "1", "{}", c.name);
        }
    }
}

#[tokio::test]
async fn oversized_headers_are_rejected() {
    let gw = TestGateway::start().await;
    let big = "x".repeat(64 * 1024);
    let reply = send(
        Method::GET,
        &gw.url("/health"),
        "",
        &[("x-big", big.as_str())],
    )
    .await;
    assert_eq!(reply.status.as_u16(), 431);
}

#[tokio::test]
async fn credentials_are_required_and_failures_look_alike() {
    let gw = TestGateway::start().await;
    let url = gw.url("/v1/chat/completions");
    let body = chat_body("gpt-test", false);
    let unknown = format!("sk-gw-{}", "A".repeat(43));
    let cases: Vec<(&str, Vec<(&str, String)>)> = vec![
        ("missing", vec![]),
        (
            "malformed",
            vec![("authorization", "Bearer not-a-key".to_owned())],
        ),
        (
            "unknown",
            vec![("authorization", format!("Bearer {unknown}"))],
        ),
        (
            "unknown via x-api-key",
            vec![("x-api-key", unknown.clone())],
        ),
    ];
    let mut messages = Vec::new();
    for (name, headers) in cases {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let reply = send(Method::POST, &url, body.clone(), &headers).await;
        assert_eq!(reply.status, 401, "{name}");
        assert_eq!(
            reply.json()["error"]["type"],
            "authentication_error",
            "{name}"
        );
        if name != "missing" {
            messages.push(
                reply.json()["error"]["message"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
    }
    messages.dedup();
    assert_eq!(
        messages.len(),
        1,
        "a bad key never reveals why: {messages:?}"
    );
    assert!(gw.mock.requests().is_empty());
    // The same key works from every accepted header.
    for header in ["x-api-key", "api-key"] {
        let reply = send(
            Method::POST,
            &url,
            body.clone(),
            &[(header, gw.key.as_str())],
        )
        .await;
        assert_eq!(reply.status, 200, "{header}");
    }
}

#[tokio::test]
async fn revoked_key_stops_the_next_call() {
    let gw = TestGateway::start().await;
    let ok = gw
        .post("/v1/chat/completions", &chat_body("gpt-test", false))
        .await;
    assert_eq!(ok.status, 200);
    let manager = gw.state.auth.key_manager.as_ref().unwrap();
    let keys = manager.list(None).await.unwrap();
    manager.revoke(&keys[0].id).await.unwrap();
    let denied = gw
        .post("/v1/chat/completions", &chat_body("gpt-test", false))
        .await;
    assert_eq!(denied.status, 401);
}

#[tokio::test]
async fn refusals_are_audited_with_the_callers_address() {
    let gw = TestGateway::start().await;
    let unknown = format!("Bearer sk-gw-{}", "B".repeat(43));
    let reply = send(
        Method::POST,
        &gw.url("/v1/chat/completions"),
        chat_body("gpt-test", false),
        &[("authorization", unknown.as_str())],
    )
    .await;
    assert_eq!(reply.status, 401);
    gw.state.telemetry.flush().await;
    let records = gw
        .state
        .store
        .list_audit(&gateway_core::store::AuditQuery::default())
        .await
        .unwrap();
    let refused = records
        .iter()
        .find(|r| r.event.outcome == gateway_core::store::AuditOutcome::Denied)
        .expect("a denial");
    assert_eq!(refused.event.ip.as_deref(), Some("127.0.0.1"));
}
