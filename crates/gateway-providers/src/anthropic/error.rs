//! Anthropic error bodies (`{"type":"error","error":{"type","message"}}`) -> [`ProviderError`],
//! keeping only the sanitised message; `error` events of a stream get the status their type
//! stands for.

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use serde_json::Value;

use gateway_core::ProviderError;

use crate::client::retry_after;
use crate::sanitize::sanitize_upstream_message;

/// The HTTP status Anthropic documents for an error `type`.
pub fn status_for_type(kind: &str) -> u16 {
    match kind {
        "invalid_request_error" => 400,
        "authentication_error" => 401,
        "billing_error" => 402,
        "permission_error" => 403,
        "not_found_error" => 404,
        "request_too_large" => 413,
        "rate_limit_error" => 429,
        "timeout_error" => 504,
        "overloaded_error" => 529,
        _ => 500, // api_error and unknown types
    }
}

fn message_of(error: &Value) -> Option<String> {
    error
        .get("message")
        .and_then(Value::as_str)
        .map(sanitize_upstream_message)
}

/// Build the error for a non-2xx upstream answer.
pub(crate) fn error_from_response(
    status: StatusCode,
    headers: &HeaderMap,
    body: &Bytes,
) -> ProviderError {
    let message = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| message_of(&v["error"]))
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
    ProviderError::Status {
        status: status.as_u16(),
        message,
        retry_after: retry_after(headers),
    }
}

/// An `error` event inside a stream (its `error` object).
pub(crate) fn stream_error(error: &Value) -> ProviderError {
    let status = status_for_type(error["type"].as_str().unwrap_or_default());
    let message = message_of(error).unwrap_or_else(|| "upstream stream error".to_owned());
    ProviderError::Status {
        status,
        message,
        retry_after: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_error_body() {
        let body = Bytes::from_static(
            br#"{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}"#,
        );
        let mut h = HeaderMap::new();
        h.insert("retry-after", "12".parse().unwrap());
        match error_from_response(StatusCode::TOO_MANY_REQUESTS, &h, &body) {
            ProviderError::Status {
                status: 429,
                message,
                retry_after,
            } => {
                assert!(message.starts_with("Number of request tokens"));
                assert_eq!(retry_after, Some(std::time::Duration::from_secs(12)));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn html_body_is_not_echoed() {
        let e = error_from_response(
            StatusCode::BAD_GATEWAY,
            &HeaderMap::new(),
            &Bytes::from_static(b"<html>x</html>"),
        );
        assert!(!e.to_string().contains("html"));
        assert_eq!(status_for_type("overloaded_error"), 529);
    }
}
