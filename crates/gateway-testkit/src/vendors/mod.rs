//! The non-OpenAI wire formats of the one [`MockServer`] (`MockServer::start_vendor`, or
//! [`VendorServer::start`]), for the adapters' end-to-end tests:
//! [`anthropic`] (Messages API, JSON and SSE), [`gemini`] (generateContent,
//! streamGenerateContent `alt=sse`, embedContent, batchEmbedContents), [`azure`] (OpenAI's
//! format at Azure's deployment URLs), [`bedrock`] (Converse, ConverseStream's binary event
//! stream, SigV4 shape checks) and [`vertex`] (Gemini and Claude on Vertex AI behind a mocked
//! OAuth token endpoint). Each checks credentials the way its vendor does and
//! answers errors with its vendor's error body.
//!
//! Behaviour is scripted by the model name (the Azure deployment name), like the OpenAI mock:
//! `mock-429` (rate limited, `retry-after: 1`), `mock-500`, `mock-overloaded` (Anthropic 529,
//! Gemini 503), `mock-400`, `mock-401`, `mock-malformed`, `mock-slow-MS`,
//! `mock-fail-then-ok-K`, `mock-stream-stop-N` (cut after N deltas), `mock-stream-error` (an
//! in-stream error event after the first delta), `mock-thinking` (thinking content and
//! token counts), `mock-cache` (Anthropic cache read/write tokens), `mock-safety` (Gemini:
//! prompt blocked), `mock-safety-candidate` (Gemini: answer stopped with `SAFETY`) and
//! `mock-stop-sequence` (Anthropic: stopped by the request's first stop sequence). Any
//! other model echoes `Hello! You said: <last user text>`, or calls the first tool when the
//! last user message contains `call tool`.

pub mod anthropic;
pub mod azure;
pub mod bedrock;
pub mod gemini;
#[cfg(test)]
mod tests;
pub mod vertex;

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use http::{Response, StatusCode};

use crate::body::MockBody;
use crate::script::Script;
pub use crate::server::Vendor;
use crate::server::{MockServer, RecordedRequest, State};

/// A request as a vendor mock received it (the one [`RecordedRequest`] type).
pub type VendorRequest = RecordedRequest;
/// The state of a vendor mock (the one server [`State`]).
pub type VendorState = State;

/// The [`MockServer`] of a vendor, started by naming the vendor; it derefs to the server.
#[derive(Debug)]
pub struct VendorServer(MockServer);

impl VendorServer {
    /// A recording mock of `vendor` on `127.0.0.1:0`.
    pub async fn start(vendor: Vendor) -> std::io::Result<VendorServer> {
        MockServer::start_vendor(vendor).await.map(VendorServer)
    }
}

impl std::ops::Deref for VendorServer {
    type Target = MockServer;

    fn deref(&self) -> &MockServer {
        &self.0
    }
}

/// What a request's model name asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Behaviour {
    Answer,
    RateLimited,
    ServerError,
    Overloaded,
    BadRequest,
    Unauthorized,
    Malformed,
    StreamError,
    StreamStop(u64),
    Thinking,
    Cache,
    SafetyPrompt,
    SafetyCandidate,
    StopSequence,
}

/// Decide the behaviour, sleeping for `mock-slow-*` and counting `mock-fail-then-ok-*`.
pub(crate) async fn behaviour(state: &VendorState, model: &str) -> Behaviour {
    match model {
        "mock-overloaded" => return Behaviour::Overloaded,
        "mock-stream-error" => return Behaviour::StreamError,
        "mock-thinking" => return Behaviour::Thinking,
        "mock-cache" => return Behaviour::Cache,
        "mock-safety" => return Behaviour::SafetyPrompt,
        "mock-safety-candidate" => return Behaviour::SafetyCandidate,
        "mock-stop-sequence" => return Behaviour::StopSequence,
        _ => {}
    }
    match Script::from_model(model) {
        Script::RateLimited => Behaviour::RateLimited,
        Script::ServerError => Behaviour::ServerError,
        Script::BadRequest => Behaviour::BadRequest,
        Script::Unauthorized => Behaviour::Unauthorized,
        Script::Malformed => Behaviour::Malformed,
        Script::StreamStop(n) => Behaviour::StreamStop(n),
        Script::FailThenOk(k) if state.count_model_request(model) <= k => Behaviour::ServerError,
        Script::Slow(delay) => {
            tokio::time::sleep(delay).await;
            Behaviour::Answer
        }
        _ => Behaviour::Answer,
    }
}

/// The deterministic answer to the last user text.
pub(crate) fn echo(text: &str) -> String {
    let truncated = match text.char_indices().nth(200) {
        Some((end, _)) => &text[..end],
        None => text,
    };
    format!("Hello! You said: {truncated}")
}

pub(crate) fn words(text: &str) -> u64 {
    text.split_whitespace().count() as u64
}

/// Chunks of one word plus its trailing whitespace (they concatenate back to `text`).
pub(crate) fn word_chunks(text: &str) -> Vec<&str> {
    crate::stream::word_chunks(text)
}

/// A JSON response.
pub(crate) fn json(status: StatusCode, value: &serde_json::Value) -> Response<MockBody> {
    let mut response = Response::new(MockBody::full(
        serde_json::to_vec(value).unwrap_or_default(),
    ));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// A JSON error with `retry-after: 1`.
pub(crate) fn with_retry_after(mut response: Response<MockBody>) -> Response<MockBody> {
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// 200 with a body that is not valid JSON.
pub(crate) fn malformed() -> Response<MockBody> {
    let mut response = Response::new(MockBody::full(Bytes::from_static(
        b"{\"id\": \"broken\", \"content\": [",
    )));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// An event stream of pre-rendered events; `abort` cuts the connection after the last one.
pub(crate) fn sse(events: Vec<Bytes>, abort: bool) -> Response<MockBody> {
    let mut response = Response::new(MockBody::events(
        VecDeque::from(events),
        Duration::ZERO,
        abort,
    ));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// `event: NAME\ndata: JSON\n\n` (no `event:` line when `name` is `None`).
pub(crate) fn sse_event(name: Option<&str>, data: &serde_json::Value) -> Bytes {
    let data = serde_json::to_string(data).unwrap_or_default();
    Bytes::from(match name {
        Some(name) => format!("event: {name}\ndata: {data}\n\n"),
        None => format!("data: {data}\n\n"),
    })
}

/// The text of a message content: a string, or the `text` of its parts/blocks.
pub(crate) fn content_text(content: &serde_json::Value) -> String {
    match content {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(parts) => {
            parts.iter().filter_map(|p| p["text"].as_str()).collect()
        }
        _ => String::new(),
    }
}
