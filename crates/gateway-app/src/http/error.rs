//! The one place where errors become HTTP responses (and are logged, once).

use http::{HeaderValue, Response, StatusCode};
use schemars::JsonSchema;
use serde::Serialize;

use gateway_core::{ErrorClass, GatewayError};

use super::body::{Body, full};

/// The OpenAI-style body of an error: `{"error": {"message", "type", "code", "param"}}`.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "OpenAiError")]
pub struct ErrorBody<'a> {
    pub error: ErrorDetail<'a>,
}

/// What went wrong, and what to fix.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "OpenAiErrorDetail")]
pub struct ErrorDetail<'a> {
    /// What to fix, for a person.
    pub message: String,
    /// `invalid_request_error`, `authentication_error`, `permission_error`, `not_found_error`,
    /// `rate_limit_error`, `policy_violation`, `upstream_error`, `timeout_error`,
    /// `service_unavailable` or `internal_error`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// A stable machine-readable code (`invalid_api_key`, `model_not_found`, ...), if any.
    pub code: Option<&'static str>,
    /// The request field at fault, if any.
    pub param: Option<&'a str>,
}

/// The OpenAI-style body of `err`.
pub fn error_body(err: &GatewayError) -> ErrorBody<'_> {
    ErrorBody {
        error: ErrorDetail {
            message: err.to_string(),
            kind: err.error_type(),
            code: err.code(),
            param: err.param(),
        },
    }
}

/// The OpenAI-style JSON body of an error.
pub fn error_json(err: &GatewayError) -> serde_json::Value {
    serde_json::to_value(error_body(err)).unwrap_or_default()
}

/// Which API's error body shape the caller expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorShape {
    OpenAi,
    Anthropic,
    /// Google's `{"error": {"code", "message", "status"}}`.
    Gemini,
}

/// Render `err` as an OpenAI-style response.
pub fn error_response(err: &GatewayError, request_id: &str) -> Response<Body> {
    error_response_in(err, request_id, ErrorShape::OpenAi)
}

/// Render `err` as a response in the caller's dialect, logging it at a level that matches
/// whose fault it is.
pub fn error_response_in(
    err: &GatewayError,
    request_id: &str,
    shape: ErrorShape,
) -> Response<Body> {
    match err.class() {
        ErrorClass::Internal => {
            tracing::error!(request_id, status = err.status(), error = %err, "request failed")
        }
        ErrorClass::Upstream { .. } => {
            tracing::warn!(request_id, status = err.status(), error = %err, "upstream failed")
        }
        ErrorClass::Client => {
            tracing::debug!(request_id, status = err.status(), error = %err, "request rejected")
        }
    }
    let (json, status) = match shape {
        ErrorShape::OpenAi => (error_json(err), err.status()),
        ErrorShape::Anthropic => (
            crate::dialects::anthropic::encode_error(err),
            crate::dialects::anthropic::error_status(err),
        ),
        ErrorShape::Gemini => (crate::dialects::gemini::encode_error(err), err.status()),
    };
    let body = serde_json::to_vec(&json).unwrap_or_default();
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = Response::new(full(body));
    *resp.status_mut() = status;
    let headers = resp.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(after) = err.retry_after() {
        let secs = after.as_secs_f64().ceil().max(1.0) as u64;
        headers.insert(http::header::RETRY_AFTER, HeaderValue::from(secs));
        headers.insert(
            "retry-after-ms",
            HeaderValue::from(after.as_millis().max(1) as u64),
        );
    }
    if status == StatusCode::UNAUTHORIZED {
        headers.insert(
            http::header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer"),
        );
    }
    resp
}
