//! The backup and restore drill, on SQLite and on PostgreSQL (`GATEWAY_TEST_DATABASE_URL`, a
//! schema of its own; skipped without it unless `GATEWAY_REQUIRE_SERVICES=1`): traffic
//! through the gateway against a mock provider (usage and audit records), a backup through
//! the admin API while admin writes go on, the store destroyed, a restore into an empty
//! one, then tenants, keys, usage totals and the audit chain checked, and a restored key
//! used for a call through a gateway serving the restored store.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::{TestGateway, chat_body, config_text, issue_key, send};
use gateway_app::{AppState, Config, Server};
use gateway_core::store::{AuditQuery, UsageDimension, UsageQuery};
use gateway_store::backup::{BackupKey, RestoreOptions};
use gateway_store::{SqlStore, StoreOptions};
use gateway_testkit::MockServer;
use http::Method;
use sqlx::{AssertSqlSafe, Connection};
use tokio::sync::oneshot;

const ADMIN_TOKEN: &str = "admin-token-0123456789abcdef";
/// 32 bytes of 0x2a, base64.
const KEY_B64: &str = "KioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKio=";

/// Where the drill's store lives, and how to get a new empty one at the same place.
enum Place {
    Sqlite { dir: tempfile::TempDir },
    Postgres { url: String, schema: String },
}

impl Place {
    fn sqlite_path(dir: &Path) -> PathBuf {
        dir.join("gateway.db")
    }

    async fn connect(&self) -> SqlStore {
        match self {
            Place::Sqlite { dir } => SqlStore::connect(&format!(
                "sqlite://{}?mode=rwc",
                Place::sqlite_path(dir.path()).display()
            ))
            .await
            .unwrap(),
            Place::Postgres { url, schema } => SqlStore::connect_with(
                url,
                &StoreOptions {
                    pg_schema: Some(schema.clone()),
                    ..StoreOptions::default()
                },
            )
            .await
            .unwrap(),
        }
    }

    /// Destroys the store: the SQLite files, or the PostgreSQL schema.
    async fn destroy(&self) {
        match self {
            Place::Sqlite { dir } => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut name = Place::sqlite_path(dir.path()).into_os_string();
                    name.push(suffix);
                    let _ = std::fs::remove_file(name);
                }
                assert!(!Place::sqlite_path(dir.path()).exists());
            }
            Place::Postgres { url, schema } => drop_schema(url, schema).await,
        }
    }
}

async fn drop_schema(url: &str, schema: &str) {
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::query(AssertSqlSafe(format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE"
    )))
    .execute(&mut conn)
    .await
    .unwrap();
}

struct Running {
    addr: std::net::SocketAddr,
    state: Arc<AppState>,
    stop: oneshot::Sender<()>,
    done: tokio::task::JoinHandle<bool>,
}

impl Running {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    async fn admin(&self, method: Method, path: &str, body: &str) -> common::Reply {
        let auth = format!("Bearer {ADMIN_TOKEN}");
        send(
            method,
            &self.url(path),
            body.to_owned(),
            &[
                ("content-type", "application/json"),
                ("authorization", auth.as_str()),
            ],
        )
        .await
    }

    async fn chat(&self, key: &str, stream: bool) -> u16 {
        let auth = format!("Bearer {key}");
        send(
            Method::POST,
            &self.url("/v1/chat/completions"),
            chat_body("gpt-test", stream),
            &[
                ("content-type", "application/json"),
                ("authorization", auth.as_str()),
            ],
        )
        .await
        .status
        .as_u16()
    }

    async fn stop(self) {
        self.state.telemetry.flush().await;
        let _ = self.stop.send(());
        self.done.await.unwrap();
        self.state.close().await;
    }
}

async fn serve(config: &Config, store: SqlStore) -> Running {
    let state = AppState::build_with_store(config, store).await.unwrap();
    let server = Server::bind(&config.server).await.unwrap();
    let addr = server.local_addr().unwrap();
    let (stop, rx) = oneshot::channel();
    let done = tokio::spawn(server.run(state.clone(), async move {
        let _ = rx.await;
    }));
    Running {
        addr,
        state,
        stop,
        done,
    }
}

fn config(mock: &MockServer, backups: &Path) -> Config {
    let text = format!(
        "{}\n[admin]\ntoken = \"{ADMIN_TOKEN}\"\n\n[backup]\nkey = \"{KEY_B64}\"\ndir = \"{}\"\nkeep = 3\n",
        config_text(mock, ""),
        backups.display()
    );
    Config::from_toml_str(&text, &|_| None, std::iter::empty()).unwrap()
}

async fn usage_totals(state: &AppState) -> Vec<(String, u64, u64)> {
    state
        .store
        .query_usage(&UsageQuery {
            group_by: vec![UsageDimension::Tenant],
            ..UsageQuery::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|a| {
            (
                a.tenant.map(|t| t.as_str().to_owned()).unwrap_or_default(),
                a.totals.requests,
                a.totals.total_tokens,
            )
        })
        .collect()
}

async fn drill(place: Place) {
    let mock = MockServer::start().await.unwrap();
    let backups = tempfile::tempdir().unwrap();
    let config = config(&mock, backups.path());

    // Traffic: calls (usage records) and admin changes (audit events).
    let gw = serve(&config, place.connect().await).await;
    let key = issue_key(&gw.state, "acme").await;
    for i in 0..12 {
        assert_eq!(gw.chat(&key, i % 3 == 0).await, 200);
    }
    let created = gw
        .admin(
            Method::POST,
            "/admin/v1/tenants",
            r#"{"id":"globex","name":"Globex"}"#,
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let globex_key = gw
        .admin(
            Method::POST,
            "/admin/v1/keys",
            r#"{"tenant":"globex","name":"app"}"#,
        )
        .await
        .json()["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(gw.chat(&globex_key, false).await, 200);
    gw.state.telemetry.flush().await;
    let totals = usage_totals(&gw.state).await;
    assert_eq!(totals.iter().map(|t| t.1).sum::<u64>(), 13);

    // The backup, while admin writes go on.
    let writer = {
        let url = gw.url("/admin/v1/tenants");
        tokio::spawn(async move {
            for i in 0..20 {
                let auth = format!("Bearer {ADMIN_TOKEN}");
                let r = send(
                    Method::POST,
                    &url,
                    format!(r#"{{"id":"busy-{i}","name":"Busy {i}"}}"#),
                    &[
                        ("content-type", "application/json"),
                        ("authorization", auth.as_str()),
                    ],
                )
                .await;
                assert_eq!(r.status, 201);
            }
        })
    };
    let made = gw.admin(Method::POST, "/admin/v1/backups", "").await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    writer.await.unwrap();
    let made = made.json();
    let id = made["id"].as_str().unwrap().to_owned();
    let manifest = &made["manifest"];
    let rows = |table: &str| {
        manifest["tables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == table)
            .map(|t| t["rows"].as_u64().unwrap())
            .unwrap()
    };
    assert_eq!(rows("usage_records"), 13);
    let tenants_in_backup = rows("tenants");
    assert!((2..=22).contains(&tenants_in_backup), "{tenants_in_backup}");
    let audit_in_backup = rows("audit_events");
    assert_eq!(
        manifest["audit_head"]["seq"].as_u64().unwrap(),
        audit_in_backup
    );

    let listed = gw.admin(Method::GET, "/admin/v1/backups", "").await.json();
    assert_eq!(listed["data"][0]["id"], id.as_str());
    let shown = gw
        .admin(Method::GET, &format!("/admin/v1/backups/{id}"), "")
        .await;
    assert_eq!(shown.status, 200);
    assert_eq!(shown.json()["manifest"], *manifest);
    let missing = gw
        .admin(Method::GET, "/admin/v1/backups/..%2Fetc", "")
        .await;
    assert_eq!(missing.status, 404);
    let metrics = send(Method::GET, &gw.url("/metrics"), "", &[]).await;
    let metrics = String::from_utf8_lossy(&metrics.body).into_owned();
    assert!(
        metrics.contains("gateway_backup_successes_total 1"),
        "{metrics}"
    );

    let key_record = gw
        .state
        .store
        .list_keys(None)
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.tenant.as_str() == "acme")
        .unwrap();
    gw.stop().await;

    // Disaster: the store is gone. Restore into an empty one at the same place.
    place.destroy().await;
    let empty = place.connect().await;
    assert!(
        empty
            .table_counts()
            .await
            .unwrap()
            .values()
            .all(|n| *n == 0)
    );
    let archive = backups.path().join(format!("{id}.gwbackup"));
    let report = empty
        .restore_backup(
            &archive,
            &BackupKey::from_base64(KEY_B64).unwrap(),
            &RestoreOptions {
                replace: false,
                actor: "drill".to_owned(),
            },
        )
        .await
        .unwrap();
    assert_eq!(report.audit_seq, audit_in_backup + 1);

    // The restored store serves: the same tenants, keys, usage and an unbroken audit chain.
    let gw = serve(&config, empty).await;
    let tenants = gw.state.store.list_tenants().await.unwrap();
    assert_eq!(tenants.len() as u64, tenants_in_backup);
    assert_eq!(
        gw.state.store.get_key(&key_record.id).await.unwrap(),
        Some(key_record)
    );
    assert_eq!(usage_totals(&gw.state).await, totals);
    let verified = gw.admin(Method::GET, "/admin/v1/audit/verify", "").await;
    assert_eq!(verified.status, 200, "{:?}", verified.body);
    let verified = verified.json();
    assert_eq!(verified["intact"], true, "{verified}");
    assert_eq!(verified["checked"].as_u64().unwrap(), audit_in_backup + 1);
    let last = gw
        .state
        .store
        .list_audit(&AuditQuery {
            newest_first: true,
            limit: 1,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(last[0].event.action, "backup.restored");
    assert_eq!(last[0].event.target.as_deref(), Some(id.as_str()));
    assert!(last[0].event.details["gap_ms"].as_i64().unwrap() >= 0);
    // Keys issued before the backup still authenticate.
    assert_eq!(gw.chat(&key, false).await, 200);
    assert_eq!(gw.chat(&globex_key, true).await, 200);
    gw.stop().await;
    if let Place::Postgres { url, schema } = &place {
        drop_schema(url, schema).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drill_on_sqlite() {
    drill(Place::Sqlite {
        dir: tempfile::tempdir().unwrap(),
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drill_on_postgres() {
    let Ok(url) = std::env::var("GATEWAY_TEST_DATABASE_URL") else {
        assert_ne!(
            std::env::var("GATEWAY_REQUIRE_SERVICES").as_deref(),
            Ok("1"),
            "GATEWAY_REQUIRE_SERVICES=1 but GATEWAY_TEST_DATABASE_URL is not set"
        );
        println!("skipped: GATEWAY_TEST_DATABASE_URL not set");
        return;
    };
    let schema = format!("gw_drill_{}", uuid::Uuid::new_v4().simple());
    drill(Place::Postgres { url, schema }).await;
}

/// Without `[backup] key` the API says how to turn backups on.
#[tokio::test]
async fn backups_need_a_key() {
    let gw = TestGateway::start_with_sections("", &format!("[admin]\ntoken = \"{ADMIN_TOKEN}\"\n"))
        .await;
    let auth = format!("Bearer {ADMIN_TOKEN}");
    let r = send(
        Method::POST,
        &gw.url("/admin/v1/backups"),
        "",
        &[("authorization", auth.as_str())],
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("[backup] key"),
        "{:?}",
        r.body
    );
    // A developer key may not take backups (they hold every tenant's data).
    let r = gw.post("/admin/v1/backups", "").await;
    assert_eq!(r.status, 403);
    gw.shutdown().await;
}
