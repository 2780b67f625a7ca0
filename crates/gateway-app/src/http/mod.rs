//! The HTTP edge: request ids, routing by method and path, and handlers that decode inbound
//! dialects into canonical requests for the pipeline.

pub mod body;
mod chat;
mod credentials;
pub mod error;
mod info;
mod sse;

use std::sync::Arc;

use http::{HeaderValue, Method, Request, Response};
use hyper::body::Incoming;

use gateway_core::GatewayError;

use crate::state::AppState;
use body::Body;

pub use credentials::extract_token;

/// Longest caller-supplied `x-request-id` we keep (longer or odd ones are replaced).
const MAX_REQUEST_ID: usize = 128;

/// Handle one request. Never fails: every error becomes a response here or in a handler.
pub async fn handle(state: Arc<AppState>, req: Request<Incoming>) -> Response<Body> {
    let request_id = request_id(&req);
    let result = match (req.method(), req.uri().path()) {
        (&Method::GET, "/health") => Ok(info::health()),
        (&Method::GET, "/ready") => Ok(info::ready(&state)),
        (&Method::GET, "/v1/models") => info::models(&state, &req).await,
        (&Method::POST, "/v1/chat/completions") => {
            chat::chat_completions(&state, req, &request_id).await
        }
        (&Method::POST, "/v1/embeddings") => chat::embeddings(&state, req, &request_id).await,
        (_, "/health" | "/ready" | "/v1/models" | "/v1/chat/completions" | "/v1/embeddings") => {
            Err(GatewayError::MethodNotAllowed(format!(
                "Method {} is not allowed on {}.",
                req.method(),
                req.uri().path()
            )))
        }
        (_, path) => Err(GatewayError::NotFound(format!("Unknown path '{path}'."))),
    };
    let mut resp = result.unwrap_or_else(|err| error::error_response(&err, &request_id));
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("x-request-id", value);
    }
    resp
}

/// The caller's `x-request-id` when it is short printable ASCII, else a new UUIDv7.
fn request_id(req: &Request<Incoming>) -> String {
    req.headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty() && v.len() <= MAX_REQUEST_ID && v.bytes().all(|b| b.is_ascii_graphic())
        })
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned)
}
