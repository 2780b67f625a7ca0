//! Gemini (Google API) error bodies -> [`ProviderError`]:
//! `{"error": {"code": 400, "message": "...", "status": "INVALID_ARGUMENT", "details": [...]}}`.
//! Only the sanitised message is kept; an invalid API key (a 400 with reason
//! `API_KEY_INVALID`) is reported as 401 so that callers see a credentials problem of the
//! gateway, not a fault of their request.

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use serde_json::Value;

use gateway_core::ProviderError;

use crate::client::retry_after;
use crate::sanitize::sanitize_upstream_message;

fn key_invalid(error: &Value) -> bool {
    error["details"]
        .as_array()
        .is_some_and(|d| d.iter().any(|x| x["reason"] == "API_KEY_INVALID"))
}

fn from_error_object(
    error: &Value,
    status: u16,
    retry_after: Option<std::time::Duration>,
) -> ProviderError {
    let message = error["message"]
        .as_str()
        .map(sanitize_upstream_message)
        .or_else(|| error["status"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "upstream error".to_owned());
    let status = if key_invalid(error) { 401 } else { status };
    ProviderError::Status {
        status,
        message,
        retry_after,
    }
}

/// Build the error for a non-2xx upstream answer.
pub(crate) fn error_from_response(
    status: StatusCode,
    headers: &HeaderMap,
    body: &Bytes,
) -> ProviderError {
    // Some endpoints wrap the error in a one-element array.
    let parsed = serde_json::from_slice::<Value>(body).ok().map(|v| match v {
        Value::Array(mut items) if !items.is_empty() => items.swap_remove(0),
        other => other,
    });
    match parsed
        .as_ref()
        .map(|v| &v["error"])
        .filter(|e| e.is_object())
    {
        Some(error) => from_error_object(error, status.as_u16(), retry_after(headers)),
        None => ProviderError::Status {
            status: status.as_u16(),
            message: status.canonical_reason().unwrap_or("error").to_owned(),
            retry_after: retry_after(headers),
        },
    }
}

/// An `{"error": ...}` object received inside a 200 stream.
pub(crate) fn body_error(value: &Value) -> Option<ProviderError> {
    let error = value.get("error").filter(|e| e.is_object())?;
    let status = error["code"]
        .as_u64()
        .and_then(|c| u16::try_from(c).ok())
        .unwrap_or(500);
    Some(from_error_object(error, status, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_key_becomes_401_without_the_key() {
        let body = Bytes::from_static(br#"{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}}"#);
        match error_from_response(StatusCode::BAD_REQUEST, &HeaderMap::new(), &body) {
            ProviderError::Status {
                status: 401,
                message,
                ..
            } => assert!(message.starts_with("API key not valid")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn quota_error_keeps_status_and_array_form_parses() {
        let body = Bytes::from_static(br#"[{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED"}}]"#);
        assert!(matches!(
            error_from_response(StatusCode::TOO_MANY_REQUESTS, &HeaderMap::new(), &body),
            ProviderError::Status { status: 429, .. }
        ));
        assert!(body_error(&serde_json::json!({"candidates": []})).is_none());
    }
}
