//! `[encryption] passthrough_tenants`: a pass-through (zero-knowledge) tenant's content is
//! not cached, not stored (Responses API, files, batches, asynchronous calls), and not logged
//! even when its prompts are listed for logging; its calls are still answered and accounted.
//!
//! One test in its own binary: it installs the process-wide log subscriber.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use http::Method;
use serde_json::json;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const PROMPT: &str = "zero-knowledge prompt about the merger";

fn chat() -> String {
    json!({"model": "gpt-test", "temperature": 0,
        "messages": [{"role": "user", "content": PROMPT}]})
    .to_string()
}

#[tokio::test]
async fn a_passthrough_tenant_leaves_no_content_anywhere() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::INFO)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let sections = format!(
        "[cache]\nenabled = true\n[telemetry]\nlog_prompts_for_tenants = [\"acme\", \"other\"]\n\
         [files]\ndir = {:?}\n[encryption]\npassthrough_tenants = [\"acme\"]\n",
        dir.path().display().to_string()
    );
    let gw = TestGateway::start_with_sections("", &sections).await;

    // Not cached: the same call twice goes upstream twice, and nothing is written.
    for _ in 0..2 {
        let r = gw.post("/v1/chat/completions", &chat()).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert!(r.headers.get("x-gateway-cache").is_none_or(|v| v != "hit"));
    }
    assert_eq!(gw.mock.requests().len(), 2);
    let cache = gw.state.cache.as_ref().unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(cache.stats().stores, 0, "{:?}", cache.stats());

    // Another tenant, listed for logging and not pass-through, is cached and logged: the
    // controls are alive in this very gateway.
    let other = issue_key(&gw.state, "other").await;
    let other_auth = format!("Bearer {other}");
    let headers = [
        ("authorization", other_auth.as_str()),
        ("content-type", "application/json"),
    ];
    send(
        Method::POST,
        &gw.url("/v1/chat/completions"),
        chat(),
        &headers,
    )
    .await;
    assert!(
        gateway_testkit::eventually(Duration::from_secs(10), || cache.stats().stores >= 1).await
    );

    // Responses API: answered, not stored.
    let resp = gw
        .post(
            "/v1/responses",
            &json!({"model": "gpt-test", "input": PROMPT}).to_string(),
        )
        .await;
    assert_eq!(resp.status, 200, "{:?}", resp.body);
    assert_eq!(resp.json()["store"], false);
    let id = resp.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(gw.get(&format!("/v1/responses/{id}")).await.status, 404);

    // What cannot work without storing content is refused, saying why.
    let auth = gw.bearer();
    let asynchronous = send(
        Method::POST,
        &gw.url("/v1/chat/completions"),
        chat(),
        &[
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
            ("prefer", "respond-async"),
        ],
    )
    .await;
    let files = send(
        Method::POST,
        &gw.url("/v1/files"),
        "x",
        &[
            ("authorization", auth.as_str()),
            ("content-type", "multipart/form-data; boundary=b"),
        ],
    )
    .await;
    let batches = send(
        Method::POST,
        &gw.url("/v1/batches"),
        r#"{"input_file_id":"file-abc","endpoint":"/v1/chat/completions","completion_window":"24h"}"#,
        &[("authorization", auth.as_str()), ("content-type", "application/json")],
    )
    .await;
    for (what, r) in [
        ("async", &asynchronous),
        ("files", &files),
        ("batches", &batches),
    ] {
        assert_eq!(r.status, 403, "{what}: {:?}", r.body);
        let message = r.json()["error"]["message"].as_str().unwrap().to_owned();
        assert!(message.contains("pass-through"), "{what}: {message}");
    }
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "no file stored"
    );

    // Not logged, although listed in log_prompts_for_tenants; the other tenant's is.
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let content: Vec<serde_json::Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["target"] == "gateway::content")
        .collect();
    assert!(!content.is_empty(), "the other tenant's content is logged");
    assert!(
        content.iter().all(|e| e["fields"]["tenant"] == "other"),
        "{content:?}"
    );
    assert!(
        logs.lines()
            .filter(|l| !l.contains("\"tenant\":\"other\""))
            .all(|l| !l.contains(PROMPT)),
        "the pass-through tenant's prompt appears in a log line"
    );
}
