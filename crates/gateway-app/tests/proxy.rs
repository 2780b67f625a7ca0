//! The OpenAI-compatible proxy end to end: JSON and SSE, pass-through of unknown fields,
//! incremental streaming, cancellation on disconnect, health, readiness and shutdown.

// Test helpers outside #[test] functions may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn non_streaming_completion_is_proxied() {
    let gw = TestGateway::start().await;
    let body = r#"{"model":"gpt-test","messages":[{"role":"user","content":"Hello there gateway"}],"seed":7,"reasoning_effort":"low"}"#;
    let reply = gw.post("/v1/chat/completions", body).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let json = reply.json();
    assert_eq!(
        json["model"], "gpt-test",
        "the caller sees its public model name"
    );
    assert!(
        json["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .contains("Hello there gateway")
    );
    assert!(json["usage"]["total_tokens"].as_u64().unwrap() > 0);
    assert_eq!(reply.headers["x-gateway-provider"], "mock");
    assert_eq!(reply.headers["x-gateway-model"], "gpt-4o-mini");
    assert_eq!(reply.headers["x-gateway-attempts"], "1");
    // A whole body is sent with its length, not chunked.
    assert_eq!(
        reply.headers["content-length"],
        reply.body.len().to_string().as_str()
    );
    assert!(reply.headers.get("transfer-encoding").is_none());

    let sent = gw.mock.requests();
    let upstream = sent.last().unwrap();
    assert_eq!(
        upstream.header("authorization"),
        Some("Bearer sk-upstream-secret-1234567890")
    );
    let upstream_json = upstream.json();
    assert_eq!(
        upstream_json["model"], "gpt-4o-mini",
        "alias rewritten to the upstream name"
    );
    assert_eq!(
        upstream_json["reasoning_effort"], "low",
        "unknown fields pass through"
    );
    assert_eq!(upstream_json["seed"], 7);
}

#[tokio::test]
async fn streaming_completion_is_proxied_as_sse() {
    let gw = TestGateway::start().await;
    let reply = gw
        .post("/v1/chat/completions", &chat_body("gpt-test", true))
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.headers["content-type"], "text/event-stream");
    let events = sse_data(&reply.body);
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
    let chunks: Vec<serde_json::Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert!(text.contains("Hello there gateway"), "{text}");
    assert!(
        chunks
            .iter()
            .all(|c| c["model"] == "gpt-4o-mini" || c["model"].is_string())
    );
    // The gateway asked the upstream for usage, but the caller did not: none is shown.
    assert!(
        chunks.iter().all(|c| c.get("usage").is_none()),
        "usage leaked to a caller who did not ask"
    );
    let upstream = gw.mock.requests().last().unwrap().json();
    assert_eq!(upstream["stream_options"]["include_usage"], true);
}

#[tokio::test]
async fn streaming_usage_is_shown_when_asked() {
    let gw = TestGateway::start().await;
    let body = r#"{"model":"gpt-test","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}"#;
    let reply = gw.post("/v1/chat/completions", body).await;
    let events = sse_data(&reply.body);
    let usage_chunk: serde_json::Value = serde_json::from_str(&events[events.len() - 2]).unwrap();
    assert!(
        usage_chunk["usage"]["total_tokens"].as_u64().unwrap() > 0,
        "{usage_chunk}"
    );
}

#[tokio::test]
async fn stream_events_arrive_before_the_upstream_finishes() {
    // Output guardrails hold back a window of text; keep it small so the test sees release.
    let gw = TestGateway::start_with_sections("", "[guardrails.stream]\nwindow_bytes = 16").await;
    // 'stream-gap' waits 300 ms between events: if the gateway buffered, the first frame
    // could only arrive with the last one, after [DONE].
    let req = Request::post(gw.url("/v1/chat/completions"))
        .header("content-type", "application/json")
        .header("authorization", gw.bearer())
        .body(Full::new(bytes::Bytes::from(chat_body("stream-gap", true))))
        .unwrap();
    let resp = client().request(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    let mut body = resp.into_body();
    let mut seen = String::new();
    let has_text = |seen: &str| {
        sse_data(seen.as_bytes()).iter().any(|d| {
            serde_json::from_str::<serde_json::Value>(d)
                .ok()
                .and_then(|c| {
                    c["choices"][0]["delta"]["content"]
                        .as_str()
                        .map(|t| !t.is_empty())
                })
                .unwrap_or(false)
        })
    };
    while !has_text(&seen) {
        let frame = body.frame().await.expect("stream open").expect("frame");
        seen.push_str(&String::from_utf8_lossy(frame.data_ref().unwrap()));
    }
    assert!(
        !seen.contains("[DONE]"),
        "first content arrived only with the end: buffered"
    );
}

/// An upstream that sends one SSE event, then waits to see whether the gateway hangs up.
async fn hanging_upstream() -> (std::net::SocketAddr, tokio::sync::oneshot::Receiver<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (closed_tx, closed_rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 65536];
        let mut head = Vec::new();
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = sock.read(&mut buf).await.unwrap();
            head.extend_from_slice(&buf[..n]);
        }
        let chunk = r#"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"partial answer, longer than the sixteen-byte guardrail window"},"finish_reason":null}]}"#;
        let event = format!("data: {chunk}\n\n");
        let resp = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{event}\r\n",
            event.len()
        );
        sock.write_all(resp.as_bytes()).await.unwrap();
        // Read until the gateway closes the connection (read returns 0 or fails).
        loop {
            match sock.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        let _ = closed_tx.send(());
    });
    (addr, closed_rx)
}

#[tokio::test]
async fn client_disconnect_cancels_the_upstream_call() {
    let (upstream, closed) = hanging_upstream().await;
    let mock = gateway_testkit::MockServer::start().await.unwrap();
    let text = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n[providers.hang]\nkind = \"openai\"\nbase_url = \"http://{upstream}/v1\"\n[models.m]\nprovider = \"hang\"\nupstream_model = \"m\"\n[guardrails.stream]\nwindow_bytes = 16\n"
    );
    let config = gateway_app::Config::from_toml_str(&text, &|_| None, std::iter::empty()).unwrap();
    let state = gateway_app::AppState::build_in_memory(&config)
        .await
        .unwrap();
    let key = issue_key(&state, "acme").await;
    let server = gateway_app::Server::bind(&config.server).await.unwrap();
    let addr = server.local_addr().unwrap();
    tokio::spawn(server.run(state, std::future::pending()));
    drop(mock);

    let req = Request::post(format!("http://{addr}/v1/chat/completions"))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {key}"))
        .body(Full::new(bytes::Bytes::from(chat_body("m", true))))
        .unwrap();
    let resp = client().request(req).await.unwrap();
    let mut body = resp.into_body();
    let first = body.frame().await.unwrap().unwrap();
    let first = String::from_utf8_lossy(first.data_ref().unwrap()).into_owned();
    assert!(first.contains("partial"), "{first}");
    drop(body); // the client goes away mid-stream

    tokio::time::timeout(Duration::from_secs(10), closed)
        .await
        .expect("the gateway closed the upstream connection after the client left")
        .unwrap();
}

#[tokio::test]
async fn models_health_and_ready() {
    let gw = TestGateway::start().await;
    let models = gw.get("/v1/models").await.json();
    let ids: Vec<&str> = models["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"gpt-test") && ids.contains(&"upstream-429"),
        "{ids:?}"
    );
    assert_eq!(models["object"], "list");

    let health = gw.get("/health").await;
    assert_eq!(
        (health.status.as_u16(), health.json()["status"].as_str()),
        (200, Some("ok"))
    );
    let ready = gw.get("/ready").await;
    assert_eq!(ready.status, 200);
    assert_eq!(ready.json()["checks"]["providers"]["names"][0], "mock");
}

#[tokio::test]
async fn caller_request_id_is_echoed_and_bad_ones_replaced() {
    let gw = TestGateway::start().await;
    let reply = send(
        Method::GET,
        &gw.url("/health"),
        "",
        &[("x-request-id", "trace-abc-123")],
    )
    .await;
    assert_eq!(reply.headers["x-request-id"], "trace-abc-123");
    let reply = send(
        Method::GET,
        &gw.url("/health"),
        "",
        &[("x-request-id", "has space")],
    )
    .await;
    assert_ne!(reply.headers["x-request-id"], "has space");
}

#[tokio::test]
async fn shutdown_lets_in_flight_streams_finish() {
    let gw = TestGateway::start().await;
    let url = gw.url("/v1/chat/completions");
    let auth = gw.bearer();
    let in_flight = tokio::spawn(async move {
        let headers = [
            ("content-type", "application/json"),
            ("authorization", auth.as_str()),
        ];
        send(Method::POST, &url, chat_body("stream-gap", true), &headers).await
    });
    // Wait until the upstream has the request, so the stream is in flight.
    assert!(
        gateway_testkit::eventually(Duration::from_secs(10), || !gw.mock.requests().is_empty())
            .await,
        "the upstream never got the request"
    );
    let drained = gw.shutdown().await;
    assert!(drained, "drain finished within the grace period");
    let reply = in_flight.await.unwrap();
    assert_eq!(
        sse_data(&reply.body).last().map(String::as_str),
        Some("[DONE]")
    );
}

/// With several connection workers, connections are dealt round-robin over the threads: each
/// is answered whichever thread serves it, and shutdown drains every worker.
#[tokio::test]
async fn connections_are_served_by_every_worker_and_drained() {
    let gw = TestGateway::start_with("workers = 3").await;
    let body = r#"{"model":"gpt-test","messages":[{"role":"user","content":"hi"}]}"#;
    // `post` opens a fresh connection per call: six calls visit each thread twice.
    for _ in 0..6 {
        let reply = gw.post("/v1/chat/completions", body).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
    }
    assert!(gw.shutdown().await, "every worker drained in time");
}
