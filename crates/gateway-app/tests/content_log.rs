//! `telemetry.log_prompts_for_tenants`: the prompt as sent upstream (redacted by the input
//! guardrails) and the completion as delivered, plain and streamed, are logged for the
//! tenants listed and for no one else.
//!
//! One test in its own binary: it installs the process-wide log subscriber.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{TestGateway, sse_data};
use serde_json::{Value, json};

/// Every log line the process writes.
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
    /// The `gateway::content` events of one request, as their JSON `fields`.
    fn content_of(&self, request_id: &str) -> Vec<Value> {
        let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|event| event["target"] == "gateway::content")
            .map(|event| event["fields"].clone())
            .filter(|fields| fields["request_id"] == request_id)
            .collect()
    }
}

fn request_id(reply: &common::Reply) -> String {
    reply.headers["x-request-id"].to_str().unwrap().to_owned()
}

fn chat(stream: bool) -> String {
    json!({"model": "gpt-test", "stream": stream,
        "messages": [{"role": "user", "content": "Hello, I am jane@example.com, say hi"}]})
    .to_string()
}

fn kind<'a>(events: &'a [Value], kind: &str) -> &'a Value {
    let found: Vec<&Value> = events.iter().filter(|e| e["kind"] == kind).collect();
    assert_eq!(found.len(), 1, "one {kind} event in {events:?}");
    found[0]
}

#[tokio::test]
async fn prompts_and_completions_are_logged_only_for_listed_tenants() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::INFO)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let listed =
        TestGateway::start_with_sections("", "[telemetry]\nlog_prompts_for_tenants = [\"acme\"]\n")
            .await;
    let plain = listed.post("/v1/chat/completions", &chat(false)).await;
    assert_eq!(plain.status, 200);
    let events = captured.content_of(&request_id(&plain));
    let prompt = kind(&events, "prompt");
    let messages = prompt["messages"].as_str().unwrap();
    assert!(messages.contains("[EMAIL]"), "{messages}");
    assert!(!messages.contains("jane@example.com"), "{messages}");
    assert_eq!(prompt["tenant"], "acme");
    let answer = plain.json()["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    let completion = kind(&events, "completion");
    let logged: Value = serde_json::from_str(completion["messages"].as_str().unwrap()).unwrap();
    assert_eq!(logged[0]["content"], answer.as_str());

    let streamed = listed.post("/v1/chat/completions", &chat(true)).await;
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
    // The stream's completion is logged when it ends, right after its last byte.
    let id = request_id(&streamed);
    let logged = gateway_testkit::eventually(std::time::Duration::from_secs(5), || {
        captured.content_of(&id).len() == 2
    })
    .await;
    assert!(logged, "the stream's completion was never logged");
    let events = captured.content_of(&id);
    assert!(
        kind(&events, "prompt")["messages"]
            .as_str()
            .unwrap()
            .contains("[EMAIL]")
    );
    assert_eq!(kind(&events, "completion")["text"], delivered.as_str());

    // A tenant that is not listed: nothing, though the access log has its call.
    let unlisted = TestGateway::start().await;
    let reply = unlisted.post("/v1/chat/completions", &chat(false)).await;
    assert_eq!(reply.status, 200);
    assert!(captured.content_of(&request_id(&reply)).is_empty());
    let all = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(all.contains(&request_id(&reply)), "the access log line");

    // A key sent in Gemini's `?key=` query parameter reaches no log line, its prompt logged
    // or not.
    let gemini = json!({"contents": [{"parts": [{"text": "Hello from the query key"}]}]});
    for gw in [&listed, &unlisted] {
        let url = gw.url(&format!(
            "/v1beta/models/gpt-test:generateContent?key={}",
            gw.key
        ));
        let reply = common::post_json(&url, &gemini.to_string()).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        let all = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(all.contains(&request_id(&reply)));
        assert!(!all.contains(&gw.key), "the query key was logged");
    }
}
