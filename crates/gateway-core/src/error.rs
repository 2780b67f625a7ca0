//! The gateway's error vocabulary. Every failure a caller can see is a [`GatewayError`]; it
//! knows its HTTP status, its OpenAI error `type` and whether it is the caller's fault, the
//! upstream's (and whether retrying elsewhere may help) or ours.
//!
//! Refusals carry why they happened as typed fields — the kind of limit ([`LimitKind`]), the
//! authentication failure ([`AuthFailure`]), who denied ([`DeniedBy`]), the guardrail and rule —
//! next to the message the caller reads, so metrics, audit and the HTTP mapping match on the
//! fields and never on the text.

use std::time::Duration;

/// Who is to blame for an error; drives retries, logging level and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The request cannot succeed as sent; never retried.
    Client,
    /// The upstream provider failed; `retryable` says whether another attempt may succeed.
    Upstream { retryable: bool },
    /// A defect or an unavailable dependency inside the gateway.
    Internal,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum GatewayError {
    #[error("{message}")]
    InvalidRequest {
        message: String,
        param: Option<String>,
        code: Option<&'static str>,
    },
    #[error("{0}")]
    Unauthenticated(AuthRefusal),
    #[error("{0}")]
    Forbidden(Denial),
    #[error("The model '{0}' does not exist or you do not have access to it.")]
    ModelNotFound(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("Request body is larger than the limit of {limit} bytes.")]
    PayloadTooLarge { limit: usize },
    /// The request body did not arrive within the server's body timeout.
    #[error("The request body was not received within {secs} seconds.")]
    RequestTimeout { secs: u64 },
    #[error("Request blocked by guardrail '{guardrail}' (rule '{rule}').")]
    PolicyBlocked { guardrail: String, rule: String },
    #[error("{message}")]
    RateLimited {
        /// Which limit refused the call.
        limit: LimitKind,
        message: String,
        retry_after: Option<Duration>,
    },
    #[error("{message}")]
    Upstream {
        status: u16,
        message: String,
        retry_after: Option<Duration>,
        retryable: bool,
    },
    #[error("The upstream provider '{provider}' did not answer in time.")]
    UpstreamTimeout { provider: String },
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Internal(String),
}

/// Why a caller was not authenticated. Callers read only the message (the same for every
/// refused credential); this is the metric label and the audit field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// No credential was presented.
    Missing,
    /// A credential was presented and refused, whatever the reason.
    Invalid,
}

impl AuthFailure {
    /// The stable label: `missing` or `invalid`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthFailure::Missing => "missing",
            AuthFailure::Invalid => "invalid",
        }
    }
}

/// A 401: why, and what the caller reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AuthRefusal {
    pub reason: AuthFailure,
    pub message: String,
    /// The tenant the refused credential is known to belong to (an existing key that is
    /// disabled, revoked or expired; a disabled tenant), for anomaly attribution. Never in
    /// the caller's answer.
    pub tenant: Option<crate::principal::TenantId>,
}

/// Who refused an authenticated caller (a 403).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeniedBy {
    /// A custom (Rego) policy; `rule` names the deny rule when the policy said which.
    Policy { rule: Option<String> },
    /// The caller's roles lack the permission.
    Permission,
    /// No deployment of the model is in a region the caller may use.
    Region,
    /// The client address is outside the key's or the tenant's allowed networks.
    ClientAddress,
    /// The threat-intelligence feed `feed` lists the client address or the caller's key.
    ThreatIntel { feed: String },
}

impl DeniedBy {
    /// The stable label: `policy`, `permission`, `region`, `client_address` or `threat_intel`.
    pub fn as_str(&self) -> &'static str {
        match self {
            DeniedBy::Policy { .. } => "policy",
            DeniedBy::Permission => "permission",
            DeniedBy::Region => "region",
            DeniedBy::ClientAddress => "client_address",
            DeniedBy::ThreatIntel { .. } => "threat_intel",
        }
    }
}

/// A 403: who denied, and what the caller reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Denial {
    pub by: DeniedBy,
    pub message: String,
}

/// Which kind of limit a 429 comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitKind {
    /// A request rate (`rps`, `rpm`, `rpd`).
    Requests,
    /// A token rate (`tpm`, `tpd`).
    Tokens,
    /// Calls in flight: a caller's `max_concurrency`, or every deployment of a model saturated.
    Concurrency,
    /// A spend budget.
    Budget,
    /// The upstream provider answered 429.
    Upstream,
    /// A tenant's file storage quota (`[files] tenant_max_files`, `tenant_max_bytes`).
    Storage,
}

impl LimitKind {
    /// The stable label: `requests`, `tokens`, `concurrency`, `budget` or `upstream`.
    pub fn as_str(self) -> &'static str {
        match self {
            LimitKind::Requests => "requests",
            LimitKind::Tokens => "tokens",
            LimitKind::Concurrency => "concurrency",
            LimitKind::Budget => "budget",
            LimitKind::Upstream => "upstream",
            LimitKind::Storage => "storage",
        }
    }
}

impl GatewayError {
    /// A 401 for `reason`, reading `message`.
    pub fn unauthenticated(reason: AuthFailure, message: impl Into<String>) -> Self {
        GatewayError::Unauthenticated(AuthRefusal {
            reason,
            message: message.into(),
            tenant: None,
        })
    }

    /// A 403 by `by`, reading `message`.
    pub fn forbidden(by: DeniedBy, message: impl Into<String>) -> Self {
        GatewayError::Forbidden(Denial {
            by,
            message: message.into(),
        })
    }

    /// A 429 from a limit of kind `limit`.
    pub fn rate_limited(
        limit: LimitKind,
        message: impl Into<String>,
        retry_after: Option<Duration>,
    ) -> Self {
        GatewayError::RateLimited {
            limit,
            message: message.into(),
            retry_after,
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        GatewayError::InvalidRequest {
            message: message.into(),
            param: None,
            code: None,
        }
    }

    pub fn invalid_param(param: &str, message: impl Into<String>) -> Self {
        GatewayError::InvalidRequest {
            message: message.into(),
            param: Some(param.to_owned()),
            code: None,
        }
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            GatewayError::InvalidRequest { .. } => 400,
            GatewayError::Unauthenticated(_) => 401,
            GatewayError::Forbidden(_) => 403,
            GatewayError::ModelNotFound(_) | GatewayError::NotFound(_) => 404,
            GatewayError::MethodNotAllowed(_) => 405,
            GatewayError::RequestTimeout { .. } => 408,
            GatewayError::PayloadTooLarge { .. } => 413,
            GatewayError::PolicyBlocked { .. } => 422,
            GatewayError::RateLimited { .. } => 429,
            GatewayError::Upstream { status, .. } => *status,
            GatewayError::UpstreamTimeout { .. } => 504,
            GatewayError::Unavailable(_) => 503,
            GatewayError::Internal(_) => 500,
        }
    }

    /// OpenAI's error `type` string.
    pub fn error_type(&self) -> &'static str {
        match self {
            GatewayError::InvalidRequest { .. }
            | GatewayError::ModelNotFound(_)
            | GatewayError::NotFound(_)
            | GatewayError::MethodNotAllowed(_)
            | GatewayError::PayloadTooLarge { .. }
            | GatewayError::RequestTimeout { .. } => "invalid_request_error",
            GatewayError::Unauthenticated(_) => "authentication_error",
            GatewayError::Forbidden(_) => "permission_error",
            GatewayError::PolicyBlocked { .. } => "policy_violation",
            GatewayError::RateLimited { .. } => "rate_limit_error",
            GatewayError::Upstream {
                status: 400..=499, ..
            } => "invalid_request_error",
            GatewayError::Upstream { .. } => "upstream_error",
            GatewayError::UpstreamTimeout { .. } => "timeout_error",
            GatewayError::Unavailable(_) => "service_unavailable",
            GatewayError::Internal(_) => "internal_error",
        }
    }

    /// A stable machine-readable code, when there is one.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            GatewayError::InvalidRequest { code, .. } => *code,
            GatewayError::Unauthenticated(_) => Some("invalid_api_key"),
            GatewayError::ModelNotFound(_) => Some("model_not_found"),
            GatewayError::PayloadTooLarge { .. } => Some("request_too_large"),
            GatewayError::RequestTimeout { .. } => Some("request_timeout"),
            GatewayError::PolicyBlocked { .. } => Some("content_policy_violation"),
            GatewayError::RateLimited { .. } => Some("rate_limit_exceeded"),
            GatewayError::Upstream { status: 503, .. } => Some("upstream_overloaded"),
            GatewayError::Upstream { .. } => Some("upstream_error"),
            GatewayError::UpstreamTimeout { .. } => Some("upstream_timeout"),
            _ => None,
        }
    }

    pub fn param(&self) -> Option<&str> {
        match self {
            GatewayError::InvalidRequest { param, .. } => param.as_deref(),
            GatewayError::ModelNotFound(_) => Some("model"),
            _ => None,
        }
    }

    /// How long the caller should wait before retrying, when known.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            GatewayError::RateLimited { retry_after, .. }
            | GatewayError::Upstream { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    pub fn class(&self) -> ErrorClass {
        match self {
            GatewayError::Upstream { retryable, .. } => ErrorClass::Upstream {
                retryable: *retryable,
            },
            GatewayError::UpstreamTimeout { .. } => ErrorClass::Upstream { retryable: true },
            GatewayError::Unavailable(_) | GatewayError::Internal(_) => ErrorClass::Internal,
            _ => ErrorClass::Client,
        }
    }
}

/// Where an upstream call ran out of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutPhase {
    Connect,
    FirstByte,
    Total,
}

/// A failure of one upstream call, as a [`crate::Provider`] reports it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProviderError {
    #[error("could not connect to the upstream: {0}")]
    Connect(String),
    #[error("upstream timed out ({0:?})")]
    Timeout(TimeoutPhase),
    /// The upstream answered with an error status. `message` is already sanitised: it is the
    /// upstream's own error message with anything secret-looking masked, never its raw body.
    #[error("upstream returned {status}: {message}")]
    Status {
        status: u16,
        message: String,
        retry_after: Option<Duration>,
    },
    #[error("upstream sent an invalid response: {0}")]
    InvalidResponse(String),
    #[error("{0}")]
    Unsupported(String),
    /// A request parameter the upstream has no form for, refused by the model's policy.
    #[error("{message}")]
    UnsupportedParam {
        param: &'static str,
        message: String,
    },
}

impl ProviderError {
    /// Whether another attempt (same or other deployment) may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            ProviderError::Connect(_) | ProviderError::Timeout(_) => true,
            ProviderError::Status { status, .. } => matches!(status, 408 | 409 | 429 | 500..=599),
            ProviderError::InvalidResponse(_)
            | ProviderError::Unsupported(_)
            | ProviderError::UnsupportedParam { .. } => false,
        }
    }

    /// Convert to what the caller sees. `provider` names the deployment for the message.
    pub fn into_gateway_error(self, provider: &str) -> GatewayError {
        let retryable = self.is_retryable();
        match self {
            ProviderError::Connect(_) => GatewayError::Upstream {
                status: 502,
                message: format!("Could not reach the upstream provider '{provider}'."),
                retry_after: None,
                retryable,
            },
            ProviderError::Timeout(_) => GatewayError::UpstreamTimeout {
                provider: provider.to_owned(),
            },
            ProviderError::Status {
                status: 429,
                retry_after,
                ..
            } => GatewayError::RateLimited {
                limit: LimitKind::Upstream,
                message: format!(
                    "The upstream provider '{provider}' is rate limiting requests; retry later."
                ),
                retry_after,
            },
            ProviderError::Status {
                status: 401 | 403, ..
            } => GatewayError::Upstream {
                status: 502,
                message: format!(
                    "The upstream provider '{provider}' rejected the gateway's credentials."
                ),
                retry_after: None,
                retryable,
            },
            ProviderError::Status {
                status: status @ 400..=499,
                message,
                ..
            } => GatewayError::Upstream {
                status: if status == 404 { 404 } else { 400 },
                message: format!(
                    "The upstream provider '{provider}' rejected the request: {message}"
                ),
                retry_after: None,
                retryable,
            },
            // Overloaded (Anthropic's 529, anyone's 503): a 503 for OpenAI-shaped callers and a
            // 529 `overloaded_error` for Anthropic-shaped ones, so that SDKs retry it as such.
            ProviderError::Status {
                status: 503 | 529,
                retry_after,
                ..
            } => GatewayError::Upstream {
                status: 503,
                message: format!("The upstream provider '{provider}' is overloaded; retry later."),
                retry_after,
                retryable,
            },
            ProviderError::Status { status, .. } => GatewayError::Upstream {
                status: 502,
                message: format!("The upstream provider '{provider}' failed with status {status}."),
                retry_after: None,
                retryable,
            },
            ProviderError::InvalidResponse(_) => GatewayError::Upstream {
                status: 502,
                message: format!(
                    "The upstream provider '{provider}' sent a response the gateway could not read."
                ),
                retry_after: None,
                retryable,
            },
            ProviderError::Unsupported(message) => GatewayError::invalid(message),
            ProviderError::UnsupportedParam { param, message } => GatewayError::InvalidRequest {
                message,
                param: Some(param.to_owned()),
                code: Some("unsupported_parameter"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_statuses_map_to_caller_statuses() {
        let cases = [
            (429, 429),
            (500, 502),
            (503, 503),
            (529, 503),
            (502, 502),
            (401, 502),
            (400, 400),
            (404, 404),
        ];
        for (upstream, expected) in cases {
            let e = ProviderError::Status {
                status: upstream,
                message: "m".into(),
                retry_after: None,
            };
            assert_eq!(
                e.into_gateway_error("p").status(),
                expected,
                "upstream {upstream}"
            );
        }
        assert_eq!(
            ProviderError::Timeout(TimeoutPhase::Total)
                .into_gateway_error("p")
                .status(),
            504
        );
    }

    #[test]
    fn overloaded_upstream_is_a_retryable_503_keeping_retry_after() {
        let e = ProviderError::Status {
            status: 529,
            message: "Overloaded".into(),
            retry_after: Some(Duration::from_secs(3)),
        }
        .into_gateway_error("claude");
        assert_eq!((e.status(), e.code()), (503, Some("upstream_overloaded")));
        assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
        assert_eq!(e.class(), ErrorClass::Upstream { retryable: true });
    }

    #[test]
    fn upstream_429_keeps_retry_after() {
        let e = ProviderError::Status {
            status: 429,
            message: String::new(),
            retry_after: Some(Duration::from_secs(7)),
        };
        let e = e.into_gateway_error("p");
        assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
        assert!(
            matches!(
                e,
                GatewayError::RateLimited {
                    limit: LimitKind::Upstream,
                    ..
                }
            ),
            "{e:?}"
        );
    }

    #[test]
    fn credential_rejection_does_not_echo_upstream_message() {
        let e = ProviderError::Status {
            status: 401,
            message: "Incorrect API key sk-abc".into(),
            retry_after: None,
        };
        let msg = e.into_gateway_error("openai").to_string();
        assert!(!msg.contains("sk-abc"), "{msg}");
    }
}
