//! Durability: a job accepted by an instance that stops before running it is run once by the
//! next instance (the mock counts the upstream calls), a completed job is not sent again by
//! later instances, and a job in flight when its instance stopped is run again once, marked
//! retried. Over a SQLite file, and over PostgreSQL when `GATEWAY_TEST_DATABASE_URL` is set
//! (each test in a schema of its own).

use std::sync::Arc;
use std::time::Duration;

use gateway_app::{AppState, Config, Server};
use gateway_store::{SqlStore, StoreOptions};
use gateway_testkit::MockServer;
use tokio::sync::oneshot;

use super::{answer, start_worker, submit};
use crate::common::{config_text, issue_key};

/// One gateway instance over a store shared with the others.
struct Instance {
    url: String,
    state: Arc<AppState>,
    stop: Option<oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<bool>,
}

impl Instance {
    async fn start(mock: &MockServer, store: SqlStore) -> Instance {
        let config =
            Config::from_toml_str(&config_text(mock, ""), &|_| None, std::iter::empty()).unwrap();
        let state = AppState::build_with_store(&config, store).await.unwrap();
        let server = Server::bind(&config.server).await.unwrap();
        let url = format!("http://{}", server.local_addr().unwrap());
        let (tx, rx) = oneshot::channel();
        let done = tokio::spawn(server.run(state.clone(), async move {
            let _ = rx.await;
        }));
        Instance {
            url,
            state,
            stop: Some(tx),
            done,
        }
    }

    async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let _ = self.done.await;
        self.state.close().await;
    }
}

/// How stores of one database are opened (each call: another instance).
enum Backend {
    Sqlite(tempfile::TempDir),
    Postgres { url: String, schema: String },
}

impl Backend {
    async fn open(&self) -> SqlStore {
        match self {
            Backend::Sqlite(dir) => SqlStore::connect(&format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("gateway.db").display()
            ))
            .await
            .unwrap(),
            Backend::Postgres { url, schema } => {
                let options = StoreOptions {
                    pg_schema: Some(schema.clone()),
                    ..StoreOptions::default()
                };
                SqlStore::connect_with(url, &options).await.unwrap()
            }
        }
    }

    fn sqlite() -> Backend {
        Backend::Sqlite(tempfile::tempdir().unwrap())
    }

    fn postgres() -> Option<Backend> {
        let Ok(url) = std::env::var("GATEWAY_TEST_DATABASE_URL") else {
            assert_ne!(
                std::env::var("GATEWAY_REQUIRE_SERVICES").as_deref(),
                Ok("1"),
                "GATEWAY_REQUIRE_SERVICES=1 but GATEWAY_TEST_DATABASE_URL is not set"
            );
            println!("skipped: GATEWAY_TEST_DATABASE_URL not set");
            return None;
        };
        Some(Backend::Postgres {
            url,
            schema: format!("gw_async_{}", uuid::Uuid::new_v4().simple()),
        })
    }
}

/// Upstream calls whose prompt is `text`.
fn calls_with(mock: &MockServer, text: &str) -> usize {
    mock.requests()
        .iter()
        .filter(|r| r.json()["messages"][0]["content"] == text)
        .count()
}

fn chat(model: &str, text: &str) -> String {
    serde_json::json!({"model": model, "messages": [{"role": "user", "content": text}]}).to_string()
}

async fn a_pending_job_survives_a_restart_and_runs_once(backend: Backend) {
    let mock = MockServer::start().await.unwrap();
    // The first instance accepts the job and stops before any worker ran it.
    let first = Instance::start(&mock, backend.open().await).await;
    let key = issue_key(&first.state, "acme").await;
    let auth = format!("Bearer {key}");
    let r = submit(
        &format!("{}/v1/chat/completions", first.url),
        ("authorization", &auth),
        &chat("gpt-test", "resume me"),
        &[],
    )
    .await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    let id = r.json()["id"].as_str().unwrap().to_owned();
    first.stop().await;
    assert_eq!(calls_with(&mock, "resume me"), 0);

    // The next one resumes it.
    let second = Instance::start(&mock, backend.open().await).await;
    let worker = start_worker(&second.state);
    let done = answer(&second.url, ("authorization", &auth), &id).await;
    assert_eq!(done.status, 200, "{:?}", done.body);
    assert_eq!(calls_with(&mock, "resume me"), 1);
    worker.stop(Duration::from_secs(5)).await;
    second.stop().await;

    // A third sends nothing again and answers the same.
    let third = Instance::start(&mock, backend.open().await).await;
    let _worker = start_worker(&third.state);
    let again = answer(&third.url, ("authorization", &auth), &id).await;
    assert_eq!(again.body, done.body);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        calls_with(&mock, "resume me"),
        1,
        "no duplicate upstream call"
    );
    third.stop().await;
}

async fn a_job_in_flight_at_a_stop_runs_again_once_marked_retried(backend: Backend) {
    let mock = MockServer::start().await.unwrap();
    let first = Instance::start(&mock, backend.open().await).await;
    let key = issue_key(&first.state, "acme").await;
    let auth = format!("Bearer {key}");
    let worker = start_worker(&first.state);
    // The slow model answers after 3 s: the job is in flight when this instance stops.
    let r = submit(
        &format!("{}/v1/chat/completions", first.url),
        ("authorization", &auth),
        &chat("upstream-slow", "in flight"),
        &[],
    )
    .await;
    assert_eq!(r.status, 202);
    let id = r.json()["id"].as_str().unwrap().to_owned();
    for _ in 0..500 {
        if calls_with(&mock, "in flight") == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(calls_with(&mock, "in flight"), 1);
    // Killed, not stopped: nothing is recorded, the lease expires.
    drop(worker);
    first.stop().await;

    let second = Instance::start(&mock, backend.open().await).await;
    let _worker = start_worker(&second.state);
    let done = answer(&second.url, ("authorization", &auth), &id).await;
    assert_eq!(done.headers["x-gateway-async-retried"], "true");
    // Sent again by the second instance (the router may retry a timeout within that run).
    assert!(calls_with(&mock, "in flight") >= 2, "sent again");
    second.stop().await;
}

#[tokio::test]
async fn sqlite_resumes_a_pending_job_once() {
    a_pending_job_survives_a_restart_and_runs_once(Backend::sqlite()).await;
}

#[tokio::test]
async fn sqlite_retries_a_job_in_flight_once() {
    a_job_in_flight_at_a_stop_runs_again_once_marked_retried(Backend::sqlite()).await;
}

#[tokio::test]
async fn postgres_resumes_a_pending_job_once() {
    if let Some(backend) = Backend::postgres() {
        a_pending_job_survives_a_restart_and_runs_once(backend).await;
    }
}

#[tokio::test]
async fn postgres_retries_a_job_in_flight_once() {
    if let Some(backend) = Backend::postgres() {
        a_job_in_flight_at_a_stop_runs_again_once_marked_retried(backend).await;
    }
}
