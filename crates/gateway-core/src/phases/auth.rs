//! Phase 2: authenticate — turn a presented credential into a [`Principal`].

use async_trait::async_trait;

use crate::error::GatewayError;
use crate::principal::Principal;

/// Verifies credentials (gateway API keys, JWTs). Implemented in `gateway-auth`.
#[async_trait]
pub trait Authenticator: Send + Sync {
    /// `token` is the credential from `Authorization: Bearer`, `x-api-key` or `api-key`.
    /// Errors must not reveal whether a key exists (always the same 401 message for unknown,
    /// malformed, expired or revoked keys).
    async fn authenticate(&self, token: &str) -> Result<Principal, GatewayError>;
}
