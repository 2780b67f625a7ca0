//! Gateway errors in Google's error shape, `{"error": {"code", "message", "status"}}`, with
//! the canonical `google.rpc.Code` name for the HTTP status and, when the caller should wait,
//! a `RetryInfo` detail. The HTTP status stays the gateway's ([`GatewayError::status`]).

use gateway_core::GatewayError;
use serde_json::{Value, json};

/// The `google.rpc.Code` name Google's APIs give an HTTP status.
pub fn status_name(status: u16) -> &'static str {
    match status {
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        408 | 504 => "DEADLINE_EXCEEDED",
        409 => "ABORTED",
        429 => "RESOURCE_EXHAUSTED",
        499 => "CANCELLED",
        501 => "UNIMPLEMENTED",
        502 | 503 | 529 => "UNAVAILABLE",
        400..=499 => "INVALID_ARGUMENT",
        _ => "INTERNAL",
    }
}

/// The error object (also the last event of a failed stream; its first key is `error`, which
/// is what the google-genai SDK looks for in a stream).
pub fn encode_error(err: &GatewayError) -> Value {
    let status = err.status();
    let mut error = json!({
        "code": status,
        "message": err.to_string(),
        "status": status_name(status),
    });
    if let Some(after) = err.retry_after() {
        let secs = after.as_secs_f64().ceil().max(1.0);
        error["details"] = json!([{
            "@type": "type.googleapis.com/google.rpc.RetryInfo",
            "retryDelay": format!("{secs}s"),
        }]);
    }
    json!({ "error": error })
}

#[cfg(test)]
mod tests {
    use super::*;
    use gateway_core::{AuthFailure, DeniedBy, LimitKind};

    #[test]
    fn every_refusal_has_googles_status_name() {
        let cases = [
            (GatewayError::invalid("bad"), 400, "INVALID_ARGUMENT"),
            (
                GatewayError::unauthenticated(AuthFailure::Missing, "no key"),
                401,
                "UNAUTHENTICATED",
            ),
            (
                GatewayError::forbidden(DeniedBy::Permission, "no"),
                403,
                "PERMISSION_DENIED",
            ),
            (GatewayError::ModelNotFound("m".into()), 404, "NOT_FOUND"),
            (
                GatewayError::PolicyBlocked {
                    guardrail: "g".into(),
                    rule: "r".into(),
                },
                422,
                "INVALID_ARGUMENT",
            ),
            (GatewayError::Unavailable("busy".into()), 503, "UNAVAILABLE"),
            (GatewayError::Internal("x".into()), 500, "INTERNAL"),
        ];
        for (err, code, status) in cases {
            let v = encode_error(&err);
            assert_eq!(v["error"]["code"], code, "{err:?}");
            assert_eq!(v["error"]["status"], status, "{err:?}");
            assert_eq!(v["error"]["message"], err.to_string());
            assert!(v["error"].get("details").is_none());
        }
    }

    #[test]
    fn a_limit_says_when_to_retry() {
        let err = GatewayError::rate_limited(
            LimitKind::Requests,
            "slow down",
            Some(std::time::Duration::from_millis(1500)),
        );
        let v = encode_error(&err);
        assert_eq!(v["error"]["status"], "RESOURCE_EXHAUSTED");
        assert_eq!(v["error"]["details"][0]["retryDelay"], "2s");
        assert!(
            serde_json::to_string(&v)
                .unwrap()
                .starts_with("{\"error\":")
        );
    }
}
