//! The HTTP edge: request ids, routing by method and path, and handlers that decode inbound
//! dialects into canonical requests for the pipeline.

mod admin;
pub mod body;
mod chat;
mod credentials;
pub mod error;
mod guardrails_check;
mod info;
mod messages;
mod metrics;
mod names;
mod query;
mod sse;

use std::sync::Arc;

use http::{HeaderValue, Method, Request, Response};
use hyper::body::Incoming;
use tracing::Instrument;

use gateway_core::GatewayError;

use crate::state::AppState;
use body::Body;
use error::Dialect;

pub use credentials::extract_token;

/// Longest caller-supplied `x-request-id` we keep (longer or odd ones are replaced).
const MAX_REQUEST_ID: usize = 128;

/// Handle one request. Never fails: every error becomes a response here or in a handler.
pub async fn handle(state: Arc<AppState>, req: Request<Incoming>) -> Response<Body> {
    let request_id = request_id(&req);
    let edge = metrics::Edge::start(&state, &req, &request_id);
    let span = edge.span().clone();
    let policy_headers = policy_headers(&state, &req);
    let routed = route(&state, req, &request_id, &edge).instrument(span);
    let mut resp = match policy_headers {
        Some(headers) => gateway_policy::custom::with_headers(headers, routed).await,
        None => routed.await,
    };
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert(names::X_REQUEST_ID, value);
    }
    edge.finish(&state, resp)
}

/// Dispatch by method and path; a refusal is counted and audited before it is rendered.
async fn route(
    state: &Arc<AppState>,
    req: Request<Incoming>,
    request_id: &str,
    edge: &metrics::Edge,
) -> Response<Body> {
    let dialect = if req.uri().path().starts_with("/v1/messages") {
        Dialect::Anthropic
    } else {
        Dialect::OpenAi
    };
    // Each handler's future is boxed: unboxed, this future would be as large as the largest
    // handler's (tens of KiB), and it is moved, so copied, by every layer above it.
    let result = match (req.method(), req.uri().path()) {
        (&Method::GET, "/health") => Ok(info::health()),
        (&Method::GET, "/ready") => Ok(Box::pin(info::ready(state)).await),
        (&Method::GET, "/metrics") => metrics::metrics(state),
        (&Method::GET, "/v1/models") => Box::pin(info::models(state, &req)).await,
        (&Method::POST, "/v1/chat/completions") => {
            Box::pin(chat::chat_completions(state, req, request_id)).await
        }
        (&Method::POST, "/v1/embeddings") => {
            Box::pin(chat::embeddings(state, req, request_id)).await
        }
        (&Method::POST, "/v1/messages") => {
            Box::pin(messages::messages(state, req, request_id)).await
        }
        (&Method::POST, "/v1/messages/count_tokens") => {
            Box::pin(messages::count_tokens(state, req)).await
        }
        (&Method::POST, "/query") => Box::pin(query::query(state, req, request_id)).await,
        (&Method::POST, "/v1/guardrails/check") => {
            Box::pin(guardrails_check::check(state, req, request_id)).await
        }
        (
            _,
            "/health"
            | "/ready"
            | "/metrics"
            | "/v1/models"
            | "/v1/chat/completions"
            | "/v1/embeddings"
            | "/v1/messages"
            | "/v1/messages/count_tokens"
            | "/query"
            | "/v1/guardrails/check",
        ) => Err(GatewayError::MethodNotAllowed(format!(
            "Method {} is not allowed on {}.",
            req.method(),
            req.uri().path()
        ))),
        (_, path) if path.starts_with("/admin/v1/") => {
            Box::pin(admin::handle(state, req, request_id)).await
        }
        (_, path) => Err(GatewayError::NotFound(format!("Unknown path '{path}'."))),
    };
    if let Err(err) = &result {
        Box::pin(edge.refused(state, err, request_id)).await;
    }
    result.unwrap_or_else(|err| error::error_response_in(&err, request_id, dialect))
}

/// The request headers `[policies] headers` names, for the custom policy (`None`: none).
fn policy_headers(
    state: &AppState,
    req: &Request<Incoming>,
) -> Option<gateway_policy::custom::RequestHeaders> {
    let all = req
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_bytes()));
    let headers = state.policy.as_ref()?.capture_headers(all);
    (!headers.is_empty()).then_some(headers)
}

/// The caller's `x-request-id` when it is short printable ASCII, else a new UUIDv7.
fn request_id(req: &Request<Incoming>) -> String {
    req.headers()
        .get(names::X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty() && v.len() <= MAX_REQUEST_ID && v.bytes().all(|b| b.is_ascii_graphic())
        })
        .map_or_else(new_request_id, str::to_owned)
}

/// A UUIDv7 whose random bits come from the thread-local generator: `Uuid::now_v7` reads the
/// OS entropy source (a system call) for every id, and a request id is not a secret.
fn new_request_id() -> String {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let random: [u8; 10] = rand::random();
    uuid::Builder::from_unix_timestamp_millis(millis, &random)
        .into_uuid()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_request_ids_are_distinct_current_uuid_v7s() {
        let (a, b) = (new_request_id(), new_request_id());
        assert_ne!(a, b);
        let parsed = uuid::Uuid::parse_str(&a).expect("a UUID");
        assert_eq!(parsed.get_version_num(), 7);
        let (secs, _) = parsed.get_timestamp().expect("v7 has a time").to_unix();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs();
        assert!(now.abs_diff(secs) <= 5, "{a} is not from now");
    }
}
