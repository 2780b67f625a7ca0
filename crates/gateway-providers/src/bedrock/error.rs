//! Bedrock errors -> [`ProviderError`]. An HTTP error names its type in the
//! `x-amzn-ErrorType` header (`ThrottlingException:http://...`) or the body's `__type`, with
//! `{"message": ...}`; a ConverseStream exception event names it in `:exception-type`
//! (`throttlingException`). The type decides the status the gateway reports (throttling is a
//! retryable 429 whatever status carried it); only a sanitised message is kept.

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use serde_json::Value;

use gateway_core::ProviderError;

use crate::client::retry_after;
use crate::sanitize::sanitize_upstream_message;

/// The status an error type stands for (case-insensitive, with or without a namespace or the
/// `:http://...` suffix); `None` for a type not known here.
pub fn status_for_type(kind: &str) -> Option<u16> {
    let kind = kind.split(':').next().unwrap_or_default();
    let kind = kind.rsplit('#').next().unwrap_or_default();
    let status = match kind.to_ascii_lowercase().as_str() {
        "validationexception" | "servicequotaexceededexception" => 400,
        "unrecognizedclientexception"
        | "invalidsignatureexception"
        | "incompletesignatureexception"
        | "missingauthenticationtokenexception"
        | "expiredtokenexception" => 401,
        "accessdeniedexception" => 403,
        "resourcenotfoundexception" => 404,
        "modeltimeoutexception" => 504,
        "throttlingexception" | "modelnotreadyexception" | "toomanyrequestsexception" => 429,
        "modelerrorexception" | "modelstreamerrorexception" => 502,
        "serviceunavailableexception" => 503,
        "internalserverexception" => 500,
        _ => return None,
    };
    Some(status)
}

fn message_of(body: &Value) -> Option<String> {
    body.get("message")
        .or_else(|| body.get("Message"))
        .and_then(Value::as_str)
        .map(sanitize_upstream_message)
}

/// The error for a non-2xx upstream answer.
pub(crate) fn error_from_response(
    status: StatusCode,
    headers: &HeaderMap,
    body: &Bytes,
) -> ProviderError {
    let parsed = serde_json::from_slice::<Value>(body).unwrap_or(Value::Null);
    let kind = headers
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .or_else(|| parsed["__type"].as_str());
    let status = kind
        .and_then(status_for_type)
        .unwrap_or_else(|| status.as_u16());
    let message = message_of(&parsed).unwrap_or_else(|| {
        StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("error")
            .to_owned()
    });
    ProviderError::Status {
        status,
        message,
        retry_after: retry_after(headers),
    }
}

/// An exception event of a ConverseStream (`:exception-type`, its JSON payload).
pub(crate) fn stream_exception(kind: &str, payload: &str) -> ProviderError {
    let parsed = serde_json::from_str::<Value>(payload).unwrap_or(Value::Null);
    ProviderError::Status {
        status: status_for_type(kind).unwrap_or(500),
        message: message_of(&parsed).unwrap_or_else(|| "upstream stream error".to_owned()),
        retry_after: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(status: u16, error_type: Option<&str>, body: &'static str) -> ProviderError {
        let mut h = HeaderMap::new();
        if let Some(t) = error_type {
            h.insert("x-amzn-errortype", t.parse().unwrap());
        }
        let status = StatusCode::from_u16(status).unwrap();
        error_from_response(status, &h, &Bytes::from_static(body.as_bytes()))
    }

    #[test]
    fn documented_exceptions_map_to_statuses() {
        let throttled = error(
            429,
            Some("ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/"),
            r#"{"message":"Too many requests, please wait before trying again."}"#,
        );
        assert!(matches!(
            &throttled,
            ProviderError::Status { status: 429, message, .. } if message.starts_with("Too many requests")
        ));
        let invalid = error(
            400,
            None,
            r#"{"__type":"ValidationException","message":"The provided model identifier is invalid."}"#,
        );
        assert!(matches!(invalid, ProviderError::Status { status: 400, .. }));
        let denied = error(
            403,
            Some("AccessDeniedException"),
            r#"{"Message":"denied"}"#,
        );
        assert!(matches!(denied, ProviderError::Status { status: 403, .. }));
        let unknown = error(418, Some("TeapotException"), "<html>x</html>");
        assert!(matches!(
            &unknown,
            ProviderError::Status { status: 418, message, .. } if !message.contains("html")
        ));
        for (kind, status) in [
            ("ModelTimeoutException", 504),
            ("ServiceUnavailableException", 503),
            ("modelStreamErrorException", 502),
            ("UnrecognizedClientException", 401),
            ("ResourceNotFoundException", 404),
        ] {
            assert_eq!(status_for_type(kind), Some(status), "{kind}");
        }
    }

    #[test]
    fn stream_exceptions_keep_their_message() {
        let e = stream_exception("throttlingException", r#"{"message":"slow down"}"#);
        assert!(matches!(
            &e,
            ProviderError::Status { status: 429, message, .. } if message == "slow down"
        ));
    }
}
