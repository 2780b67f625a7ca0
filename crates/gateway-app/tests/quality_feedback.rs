//! Quality scoring and feedback through the whole gateway: a call's usage record carries the
//! heuristic quality, the classifier's task and the route reason (plain and streamed; the
//! metrics show the score per model and task, and the flags); `POST /v1/feedback` stores a
//! caller's rating of its own call, answers 404 for another tenant's or an unknown request id
//! and 400 for a bad body; the admin API lists and summarises it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use gateway_core::TenantId;
use gateway_core::store::FeedbackStore;
use http::Method;
use serde_json::{Value, json};

const ADMIN_TOKEN: &str = "admin-token-0123456789abcdef";

fn sections() -> String {
    format!(
        r#"
[admin]
token = "{ADMIN_TOKEN}"

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
to = ["smart"]
"#
    )
}

const CODE_PROMPT: &str = "Write a Python function that checks whether a string is a palindrome.";

async fn call(gw: &TestGateway, request_id: &str, body: Value) -> Reply {
    let auth = gw.bearer();
    let reply = send(
        Method::POST,
        &gw.url("/v1/chat/completions"),
        body.to_string(),
        &[
            ("content-type", "application/json"),
            ("authorization", auth.as_str()),
            ("x-request-id", request_id),
        ],
    )
    .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply
}

async fn feedback_as(gw: &TestGateway, key: &str, body: Value) -> Reply {
    let auth = format!("Bearer {key}");
    send(
        Method::POST,
        &gw.url("/v1/feedback"),
        body.to_string(),
        &[
            ("content-type", "application/json"),
            ("authorization", auth.as_str()),
        ],
    )
    .await
}

async fn admin_get(gw: &TestGateway, path: &str) -> Value {
    let auth = format!("Bearer {ADMIN_TOKEN}");
    let reply = send(
        Method::GET,
        &gw.url(path),
        "",
        &[("authorization", auth.as_str())],
    )
    .await;
    assert_eq!(reply.status, 200, "{path}: {:?}", reply.body);
    reply.json()
}

#[tokio::test]
async fn usage_records_carry_quality_task_and_route_reason() {
    let gw = TestGateway::start_with_sections("", &sections()).await;
    let store = gw.state.sql_store().unwrap().clone();
    let acme = TenantId::new("acme");
    call(
        &gw,
        "q-plain",
        json!({"model": "auto", "messages": [{"role": "user", "content": CODE_PROMPT}]}),
    )
    .await;
    // JSON asked for, and the mock answers prose: flagged, plain and streamed.
    for (id, stream) in [("q-json", false), ("q-json-stream", true)] {
        call(
            &gw,
            id,
            json!({"model": "auto", "stream": stream, "response_format": {"type": "json_object"},
                "messages": [{"role": "user", "content": CODE_PROMPT}]}),
        )
        .await;
    }
    call(&gw, "q-named", json!({"model": "smart", "messages": [{"role": "user", "content": "Hello there, how are you?"}]})).await;
    gw.state.telemetry.flush().await;

    let plain = store.rated_call(&acme, "q-plain").await.unwrap().unwrap();
    assert_eq!(plain.model, "auto");
    assert_eq!(plain.upstream_model.as_deref(), Some("gpt-4o"));
    assert_eq!(plain.task.as_deref(), Some("code"));
    assert_eq!(plain.quality, Some(1.0));
    let reason = plain.route_reason.unwrap();
    assert!(reason.starts_with("rule=code task=code"), "{reason}");
    for id in ["q-json", "q-json-stream"] {
        let json = store.rated_call(&acme, id).await.unwrap().unwrap();
        let q = json.quality.unwrap();
        assert!((q - 0.3).abs() < 1e-3, "{id}: {q}");
    }
    // A named model is not classified: no task, no reason, still scored.
    let named = store.rated_call(&acme, "q-named").await.unwrap().unwrap();
    assert_eq!((named.task, named.route_reason), (None, None));
    assert_eq!(named.quality, Some(1.0));

    let metrics = String::from_utf8_lossy(&gw.get("/metrics").await.body).into_owned();
    assert!(
        metrics.contains(r#"gateway_quality_score_count{model="auto",task="code"} 3"#),
        "{metrics}"
    );
    assert!(metrics.contains(r#"gateway_quality_score_count{model="smart",task="none"} 1"#));
    assert!(metrics.contains(r#"gateway_quality_flags_total{model="auto",flag="invalid_json"} 2"#));

    // The usage report: mean quality per model and task.
    let report = admin_get(&gw, "/admin/v1/usage?tenant=acme&group_by=model,task").await;
    let rows = report["data"].as_array().unwrap();
    let code = rows
        .iter()
        .find(|r| r["model"] == "auto" && r["task"] == "code")
        .unwrap();
    assert_eq!(code["scored_requests"], 3);
    let avg = code["avg_quality"].as_f64().unwrap();
    assert!((avg - (1.0 + 0.3 + 0.3) / 3.0).abs() < 1e-3, "{avg}");
}

#[tokio::test]
async fn feedback_on_own_calls_only_validated_and_summarised() {
    let gw = TestGateway::start_with_sections("", &sections()).await;
    call(
        &gw,
        "f-1",
        json!({"model": "auto", "messages": [{"role": "user", "content": CODE_PROMPT}]}),
    )
    .await;
    call(
        &gw,
        "f-2",
        json!({"model": "auto", "messages": [{"role": "user", "content": CODE_PROMPT}]}),
    )
    .await;
    gw.state.telemetry.flush().await;

    let reply = feedback_as(
        &gw,
        &gw.key,
        json!({"request_id": "f-1", "score": "up", "tags": ["correct", "fast"], "comment": "spot on"}),
    )
    .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let v = reply.json();
    assert_eq!(v["object"], "feedback");
    assert_eq!(
        (v["score"].as_f64(), v["model"].as_str()),
        (Some(1.0), Some("auto"))
    );
    assert_eq!(v["task"], "code");
    assert_eq!(v["tags"], json!(["correct", "fast"]));
    let reply = feedback_as(&gw, &gw.key, json!({"request_id": "f-2", "score": 0.2})).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);

    // Another tenant's call looks exactly like an unknown one.
    let beta = issue_key(&gw.state, "beta").await;
    for (key, id) in [(beta.as_str(), "f-1"), (gw.key.as_str(), "no-such-call")] {
        let reply = feedback_as(&gw, key, json!({"request_id": id, "score": "down"})).await;
        assert_eq!(reply.status, 404, "{id}");
        let error = &reply.json()["error"];
        assert_eq!(error["type"], "invalid_request_error", "{error}");
        assert!(error["message"].as_str().unwrap().contains(id));
    }
    // Bad bodies: 400 naming the field.
    let too_many: Vec<String> = (0..17).map(|i| format!("t{i}")).collect();
    for (body, param) in [
        (json!({"request_id": "f-1", "score": 1.5}), "score"),
        (
            json!({"request_id": "f-1", "score": "up", "tags": too_many}),
            "tags",
        ),
        (
            json!({"request_id": "f-1", "score": "up", "comment": "c".repeat(5000)}),
            "comment",
        ),
    ] {
        let reply = feedback_as(&gw, &gw.key, body).await;
        assert_eq!(reply.status, 400, "{param}");
        assert_eq!(reply.json()["error"]["param"], param);
    }
    let reply = feedback_as(&gw, &gw.key, json!({"request_id": "f-1", "score": "meh"})).await;
    assert_eq!(reply.status, 400);
    // Without a credential: 401.
    let reply = post_json(&gw.url("/v1/feedback"), r#"{"request_id":"f-1","score":1}"#).await;
    assert_eq!(reply.status, 401);

    let list = admin_get(&gw, "/admin/v1/feedback?tenant=acme").await;
    let data = list["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    let first = data.iter().find(|f| f["request_id"] == "f-1").unwrap();
    assert_eq!(first["comment"], "spot on");
    let summary = admin_get(
        &gw,
        "/admin/v1/feedback/summary?group_by=model,deployment,task",
    )
    .await;
    assert_eq!(summary["group_by"], json!(["model", "deployment", "task"]));
    let rows = summary["data"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{summary}");
    let row = &rows[0];
    assert_eq!(
        (row["model"].as_str(), row["task"].as_str()),
        (Some("auto"), Some("code"))
    );
    assert_eq!(row["upstream_model"], "gpt-4o");
    assert_eq!(
        (
            row["count"].as_u64(),
            row["positive"].as_u64(),
            row["negative"].as_u64()
        ),
        (Some(2), Some(1), Some(1))
    );
    assert!((row["avg_score"].as_f64().unwrap() - 0.6).abs() < 1e-9);
    assert_eq!(row["avg_quality"], 1.0);
    let reply = send(
        Method::GET,
        &gw.url("/admin/v1/feedback/summary?group_by=week"),
        "",
        &[("authorization", &format!("Bearer {ADMIN_TOKEN}"))],
    )
    .await;
    assert_eq!(reply.status, 400);
}
