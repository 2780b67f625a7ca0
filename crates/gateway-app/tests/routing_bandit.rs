//! The loop through the whole gateway (`[prompt_routing.bandit]`): a call the bandit routes
//! says so in `x-gateway-route-reason` and in its usage record; its quality score (usage
//! sink) and the caller's feedback (`POST /v1/feedback`, weighted 3) reach the store on the
//! next sync; `/metrics` exports the shares; the learned state survives a restart of the
//! gateway on the same SQLite file; and two gateways on one PostgreSQL schema
//! (`GATEWAY_TEST_DATABASE_URL`, skipped without it) learn together.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use common::*;
use gateway_app::{AppState, Config};
use gateway_core::TenantId;
use gateway_core::features::TaskType;
use gateway_core::store::{BanditStore, FeedbackStore};
use gateway_providers::auto::Evidence;
use gateway_store::SqlStore;
use http::Method;
use serde_json::json;

const SECTIONS: &str = r#"
[models.fast]
provider = "mock"
upstream_model = "gpt-4o-mini"

[models.smart]
provider = "mock"
upstream_model = "gpt-4o"

[prompt_routing]
default = "fast"

[[prompt_routing.rules]]
name = "code"
when = 'task == "code"'
to = ["fast", "smart"]

[prompt_routing.bandit]
min_share = 0.05
exploration = 0.05
seed = 7
# Synced by the tests themselves (flush), not by the timer.
sync_secs = 3600
"#;

const CODE_PROMPT: &str = "Write a Python function that checks whether a string is a palindrome.";

#[tokio::test]
async fn bandit_calls_explain_themselves_and_feed_the_store() {
    let gw = TestGateway::start_with_sections("", SECTIONS).await;
    let auth = gw.bearer();
    let mut reasons = Vec::new();
    for i in 0..4 {
        let id = format!("b-{i}");
        let body = json!({"model": "auto", "messages": [{"role": "user", "content": CODE_PROMPT}]});
        let reply = send(
            Method::POST,
            &gw.url("/v1/chat/completions"),
            body.to_string(),
            &[
                ("content-type", "application/json"),
                ("authorization", auth.as_str()),
                ("x-request-id", id.as_str()),
            ],
        )
        .await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        let reason = reply.headers["x-gateway-route-reason"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            reason.starts_with("rule=code bandit task=code chose="),
            "{reason}"
        );
        assert!(reason.contains(" p=0."), "{reason}");
        reasons.push(reason);
    }
    // Another task type is not the bandit's rule: the default, as before.
    let reply = gw
        .post(
            "/v1/chat/completions",
            &json!({"model": "auto", "messages": [{"role": "user", "content": "Hello, how are you today?"}]})
                .to_string(),
        )
        .await;
    let reason = reply.headers["x-gateway-route-reason"].to_str().unwrap();
    assert!(reason.starts_with("rule=default "), "{reason}");

    gw.state.telemetry.flush().await;
    let store = gw.state.sql_store().unwrap().clone();
    let recorded = store
        .rated_call(&TenantId::new("acme"), "b-0")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(recorded.route_reason.as_deref(), Some(reasons[0].as_str()));
    assert_eq!(recorded.task.as_deref(), Some("code"));

    let auth = gw.bearer();
    let reply = send(
        Method::POST,
        &gw.url("/v1/feedback"),
        json!({"request_id": "b-0", "score": "down"}).to_string(),
        &[
            ("content-type", "application/json"),
            ("authorization", auth.as_str()),
        ],
    )
    .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);

    gw.state.bandit.flush().await;
    let arms = store.arm_counts().await.unwrap();
    assert!(
        arms.iter().all(|a| a.rule == "code" && a.task == "code"),
        "{arms:?}"
    );
    // Four scored answers (weight 1 each) and one feedback (weight 3).
    let total: f64 = arms.iter().map(|a| a.successes + a.failures).sum();
    assert!((total - 7.0).abs() < 1e-4, "{arms:?}");
    // The thumbs-down went to the candidate that served b-0.
    let (_, chose) = reasons[0].split_once("chose=").unwrap();
    let chose = chose.split(' ').next().unwrap();
    let arm = arms.iter().find(|a| a.candidate == chose).unwrap();
    assert!(arm.failures >= 3.0 - 1e-4, "{arm:?}");

    let metrics = String::from_utf8_lossy(&gw.get("/metrics").await.body).into_owned();
    for candidate in ["fast", "smart"] {
        let series = format!(
            r#"gateway_routing_bandit_share{{rule="code",task="code",candidate="{candidate}"}}"#
        );
        assert!(metrics.contains(&series), "{series} missing");
    }
}

async fn state_on(path: &std::path::Path, config: &Config) -> Arc<AppState> {
    let store = SqlStore::connect(&format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .unwrap();
    AppState::build_with_store(config, store).await.unwrap()
}

#[tokio::test]
async fn bandit_state_survives_a_restart_on_sqlite() {
    let mock = gateway_testkit::MockServer::start().await.unwrap();
    let config = Config::from_toml_str(
        &format!("{}\n{SECTIONS}", config_text(&mock, "")),
        &|_| None,
        std::iter::empty(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("gateway.db");

    let learned = {
        let state = state_on(&db, &config).await;
        let bandit = state.bandit.current().unwrap();
        let prior = bandit.share("code", TaskType::Code, "fast").unwrap();
        assert!((prior - 0.5).abs() < 0.05, "{prior}");
        for _ in 0..40 {
            bandit.observe("code", TaskType::Code, "fast", 0.1, Evidence::Score);
            bandit.observe("code", TaskType::Code, "smart", 0.95, Evidence::Score);
        }
        state.bandit.flush().await;
        let learned = bandit.share("code", TaskType::Code, "fast").unwrap();
        assert!(learned < 0.1, "{learned}");
        state.close().await;
        learned
    };
    let state = state_on(&db, &config).await;
    let bandit = state.bandit.current().unwrap();
    let restarted = bandit.share("code", TaskType::Code, "fast").unwrap();
    assert_eq!(restarted, learned);
    // Other tasks start from the priors still.
    let math = bandit.share("code", TaskType::Math, "fast").unwrap();
    assert!((math - 0.5).abs() < 0.05, "{math}");
    state.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_postgres_learn_together() {
    let Ok(url) = std::env::var("GATEWAY_TEST_DATABASE_URL") else {
        assert_ne!(
            std::env::var("GATEWAY_REQUIRE_SERVICES").as_deref(),
            Ok("1"),
            "GATEWAY_REQUIRE_SERVICES=1 but GATEWAY_TEST_DATABASE_URL is not set"
        );
        println!("skipped: GATEWAY_TEST_DATABASE_URL not set");
        return;
    };
    let schema = format!("gw_bandit_{}", uuid::Uuid::new_v4().simple());
    let mock = gateway_testkit::MockServer::start().await.unwrap();
    let config = Config::from_toml_str(
        &format!("{}\n{SECTIONS}", config_text(&mock, "")),
        &|_| None,
        std::iter::empty(),
    )
    .unwrap();
    let connect = || async {
        let options = gateway_store::StoreOptions {
            pg_schema: Some(schema.clone()),
            ..gateway_store::StoreOptions::default()
        };
        let store = SqlStore::connect_with(&url, &options).await.unwrap();
        AppState::build_with_store(&config, store).await.unwrap()
    };
    let (a, b) = (connect().await, connect().await);
    let (ba, bb) = (a.bandit.current().unwrap(), b.bandit.current().unwrap());
    // Each instance sees half of the evidence.
    for _ in 0..20 {
        ba.observe("code", TaskType::Code, "fast", 0.0, Evidence::Feedback);
        bb.observe("code", TaskType::Code, "smart", 1.0, Evidence::Feedback);
    }
    a.bandit.flush().await;
    b.bandit.flush().await;
    // A's next round reads what B stored too: both publish the same posteriors.
    a.bandit.flush().await;
    let (sa, sb) = (
        ba.share("code", TaskType::Code, "fast").unwrap(),
        bb.share("code", TaskType::Code, "fast").unwrap(),
    );
    assert_eq!(sa, sb);
    assert!(sa < 0.1, "{sa}");
    assert_eq!(ba.snapshot().posterior, bb.snapshot().posterior);
    a.close().await;
    b.close().await;
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE"
    )))
    .execute(&mut conn)
    .await
    .unwrap();
}
