//! Key management of the encryption of stored content through the admin API
//! (`/admin/v1/tenants/{id}/encryption[/rotate|/reencrypt]`, `/admin/v1/encryption/rewrap`):
//! rotation while responses are being written (old rows still read, new rows under the new
//! version), re-encryption counts and the stored rows' versions, re-wrapping after the KEK
//! changed (one database, successive configurations), RBAC refusals, audit events, and the
//! answer of a gateway without `[encryption]`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::sync::Arc;

use common::*;
use gateway_app::{AppState, Config, Server};
use gateway_auth::NewApiKey;
use gateway_core::store::{AuditOutcome, AuditQuery, Tenant};
use gateway_core::{GatewayRole, TenantId};
use gateway_store::SqlStore;
use gateway_testkit::MockServer;
use http::Method;
use serde_json::{Value, json};

const ADMIN: &str = "admin-token-for-key-management-0123";
const KEK_A: &str = "4b454b2d612d666f722d6b65792d6d616e6167656d656e742d74657374732d41";
const KEK_B: &str = "4b454b2d622d666f722d6b65792d6d616e6167656d656e742d74657374732d42";

/// A gateway over the SQLite file in `dir` (so that another configuration can open it again).
struct Running {
    state: Arc<AppState>,
    addr: std::net::SocketAddr,
    key: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<bool>>,
}

fn db_url(dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", dir.join("gateway.db").display())
}

fn encryption(kek: &str, kek_id: &str, retired: &str) -> String {
    format!(
        "[admin]\ntoken = \"{ADMIN}\"\n[encryption]\nkek = \"{kek}\"\nkek_id = \"{kek_id}\"\n\
         retired_keks = {{ {retired} }}\n"
    )
}

impl Running {
    async fn start(dir: &Path, mock: &MockServer, sections: &str) -> Running {
        let config = Config::from_toml_str(
            &format!("{}\n{sections}", config_text(mock, "")),
            &|_| None,
            std::iter::empty(),
        )
        .unwrap();
        let store = SqlStore::connect(&db_url(dir)).await.unwrap();
        let state = AppState::build_with_store(&config, store).await.unwrap();
        let key = issue_key(&state, "acme").await;
        let server = Server::bind(&config.server).await.unwrap();
        let addr = server.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(server.run(state.clone(), async move {
            let _ = stopped.await;
        }));
        Running {
            state,
            addr,
            key,
            stop: Some(stop),
            task: Some(task),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.take().unwrap().await.unwrap();
        self.state.close().await;
    }

    async fn admin(&self, method: Method, path: &str) -> Reply {
        call(&self.url(path), ADMIN, method, "").await
    }
}

async fn call(url: &str, token: &str, method: Method, body: &str) -> Reply {
    let auth = format!("Bearer {token}");
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    send(method, url, body.to_owned(), &headers).await
}

/// Stores a response for `input`; returns its id.
async fn respond(url: &str, key: &str, input: &str) -> String {
    let body = json!({"model": "gpt-test", "input": input}).to_string();
    let reply = call(&format!("{url}/v1/responses"), key, Method::POST, &body).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.json()["id"].as_str().unwrap().to_owned()
}

/// The data-key version of every sealed content value of `acme`'s stored responses, read
/// from the database file itself.
async fn stored_versions(dir: &Path, plaintext: &[&str]) -> Vec<u32> {
    let pool = sqlx::SqlitePool::connect(&db_url(dir)).await.unwrap();
    let rows: Vec<(Option<String>, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT response, input_items, conversation FROM responses WHERE tenant = 'acme'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    let mut versions = Vec::new();
    for value in rows.into_iter().flat_map(|(a, b, c)| [a, b, c]).flatten() {
        for p in plaintext {
            assert!(!value.contains(p), "plaintext at rest: {value}");
        }
        let sealed = gateway_store::encryption::from_text(&value)
            .expect("sealed text")
            .unwrap();
        assert_eq!(&sealed[..4], b"GWE1");
        versions.push(u32::from_be_bytes(sealed[4..8].try_into().unwrap()));
    }
    versions
}

async fn audited(state: &AppState, action: &str) -> Vec<(AuditOutcome, Value)> {
    let records = state
        .store
        .list_audit(&AuditQuery {
            action: Some(action.to_owned()),
            limit: 100,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    records
        .into_iter()
        .map(|r| (r.event.outcome, r.event.details))
        .collect()
}

#[tokio::test]
async fn rotation_under_traffic_then_reencryption_through_the_admin_api() {
    let dir = tempfile::tempdir().unwrap();
    let mock = MockServer::start().await.unwrap();
    let gw = Running::start(dir.path(), &mock, &encryption(KEK_A, "kek-a", "")).await;
    let base = gw.url("");

    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(respond(&base, &gw.key, &format!("before rotation {i}")).await);
    }
    let before = stored_versions(dir.path(), &["before rotation"]).await;
    assert!(
        !before.is_empty() && before.iter().all(|v| *v == 1),
        "{before:?}"
    );
    let status = gw
        .admin(Method::GET, "/admin/v1/tenants/acme/encryption")
        .await;
    assert_eq!(status.status, 200, "{:?}", status.body);
    assert_eq!(status.json()["current"], 1);
    assert_eq!(
        status.json()["versions"],
        json!([{"version": 1, "kek_id": "kek-a"}])
    );
    let shown = status.json();
    let mut fields: Vec<String> = shown.as_object().unwrap().keys().cloned().collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "current",
            "kek_id",
            "object",
            "shredded_up_to",
            "tenant",
            "versions"
        ],
        "versions and KEK ids, no key material"
    );

    // Rotate while another task keeps writing.
    let traffic = tokio::spawn({
        let (base, key) = (base.clone(), gw.key.clone());
        async move {
            let mut made = Vec::new();
            for i in 0..12 {
                made.push(respond(&base, &key, &format!("during rotation {i}")).await);
            }
            made
        }
    });
    let rotated = gw
        .admin(Method::POST, "/admin/v1/tenants/acme/encryption/rotate")
        .await;
    assert_eq!(rotated.status, 200, "{:?}", rotated.body);
    assert_eq!(rotated.json()["current"], 2);
    assert_eq!(rotated.json()["versions"].as_array().unwrap().len(), 2);
    ids.extend(traffic.await.unwrap());
    let after = respond(&base, &gw.key, "after rotation").await;
    ids.push(after.clone());

    // Everything reads, whichever key sealed it; new writes use version 2.
    for id in &ids {
        let got = call(
            &gw.url(&format!("/v1/responses/{id}")),
            &gw.key,
            Method::GET,
            "",
        )
        .await;
        assert_eq!(got.status, 200, "{id}: {:?}", got.body);
    }
    let got = call(
        &gw.url(&format!("/v1/responses/{after}")),
        &gw.key,
        Method::GET,
        "",
    )
    .await;
    assert!(
        got.json()["output"][0]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("after rotation")
    );
    let versions = stored_versions(dir.path(), &["rotation"]).await;
    let old = versions.iter().filter(|v| **v == 1).count() as u64;
    assert!(old >= before.len() as u64, "{versions:?}");
    assert!(
        versions.contains(&2),
        "new writes use the new key: {versions:?}"
    );

    // Re-encryption, with writes going on: exactly the version-1 values are sealed again.
    let traffic = tokio::spawn({
        let (base, key) = (base.clone(), gw.key.clone());
        async move {
            for i in 0..6 {
                respond(&base, &key, &format!("during reencryption {i}")).await;
            }
        }
    });
    let re = gw
        .admin(Method::POST, "/admin/v1/tenants/acme/encryption/reencrypt")
        .await;
    assert_eq!(re.status, 200, "{:?}", re.body);
    assert_eq!(re.json()["reencrypted"]["resealed"], old, "{}", re.json());
    traffic.await.unwrap();
    let versions = stored_versions(dir.path(), &["rotation", "reencryption"]).await;
    assert!(versions.iter().all(|v| *v == 2), "{versions:?}");
    let again = gw
        .admin(Method::POST, "/admin/v1/tenants/acme/encryption/reencrypt")
        .await;
    assert_eq!(again.json()["reencrypted"]["resealed"], 0);
    assert_eq!(again.json()["reencrypted"]["current"], versions.len());
    for id in &ids {
        let got = call(
            &gw.url(&format!("/v1/responses/{id}")),
            &gw.key,
            Method::GET,
            "",
        )
        .await;
        assert_eq!(got.status, 200, "{id}");
    }

    let rotations = audited(&gw.state, "tenant.keys.rotate").await;
    assert_eq!(rotations.len(), 1);
    assert_eq!(rotations[0].0, AuditOutcome::Success);
    assert_eq!(rotations[0].1["version"], 2);
    let reencryptions = audited(&gw.state, "tenant.keys.reencrypt").await;
    assert_eq!(reencryptions.len(), 2);
    assert!(
        reencryptions
            .iter()
            .any(|(_, d)| d["resealed"].as_u64() == Some(old))
    );
    gw.stop().await;
}

#[tokio::test]
async fn rewrap_after_the_kek_changed_across_configurations() {
    let dir = tempfile::tempdir().unwrap();
    let mock = MockServer::start().await.unwrap();
    let first = Running::start(dir.path(), &mock, &encryption(KEK_A, "kek-a", "")).await;
    let id = respond(&first.url(""), &first.key, "sealed under kek-a").await;
    let rotated = first
        .admin(Method::POST, "/admin/v1/tenants/acme/encryption/rotate")
        .await;
    assert_eq!(rotated.status, 200);
    first.stop().await;

    // The new KEK is current, the old one retired: both unwrap, so everything reads.
    let retired = format!("\"kek-a\" = \"{KEK_A}\"");
    let second = Running::start(dir.path(), &mock, &encryption(KEK_B, "kek-b", &retired)).await;
    let path = format!("/v1/responses/{id}");
    let got = call(&second.url(&path), &second.key, Method::GET, "").await;
    assert_eq!(got.status, 200, "{:?}", got.body);
    let status = second
        .admin(Method::GET, "/admin/v1/tenants/acme/encryption")
        .await;
    assert_eq!(status.json()["kek_id"], "kek-b");
    assert!(
        status.json()["versions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["kek_id"] == "kek-a")
    );
    let rewrap = second
        .admin(Method::POST, "/admin/v1/encryption/rewrap")
        .await;
    assert_eq!(rewrap.status, 200, "{:?}", rewrap.body);
    assert_eq!(
        rewrap.json(),
        json!({"object": "kek.rewrap", "kek_id": "kek-b", "rewrapped": 2, "already_current": 0})
    );
    let status = second
        .admin(Method::GET, "/admin/v1/tenants/acme/encryption")
        .await;
    assert_eq!(
        status.json()["versions"],
        json!([{"version": 1, "kek_id": "kek-b"}, {"version": 2, "kek_id": "kek-b"}])
    );
    let again = second
        .admin(Method::POST, "/admin/v1/encryption/rewrap")
        .await;
    assert_eq!(again.json()["rewrapped"], 0);
    assert_eq!(again.json()["already_current"], 2);
    let events = audited(&second.state, "encryption.rewrap").await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].1["rewrapped"], 2);
    second.stop().await;

    // The retired KEK removed: content sealed before either rotation still reads.
    let third = Running::start(dir.path(), &mock, &encryption(KEK_B, "kek-b", "")).await;
    let got = call(&third.url(&path), &third.key, Method::GET, "").await;
    assert_eq!(got.status, 200, "{:?}", got.body);
    assert!(String::from_utf8_lossy(&got.body).contains("sealed under kek-a"));
    third.stop().await;
}

async fn key_with_role(gw: &TestGateway, tenant: &str, role: GatewayRole) -> String {
    let id = TenantId::new(tenant);
    if gw.state.store.get_tenant(&id).await.unwrap().is_none() {
        gw.state
            .store
            .create_tenant(&Tenant::new(id.clone(), tenant))
            .await
            .unwrap();
    }
    let mut new = NewApiKey::new(id, format!("{} key", role.as_str()));
    new.roles = vec![role];
    let manager = gw.state.auth.key_manager.as_ref().unwrap();
    manager.create(new).await.unwrap().secret.expose().clone()
}

#[tokio::test]
async fn only_the_right_roles_manage_keys_and_every_attempt_is_audited() {
    let gw = TestGateway::start_with_sections("", &encryption(KEK_A, "kek-a", "")).await;
    let acme_admin = key_with_role(&gw, "acme", GatewayRole::TenantAdmin).await;
    key_with_role(&gw, "beta", GatewayRole::Developer).await;
    let status_of = async |token: &str, method: Method, path: &str| {
        call(&gw.url(path), token, method, r#"{"values": ["gwe1:AAAA"]}"#)
            .await
            .status
            .as_u16()
    };
    let acme = "/admin/v1/tenants/acme/encryption";
    let beta = "/admin/v1/tenants/beta/encryption";
    // A tenant admin manages its own tenant's data key ...
    assert_eq!(status_of(&acme_admin, Method::GET, acme).await, 200);
    assert_eq!(
        status_of(&acme_admin, Method::POST, &format!("{acme}/rotate")).await,
        200
    );
    assert_eq!(
        status_of(&acme_admin, Method::POST, &format!("{acme}/reencrypt")).await,
        200
    );
    // ... not another tenant's, and nothing gateway-wide.
    for (method, path) in [
        (Method::GET, beta.to_owned()),
        (Method::POST, format!("{beta}/rotate")),
        (Method::POST, format!("{beta}/reencrypt")),
        (Method::POST, format!("{acme}/open")),
        (Method::POST, "/admin/v1/encryption/rewrap".to_owned()),
    ] {
        assert_eq!(status_of(&acme_admin, method, &path).await, 403, "{path}");
    }
    // A developer manages nothing.
    for (method, path) in [
        (Method::GET, acme.to_owned()),
        (Method::POST, format!("{acme}/rotate")),
        (Method::POST, "/admin/v1/encryption/rewrap".to_owned()),
    ] {
        assert_eq!(status_of(&gw.key, method, &path).await, 403, "{path}");
    }
    // An admin may, on any existing tenant; a mistyped one is 404, no key made for it.
    assert_eq!(
        status_of(ADMIN, Method::POST, &format!("{beta}/rotate")).await,
        200
    );
    let missing = "/admin/v1/tenants/no-such-tenant/encryption";
    assert_eq!(
        status_of(ADMIN, Method::POST, &format!("{missing}/rotate")).await,
        404
    );
    let none = call(&gw.url(missing), ADMIN, Method::GET, "").await;
    assert_eq!(none.json()["current"], Value::Null);

    let rotations = audited(&gw.state, "tenant.keys.rotate").await;
    let denied = rotations
        .iter()
        .filter(|(o, _)| *o == AuditOutcome::Denied)
        .count();
    assert_eq!(denied, 2, "{rotations:?}");
    assert_eq!(
        rotations
            .iter()
            .filter(|(o, _)| *o == AuditOutcome::Success)
            .count(),
        2
    );
    let rewraps = audited(&gw.state, "encryption.rewrap").await;
    assert_eq!(rewraps.len(), 2);
    assert!(rewraps.iter().all(|(o, _)| *o == AuditOutcome::Denied));
    assert_eq!(audited(&gw.state, "tenant.keys.read").await.len(), 4);
}

#[tokio::test]
async fn without_encryption_every_route_says_it_is_not_configured() {
    let gw = TestGateway::start_with_sections("", &format!("[admin]\ntoken = \"{ADMIN}\"\n")).await;
    for (method, path, body) in [
        (Method::GET, "/admin/v1/tenants/acme/encryption", ""),
        (Method::POST, "/admin/v1/tenants/acme/encryption/rotate", ""),
        (
            Method::POST,
            "/admin/v1/tenants/acme/encryption/reencrypt",
            "",
        ),
        (Method::POST, "/admin/v1/encryption/rewrap", ""),
        (
            Method::POST,
            "/admin/v1/tenants/acme/encryption/open",
            r#"{"values": ["gwe1:AAAA"]}"#,
        ),
    ] {
        let reply = call(&gw.url(path), ADMIN, method, body).await;
        assert_eq!(reply.status, 400, "{path}");
        let message = reply.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(message.contains("not configured"), "{message}");
    }
}
