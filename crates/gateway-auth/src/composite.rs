//! [`CompositeAuthenticator`]: JWT-shaped tokens go to the JWT verifier, everything else to
//! the API key verifier.

use std::sync::Arc;

use async_trait::async_trait;
use gateway_core::phases::auth::Authenticator;
use gateway_core::{GatewayError, Principal};

use crate::error::{AuthError, refuse};
use crate::token::looks_like_jwt;

/// Dispatches on the token's shape. A kind of credential that is not configured is refused
/// like any invalid credential.
#[derive(Clone, Default)]
pub struct CompositeAuthenticator {
    api_keys: Option<Arc<dyn Authenticator>>,
    jwt: Option<Arc<dyn Authenticator>>,
}

impl std::fmt::Debug for CompositeAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompositeAuthenticator")
            .field("api_keys", &self.api_keys.is_some())
            .field("jwt", &self.jwt.is_some())
            .finish()
    }
}

impl CompositeAuthenticator {
    pub fn new(
        api_keys: Option<Arc<dyn Authenticator>>,
        jwt: Option<Arc<dyn Authenticator>>,
    ) -> Self {
        CompositeAuthenticator { api_keys, jwt }
    }
}

#[async_trait]
impl Authenticator for CompositeAuthenticator {
    async fn authenticate(&self, token: &str) -> Result<Principal, GatewayError> {
        let token = token.trim();
        if token.is_empty() {
            return Err(refuse(AuthError::Missing));
        }
        let target = if looks_like_jwt(token) {
            &self.jwt
        } else {
            &self.api_keys
        };
        match target {
            Some(a) => a.authenticate(token).await,
            None => Err(refuse(AuthError::Malformed)),
        }
    }
}
