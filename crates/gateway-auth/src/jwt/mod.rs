//! Bearer JWTs: per-issuer keys (inline or from a JWKS URL), algorithm allow-lists, standard
//! claim checks and the mapping of claims to a [`gateway_core::Principal`].

mod claims;
mod fetch;
pub(crate) mod keyset;
mod verifier;

pub use fetch::{HttpJwksFetcher, JwksFetcher};
pub use verifier::JwtAuthenticator;
