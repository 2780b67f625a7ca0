//! Test keys (tests/keys/, test-only) and token helpers.

use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gateway_auth::{AuthError, JwksFetcher, JwtIssuerConfig, JwtKeyConfig};
use gateway_core::Secret;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

pub const RSA1_PRIVATE: &str = include_str!("../keys/test-only-rsa-1-private.pem");
pub const RSA1_PUBLIC: &str = include_str!("../keys/test-only-rsa-1-public.pem");
pub const RSA2_PRIVATE: &str = include_str!("../keys/test-only-rsa-2-private.pem");
pub const EC_PRIVATE: &str = include_str!("../keys/test-only-ec-p256-private.pem");
pub const EC_PUBLIC: &str = include_str!("../keys/test-only-ec-p256-public.pem");
pub const ED_PRIVATE: &str = include_str!("../keys/test-only-ed25519-private.pem");
pub const ED_PUBLIC: &str = include_str!("../keys/test-only-ed25519-public.pem");
pub const HS_SECRET: &str = "test-only-hs256-secret-at-least-32-bytes";

pub const ISSUER: &str = "https://idp.test/";
pub const AUDIENCE: &str = "llm-gateway";

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Valid for five minutes, for `ISSUER`/`AUDIENCE`, tenant `acme`.
pub fn claims() -> Value {
    json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-1",
        "tenant": "acme",
        "roles": ["developer", "viewer"],
        "iat": now(),
        "exp": now() + 300,
    })
}

pub fn encoding_key(alg: Algorithm) -> EncodingKey {
    match alg {
        Algorithm::HS256 => EncodingKey::from_secret(HS_SECRET.as_bytes()),
        Algorithm::RS256 => EncodingKey::from_rsa_pem(RSA1_PRIVATE.as_bytes()).unwrap(),
        Algorithm::ES256 => EncodingKey::from_ec_pem(EC_PRIVATE.as_bytes()).unwrap(),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(ED_PRIVATE.as_bytes()).unwrap(),
        other => panic!("no test key for {other:?}"),
    }
}

pub fn sign_with(alg: Algorithm, kid: Option<&str>, key: &EncodingKey, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

/// Signed with the test key of `alg`, `kid` = the algorithm's name.
pub fn sign(alg: Algorithm, claims: &Value) -> String {
    sign_with(alg, Some(&format!("{alg:?}")), &encoding_key(alg), claims)
}

/// A token with `alg: none` and no signature.
pub fn unsigned(claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{header}.{payload}.")
}

pub fn key_config(alg: Algorithm) -> JwtKeyConfig {
    let (secret, pem) = match alg {
        Algorithm::HS256 => (Some(Secret::new(HS_SECRET.to_owned())), None),
        Algorithm::RS256 => (None, Some(RSA1_PUBLIC.to_owned())),
        Algorithm::ES256 => (None, Some(EC_PUBLIC.to_owned())),
        Algorithm::EdDSA => (None, Some(ED_PUBLIC.to_owned())),
        other => panic!("no test key for {other:?}"),
    };
    JwtKeyConfig {
        kid: Some(format!("{alg:?}")),
        algorithm: alg,
        secret,
        public_key_pem: pem,
    }
}

/// An issuer trusting the inline test keys of `algs`.
pub fn issuer(algs: &[Algorithm]) -> JwtIssuerConfig {
    let mut cfg: JwtIssuerConfig = toml::from_str(&format!(
        "issuer = {ISSUER:?}\naudiences = [{AUDIENCE:?}]\nalgorithms = []\nleeway_secs = 30\n"
    ))
    .unwrap();
    cfg.algorithms = algs.to_vec();
    cfg.keys = algs.iter().map(|a| key_config(*a)).collect();
    cfg
}

/// For issuers without a JWKS URL.
pub struct NoFetch;

#[async_trait]
impl JwksFetcher for NoFetch {
    async fn fetch(&self, url: &str) -> Result<String, AuthError> {
        Err(AuthError::Jwks(format!("no fetching in this test: {url}")))
    }
}
