//! The content log under `[encryption]`: a logged tenant's prompt and completion (plain and
//! streamed) are written sealed (`gwe1:` text, `sealed: true`), metadata in clear and no
//! plaintext anywhere in the log; an admin opens them back through
//! `POST /admin/v1/tenants/{id}/encryption/open` (audited, bounded, refused to others); after
//! the tenant is deleted the same values open as `destroyed`. A pass-through tenant is still
//! never logged.
//!
//! One test in its own binary: it installs the process-wide log subscriber.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use gateway_core::store::{AuditOutcome, AuditQuery};
use http::Method;
use serde_json::{Value, json};

const ADMIN: &str = "admin-token-for-sealed-logs-0123";
const KEK: &str = "4b454b2d666f722d7365616c65642d636f6e74656e742d6c6f67732d2d2d2d21";
const SECRET: &str = "launch code 7431-ALPHA";

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

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }

    /// The `gateway::content` events of one request, as their JSON `fields`.
    fn content_of(&self, request_id: &str) -> Vec<Value> {
        self.text()
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|event| event["target"] == "gateway::content")
            .map(|event| event["fields"].clone())
            .filter(|fields| fields["request_id"] == request_id)
            .collect()
    }

    async fn wait_for(&self, request_id: &str, n: usize) -> Vec<Value> {
        let done = gateway_testkit::eventually(Duration::from_secs(10), || {
            self.content_of(request_id).len() >= n
        })
        .await;
        assert!(done, "{n} content events of {request_id}");
        self.content_of(request_id)
    }
}

fn chat(stream: bool) -> String {
    json!({"model": "gpt-test", "stream": stream,
        "messages": [{"role": "user", "content": format!("Remember the {SECRET}")}]})
    .to_string()
}

fn request_id(reply: &Reply) -> String {
    reply.headers["x-request-id"].to_str().unwrap().to_owned()
}

fn field<'a>(events: &'a [Value], kind: &str, name: &str) -> &'a str {
    let event = events.iter().find(|e| e["kind"] == kind).unwrap();
    assert_eq!(event["sealed"], true, "{event}");
    event[name].as_str().unwrap()
}

async fn open(gw: &TestGateway, token: &str, tenant: &str, values: &[&str]) -> Reply {
    let auth = format!("Bearer {token}");
    send(
        Method::POST,
        &gw.url(&format!("/admin/v1/tenants/{tenant}/encryption/open")),
        json!({ "values": values }).to_string(),
        &[
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
        ],
    )
    .await
}

fn statuses(reply: &Reply) -> Vec<String> {
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["status"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn logged_content_is_sealed_opens_for_an_admin_and_is_destroyed_with_its_tenant() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::INFO)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let sections = format!(
        "[admin]\ntoken = \"{ADMIN}\"\n[telemetry]\nlog_prompts_for_tenants = [\"acme\", \"zk\"]\n\
         [encryption]\nkek = \"{KEK}\"\npassthrough_tenants = [\"zk\"]\n"
    );
    let gw = TestGateway::start_with_sections("", &sections).await;

    let plain = gw.post("/v1/chat/completions", &chat(false)).await;
    assert_eq!(plain.status, 200, "{:?}", plain.body);
    let answer = plain.json()["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    let events = captured.wait_for(&request_id(&plain), 2).await;
    let prompt = field(&events, "prompt", "messages").to_owned();
    let completion = field(&events, "completion", "messages").to_owned();
    // Metadata stays in clear.
    let prompt_event = events.iter().find(|e| e["kind"] == "prompt").unwrap();
    assert_eq!(prompt_event["tenant"], "acme");
    assert_eq!(prompt_event["model"], "gpt-test");

    let streamed = gw.post("/v1/chat/completions", &chat(true)).await;
    assert_eq!(streamed.status, 200);
    let delivered: String = sse_data(&streamed.body)
        .iter()
        .filter(|d| *d != "[DONE]")
        .filter_map(|d| {
            let chunk: Value = serde_json::from_str(d).unwrap();
            chunk["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert!(!delivered.is_empty());
    let events = captured.wait_for(&request_id(&streamed), 2).await;
    let text = field(&events, "completion", "text").to_owned();

    for sealed in [&prompt, &completion, &text] {
        assert!(sealed.starts_with("gwe1:"), "{sealed}");
    }
    let log = captured.text();
    assert!(!log.contains(SECRET), "plaintext prompt in the log");
    assert!(!log.contains(&answer), "plaintext completion in the log");
    assert!(!log.contains(&delivered), "plaintext stream in the log");

    // A pass-through tenant, though listed, is not logged at all.
    let zk = issue_key(&gw.state, "zk").await;
    let auth = format!("Bearer {zk}");
    let reply = send(
        Method::POST,
        &gw.url("/v1/chat/completions"),
        chat(false),
        &[
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
        ],
    )
    .await;
    assert_eq!(reply.status, 200);
    let zk_request = request_id(&reply);

    // An admin opens them back; what opened is what the clear log would have held.
    let opened = open(
        &gw,
        ADMIN,
        "acme",
        &[&prompt, &completion, &text, "gwe1:!!", "plain"],
    )
    .await;
    assert_eq!(
        statuses(&opened),
        ["opened", "opened", "opened", "invalid", "invalid"]
    );
    let data = opened.json()["data"].clone();
    let messages: Value = serde_json::from_str(data[0]["plaintext"].as_str().unwrap()).unwrap();
    assert_eq!(messages[0]["content"], format!("Remember the {SECRET}"));
    let choices: Value = serde_json::from_str(data[1]["plaintext"].as_str().unwrap()).unwrap();
    assert_eq!(choices[0]["content"], answer.as_str());
    assert_eq!(data[2]["plaintext"], delivered.as_str());
    // Bound to the tenant: under another tenant's path the value does not open.
    assert_eq!(
        statuses(&open(&gw, ADMIN, "zk", &[&prompt]).await),
        ["invalid"]
    );
    // Refused to anyone but an admin, and bounded.
    assert_eq!(open(&gw, &gw.key, "acme", &[&prompt]).await.status, 403);
    let many: Vec<&str> = std::iter::repeat_n(prompt.as_str(), 101).collect();
    assert_eq!(open(&gw, ADMIN, "acme", &many).await.status, 400);
    assert_eq!(open(&gw, ADMIN, "acme", &[]).await.status, 400);
    assert!(
        !captured.text().contains(SECRET),
        "opening logs no plaintext"
    );

    // After the tenant is deleted, the same lines are gone for good.
    let auth = format!("Bearer {ADMIN}");
    let deleted = send(
        Method::DELETE,
        &gw.url("/admin/v1/tenants/acme"),
        "",
        &[("authorization", auth.as_str())],
    )
    .await;
    assert_eq!(deleted.status, 200, "{:?}", deleted.body);
    let after = open(&gw, ADMIN, "acme", &[&prompt, &completion, &text]).await;
    assert_eq!(statuses(&after), ["destroyed", "destroyed", "destroyed"]);
    assert!(after.json()["data"][0].get("plaintext").is_none());

    // Every call audited, with counts and never the content.
    let records = gw
        .state
        .store
        .list_audit(&AuditQuery {
            action: Some("tenant.content.open".to_owned()),
            limit: 100,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    let outcomes: Vec<AuditOutcome> = records.iter().map(|r| r.event.outcome).collect();
    assert_eq!(outcomes.len(), 6, "{outcomes:?}");
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == AuditOutcome::Denied)
            .count(),
        1
    );
    let first = records
        .iter()
        .find(|r| r.event.details["values"] == 5)
        .unwrap();
    assert_eq!(first.event.details["opened"], 3);
    assert_eq!(first.event.details["invalid"], 2);
    assert!(records.iter().any(|r| r.event.details["destroyed"] == 3));
    for r in &records {
        assert!(!r.event.details.to_string().contains(SECRET));
    }
    assert!(
        captured.content_of(&zk_request).is_empty(),
        "a pass-through tenant's line"
    );
    assert!(captured.text().contains(&zk_request), "its access log line");
}
