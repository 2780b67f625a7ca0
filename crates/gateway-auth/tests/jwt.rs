//! JWTs with inline keys: each algorithm, algorithm confusion, standard claims, leeway,
//! claim mapping, tenant checks.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::tokens::*;
use common::{MemStore, assert_refused};
use gateway_auth::{AuthError, CompositeAuthenticator, JwtAuthenticator, JwtIssuerConfig};
use gateway_core::phases::auth::Authenticator;
use gateway_core::{AuthMethod, GatewayRole, TenantId};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::json;

const ALL: [Algorithm; 4] = [
    Algorithm::HS256,
    Algorithm::RS256,
    Algorithm::ES256,
    Algorithm::EdDSA,
];

fn verifier(issuers: &[JwtIssuerConfig]) -> JwtAuthenticator {
    JwtAuthenticator::new(issuers, Arc::new(NoFetch)).unwrap()
}

/// Refused with the uniform 401, and internally for `reason` (`AuthError::reason`, or the
/// jsonwebtoken error kind for `invalid_token`).
async fn refused_because(jwt: &JwtAuthenticator, token: &str, reason: &str) {
    assert_refused(jwt.authenticate(token).await);
    match jwt.verify(token).await {
        Err(AuthError::InvalidToken(kind)) => assert_eq!(kind, reason),
        Err(e) => assert_eq!(e.reason(), reason, "{e:?}"),
        Ok(p) => panic!("accepted: {p:?}"),
    }
}

#[tokio::test]
async fn each_algorithm_is_accepted_with_its_key() {
    let jwt = verifier(&[issuer(&ALL)]);
    for alg in ALL {
        let p = jwt
            .authenticate(&sign(alg, &claims()))
            .await
            .unwrap_or_else(|e| panic!("{alg:?}: {e:?}"));
        assert_eq!(p.tenant, TenantId::new("acme"));
        assert_eq!(&*p.subject, "user-1");
        assert_eq!(&*p.roles, &[GatewayRole::Developer, GatewayRole::Viewer]);
        assert_eq!(p.method, AuthMethod::Jwt);
        // Without kid, the keys of the token's algorithm family are tried.
        let no_kid = sign_with(alg, None, &encoding_key(alg), &claims());
        assert!(
            jwt.authenticate(&no_kid).await.is_ok(),
            "{alg:?} without kid"
        );
    }
}

#[tokio::test]
async fn algorithms_outside_the_allow_list_are_refused() {
    let rs_only = verifier(&[issuer(&[Algorithm::RS256])]);
    for alg in [Algorithm::HS256, Algorithm::ES256, Algorithm::EdDSA] {
        assert_refused(rs_only.authenticate(&sign(alg, &claims())).await);
    }
    assert!(
        rs_only
            .authenticate(&sign(Algorithm::RS256, &claims()))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn alg_none_is_refused() {
    let jwt = Arc::new(verifier(&[issuer(&ALL)]));
    let token = unsigned(&claims());
    refused_because(&jwt, &token, "malformed").await;
    let composite = CompositeAuthenticator::new(None, Some(jwt));
    assert_refused(composite.authenticate(&token).await);
}

#[tokio::test]
async fn hs256_signed_with_the_rsa_public_key_is_refused() {
    let forged_key = EncodingKey::from_secret(RSA1_PUBLIC.as_bytes());
    let forged = sign_with(Algorithm::HS256, Some("RS256"), &forged_key, &claims());
    // RS256-only issuer: HS256 is not allowed at all.
    refused_because(
        &verifier(&[issuer(&[Algorithm::RS256])]),
        &forged,
        "algorithm_not_allowed",
    )
    .await;
    // Even an issuer allowing both never uses an RSA key as an HMAC secret.
    let mut both = issuer(&[Algorithm::RS256]);
    both.algorithms.push(Algorithm::HS256);
    let both = verifier(&[both]);
    refused_because(&both, &forged, "no_matching_key").await;
    let forged_no_kid = sign_with(Algorithm::HS256, None, &forged_key, &claims());
    refused_because(&both, &forged_no_kid, "no_matching_key").await;
}

#[tokio::test]
async fn bad_signatures_are_refused() {
    let jwt = verifier(&[issuer(&ALL)]);
    let other_key = EncodingKey::from_rsa_pem(RSA2_PRIVATE.as_bytes()).unwrap();
    let token = sign_with(Algorithm::RS256, Some("RS256"), &other_key, &claims());
    refused_because(&jwt, &token, "InvalidSignature").await;
    let wrong_secret = EncodingKey::from_secret(b"another-secret-that-is-long-enough-32");
    let token = sign_with(Algorithm::HS256, Some("HS256"), &wrong_secret, &claims());
    refused_because(&jwt, &token, "InvalidSignature").await;
    // Payload swapped under a valid signature.
    let good = sign(Algorithm::ES256, &claims());
    let mut admin = claims();
    admin["roles"] = json!(["admin"]);
    let evil = sign(Algorithm::ES256, &admin);
    let parts: Vec<&str> = good.split('.').collect();
    let evil_parts: Vec<&str> = evil.split('.').collect();
    let swapped = format!("{}.{}.{}", parts[0], evil_parts[1], parts[2]);
    refused_because(&jwt, &swapped, "InvalidSignature").await;
}

#[tokio::test]
async fn issuer_and_audience_are_checked() {
    let jwt = verifier(&[issuer(&ALL)]);
    for (field, value, reason) in [
        ("aud", json!("someone-else"), "InvalidAudience"),
        ("iss", json!("https://evil.test/"), "unknown_issuer"),
    ] {
        let mut c = claims();
        c[field] = value;
        refused_because(&jwt, &sign(Algorithm::RS256, &c), reason).await;
    }
    let mut many = claims();
    many["aud"] = json!(["other", AUDIENCE]);
    assert!(
        jwt.authenticate(&sign(Algorithm::RS256, &many))
            .await
            .is_ok()
    );
    for (missing, reason) in [
        ("aud", "MissingRequiredClaim(\"aud\")"),
        ("iss", "missing_claim"),
        ("exp", "MissingRequiredClaim(\"exp\")"),
    ] {
        let mut c = claims();
        c.as_object_mut().unwrap().remove(missing);
        refused_because(&jwt, &sign(Algorithm::RS256, &c), reason).await;
    }
}

#[tokio::test]
async fn expiry_not_before_and_leeway() {
    let jwt = verifier(&[issuer(&ALL)]); // leeway 30 s
    let with = |field: &str, offset: i64| {
        let mut c = claims();
        c[field] = json!(now() + offset);
        sign(Algorithm::EdDSA, &c)
    };
    refused_because(&jwt, &with("exp", -120), "ExpiredSignature").await;
    assert!(
        jwt.authenticate(&with("exp", -10)).await.is_ok(),
        "within leeway"
    );
    refused_because(&jwt, &with("nbf", 120), "ImmatureSignature").await;
    assert!(
        jwt.authenticate(&with("nbf", 10)).await.is_ok(),
        "within leeway"
    );

    let mut strict = issuer(&ALL);
    strict.leeway_secs = 0;
    let strict = verifier(&[strict]);
    refused_because(&strict, &with("exp", -10), "ExpiredSignature").await;
    refused_because(&strict, &with("nbf", 10), "ImmatureSignature").await;
}

#[tokio::test]
async fn issuers_are_selected_by_iss_and_claims_mapped_by_configured_names() {
    let mut corp = issuer(&[Algorithm::ES256]);
    corp.issuer = "https://corp.test/".into();
    corp.tenant_claim = "org.tenant".into();
    corp.roles_claim = "https://gw/roles".into();
    corp.models_claim = "llm_models".into();
    corp.regions_claim = "geo".into();
    let jwt = verifier(&[issuer(&[Algorithm::RS256]), corp]);

    let c = json!({
        "iss": "https://corp.test/", "aud": AUDIENCE, "sub": "alice", "exp": now() + 60,
        "org": {"tenant": "globex"}, "https://gw/roles": "auditor", "llm_models": ["gpt-4o"], "geo": ["eu"]
    });
    let p = jwt.authenticate(&sign(Algorithm::ES256, &c)).await.unwrap();
    assert_eq!(p.tenant, TenantId::new("globex"));
    assert_eq!(&*p.roles, &[GatewayRole::Auditor]);
    assert_eq!(
        p.allowed_models.as_deref(),
        Some(&["gpt-4o".to_owned()][..])
    );
    assert_eq!(p.allowed_regions.as_deref(), Some(&["eu".to_owned()][..]));
    // The other issuer's algorithm and keys do not apply.
    assert_refused(jwt.authenticate(&sign(Algorithm::RS256, &c)).await);

    let mut no_tenant = claims();
    no_tenant.as_object_mut().unwrap().remove("tenant");
    refused_because(&jwt, &sign(Algorithm::RS256, &no_tenant), "missing_claim").await;
    let mut defaulted = issuer(&[Algorithm::RS256]);
    defaulted.default_tenant = Some("fallback".into());
    let p = verifier(&[defaulted])
        .authenticate(&sign(Algorithm::RS256, &no_tenant))
        .await
        .unwrap();
    assert_eq!(p.tenant, TenantId::new("fallback"));
}

#[tokio::test]
async fn registered_tenants_gate_and_narrow_tokens() {
    let store = Arc::new(MemStore::with_tenants(&["acme", "frozen"]));
    store.edit_tenant("acme", |t| {
        t.allowed_models = Some(vec!["gpt-4o".into(), "claude".into()])
    });
    store.edit_tenant("frozen", |t| t.enabled = false);
    let jwt = verifier(&[issuer(&ALL)]).with_tenant_store(store.clone(), Duration::from_secs(5));

    let mut c = claims();
    c["models"] = json!(["claude", "gemini"]);
    let p = jwt.authenticate(&sign(Algorithm::RS256, &c)).await.unwrap();
    assert_eq!(
        p.allowed_models.as_deref(),
        Some(&["claude".to_owned()][..])
    );
    for tenant in ["frozen", "unregistered"] {
        let mut c = claims();
        c["tenant"] = json!(tenant);
        refused_because(&jwt, &sign(Algorithm::RS256, &c), "tenant_not_usable").await;
    }
    // Issuers may opt out (tenants managed by the identity provider alone).
    let mut open = issuer(&ALL);
    open.require_registered_tenant = false;
    let jwt = verifier(&[open]).with_tenant_store(store, Duration::from_secs(5));
    let mut c = claims();
    c["tenant"] = json!("unregistered");
    assert!(jwt.authenticate(&sign(Algorithm::RS256, &c)).await.is_ok());
}

/// A tenant disabled on this instance refuses its tokens at once once invalidated; without
/// it, the cached verdict holds until its TTL (what other instances see).
#[tokio::test(start_paused = true)]
async fn a_local_tenant_change_reaches_tokens_at_once() {
    let store = Arc::new(MemStore::with_tenants(&["acme"]));
    let jwt = verifier(&[issuer(&ALL)]).with_tenant_store(store.clone(), Duration::from_secs(5));
    let token = sign(Algorithm::RS256, &claims());
    assert!(jwt.authenticate(&token).await.is_ok());
    store.edit_tenant("acme", |t| t.enabled = false);
    assert!(jwt.authenticate(&token).await.is_ok(), "cached for the TTL");
    jwt.invalidate_tenant(&TenantId::new("other")).await;
    assert!(
        jwt.authenticate(&token).await.is_ok(),
        "another tenant's change"
    );
    jwt.invalidate_tenant(&TenantId::new("acme")).await;
    refused_because(&jwt, &token, "tenant_not_usable").await;
    store.edit_tenant("acme", |t| t.enabled = true);
    jwt.invalidate_tenant(&TenantId::new("acme")).await;
    assert!(jwt.authenticate(&token).await.is_ok());
}

#[tokio::test]
async fn invalid_issuer_configuration_is_rejected_at_build() {
    let mut no_aud = issuer(&[Algorithm::RS256]);
    no_aud.audiences.clear();
    assert!(JwtAuthenticator::new(&[no_aud], Arc::new(NoFetch)).is_err());
    let mut short = issuer(&[Algorithm::HS256]);
    short.keys[0].secret = Some(gateway_core::Secret::new("short".into()));
    assert!(JwtAuthenticator::new(&[short], Arc::new(NoFetch)).is_err());
}
