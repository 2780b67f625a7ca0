//! The mock over real sockets: what a gateway (or an OpenAI SDK) sees on the wire.

mod support;

use std::time::Duration;

use gateway_testkit::{MockOptions, MockServer};
use serde_json::{Value, json};
use support::{get, post, request};

const CHAT: &str = "/v1/chat/completions";

fn chat(model: &str, text: &str) -> Value {
    json!({"model": model, "messages": [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": text}
    ]})
}

fn streaming(model: &str, text: &str, include_usage: bool) -> Value {
    let mut body = chat(model, text);
    body["stream"] = json!(true);
    if include_usage {
        body["stream_options"] = json!({"include_usage": true});
    }
    body
}

#[tokio::test]
async fn default_answer_and_usage() {
    let mock = MockServer::start().await.unwrap();
    assert_eq!(mock.base_url(), format!("http://{}/v1", mock.addr()));
    let response = post(mock.addr(), CHAT, &chat("gpt-4o-mini", "What is Rust?")).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some("application/json"));
    let body = response.json();
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["id"], "chatcmpl-mock-1");
    assert_eq!(body["model"], "gpt-4o-mini");
    assert!(body["created"].as_u64().unwrap() > 1_600_000_000);
    assert!(body["system_fingerprint"].is_string());
    let choice = &body["choices"][0];
    assert_eq!(choice["index"], 0);
    assert_eq!(choice["message"]["role"], "assistant");
    assert_eq!(
        choice["message"]["content"],
        "Hello! You said: What is Rust?"
    );
    assert_eq!(choice["finish_reason"], "stop");
    // prompt: 3 + 3 words, plus 3 per message; completion: 6 words.
    assert_eq!(
        body["usage"],
        json!({"prompt_tokens": 12, "completion_tokens": 6, "total_tokens": 18})
    );

    let second = post(mock.addr(), CHAT, &chat("demo-model", "again"))
        .await
        .json();
    assert_eq!(second["id"], "chatcmpl-mock-2");
}

#[tokio::test]
async fn n_choices_and_tool_calls() {
    let mock = MockServer::start().await.unwrap();
    let mut body = chat("gpt-4o-mini", "hi");
    body["n"] = json!(2);
    let answer = post(mock.addr(), CHAT, &body).await.json();
    assert_eq!(answer["choices"].as_array().unwrap().len(), 2);
    assert_eq!(answer["choices"][1]["index"], 1);

    let mut body = chat("gpt-4o-mini", "please call tool");
    body["tools"] = json!([{"type": "function", "function": {"name": "lookup", "parameters": {}}}]);
    let answer = post(mock.addr(), CHAT, &body).await.json();
    let choice = &answer["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(choice["message"]["content"], Value::Null);
    assert_eq!(
        choice["message"]["tool_calls"],
        json!([{"id": "call_mock_1", "type": "function",
                "function": {"name": "lookup", "arguments": "{\"x\":1}"}}])
    );

    body["stream"] = json!(true);
    let events = post(mock.addr(), CHAT, &body).await.sse_data();
    let first: Value = serde_json::from_str(&events[0]).unwrap();
    let call = &first["choices"][0]["delta"]["tool_calls"][0];
    assert_eq!(
        (call["index"].clone(), call["id"].clone()),
        (json!(0), json!("call_mock_1"))
    );
    assert_eq!(call["function"]["name"], "lookup");
    let arguments: String = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str::<Value>(e).unwrap())
        .filter_map(|c| {
            c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(arguments, "{\"x\":1}");
    let last: Value = serde_json::from_str(&events[events.len() - 2]).unwrap();
    assert_eq!(last["choices"][0]["finish_reason"], "tool_calls");
}

#[tokio::test]
async fn streaming_chunk_sequence_with_usage_and_done() {
    let mock = MockServer::start().await.unwrap();
    let response = post(
        mock.addr(),
        CHAT,
        &streaming("gpt-4o-mini", "one two", true),
    )
    .await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some("text/event-stream"));
    assert!(response.complete);
    let events = response.sse_data();
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    // role, 5 words ("Hello! You said: one two"), finish, usage.
    assert_eq!(chunks.len(), 1 + 5 + 1 + 1);
    for chunk in &chunks {
        assert_eq!(chunk["object"], "chat.completion.chunk");
        assert_eq!(chunk["id"], "chatcmpl-mock-1");
        assert_eq!(chunk["model"], "gpt-4o-mini");
        assert!(chunk.get("usage").is_some());
    }
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": ""})
    );
    let words: Vec<&str> = chunks[1..6]
        .iter()
        .map(|c| c["choices"][0]["delta"]["content"].as_str().unwrap())
        .collect();
    assert_eq!(words, ["Hello! ", "You ", "said: ", "one ", "two"]);
    for chunk in &chunks[..7] {
        assert_eq!(chunk["usage"], Value::Null);
        assert_eq!(chunk["choices"][0]["logprobs"], Value::Null);
    }
    assert_eq!(chunks[6]["choices"][0]["delta"], json!({}));
    assert_eq!(chunks[6]["choices"][0]["finish_reason"], "stop");
    assert_eq!(chunks[7]["choices"], json!([]));
    assert_eq!(
        chunks[7]["usage"],
        json!({"prompt_tokens": 11, "completion_tokens": 5, "total_tokens": 16})
    );

    // Without include_usage there is no usage field and no usage chunk.
    let plain = post(
        mock.addr(),
        CHAT,
        &streaming("gpt-4o-mini", "one two", false),
    )
    .await;
    let events = plain.sse_data();
    assert_eq!(events.len(), 1 + 5 + 1 + 1);
    assert!(events[..7].iter().all(|e| !e.contains("\"usage\"")));
}

#[tokio::test]
async fn stream_stop_cuts_the_connection_without_done() {
    let mock = MockServer::start().await.unwrap();
    let response = post(
        mock.addr(),
        CHAT,
        &streaming("mock-stream-stop-2", "a b c d", true),
    )
    .await;
    assert_eq!(response.status, 200);
    assert!(!response.complete, "the chunked body must not end properly");
    let events = response.sse_data();
    assert!(!events.iter().any(|e| e == "[DONE]"));
    assert_eq!(events.len(), 1 + 2);
    let last: Value = serde_json::from_str(&events[2]).unwrap();
    assert_eq!(last["choices"][0]["delta"]["content"], "You ");

    // Not streaming, the same model answers normally.
    let answer = post(mock.addr(), CHAT, &chat("mock-stream-stop-2", "x"))
        .await
        .json();
    assert_eq!(
        answer["choices"][0]["message"]["content"],
        "Hello! You said: x"
    );
}

#[tokio::test]
async fn stream_gap_sends_chunks_separately() {
    let mock = MockServer::start().await.unwrap();
    let gap = Duration::from_millis(40);
    let response = post(
        mock.addr(),
        CHAT,
        &streaming("mock-stream-gap-40", "hi", false),
    )
    .await;
    assert!(response.complete);
    let events = response.sse_data();
    // role, 4 words, finish, [DONE]: six gaps between seven events.
    assert_eq!(events.len(), 7);
    let last_arrival = *response.arrivals.last().unwrap();
    assert!(last_arrival >= gap * 6, "{last_arrival:?}");
    assert!(response.arrivals.len() >= 2, "chunks arrived in one read");
}

#[tokio::test]
async fn scripted_errors() {
    let mock = MockServer::start().await.unwrap();
    let limited = post(mock.addr(), CHAT, &chat("mock-429", "x")).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("retry-after"), Some("1"));
    assert_eq!(limited.json()["error"]["code"], "rate_limit_exceeded");

    for (model, status, kind) in [
        ("mock-500", 500, "server_error"),
        ("mock-400", 400, "invalid_request_error"),
        ("mock-401", 401, "invalid_request_error"),
    ] {
        let response = post(mock.addr(), CHAT, &chat(model, "x")).await;
        assert_eq!(response.status, status, "{model}");
        assert_eq!(response.json()["error"]["type"], kind, "{model}");
    }
    assert_eq!(
        post(mock.addr(), CHAT, &chat("mock-401", "x")).await.json()["error"]["code"],
        "invalid_api_key"
    );

    let malformed = post(mock.addr(), CHAT, &chat("mock-malformed", "x")).await;
    assert_eq!(malformed.status, 200);
    assert_eq!(malformed.header("content-type"), Some("application/json"));
    assert_eq!(
        malformed.text(),
        r#"{"id": "chatcmpl-broken", "choices": ["#
    );
    assert!(serde_json::from_slice::<Value>(&malformed.body).is_err());

    let bad_json = request(mock.addr(), "POST", CHAT, &[], "{not json").await;
    assert_eq!(bad_json.status, 400);
    assert_eq!(bad_json.json()["error"]["type"], "invalid_request_error");

    let unknown = get(mock.addr(), "/v1/nothing").await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.json()["error"]["message"].is_string());
}

#[tokio::test]
async fn fail_then_ok_counts_per_model() {
    let mock = MockServer::start().await.unwrap();
    let statuses = |model: &'static str| {
        let addr = mock.addr();
        async move {
            let mut statuses = Vec::new();
            for _ in 0..4 {
                statuses.push(post(addr, CHAT, &chat(model, "retry")).await.status);
            }
            statuses
        }
    };
    assert_eq!(statuses("mock-fail-then-ok-2").await, [500, 500, 200, 200]);
    assert_eq!(statuses("mock-fail-then-ok-1").await, [500, 200, 200, 200]);
}

#[tokio::test]
async fn slow_model_and_latency_delay_the_answer() {
    let mock = MockServer::start_on(
        "127.0.0.1:0".parse().unwrap(),
        MockOptions::new().with_latency(Duration::from_millis(30)),
    )
    .await
    .unwrap();
    let response = post(mock.addr(), CHAT, &chat("mock-slow-50", "x")).await;
    assert_eq!(response.status, 200);
    assert!(response.arrivals[0] >= Duration::from_millis(80));
}

#[tokio::test]
async fn embeddings_and_models() {
    let mock = MockServer::start().await.unwrap();
    let body =
        json!({"model": "text-embedding-3-small", "input": ["hello world", "hello world", "bye"]});
    let response = post(mock.addr(), "/v1/embeddings", &body).await.json();
    assert_eq!(response["object"], "list");
    assert_eq!(response["model"], "text-embedding-3-small");
    let data = response["data"].as_array().unwrap();
    assert_eq!(data.len(), 3);
    assert_eq!(data[2]["index"], 2);
    assert_eq!(data[0]["object"], "embedding");
    assert_eq!(data[0]["embedding"].as_array().unwrap().len(), 8);
    assert_eq!(data[0]["embedding"], data[1]["embedding"]);
    assert_ne!(data[0]["embedding"], data[2]["embedding"]);
    assert_eq!(
        response["usage"],
        json!({"prompt_tokens": 5, "total_tokens": 5})
    );

    let body = json!({"model": "m", "input": "hello world", "encoding_format": "base64"});
    let encoded = post(mock.addr(), "/v1/embeddings", &body).await.json();
    let text = encoded["data"][0]["embedding"].as_str().unwrap();
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap();
    let floats: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    // JSON carries the shortest decimal that round-trips the f32.
    let as_json: Vec<f32> = data[0]["embedding"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect();
    assert_eq!(floats, as_json);

    let tokens = post(
        mock.addr(),
        "/v1/embeddings",
        &json!({"model": "m", "input": [1, 2, 3]}),
    )
    .await;
    assert_eq!(tokens.json()["usage"]["prompt_tokens"], 3);
    let bad = post(
        mock.addr(),
        "/v1/embeddings",
        &json!({"model": "m", "input": 5}),
    )
    .await;
    assert_eq!(
        (bad.status, bad.json()["error"]["param"].clone()),
        (400, json!("input"))
    );

    let models = get(mock.addr(), "/v1/models").await.json();
    assert_eq!(models["object"], "list");
    assert_eq!(models["data"][0]["id"], "mock-model");
}

#[tokio::test]
async fn records_requests_in_order_and_clears() {
    let mock = MockServer::start().await.unwrap();
    let headers = [("authorization", "Bearer sk-upstream"), ("X-Custom", "yes")];
    let body = chat("gpt-4o-mini", "first").to_string();
    request(mock.addr(), "POST", CHAT, &headers, &body).await;
    get(mock.addr(), "/v1/models?limit=1").await;
    let recorded = mock.requests();
    assert_eq!(recorded.len(), 2);
    assert_eq!(
        (recorded[0].method.as_str(), recorded[0].path.as_str()),
        ("POST", CHAT)
    );
    assert_eq!(
        recorded[0].header("Authorization"),
        Some("Bearer sk-upstream")
    );
    assert_eq!(recorded[0].header("x-custom"), Some("yes"));
    assert_eq!(recorded[0].json()["messages"][1]["content"], "first");
    assert_eq!(
        (recorded[1].method.as_str(), recorded[1].path.as_str()),
        ("GET", "/v1/models")
    );
    assert_eq!(recorded[1].json(), Value::Null);
    mock.clear_requests();
    assert!(mock.requests().is_empty());

    let quiet = MockServer::start_on(
        "127.0.0.1:0".parse().unwrap(),
        MockOptions::new().with_record(false),
    )
    .await
    .unwrap();
    post(quiet.addr(), CHAT, &chat("gpt-4o-mini", "x")).await;
    assert!(quiet.requests().is_empty());
}

#[tokio::test]
async fn recording_keeps_only_the_latest_requests() {
    assert_eq!(
        MockOptions::new().record_limit,
        gateway_testkit::RECORD_LIMIT
    );
    let mock = MockServer::start_on(
        "127.0.0.1:0".parse().unwrap(),
        MockOptions::new().with_record_limit(3),
    )
    .await
    .unwrap();
    for i in 0..5 {
        post(
            mock.addr(),
            CHAT,
            &chat("gpt-4o-mini", &format!("call {i}")),
        )
        .await;
    }
    let kept: Vec<Value> = mock
        .requests()
        .iter()
        .map(|r| r.json()["messages"][1]["content"].clone())
        .collect();
    assert_eq!(
        kept,
        vec![json!("call 2"), json!("call 3"), json!("call 4")]
    );
    assert_eq!(mock.requests_seen(), 5);
}
