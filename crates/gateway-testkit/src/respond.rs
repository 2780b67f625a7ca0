//! Building responses: JSON and OpenAI error bodies, most of them precomputed.

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use http::{Response, StatusCode};
use serde::Serialize;

use crate::body::MockBody;

const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");

pub const RATE_LIMITED_BODY: &str = r#"{"error":{"message":"Rate limit reached for requests","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#;
pub const SERVER_ERROR_BODY: &str = r#"{"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}"#;
pub const BAD_REQUEST_BODY: &str = r#"{"error":{"message":"Invalid value for 'temperature'","type":"invalid_request_error","param":"temperature","code":null}}"#;
pub const UNAUTHORIZED_BODY: &str = r#"{"error":{"message":"Incorrect API key provided: sk-upstr*****","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#;
pub const MALFORMED_BODY: &str = r#"{"id": "chatcmpl-broken", "choices": ["#;
const MODELS_BODY: &str = concat!(
    r#"{"object":"list","data":["#,
    r#"{"id":"mock-model","object":"model","created":0,"owned_by":"gateway-testkit"},"#,
    r#"{"id":"demo-model","object":"model","created":0,"owned_by":"gateway-testkit"},"#,
    r#"{"id":"gpt-4o-mini","object":"model","created":0,"owned_by":"gateway-testkit"},"#,
    r#"{"id":"text-embedding-3-small","object":"model","created":0,"owned_by":"gateway-testkit"}"#,
    r#"]}"#
);

/// A response with a JSON body (any status).
pub fn json(status: StatusCode, body: impl Into<Bytes>) -> Response<MockBody> {
    let mut response = Response::new(MockBody::full(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, APPLICATION_JSON);
    response
}

/// A static JSON response.
pub fn static_json(status: StatusCode, body: &'static str) -> Response<MockBody> {
    json(status, Bytes::from_static(body.as_bytes()))
}

/// Serializes `value` into a JSON response; serialization of the mock's own types cannot fail,
/// but if it did the answer is a 500 rather than a panic.
pub fn serialized<T: Serialize>(status: StatusCode, value: &T) -> Response<MockBody> {
    match serde_json::to_vec(value) {
        Ok(bytes) => json(status, bytes),
        Err(_) => server_error(),
    }
}

pub fn rate_limited() -> Response<MockBody> {
    let mut response = static_json(StatusCode::TOO_MANY_REQUESTS, RATE_LIMITED_BODY);
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

pub fn server_error() -> Response<MockBody> {
    static_json(StatusCode::INTERNAL_SERVER_ERROR, SERVER_ERROR_BODY)
}

pub fn models() -> Response<MockBody> {
    static_json(StatusCode::OK, MODELS_BODY)
}

/// `GET /v1/models/{id}`: every id exists.
pub fn model(id: &str) -> Response<MockBody> {
    let value = serde_json::json!({
        "id": id, "object": "model", "created": 0, "owned_by": "gateway-testkit"
    });
    serialized(StatusCode::OK, &value)
}

#[derive(Serialize)]
struct ErrorEnvelope<'a> {
    error: ErrorObject<'a>,
}

#[derive(Serialize)]
struct ErrorObject<'a> {
    message: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    param: Option<&'a str>,
    code: Option<&'a str>,
}

/// An OpenAI error body with the given fields.
pub fn error(
    status: StatusCode,
    message: &str,
    kind: &str,
    param: Option<&str>,
    code: Option<&str>,
) -> Response<MockBody> {
    let envelope = ErrorEnvelope {
        error: ErrorObject {
            message,
            kind,
            param,
            code,
        },
    };
    serialized(status, &envelope)
}

/// 400 for a body that is not the JSON the endpoint expects.
pub fn invalid_json(detail: &str) -> Response<MockBody> {
    let message = format!("We could not parse the JSON body of your request: {detail}");
    error(
        StatusCode::BAD_REQUEST,
        &message,
        "invalid_request_error",
        None,
        None,
    )
}

/// 400 for a JSON body with a bad or missing field.
pub fn invalid_field(message: &str, param: &str) -> Response<MockBody> {
    error(
        StatusCode::BAD_REQUEST,
        message,
        "invalid_request_error",
        Some(param),
        None,
    )
}

/// 404 in OpenAI's wording for an unknown URL.
pub fn not_found(method: &str, path: &str) -> Response<MockBody> {
    let message = format!("Unknown request URL: {method} {path}. Please check the URL for typos.");
    error(
        StatusCode::NOT_FOUND,
        &message,
        "invalid_request_error",
        None,
        Some("unknown_url"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_bodies_are_valid_json_except_the_malformed_one() {
        for body in [
            RATE_LIMITED_BODY,
            SERVER_ERROR_BODY,
            BAD_REQUEST_BODY,
            UNAUTHORIZED_BODY,
            MODELS_BODY,
        ] {
            serde_json::from_str::<serde_json::Value>(body).unwrap();
        }
        assert!(serde_json::from_str::<serde_json::Value>(MALFORMED_BODY).is_err());
    }
}
