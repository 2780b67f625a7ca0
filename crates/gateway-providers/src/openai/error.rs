//! OpenAI error bodies -> [`ProviderError`], keeping only the sanitised message.

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use serde::Deserialize;

use gateway_core::ProviderError;

use crate::client::retry_after;
use crate::sanitize::sanitize_upstream_message;

#[derive(Deserialize)]
struct Envelope {
    error: Body,
}

#[derive(Deserialize)]
struct Body {
    #[serde(default)]
    message: String,
}

/// Build the error for a non-2xx upstream answer.
pub(crate) fn error_from_response(
    status: StatusCode,
    headers: &HeaderMap,
    body: &Bytes,
) -> ProviderError {
    let message = serde_json::from_slice::<Envelope>(body)
        .map(|e| sanitize_upstream_message(&e.error.message))
        .unwrap_or_else(|_| status.canonical_reason().unwrap_or("error").to_owned());
    ProviderError::Status {
        status: status.as_u16(),
        message,
        retry_after: retry_after(headers),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_sanitised_message_and_retry_after() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", "2".parse().unwrap());
        let body = Bytes::from_static(br#"{"error":{"message":"Incorrect API key provided: sk-upstr*****abcd1234","type":"x"}}"#);
        match error_from_response(StatusCode::TOO_MANY_REQUESTS, &h, &body) {
            ProviderError::Status {
                status,
                message,
                retry_after,
            } => {
                assert_eq!(status, 429);
                assert!(!message.contains("abcd1234"), "{message}");
                assert_eq!(retry_after, Some(std::time::Duration::from_secs(2)));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn non_json_body_is_not_echoed() {
        let body = Bytes::from_static(b"<html>secret internal page</html>");
        let e = error_from_response(StatusCode::BAD_GATEWAY, &HeaderMap::new(), &body);
        assert!(!e.to_string().contains("secret internal"));
    }
}
