//! The edge profile: tenants and hashed keys from an Ed25519-signed file, no database. A
//! signed file is served (its keys authenticate, their limits apply, admin writes are
//! refused); an unsigned or altered one stops the start with a clear error; a reload with a
//! re-signed file drops the keys it no longer lists, and a bad or older file is refused
//! while the served one stays.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::sync::Arc;

use arc_swap::ArcSwap;
use gateway_app::reload::reload;
use gateway_app::{AppState, Config, Server};
use gateway_auth::ApiKeys;
use gateway_core::store::Limits;
use gateway_store::signed_file::{EdgeDocument, KeyEntry, SigningKey, TenantEntry};
use gateway_testkit::MockServer;
use http::Method;

const PEPPER: &str = "edge-test-pepper-0123456789";
const ADMIN_TOKEN: &str = "admin-token-0123456789abcdef";

struct Issued {
    secret: String,
    entry: KeyEntry,
}

fn issue(id: &str, rpm: Option<u64>) -> Issued {
    let pepper = gateway_core::Secret::new(PEPPER.to_owned());
    let key = ApiKeys::new(Some(&pepper)).generate();
    Issued {
        secret: key.secret.expose().clone(),
        entry: KeyEntry {
            id: id.to_owned(),
            name: None,
            prefix: key.display_prefix,
            hash: key.hash.to_hex(),
            roles: vec!["developer".to_owned()],
            allowed_models: None,
            allowed_networks: None,
            limits: Limits {
                rpm,
                ..Limits::default()
            },
            expires_at: None,
            enabled: true,
        },
    }
}

fn document(serial: u64, keys: &[&Issued]) -> EdgeDocument {
    EdgeDocument {
        serial,
        tenants: vec![TenantEntry {
            id: "acme".to_owned(),
            name: Some("Acme".to_owned()),
            enabled: true,
            allowed_models: None,
            allowed_regions: None,
            allowed_networks: None,
            threat_intel_opt_out: false,
            limits: Limits::default(),
            keys: keys.iter().map(|k| k.entry.clone()).collect(),
        }],
    }
}

fn config(mock: &MockServer, file: &Path, signer: &SigningKey) -> Config {
    let text = format!(
        "{}\n[auth]\npepper = \"{PEPPER}\"\n\n[admin]\ntoken = \"{ADMIN_TOKEN}\"\n\n\
         [store.signed_file]\npath = {file:?}\npublic_key = \"{}\"\n",
        common::config_text(mock, ""),
        signer.public_key().to_base64()
    );
    Config::from_toml_str(&text, &|_| None, std::iter::empty()).expect("valid config")
}

async fn chat(addr: std::net::SocketAddr, secret: &str) -> common::Reply {
    let auth = format!("Bearer {secret}");
    common::send(
        Method::POST,
        &format!("http://{addr}/v1/chat/completions"),
        common::chat_body("gpt-test", false),
        &[
            ("content-type", "application/json"),
            ("authorization", auth.as_str()),
        ],
    )
    .await
}

#[tokio::test]
async fn signed_keys_serve_with_their_limits_and_revocation_follows_a_re_signed_file() {
    let mock = MockServer::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tenants.signed.json");
    let signer = SigningKey::generate().unwrap();
    let limited = issue("key-limited", Some(2));
    let revoked_later = issue("key-revoked-later", None);
    std::fs::write(
        &file,
        signer
            .sign(&document(1, &[&limited, &revoked_later]))
            .unwrap(),
    )
    .unwrap();
    let config = config(&mock, &file, &signer);
    let state = AppState::build(&config)
        .await
        .expect("a signed file is accepted");
    assert_eq!(state.store.backend(), "signed_file");
    let server = Server::bind(&config.server).await.unwrap();
    let addr = server.local_addr().unwrap();
    let states = Arc::new(ArcSwap::new(state));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server.run_swappable(states.clone(), async move {
        let _ = stopped.await;
    }));

    // A key from the file authenticates; its limit (2 per minute) applies.
    assert_eq!(chat(addr, &limited.secret).await.status, 200);
    assert_eq!(chat(addr, &limited.secret).await.status, 200);
    let refused = chat(addr, &limited.secret).await;
    assert_eq!(refused.status, 429, "{:?}", refused.body);
    assert_eq!(chat(addr, &revoked_later.secret).await.status, 200);
    // A key the file does not list is refused.
    assert_eq!(
        chat(addr, &issue("stranger", None).secret).await.status,
        401
    );

    // Admin writes are refused: the file is the only source of tenants and keys.
    let admin = format!("Bearer {ADMIN_TOKEN}");
    let write = common::send(
        Method::POST,
        &format!("http://{addr}/admin/v1/tenants"),
        r#"{"id": "intruder", "name": "x"}"#,
        &[
            ("content-type", "application/json"),
            ("authorization", admin.as_str()),
        ],
    )
    .await;
    assert_eq!(write.status, 400, "{:?}", write.body);
    assert_eq!(write.json()["error"]["code"], "read_only_store");
    let listed = common::send(
        Method::GET,
        &format!("http://{addr}/admin/v1/keys?tenant=acme"),
        "",
        &[("authorization", admin.as_str())],
    )
    .await;
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    let listed = String::from_utf8_lossy(&listed.body);
    assert!(
        listed.contains("key-limited") && listed.contains("key-revoked-later"),
        "{listed}"
    );

    // An altered file is refused on reload; the served one stays.
    let mut tampered = signer.sign(&document(2, &[&limited])).unwrap();
    tampered = tampered.replacen("\"payload\": \"", "\"payload\": \"e30", 1);
    std::fs::write(&file, &tampered).unwrap();
    let err = reload(&states, || Ok(config.clone())).unwrap_err();
    assert!(err.to_string().contains("store.signed_file"), "{err}");
    assert_eq!(chat(addr, &revoked_later.secret).await.status, 200);

    // Re-signed without the key: refused at once after the reload.
    std::fs::write(&file, signer.sign(&document(2, &[&limited])).unwrap()).unwrap();
    reload(&states, || Ok(config.clone())).unwrap();
    assert_eq!(chat(addr, &revoked_later.secret).await.status, 401);
    // Limits are kept across the reload (in-process counters live with the process).
    assert_eq!(chat(addr, &limited.secret).await.status, 429);

    // An older, validly signed file (which still lists the revoked key) is refused.
    std::fs::write(
        &file,
        signer
            .sign(&document(1, &[&limited, &revoked_later]))
            .unwrap(),
    )
    .unwrap();
    let err = reload(&states, || Ok(config.clone())).unwrap_err();
    let err = error_chain(&err);
    assert!(err.contains("serial 1, older than the 2"), "{err}");
    assert_eq!(chat(addr, &revoked_later.secret).await.status, 401);

    let _ = stop.send(());
    serving.await.unwrap();
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[tokio::test]
async fn unsigned_altered_or_foreign_files_stop_the_start_with_a_clear_error() {
    let mock = MockServer::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tenants.signed.json");
    let signer = SigningKey::generate().unwrap();
    let key = issue("k", None);
    let config = config(&mock, &file, &signer);
    let start_error = |contents: String| {
        std::fs::write(&file, contents).unwrap();
        let config = config.clone();
        async move {
            match AppState::build(&config).await {
                Ok(_) => panic!("the file was accepted"),
                Err(e) => error_chain(&e),
            }
        }
    };

    let unsigned = serde_json::to_string(&document(1, &[&key])).unwrap();
    let err = start_error(unsigned).await;
    assert!(
        err.contains("store.signed_file") && err.contains("not signed"),
        "{err}"
    );

    let signed = signer.sign(&document(1, &[&key])).unwrap();
    let mut envelope: serde_json::Value = serde_json::from_str(&signed).unwrap();
    let other = SigningKey::generate()
        .unwrap()
        .sign(&document(9, &[&key]))
        .unwrap();
    let other: serde_json::Value = serde_json::from_str(&other).unwrap();
    envelope["payload"] = other["payload"].clone();
    let err = start_error(envelope.to_string()).await;
    assert!(err.contains("signature does not match"), "{err}");

    let foreign = SigningKey::generate()
        .unwrap()
        .sign(&document(1, &[&key]))
        .unwrap();
    let err = start_error(foreign).await;
    assert!(err.contains("signature does not match"), "{err}");

    std::fs::remove_file(&file).unwrap();
    let err = match AppState::build(&config).await {
        Ok(_) => panic!("a missing file was accepted"),
        Err(e) => error_chain(&e),
    };
    assert!(err.contains("cannot read the signed tenants file"), "{err}");
}

/// Without a database, the Responses API answers but stores nothing, and says so.
#[tokio::test]
async fn the_edge_profile_answers_responses_without_storing_them() {
    let mock = MockServer::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tenants.signed.json");
    let signer = SigningKey::generate().unwrap();
    let key = issue("key-responses", None);
    std::fs::write(&file, signer.sign(&document(1, &[&key])).unwrap()).unwrap();
    let config = config(&mock, &file, &signer);
    let state = AppState::build(&config).await.unwrap();
    let server = Server::bind(&config.server).await.unwrap();
    let addr = server.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server.run(state, async move {
        let _ = stopped.await;
    }));
    let auth = format!("Bearer {}", key.secret);
    let headers = [
        ("content-type", "application/json"),
        ("authorization", auth.as_str()),
    ];
    let url = format!("http://{addr}/v1/responses");
    let created = common::send(
        Method::POST,
        &url,
        r#"{"model": "gpt-test", "input": "hello edge"}"#,
        &headers,
    )
    .await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    let created = created.json();
    assert_eq!(created["store"], false);
    let id = created["id"].as_str().unwrap();
    let got = common::send(Method::GET, &format!("{url}/{id}"), "", &headers).await;
    assert_eq!(got.status, 404);
    let continued = common::send(
        Method::POST,
        &url,
        format!(r#"{{"model": "gpt-test", "input": "more", "previous_response_id": "{id}"}}"#),
        &headers,
    )
    .await;
    assert_eq!(continued.status, 404, "{:?}", continued.body);
    let _ = stop.send(());
    serving.await.unwrap();
}
