//! Response body type and bounded request-body reading.

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderValue, Response};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Body as _;
use hyper::body::Incoming;
use serde::de::DeserializeOwned;

use gateway_core::GatewayError;

/// Every response body: a full buffer or an event stream.
pub type Body = UnsyncBoxBody<Bytes, Infallible>;

pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed_unsync()
}

/// A response of `content_type` whose header map is sized up front for the most the edge
/// adds (a model call's routing, rate-limit, cache and request-id headers), so that it is
/// allocated once instead of growing twice.
pub fn response(body: Body, content_type: &'static str) -> Response<Body> {
    let mut headers = HeaderMap::with_capacity(16);
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    let mut resp = Response::new(body);
    *resp.headers_mut() = headers;
    resp
}

/// `value` as JSON, written into a buffer sized for a typical answer rather than grown from
/// empty.
pub fn json_bytes<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, GatewayError> {
    let mut buf = Vec::with_capacity(1024);
    serde_json::to_writer(&mut buf, value).map_err(|e| GatewayError::Internal(e.to_string()))?;
    Ok(buf)
}

/// Read the request body, at most `limit` bytes (413 beyond) within `timeout` (408 beyond).
///
/// A body whose declared length is over the limit is refused before anything is read, so that
/// a client waiting on `Expect: 100-continue` gets the 413 at once instead of a `100 Continue`
/// (hyper sends that on the first read). The connection then closes lingeringly
/// (`crate::server`), so a client already sending still reads the answer.
pub async fn read_limited(
    body: Incoming,
    limit: usize,
    timeout: Duration,
) -> Result<Bytes, GatewayError> {
    if body.size_hint().lower() > limit as u64 {
        return Err(GatewayError::PayloadTooLarge { limit });
    }
    let limited = Limited::new(body, limit);
    match tokio::time::timeout(timeout, gateway_providers::body::collect(limited)).await {
        Err(_) => Err(GatewayError::RequestTimeout {
            secs: timeout.as_secs(),
        }),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => {
            Err(GatewayError::PayloadTooLarge { limit })
        }
        Ok(Err(_)) => Err(GatewayError::invalid("The request body could not be read.")),
        Ok(Ok(bytes)) => Ok(bytes),
    }
}

/// Parse a JSON body into `T`, with a message that says what is wrong and where.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, GatewayError> {
    if bytes.is_empty() {
        return Err(GatewayError::invalid(
            "The request body is empty; send a JSON object.",
        ));
    }
    gateway_core::types::from_json_bytes(bytes).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                "is not valid JSON"
            }
            _ => "does not match the expected schema",
        };
        GatewayError::InvalidRequest {
            message: format!("The request body {what}: {e}."),
            param: None,
            code: Some("invalid_json"),
        }
    })
}

/// Run a non-streamed pipeline call within `[server] request_timeout_secs` (504 beyond).
pub async fn within_request_timeout<T>(
    state: &crate::state::AppState,
    call: impl std::future::Future<Output = Result<T, GatewayError>>,
) -> Result<T, GatewayError> {
    tokio::time::timeout(state.request_timeout, call)
        .await
        .unwrap_or_else(|_| {
            Err(GatewayError::UpstreamTimeout {
                provider: "the upstream".to_owned(),
            })
        })
}
