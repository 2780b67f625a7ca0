//! The OpenAI Responses API through the real server, against the testkit's OpenAI mock:
//! create (plain and streamed), retrieve, list input items, delete; conversations continued
//! with `previous_response_id` (function tools over two turns); tenant isolation; the
//! parameters refused by name; and the same pipeline as chat (a guardrail block, a limit, one
//! usage record per call under the `responses` route).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../common/mod.rs"]
mod common;

mod create;
mod pipeline;
mod stream;
mod tools;

use common::{Reply, TestGateway, send};
use http::Method;
use serde_json::Value;

/// A request as `key` (bearer) with a JSON body, or none.
pub async fn call(
    gw: &TestGateway,
    key: &str,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> Reply {
    let auth = format!("Bearer {key}");
    let mut headers = vec![("authorization", auth.as_str())];
    if body.is_some() {
        headers.push(("content-type", "application/json"));
    }
    let body = body.map(Value::to_string).unwrap_or_default();
    send(method, &gw.url(path), body, &headers).await
}

/// `POST /v1/responses` with the gateway's own key.
pub async fn create(gw: &TestGateway, body: &Value) -> Reply {
    call(gw, &gw.key, Method::POST, "/v1/responses", Some(body)).await
}

/// `GET /v1/responses/{id}` with the gateway's own key.
pub async fn retrieve(gw: &TestGateway, id: &str) -> Reply {
    call(
        gw,
        &gw.key,
        Method::GET,
        &format!("/v1/responses/{id}"),
        None,
    )
    .await
}

/// The events of a streamed response: (event name, data).
pub fn events(body: &[u8]) -> Vec<(String, Value)> {
    String::from_utf8_lossy(body)
        .split("\n\n")
        .filter_map(|frame| {
            let name = frame.lines().find_map(|l| l.strip_prefix("event: "))?;
            let data = frame.lines().find_map(|l| l.strip_prefix("data: "))?;
            Some((name.to_owned(), serde_json::from_str(data).unwrap()))
        })
        .collect()
}

/// The JSON body the mock upstream received last.
pub fn last_upstream(gw: &TestGateway) -> Value {
    gw.mock
        .requests()
        .last()
        .cloned()
        .expect("an upstream call")
        .json()
}
