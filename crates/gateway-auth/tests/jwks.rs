//! JWKS over real HTTP: a local hyper server on 127.0.0.1:0 serves a key set the test rotates.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use common::assert_refused;
use common::tokens::*;
use gateway_auth::{AuthError, HttpJwksFetcher, JwtAuthenticator, JwtIssuerConfig};
use gateway_core::phases::auth::Authenticator;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::json;

/// A JWKS endpoint whose document can be swapped, counting requests.
struct JwksServer {
    body: Mutex<String>,
    hits: AtomicUsize,
}

impl JwksServer {
    async fn start(body: String) -> (Arc<JwksServer>, SocketAddr) {
        let server = Arc::new(JwksServer {
            body: Mutex::new(body),
            hits: AtomicUsize::new(0),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = server.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let state = state.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |_req| {
                        let state = state.clone();
                        async move {
                            state.hits.fetch_add(1, Ordering::SeqCst);
                            let body = state.body.lock().unwrap().clone();
                            Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from(body))))
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        (server, addr)
    }

    fn set(&self, body: String) {
        *self.body.lock().unwrap() = body;
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

fn rsa(private_pem: &str) -> EncodingKey {
    EncodingKey::from_rsa_pem(private_pem.as_bytes()).unwrap()
}

/// A JWKS document with the public halves of `keys` (kid, key).
fn jwks(keys: &[(&str, &EncodingKey)]) -> String {
    let keys = keys
        .iter()
        .map(|(kid, key)| {
            let mut jwk = Jwk::from_encoding_key(key, Algorithm::RS256).unwrap();
            jwk.common.key_id = Some((*kid).to_owned());
            jwk
        })
        .collect();
    serde_json::to_string(&JwkSet { keys }).unwrap()
}

fn jwks_issuer(addr: SocketAddr, min_refresh_secs: u64) -> JwtIssuerConfig {
    let mut cfg = issuer(&[Algorithm::RS256]);
    cfg.keys.clear();
    cfg.jwks_url = Some(format!("http://{addr}/.well-known/jwks.json"));
    cfg.jwks_min_refresh_secs = min_refresh_secs;
    cfg
}

fn verifier(cfg: JwtIssuerConfig) -> JwtAuthenticator {
    let fetcher = HttpJwksFetcher::new(std::time::Duration::from_secs(2)).unwrap();
    JwtAuthenticator::new(&[cfg], Arc::new(fetcher)).unwrap()
}

#[tokio::test]
async fn unknown_kid_triggers_a_refetch_after_rotation() {
    let (k1, k2) = (rsa(RSA1_PRIVATE), rsa(RSA2_PRIVATE));
    let (server, addr) = JwksServer::start(jwks(&[("k1", &k1)])).await;
    let jwt = verifier(jwks_issuer(addr, 0));

    let t1 = sign_with(Algorithm::RS256, Some("k1"), &k1, &claims());
    assert!(jwt.authenticate(&t1).await.is_ok());
    assert!(jwt.authenticate(&t1).await.is_ok());
    assert_eq!(server.hits(), 1, "the key set is cached");

    let t2 = sign_with(Algorithm::RS256, Some("k2"), &k2, &claims());
    assert_refused(jwt.authenticate(&t2).await);
    assert_eq!(server.hits(), 2, "an unknown kid re-fetches once");

    server.set(jwks(&[("k1", &k1), ("k2", &k2)]));
    assert!(
        jwt.authenticate(&t2).await.is_ok(),
        "the rotated key is picked up"
    );
    assert_eq!(server.hits(), 3);
    assert!(jwt.authenticate(&t1).await.is_ok());
    assert!(jwt.authenticate(&t2).await.is_ok());
    assert_eq!(server.hits(), 3);

    // A key removed from the set stops working after the next fetch.
    server.set(jwks(&[("k2", &k2)]));
    let t3 = sign_with(Algorithm::RS256, Some("k3"), &k1, &claims());
    assert_refused(jwt.authenticate(&t3).await); // unknown kid: re-fetch
    assert_eq!(server.hits(), 4);
    assert_refused(jwt.authenticate(&t1).await);
}

#[tokio::test]
async fn refetching_is_rate_limited() {
    let (k1, k2) = (rsa(RSA1_PRIVATE), rsa(RSA2_PRIVATE));
    let (server, addr) = JwksServer::start(jwks(&[("k1", &k1)])).await;
    let jwt = verifier(jwks_issuer(addr, 3600));
    assert!(
        jwt.authenticate(&sign_with(Algorithm::RS256, Some("k1"), &k1, &claims()))
            .await
            .is_ok()
    );
    server.set(jwks(&[("k1", &k1), ("k2", &k2)]));
    for i in 0..20 {
        let forged_kid = format!("attacker-{i}");
        assert_refused(
            jwt.authenticate(&sign_with(
                Algorithm::RS256,
                Some(&forged_kid),
                &k2,
                &claims(),
            ))
            .await,
        );
    }
    let t2 = sign_with(Algorithm::RS256, Some("k2"), &k2, &claims());
    match jwt.verify(&t2).await {
        Err(e) => assert_eq!(e.reason(), "no_matching_key"),
        Ok(_) => panic!("k2 must wait for the next allowed fetch"),
    }
    assert_eq!(
        server.hits(),
        1,
        "unknown kids never fetch more than once per interval"
    );
}

#[tokio::test]
async fn symmetric_keys_in_a_jwks_are_ignored() {
    let k1 = rsa(RSA1_PRIVATE);
    let mut doc: serde_json::Value = serde_json::from_str(&jwks(&[("k1", &k1)])).unwrap();
    let secret = b"published-secret-that-anyone-can-read!!";
    doc["keys"].as_array_mut().unwrap().push(json!({
        "kty": "oct", "kid": "hs", "alg": "HS256",
        "k": base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, secret)
    }));
    let (_server, addr) = JwksServer::start(doc.to_string()).await;
    let mut cfg = jwks_issuer(addr, 0);
    cfg.algorithms.push(Algorithm::HS256);
    let jwt = verifier(cfg);
    let forged = sign_with(
        Algorithm::HS256,
        Some("hs"),
        &EncodingKey::from_secret(secret),
        &claims(),
    );
    match jwt.verify(&forged).await {
        Err(e) => assert_eq!(e.reason(), "no_matching_key"),
        Ok(_) => panic!("an HMAC key from a JWKS URL must never verify"),
    }
    assert!(
        jwt.authenticate(&sign_with(Algorithm::RS256, Some("k1"), &k1, &claims()))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn unreachable_jwks_is_a_503_not_a_401() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let jwt = verifier(jwks_issuer(addr, 0));
    let token = sign_with(Algorithm::RS256, Some("k1"), &rsa(RSA1_PRIVATE), &claims());
    let err = jwt.authenticate(&token).await.unwrap_err();
    assert_eq!(err.status(), 503, "{err:?}");
    assert!(matches!(jwt.verify(&token).await, Err(AuthError::Jwks(_))));
}

#[tokio::test]
async fn a_stale_key_set_is_refreshed_in_the_background() {
    let (k1, k2) = (rsa(RSA1_PRIVATE), rsa(RSA2_PRIVATE));
    let (server, addr) = JwksServer::start(jwks(&[("k1", &k1)])).await;
    let mut cfg = jwks_issuer(addr, 0);
    cfg.jwks_refresh_secs = 0; // always stale: every use schedules a refresh
    let jwt = verifier(cfg);
    let t1 = sign_with(Algorithm::RS256, Some("k1"), &k1, &claims());
    assert!(jwt.authenticate(&t1).await.is_ok());
    server.set(jwks(&[("k2", &k2)]));
    // Served from the known set while the refresh runs...
    assert!(jwt.authenticate(&t1).await.is_ok());
    for _ in 0..200 {
        if server.hits() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(server.hits() >= 2, "a background refresh was made");
    // ...and the refreshed set applies afterwards.
    let t2 = sign_with(Algorithm::RS256, Some("k2"), &k2, &claims());
    assert!(jwt.authenticate(&t2).await.is_ok());
}
