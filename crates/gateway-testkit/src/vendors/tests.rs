//! The vendor mocks over raw HTTP/1.1: credentials, request validation and error bodies in
//! each vendor's own shape, and the Anthropic event order.

use std::net::SocketAddr;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{Vendor, VendorServer};

/// (status, content type, body) of one request.
async fn send(
    addr: SocketAddr,
    target: &str,
    headers: &[(&str, &str)],
    body: &Value,
) -> (u16, String, String) {
    let body = body.to_string();
    let mut head = format!(
        "POST {target} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(format!("{head}\r\n{body}").as_bytes())
        .await
        .unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.unwrap();
    let (head, rest) = raw.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let content_type = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-type: ")
                .map(str::to_owned)
        })
        .unwrap_or_default();
    (status, content_type, rest.to_owned())
}

fn json_body(body: &str) -> Value {
    serde_json::from_str(body).unwrap()
}

const ANTHROPIC_HEADERS: [(&str, &str); 2] =
    [("x-api-key", "k"), ("anthropic-version", "2023-06-01")];

#[tokio::test]
async fn anthropic_checks_credentials_and_the_request() {
    let server = VendorServer::start(Vendor::Anthropic).await.unwrap();
    let ok =
        json!({"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]});
    let (status, _, body) = send(server.addr(), "/v1/messages", &[], &ok).await;
    assert_eq!(
        (status, json_body(&body)["error"]["type"].as_str()),
        (401, Some("authentication_error"))
    );
    let cases = [
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}),
            "max_tokens: Field required",
        ),
        (
            json!({"model": "m", "max_tokens": 5, "messages": [{"role": "system", "content": "x"}]}),
            "Unexpected role",
        ),
        (
            json!({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_x", "content": "r"}]}]}),
            "unexpected `tool_use_id`",
        ),
    ];
    for (request, message) in cases {
        let (status, _, body) =
            send(server.addr(), "/v1/messages", &ANTHROPIC_HEADERS, &request).await;
        let body = json_body(&body);
        assert_eq!((status, body["type"].as_str()), (400, Some("error")));
        assert!(
            body["error"]["message"].as_str().unwrap().contains(message),
            "{body}"
        );
    }
    let (status, _, body) = send(server.addr(), "/v1/messages", &ANTHROPIC_HEADERS, &ok).await;
    assert_eq!(
        (status, json_body(&body)["content"][0]["text"].as_str()),
        (200, Some("Hello! You said: hi"))
    );
}

#[tokio::test]
async fn anthropic_streams_its_documented_event_order() {
    let server = VendorServer::start(Vendor::Anthropic).await.unwrap();
    let request = json!({"model": "m", "max_tokens": 10, "stream": true, "messages": [{"role": "user", "content": "hi"}]});
    let (status, content_type, body) =
        send(server.addr(), "/v1/messages", &ANTHROPIC_HEADERS, &request).await;
    assert_eq!((status, content_type.as_str()), (200, "text/event-stream"));
    let names: Vec<&str> = body
        .lines()
        .filter_map(|l| l.strip_prefix("event: "))
        .collect();
    let mut dedup = names.clone();
    dedup.dedup();
    assert_eq!(
        dedup,
        [
            "message_start",
            "content_block_start",
            "ping",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
}

#[tokio::test]
async fn gemini_wants_the_key_in_its_header_and_config_in_its_place() {
    let server = VendorServer::start(Vendor::Gemini).await.unwrap();
    let path = "/v1beta/models/gemini-2.5-flash:generateContent";
    let ok = json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}], "generationConfig": {"temperature": 0.1}});
    let key = [("x-goog-api-key", "k")];
    let (status, _, body) = send(server.addr(), path, &[], &ok).await;
    assert_eq!(
        (status, json_body(&body)["error"]["status"].as_str()),
        (403, Some("PERMISSION_DENIED"))
    );
    let (status, ..) = send(server.addr(), &format!("{path}?key=k"), &key, &ok).await;
    assert_eq!(status, 400);
    let (status, _, body) = send(server.addr(), path, &[("x-goog-api-key", "invalid")], &ok).await;
    assert_eq!(
        (
            status,
            json_body(&body)["error"]["details"][0]["reason"].as_str()
        ),
        (400, Some("API_KEY_INVALID"))
    );
    let misplaced =
        json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}], "temperature": 0.1});
    let (status, _, body) = send(server.addr(), path, &key, &misplaced).await;
    assert_eq!(status, 400);
    assert!(
        json_body(&body)["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Unknown name \"temperature\"")
    );
    let (status, _, body) = send(server.addr(), path, &key, &ok).await;
    let body = json_body(&body);
    assert_eq!(
        (status, body["candidates"][0]["finishReason"].as_str()),
        (200, Some("STOP"))
    );
    assert_eq!(body["usageMetadata"]["totalTokenCount"], 4 + 4);
}

#[tokio::test]
async fn azure_needs_api_version_and_api_key() {
    let server = VendorServer::start(Vendor::Azure).await.unwrap();
    let path = "/openai/deployments/d/chat/completions";
    let request = json!({"messages": [{"role": "user", "content": "hi"}]});
    let (status, ..) = send(server.addr(), path, &[("api-key", "k")], &request).await;
    assert_eq!(status, 404);
    let (status, _, body) = send(
        server.addr(),
        &format!("{path}?api-version=2024-10-21"),
        &[],
        &request,
    )
    .await;
    assert_eq!(
        (status, json_body(&body)["error"]["code"].as_str()),
        (401, Some("401"))
    );
    let (status, _, body) = send(
        server.addr(),
        &format!("{path}?api-version=2024-10-21"),
        &[("api-key", "k")],
        &request,
    )
    .await;
    assert_eq!(
        (
            status,
            json_body(&body)["choices"][0]["message"]["content"].as_str()
        ),
        (200, Some("Hello! You said: hi"))
    );
}
