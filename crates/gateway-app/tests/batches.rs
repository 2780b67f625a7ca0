//! The Batch API through the real edge and the real worker: a batch's lines run through the
//! pipeline (answers, upstream errors and unknown models each where OpenAI puts them), the
//! output and error files come back through the Files API, usage names the batch, a bad
//! input fails the batch naming its lines with nothing sent upstream, a limit defers lines
//! instead of failing them, cancel works, and one tenant's batches are invisible to another.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use common::*;
use http::Method;
use serde_json::{Value, json};

use gateway_app::batches::worker::Worker;
use gateway_app::config::BatchesConfig;
use gateway_core::store::{UsageDimension, UsageQuery};

const BOUNDARY: &str = "gateway-batch-boundary-7MA4YWxkTrZu0gW";

async fn call(gw: &TestGateway, method: Method, key: &str, path: &str, body: &str) -> Reply {
    let auth = format!("Bearer {key}");
    send(
        method,
        &gw.url(path),
        body.to_owned(),
        &[
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
        ],
    )
    .await
}

async fn upload(gw: &TestGateway, key: &str, content: &str) -> String {
    let mut body = Vec::new();
    body.extend_from_slice(
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in.jsonl\"\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(content.as_bytes());
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    let auth = format!("Bearer {key}");
    let ct = format!("multipart/form-data; boundary={BOUNDARY}");
    let r = send(
        Method::POST,
        &gw.url("/v1/files"),
        body,
        &[
            ("authorization", auth.as_str()),
            ("content-type", ct.as_str()),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.json()["id"].as_str().unwrap().to_owned()
}

fn line(custom_id: &str, model: &str) -> String {
    json!({"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions",
           "body": {"model": model, "messages": [{"role": "user", "content": format!("line {custom_id}")}]}})
    .to_string()
}

/// A gateway with a files directory and a running batch worker.
async fn gateway(dir: &std::path::Path, sections: &str) -> (TestGateway, Worker) {
    gateway_with(dir, "", sections).await
}

async fn gateway_with(
    dir: &std::path::Path,
    server: &str,
    sections: &str,
) -> (TestGateway, Worker) {
    let gw = TestGateway::start_with_sections(
        server,
        &format!("[files]\ndir = {:?}\n{sections}", dir.display().to_string()),
    )
    .await;
    let config = BatchesConfig {
        poll_interval: Duration::from_millis(20),
        lease: Duration::from_secs(2),
        ..BatchesConfig::default()
    };
    let worker = Worker::start(Arc::new(ArcSwap::new(gw.state.clone())), &config).unwrap();
    (gw, worker)
}

async fn create(gw: &TestGateway, key: &str, file: &str) -> Value {
    let r = call(
        gw,
        Method::POST,
        key,
        "/v1/batches",
        &json!({"input_file_id": file, "endpoint": "/v1/chat/completions",
                "completion_window": "24h", "metadata": {"job": "test"}})
        .to_string(),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.json()
}

/// Polls the batch until it reaches `status` (within 20 s).
async fn until(gw: &TestGateway, key: &str, id: &str, status: &str) -> Value {
    for _ in 0..2000 {
        let b = call(gw, Method::GET, key, &format!("/v1/batches/{id}"), "")
            .await
            .json();
        if b["status"] == status {
            return b;
        }
        assert!(
            !["failed", "completed", "cancelled", "expired"]
                .contains(&b["status"].as_str().unwrap())
                || b["status"] == status,
            "ended {b}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("batch {id} never became {status}");
}

/// Requests the mock saw for `model` (it keeps the latest few hundred).
fn sent(gw: &TestGateway, model: &str) -> usize {
    gw.mock
        .requests()
        .iter()
        .filter(|r| r.json()["model"] == model)
        .count()
}

async fn content(gw: &TestGateway, key: &str, file: &Value) -> Vec<Value> {
    let id = file.as_str().unwrap();
    let r = call(gw, Method::GET, key, &format!("/v1/files/{id}/content"), "").await;
    assert_eq!(r.status, 200);
    String::from_utf8(r.body.to_vec())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn a_batch_runs_every_line_through_the_pipeline_into_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, _worker) = gateway(dir.path(), "").await;
    let input = [
        line("a", "gpt-test"),
        line("b", "upstream-400"),
        String::new(),
        line("c", "gpt-test"),
        line("d", "no-such-model"),
        line("e", "gpt-test"),
    ]
    .join("\n");
    let file = upload(&gw, &gw.key, &input).await;
    let created = create(&gw, &gw.key, &file).await;
    assert_eq!(created["status"], "validating");
    assert_eq!(created["object"], "batch");
    assert_eq!(created["metadata"], json!({"job": "test"}));
    let id = created["id"].as_str().unwrap().to_owned();
    let done = until(&gw, &gw.key, &id, "completed").await;
    assert_eq!(
        done["request_counts"],
        json!({"total": 5, "completed": 3, "failed": 2})
    );
    for field in ["in_progress_at", "finalizing_at", "completed_at"] {
        assert!(done[field].as_u64().is_some(), "{field}: {done}");
    }
    let out = content(&gw, &gw.key, &done["output_file_id"]).await;
    let ids: Vec<&str> = out
        .iter()
        .map(|l| l["custom_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["a", "c", "e"], "in line order");
    for l in &out {
        assert_eq!(l["response"]["status_code"], 200);
        assert_eq!(l["error"], Value::Null);
        assert!(l["id"].as_str().unwrap().starts_with("batch_req_"));
        let text = l["response"]["body"]["choices"][0]["message"]["content"]
            .as_str()
            .unwrap();
        assert!(
            text.contains(&format!("line {}", l["custom_id"].as_str().unwrap())),
            "{text}"
        );
    }
    let errors = content(&gw, &gw.key, &done["error_file_id"]).await;
    let failed: Vec<(&str, u64)> = errors
        .iter()
        .map(|l| {
            (
                l["custom_id"].as_str().unwrap(),
                l["response"]["status_code"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(failed, [("b", 400), ("d", 404)]);
    // The unknown model never reached the upstream; the others did, once each.
    assert_eq!(sent(&gw, "gpt-4o-mini"), 3);
    assert_eq!(sent(&gw, "mock-400"), 1);
    // The output files are the tenant's, with purpose batch_output.
    let meta = call(
        &gw,
        Method::GET,
        &gw.key,
        &format!("/v1/files/{}", done["output_file_id"].as_str().unwrap()),
        "",
    )
    .await
    .json();
    assert_eq!(meta["purpose"], "batch_output");
    // Usage names the batch.
    gw.state.telemetry.flush().await;
    let usage = gw
        .state
        .store
        .query_usage(&UsageQuery {
            group_by: vec![UsageDimension::Batch],
            ..UsageQuery::default()
        })
        .await
        .unwrap();
    let of_batch: Vec<_> = usage
        .iter()
        .filter(|u| u.batch.as_deref() == Some(id.as_str()))
        .collect();
    assert_eq!(of_batch.len(), 1, "{usage:?}");
    assert_eq!(of_batch[0].totals.requests, 4, "{usage:?}");
    // Listed, newest first.
    let list = call(&gw, Method::GET, &gw.key, "/v1/batches?limit=1", "")
        .await
        .json();
    assert_eq!(list["data"][0]["id"], id.as_str());
    assert_eq!(list["has_more"], false);
}

#[tokio::test]
async fn a_bad_input_fails_the_batch_naming_its_lines_and_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, _worker) = gateway_with(dir.path(), "max_body_bytes = 2048", "").await;
    let input = [
        line("a", "gpt-test"),
        "{broken".to_owned(),
        line("a", "gpt-test"),
        line("b", "gpt-test").replace("/v1/chat/completions", "/v1/embeddings"),
        line("c", &"m".repeat(3000)),
    ]
    .join("\n");
    let file = upload(&gw, &gw.key, &input).await;
    let id = create(&gw, &gw.key, &file).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let failed = until(&gw, &gw.key, &id, "failed").await;
    let errors: Vec<(u64, &str)> = failed["errors"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        errors,
        [
            (2, "invalid_json_line"),
            (3, "duplicate_custom_id"),
            (4, "invalid_url"),
            (5, "request_too_large")
        ]
    );
    assert_eq!(failed["errors"]["object"], "list");
    assert!(failed["failed_at"].as_u64().is_some());
    assert_eq!(gw.mock.requests_seen(), 0, "nothing was sent upstream");
}

#[tokio::test]
async fn another_tenant_cannot_see_or_cancel_a_batch_and_the_owner_can_cancel() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, _worker) = gateway(dir.path(), "").await;
    let other = issue_key(&gw.state, "other").await;
    let input: Vec<String> = (0..50)
        .map(|i| line(&format!("l{i}"), "upstream-slow"))
        .collect();
    let file = upload(&gw, &gw.key, &input.join("\n")).await;
    // Another tenant cannot even use the file.
    let r = call(&gw, Method::POST, &other, "/v1/batches",
        &json!({"input_file_id": file, "endpoint": "/v1/chat/completions", "completion_window": "24h"}).to_string()).await;
    assert_eq!(r.status, 404, "{:?}", r.body);
    let id = create(&gw, &gw.key, &file).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (method, path) in [
        (Method::GET, format!("/v1/batches/{id}")),
        (Method::POST, format!("/v1/batches/{id}/cancel")),
    ] {
        let r = call(&gw, method.clone(), &other, &path, "").await;
        assert_eq!(r.status, 404, "{method} {path}: {:?}", r.body);
    }
    let list = call(&gw, Method::GET, &other, "/v1/batches", "")
        .await
        .json();
    assert_eq!(list["data"], json!([]));
    // The owner cancels: lines not yet run never run.
    let cancelling = call(
        &gw,
        Method::POST,
        &gw.key,
        &format!("/v1/batches/{id}/cancel"),
        "",
    )
    .await;
    assert_eq!(cancelling.status, 200, "{:?}", cancelling.body);
    assert!(["cancelling", "cancelled"].contains(&cancelling.json()["status"].as_str().unwrap()));
    let cancelled = until(&gw, &gw.key, &id, "cancelled").await;
    assert!(cancelled["cancelled_at"].as_u64().is_some());
    assert!(gw.mock.requests_seen() < 50, "cancelled lines were sent");
}

#[tokio::test]
async fn lines_a_limit_refuses_are_deferred_not_failed() {
    let dir = tempfile::tempdir().unwrap();
    // Batch lines get half of the key's 4 requests a second.
    let (gw, _worker) = gateway(dir.path(), "[limits.key]\nrps = 4\n").await;
    let input: Vec<String> = (0..6).map(|i| line(&format!("r{i}"), "gpt-test")).collect();
    let file = upload(&gw, &gw.key, &input.join("\n")).await;
    let id = create(&gw, &gw.key, &file).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let done = until(&gw, &gw.key, &id, "completed").await;
    assert_eq!(
        done["request_counts"],
        json!({"total": 6, "completed": 6, "failed": 0})
    );
    assert_eq!(sent(&gw, "gpt-4o-mini"), 6, "each line once");
    // Interactive traffic kept its share meanwhile.
    assert_eq!(
        gw.post("/v1/chat/completions", &chat_body("gpt-test", false))
            .await
            .status,
        200
    );
}
