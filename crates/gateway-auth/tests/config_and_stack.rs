//! The `[auth]` TOML shape, its validation, and the assembled stack dispatching API keys and
//! JWTs by shape.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use common::tokens::*;
use common::{MemStore, assert_refused};
use gateway_auth::error::MISSING_MESSAGE;
use gateway_auth::{AuthConfig, AuthStack, NewApiKey, extract_token};
use gateway_core::phases::auth::Authenticator;
use gateway_core::store::Store;
use gateway_core::{AuthMethod, TenantId};
use jsonwebtoken::Algorithm;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AppConfig {
    auth: AuthConfig,
}

const SAMPLE: &str = r#"
[auth]
pepper = "server-side-pepper"
key_cache_ttl_secs = 3
negative_cache_ttl_secs = 1
key_cache_capacity = 5000
last_used_interval_secs = 30

[[auth.jwt_issuers]]
issuer = "https://login.example.com/"
audiences = ["llm-gateway"]
algorithms = ["RS256", "ES256"]
jwks_url = "https://login.example.com/.well-known/jwks.json"
leeway_secs = 10
tenant_claim = "org_id"
roles_claim = "gw_roles"
models_claim = "gw_models"
regions_claim = "gw_regions"
default_roles = ["developer", "viewer"]

[[auth.jwt_issuers]]
issuer = "internal"
audiences = ["gw"]
algorithms = ["HS256"]
require_registered_tenant = false

[[auth.jwt_issuers.keys]]
kid = "2026-01"
algorithm = "HS256"
secret = "test-only-hs256-secret-at-least-32-bytes"
"#;

#[test]
fn sample_section_parses_and_validates() {
    let cfg: AppConfig = toml::from_str(SAMPLE).unwrap();
    let auth = cfg.auth;
    assert_eq!(auth.key_cache_ttl_secs, 3);
    assert_eq!(
        auth.pepper.as_ref().map(|p| p.expose().as_str()),
        Some("server-side-pepper")
    );
    assert!(
        !format!("{auth:?}").contains("server-side-pepper"),
        "secrets never print"
    );
    assert_eq!(auth.jwt_issuers.len(), 2);
    assert_eq!(
        auth.jwt_issuers[0].algorithms,
        [Algorithm::RS256, Algorithm::ES256]
    );
    assert_eq!(auth.jwt_issuers[0].jwks_min_refresh_secs, 30);
    assert_eq!(auth.jwt_issuers[1].tenant_claim, "tenant");
    assert!(!auth.jwt_issuers[1].require_registered_tenant);
    assert_eq!(auth.problems("auth"), []);
    let defaults: AppConfig = toml::from_str("[auth]").unwrap();
    assert_eq!(defaults.auth, AuthConfig::default());
    assert_eq!(defaults.auth.key_cache_ttl_secs, 5);
}

#[test]
fn unknown_fields_and_algorithm_none_do_not_parse() {
    assert!(toml::from_str::<AppConfig>("[auth]\nkey_cache_ttl = 5").is_err());
    let none =
        "[[auth.jwt_issuers]]\nissuer = \"x\"\naudiences = [\"a\"]\nalgorithms = [\"none\"]\n";
    assert!(toml::from_str::<AppConfig>(&format!("[auth]\n{none}")).is_err());
}

#[test]
fn problems_carry_dotted_paths() {
    let bad = r#"
[auth]
key_cache_ttl_secs = 0

[[auth.jwt_issuers]]
issuer = "a"
audiences = []
algorithms = ["RS256"]
jwks_url = "http://idp.example.com/jwks"
default_roles = ["superuser"]

[[auth.jwt_issuers.keys]]
algorithm = "HS256"
secret = "short"

[[auth.jwt_issuers]]
issuer = "a"
audiences = ["x"]
algorithms = ["ES256"]

[[auth.jwt_issuers.keys]]
algorithm = "ES256"
public_key_pem = "not a pem"
"#;
    let cfg: AppConfig = toml::from_str(bad).unwrap();
    let paths: Vec<String> = cfg
        .auth
        .problems("auth")
        .into_iter()
        .map(|p| p.path)
        .collect();
    for expected in [
        "auth.key_cache_ttl_secs",
        "auth.jwt_issuers[0].audiences",
        "auth.jwt_issuers[0].jwks_url",
        "auth.jwt_issuers[0].default_roles",
        "auth.jwt_issuers[0].keys[0].algorithm",
        "auth.jwt_issuers[0].keys[0]",
        "auth.jwt_issuers[1].issuer",
        "auth.jwt_issuers[1].keys[0]",
    ] {
        assert!(
            paths.iter().any(|p| p == expected),
            "{expected} missing from {paths:?}"
        );
    }
    assert!(AuthStack::build(&cfg.auth, None).is_err());
}

/// A stack over a store holding tenant `acme`, with an HS256 issuer whose tokens must name a
/// registered tenant.
fn stack_with_keys_and_tokens() -> (AuthStack, Arc<MemStore>) {
    let mut hs = issuer(&[Algorithm::HS256]);
    hs.require_registered_tenant = true;
    let cfg = AuthConfig {
        jwt_issuers: vec![hs],
        ..AuthConfig::default()
    };
    let store = Arc::new(MemStore::with_tenants(&["acme"]));
    let stack = AuthStack::build_with_fetcher(
        &cfg,
        Some(store.clone() as Arc<dyn Store>),
        Arc::new(NoFetch),
    )
    .unwrap();
    (stack, store)
}

#[tokio::test]
async fn stack_dispatches_keys_and_tokens_by_shape() {
    let (stack, _store) = stack_with_keys_and_tokens();
    let auth = stack.authenticator.clone();

    let manager = stack.key_manager.clone().unwrap();
    let created = manager
        .create(NewApiKey::new(TenantId::new("acme"), "ci"))
        .await
        .unwrap();
    let p = auth.authenticate(created.secret.expose()).await.unwrap();
    assert_eq!(p.method, AuthMethod::ApiKey);

    let p = auth
        .authenticate(&sign(Algorithm::HS256, &claims()))
        .await
        .unwrap();
    assert_eq!(p.method, AuthMethod::Jwt);

    let missing = auth.authenticate("  ").await.unwrap_err();
    assert_eq!(
        (missing.status(), missing.to_string().as_str()),
        (401, MISSING_MESSAGE)
    );
    assert_refused(auth.authenticate("sk-gw-bogus").await);
    assert_refused(auth.authenticate("a.b.c").await);

    // Header extraction feeds the same path.
    let mut headers = http::HeaderMap::new();
    headers.insert("x-api-key", created.secret.expose().parse().unwrap());
    assert!(
        auth.authenticate(extract_token(&headers).unwrap())
            .await
            .is_ok()
    );
}

/// What the admin API calls after a tenant change: keys and tokens of the tenant both see it
/// at once on this instance.
#[tokio::test]
async fn invalidating_a_tenant_reaches_keys_and_tokens() {
    let (stack, store) = stack_with_keys_and_tokens();
    let created = stack
        .key_manager
        .clone()
        .unwrap()
        .create(NewApiKey::new(TenantId::new("acme"), "ci"))
        .await
        .unwrap();
    let token = sign(Algorithm::HS256, &claims());
    let auth = stack.authenticator.clone();
    assert!(auth.authenticate(created.secret.expose()).await.is_ok());
    assert!(auth.authenticate(&token).await.is_ok());

    store.edit_tenant("acme", |t| t.enabled = false);
    stack.invalidate_tenant(&TenantId::new("acme")).await;
    assert_refused(auth.authenticate(created.secret.expose()).await);
    assert_refused(auth.authenticate(&token).await);
}

#[tokio::test]
async fn without_a_store_only_tokens_work() {
    let cfg = AuthConfig {
        jwt_issuers: vec![issuer(&[Algorithm::HS256])],
        ..AuthConfig::default()
    };
    let stack = AuthStack::build_with_fetcher(&cfg, None, Arc::new(NoFetch)).unwrap();
    assert!(stack.key_manager.is_none() && stack.api_keys.is_none());
    assert!(
        stack
            .authenticator
            .authenticate(&sign(Algorithm::HS256, &claims()))
            .await
            .is_ok()
    );
    let key = gateway_auth::ApiKeys::new(None).generate();
    assert_refused(stack.authenticator.authenticate(key.secret.expose()).await);
}
