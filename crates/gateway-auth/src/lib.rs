//! `gateway-auth`: who is calling, and what they may do. It owns gateway-issued API keys
//! (generated with 256 random bits, stored only as a keyed hash, verified in constant time and
//! cached in-process with a stated revocation bound), bearer JWT verification (inline keys or
//! JWKS, per-issuer algorithm allow-lists, claim mapping), the mapping of either to a
//! [`gateway_core::Principal`], and role-based access control ([`rbac`]).
//!
//! It depends on `gateway-core` only among the gateway crates: keys and tenants are read
//! through the `gateway_core::store` traits (implemented by `gateway-store`), and the HTTP
//! edge (in `gateway-app`) merely hands over the token found by [`extract_token`]. It renders
//! no responses: every failure is a `GatewayError` whose message never reveals whether a key
//! exists.
//!
//! Entry points: [`AuthStack::build`] from the `[auth]` section ([`AuthConfig`]); or the
//! parts — [`KeyAuthenticator`], [`JwtAuthenticator`], [`CompositeAuthenticator`],
//! [`KeyManager`] to issue and revoke keys — and [`rbac::authorize`].

mod apikey;
mod cache;
mod composite;
mod config;
pub mod error;
mod jwt;
mod key_auth;
mod key_manager;
pub mod rbac;
mod stack;
mod tenants;
mod token;

pub use apikey::{ApiKeys, GeneratedKey, KEY_PREFIX, KeyHash};
pub use composite::CompositeAuthenticator;
pub use config::{
    AuthConfig, ChangeFeedConfig, ConfigProblem, JwtIssuerConfig, JwtKeyConfig, MIN_HS_SECRET_BYTES,
};
pub use error::AuthError;
pub use jwt::{HttpJwksFetcher, JwksFetcher, JwtAuthenticator};
pub use key_auth::{KeyAuthenticator, KeyCacheSettings};
pub use key_manager::{CreatedKey, KeyManager, NewApiKey};
pub use rbac::{Permission, authorize};
pub use stack::AuthStack;
pub use token::{extract_token, looks_like_jwt};
