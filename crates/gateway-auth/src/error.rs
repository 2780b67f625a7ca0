//! Why authentication failed, and what the caller is told.
//!
//! Every credential problem — unknown, malformed, expired, disabled or revoked keys; bad JWT
//! signatures, issuers or audiences — answers with the same 401 message, so a response never
//! reveals whether a key exists. The precise reason ([`AuthError::reason`]) is for logs and
//! metrics only.

use gateway_core::{AuthFailure, AuthRefusal, GatewayError, TenantId};

/// Told to callers that sent no credential.
pub const MISSING_MESSAGE: &str = "Missing credentials: send a gateway API key or token as \
                                   'Authorization: Bearer <token>', 'x-api-key' or 'api-key'.";
/// Told to callers whose credential was refused, whatever the reason.
pub const INVALID_MESSAGE: &str =
    "Invalid credentials: the API key or token is not valid, has expired or was revoked.";

#[derive(Debug, Clone, thiserror::Error)]
pub enum AuthError {
    #[error("no credential presented")]
    Missing,
    #[error("credential is malformed")]
    Malformed,
    #[error("API key is unknown")]
    UnknownKey,
    /// The key exists (its hash matched) but is disabled, revoked or expired: the failure
    /// is attributed to its tenant (anomaly detection), never told to the caller.
    #[error("API key is disabled, revoked or expired")]
    KeyNotUsable { tenant: TenantId },
    #[error("tenant is unknown or disabled")]
    TenantNotUsable { tenant: TenantId },
    #[error("token issuer is not configured")]
    UnknownIssuer,
    #[error("token algorithm is not allowed for its issuer")]
    AlgorithmNotAllowed,
    #[error("no key matches the token")]
    NoMatchingKey,
    #[error("token rejected: {0}")]
    InvalidToken(String),
    #[error("token lacks the '{0}' claim")]
    MissingClaim(String),
    /// The JWKS of an issuer could not be fetched or read.
    #[error("JWKS unavailable: {0}")]
    Jwks(String),
    /// The store did not answer (already a caller-safe error).
    #[error("store unavailable: {0}")]
    Store(GatewayError),
    #[error("invalid auth configuration: {0}")]
    Config(String),
}

impl AuthError {
    /// A short, stable label for logs and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            AuthError::Missing => "missing",
            AuthError::Malformed => "malformed",
            AuthError::UnknownKey => "unknown_key",
            AuthError::KeyNotUsable { .. } => "key_not_usable",
            AuthError::TenantNotUsable { .. } => "tenant_not_usable",
            AuthError::UnknownIssuer => "unknown_issuer",
            AuthError::AlgorithmNotAllowed => "algorithm_not_allowed",
            AuthError::NoMatchingKey => "no_matching_key",
            AuthError::InvalidToken(_) => "invalid_token",
            AuthError::MissingClaim(_) => "missing_claim",
            AuthError::Jwks(_) => "jwks_unavailable",
            AuthError::Store(_) => "store_unavailable",
            AuthError::Config(_) => "config",
        }
    }

    /// The tenant a refused credential is known to belong to: that of an existing key that is
    /// disabled, revoked or expired, or a disabled tenant. `None` for a credential that names
    /// nothing (unknown key, wrong secret, bad token).
    pub fn tenant(&self) -> Option<&TenantId> {
        match self {
            AuthError::KeyNotUsable { tenant } | AuthError::TenantNotUsable { tenant } => {
                Some(tenant)
            }
            _ => None,
        }
    }

    /// What the caller sees.
    pub fn into_gateway(self) -> GatewayError {
        match self {
            AuthError::Missing => {
                GatewayError::unauthenticated(AuthFailure::Missing, MISSING_MESSAGE)
            }
            AuthError::Store(e) => e,
            AuthError::Jwks(_) => GatewayError::Unavailable(
                "The identity provider's signing keys are unavailable; retry later.".to_owned(),
            ),
            AuthError::Config(_) => {
                GatewayError::Internal("Authentication is misconfigured.".to_owned())
            }
            e => GatewayError::Unauthenticated(AuthRefusal {
                reason: AuthFailure::Invalid,
                message: INVALID_MESSAGE.to_owned(),
                tenant: e.tenant().cloned(),
            }),
        }
    }
}

impl From<AuthError> for GatewayError {
    fn from(e: AuthError) -> Self {
        e.into_gateway()
    }
}

/// Logs a refusal once, at debug level (refusals are frequent and caller-driven), and converts it.
pub(crate) fn refuse(e: AuthError) -> GatewayError {
    match &e {
        AuthError::Store(_) | AuthError::Jwks(_) | AuthError::Config(_) => {
            tracing::warn!(reason = e.reason(), error = %e, "authentication could not complete");
        }
        _ => tracing::debug!(reason = e.reason(), error = %e, "authentication refused"),
    }
    e.into_gateway()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_credential_problem_reads_the_same() {
        let cases = [
            AuthError::Malformed,
            AuthError::UnknownKey,
            AuthError::KeyNotUsable {
                tenant: TenantId::new("acme"),
            },
            AuthError::TenantNotUsable {
                tenant: TenantId::new("acme"),
            },
            AuthError::UnknownIssuer,
            AuthError::AlgorithmNotAllowed,
            AuthError::NoMatchingKey,
            AuthError::InvalidToken("InvalidSignature".into()),
            AuthError::MissingClaim("tenant".into()),
        ];
        for e in cases {
            let g = e.into_gateway();
            assert_eq!(g.status(), 401);
            assert_eq!(g.to_string(), INVALID_MESSAGE);
            assert!(
                matches!(&g, GatewayError::Unauthenticated(r) if r.reason == AuthFailure::Invalid)
            );
        }
        // An existing key's tenant is kept for attribution, out of the caller's message.
        let g = AuthError::KeyNotUsable {
            tenant: TenantId::new("acme"),
        }
        .into_gateway();
        assert!(
            matches!(&g, GatewayError::Unauthenticated(r) if r.tenant == Some(TenantId::new("acme")))
        );
        assert!(!g.to_string().contains("acme"));
        assert!(matches!(
            AuthError::UnknownKey.into_gateway(),
            GatewayError::Unauthenticated(AuthRefusal { tenant: None, .. })
        ));
        let missing = AuthError::Missing.into_gateway();
        assert_eq!(missing.status(), 401);
        assert!(
            matches!(&missing, GatewayError::Unauthenticated(r) if r.reason == AuthFailure::Missing)
        );
        assert_eq!(AuthError::Jwks("x".into()).into_gateway().status(), 503);
    }
}
