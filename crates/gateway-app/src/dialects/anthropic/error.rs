//! Gateway errors in Anthropic's error shape. The HTTP status stays the gateway's
//! ([`GatewayError::status`]) except for overload: a 503 (an overloaded upstream, Anthropic's
//! own 529 included, or no deployment available) is Anthropic's 529 `overloaded_error`, which
//! the Anthropic SDKs raise as `OverloadedError` and retry.

use gateway_core::GatewayError;
use serde_json::{Value, json};

/// Anthropic's error `type` for a gateway error, by status.
pub fn error_type(err: &GatewayError) -> &'static str {
    match err.status() {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        429 => "rate_limit_error",
        503 | 529 => "overloaded_error",
        400..=499 => "invalid_request_error",
        _ => "api_error",
    }
}

/// The HTTP status an Anthropic client gets for `err`: 529 for overload, else the gateway's.
pub fn error_status(err: &GatewayError) -> u16 {
    match err.status() {
        503 => 529,
        status => status,
    }
}

/// `{"type":"error","error":{"type":...,"message":...}}`.
pub fn encode_error(err: &GatewayError) -> Value {
    json!({ "type": "error", "error": { "type": error_type(err), "message": err.to_string() } })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_an_anthropic_type() {
        let cases = [
            (GatewayError::invalid("bad"), "invalid_request_error"),
            (
                GatewayError::unauthenticated(gateway_core::AuthFailure::Missing, "no key"),
                "authentication_error",
            ),
            (
                GatewayError::forbidden(gateway_core::DeniedBy::Permission, "no"),
                "permission_error",
            ),
            (GatewayError::ModelNotFound("m".into()), "not_found_error"),
            (
                GatewayError::PayloadTooLarge { limit: 1 },
                "invalid_request_error",
            ),
            (
                GatewayError::PolicyBlocked {
                    guardrail: "g".into(),
                    rule: "r".into(),
                },
                "invalid_request_error",
            ),
            (
                GatewayError::rate_limited(gateway_core::LimitKind::Requests, "slow down", None),
                "rate_limit_error",
            ),
            (GatewayError::Unavailable("busy".into()), "overloaded_error"),
            (
                GatewayError::UpstreamTimeout {
                    provider: "p".into(),
                },
                "api_error",
            ),
            (GatewayError::Internal("x".into()), "api_error"),
        ];
        let overloaded = gateway_core::ProviderError::Status {
            status: 529,
            message: "Overloaded".into(),
            retry_after: None,
        }
        .into_gateway_error("claude");
        assert_eq!(
            (error_status(&overloaded), error_type(&overloaded)),
            (529, "overloaded_error")
        );
        assert_eq!(error_status(&GatewayError::invalid("x")), 400);
        for (err, kind) in cases {
            let v = encode_error(&err);
            assert_eq!(v["type"], "error");
            assert_eq!(v["error"]["type"], kind, "{err:?}");
            assert_eq!(v["error"]["message"], err.to_string());
        }
    }
}
