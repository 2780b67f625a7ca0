//! Who may use the caller API: every route of the route table (`ROUTES`, so a route added
//! later is in this test without anyone listing it) x every role set, with API keys and with
//! JWTs. A caller whose roles do not grant the route's permission gets a 403 in the route's
//! own error shape (OpenAI, Anthropic, Google), audited as `authz.denied`; a caller whose
//! roles grant it gets past authorisation (whatever the request's other faults). A batch whose
//! key lost `call_models` since it was created stops calling.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use common::*;
use gateway_app::http::error::ErrorShape;
use gateway_app::http::routes::{Access, ROUTES, Route};
use gateway_auth::{NewApiKey, Permission, rbac::role_grants};
use gateway_core::store::{AuditQuery, Tenant};
use gateway_core::{GatewayRole, TenantId};
use http::Method;
use serde_json::{Value, json};

const JWT_SECRET: &str = "jwt-test-secret-0123456789abcdef-0123456789";
const ISSUER: &str = "https://login.example.test/";

fn sections(files_dir: &std::path::Path) -> String {
    format!(
        r#"
[files]
dir = {files_dir:?}

[[auth.jwt_issuers]]
issuer = "{ISSUER}"
audiences = ["llm-gateway"]
algorithms = ["HS256"]
require_registered_tenant = false

[[auth.jwt_issuers.keys]]
kid = "k1"
algorithm = "HS256"
secret = "{JWT_SECRET}"
"#
    )
}

/// A role set the table covers, with how its caller proves who it is.
struct Caller {
    label: String,
    roles: Vec<GatewayRole>,
    token: String,
}

async fn key_with_roles(gw: &TestGateway, roles: &[GatewayRole]) -> String {
    let mut new = NewApiKey::new(TenantId::new("acme"), "roles");
    new.roles = roles.to_vec();
    let manager = gw.state.auth.key_manager.as_ref().unwrap();
    manager.create(new).await.unwrap().secret.expose().clone()
}

fn jwt_with_roles(roles: &[GatewayRole]) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = json!({
        "iss": ISSUER,
        "aud": "llm-gateway",
        "sub": "user-1",
        "tenant": "acme",
        "roles": roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "iat": now,
        "exp": now + 600,
    });
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some("k1".to_owned());
    jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap()
}

fn role_sets() -> Vec<Vec<GatewayRole>> {
    use GatewayRole::*;
    vec![
        vec![Admin],
        vec![TenantAdmin],
        vec![Developer],
        vec![Viewer],
        vec![Auditor],
        vec![Viewer, Auditor],
        vec![TenantAdmin, Viewer, Auditor],
        vec![Viewer, Developer],
    ]
}

fn grants(roles: &[GatewayRole], permission: Permission) -> bool {
    roles.iter().any(|r| role_grants(*r, permission))
}

/// `route`'s path with its parameters filled in (a model the gateway serves, an id).
fn example_path(route: &Route) -> String {
    route
        .path
        .split('/')
        .map(|segment| match segment.strip_prefix('{') {
            Some(rest) => {
                let (name, suffix) = rest.split_once('}').expect("closed");
                let value = if name == "model" { "gpt-test" } else { "x-1" };
                format!("{value}{suffix}")
            }
            None => segment.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// One call of `route` by `token`, carrying the credential the way the route's dialect does
/// (Google's `?key=`, Anthropic's `x-api-key`, OpenAI's bearer token).
async fn call(gw: &TestGateway, route: &Route, token: &str) -> Reply {
    let mut path = example_path(route);
    let bearer = format!("Bearer {token}");
    let mut headers = vec![("content-type", "application/json")];
    match route.errors {
        ErrorShape::Gemini => path.push_str(&format!("?key={token}")),
        ErrorShape::Anthropic => headers.push(("x-api-key", token)),
        ErrorShape::OpenAi => headers.push(("authorization", bearer.as_str())),
    }
    let body = if route.method == Method::POST {
        "{}"
    } else {
        ""
    };
    send(route.method.clone(), &gw.url(&path), body, &headers).await
}

/// The refusal's kind, read from the route's error shape (which must be that shape).
fn forbidden_code(shape: ErrorShape, body: &Value) -> Option<String> {
    let text = |v: &Value| v.as_str().map(str::to_owned);
    match shape {
        ErrorShape::OpenAi => {
            text(&body["error"]["type"]).filter(|_| body["error"]["message"].is_string())
        }
        ErrorShape::Anthropic => (body["type"] == "error")
            .then(|| text(&body["error"]["type"]))
            .flatten(),
        ErrorShape::Gemini => (body["error"]["code"] == 403)
            .then(|| text(&body["error"]["status"]))
            .flatten(),
    }
}

#[tokio::test]
async fn every_route_checks_the_callers_permission() {
    let dir = tempfile::tempdir().unwrap();
    let gw = TestGateway::start_with_sections("", &sections(dir.path())).await;
    gw.state
        .store
        .create_tenant(&Tenant::new(TenantId::new("acme"), "acme"))
        .await
        .ok();
    let mut callers = Vec::new();
    for roles in role_sets() {
        let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        callers.push(Caller {
            label: format!("key {names:?}"),
            roles: roles.clone(),
            token: key_with_roles(&gw, &roles).await,
        });
        callers.push(Caller {
            label: format!("jwt {names:?}"),
            roles: roles.clone(),
            token: jwt_with_roles(&roles),
        });
    }

    let mut failures = Vec::new();
    let mut refused = 0;
    let mut checked_routes = 0;
    for route in &ROUTES {
        let Access::Requires(permission) = route.handler.access() else {
            continue;
        };
        checked_routes += 1;
        for caller in &callers {
            let reply = call(&gw, route, &caller.token).await;
            let status = reply.status.as_u16();
            let what = format!("{} {} as {}", route.method, route.path, caller.label);
            if grants(&caller.roles, permission) {
                if status == 401 || status == 403 {
                    failures.push(format!("{what}: allowed, got {status}: {:?}", reply.body));
                }
                continue;
            }
            refused += 1;
            let body: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
            let code = forbidden_code(route.errors, &body);
            let want = match route.errors {
                ErrorShape::OpenAi => "permission_error",
                ErrorShape::Anthropic => "permission_error",
                ErrorShape::Gemini => "PERMISSION_DENIED",
            };
            if status != 403 || code.as_deref() != Some(want) {
                failures.push(format!("{what}: refused, got {status} {body}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The whole caller API is in the table: chat, embeddings, messages, responses, Gemini ...
    assert!(checked_routes >= 30, "{checked_routes} routes checked");

    // Every refusal is audited as a permission denial naming the caller.
    gw.state.telemetry.flush().await;
    let log = gw
        .state
        .store
        .list_audit(&AuditQuery {
            limit: 100_000,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    let denials = log
        .iter()
        .filter(|r| {
            r.event.action == "authz.denied" && r.event.details["denied_by"] == "permission"
        })
        .count();
    assert_eq!(denials, refused, "one audit record per refusal");
}

#[tokio::test]
async fn the_permission_error_message_says_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let gw = TestGateway::start_with_sections("", &sections(dir.path())).await;
    let viewer = key_with_roles(&gw, &[GatewayRole::Viewer]).await;
    let auth = format!("Bearer {viewer}");
    let reply = send(
        Method::POST,
        &gw.url("/v1/chat/completions"),
        chat_body("gpt-test", true),
        &[
            ("content-type", "application/json"),
            ("authorization", auth.as_str()),
        ],
    )
    .await;
    assert_eq!(reply.status.as_u16(), 403);
    let body = reply.json();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("call_models"),
        "{body}"
    );
    // Refused before the upstream is called: streaming is no way around it.
    assert_eq!(gw.mock.requests_seen(), 0);
}

const BOUNDARY: &str = "gateway-permission-boundary-4kTq";

async fn upload_batch_input(gw: &TestGateway, key: &str, lines: usize) -> String {
    let content: Vec<String> = (0..lines)
        .map(|i| {
            json!({"custom_id": format!("l{i}"), "method": "POST", "url": "/v1/chat/completions",
                   "body": {"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}})
            .to_string()
        })
        .collect();
    let body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in.jsonl\"\r\n\r\n{}\r\n--{BOUNDARY}--\r\n",
        content.join("\n")
    );
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

#[tokio::test]
async fn a_batch_stops_calling_once_its_key_loses_call_models() {
    use std::sync::Arc;
    use std::time::Duration;

    let dir = tempfile::tempdir().unwrap();
    let gw = TestGateway::start_with_sections("", &sections(dir.path())).await;
    let owner = key_with_roles(&gw, &[GatewayRole::Developer]).await;
    let file = upload_batch_input(&gw, &owner, 3).await;
    let auth = format!("Bearer {owner}");
    let created = send(
        Method::POST,
        &gw.url("/v1/batches"),
        json!({"input_file_id": file, "endpoint": "/v1/chat/completions",
               "completion_window": "24h"})
        .to_string(),
        &[
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
        ],
    )
    .await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    let id = created.json()["id"].as_str().unwrap().to_owned();

    // No worker yet: the batch waits. Its key becomes a viewer's.
    let manager = gw.state.auth.key_manager.as_ref().unwrap();
    let record = manager
        .list(Some(&TenantId::new("acme")))
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.name == "roles")
        .unwrap();
    let mut demoted = record.clone();
    demoted.roles = vec![GatewayRole::Viewer];
    manager.update(&demoted).await.unwrap();

    let config = gateway_app::config::BatchesConfig {
        poll_interval: Duration::from_millis(20),
        lease: Duration::from_secs(2),
        ..gateway_app::config::BatchesConfig::default()
    };
    let worker = gateway_app::batches::worker::Worker::start(
        Arc::new(arc_swap::ArcSwap::new(gw.state.clone())),
        &config,
    )
    .unwrap();
    // Another developer of the tenant watches the batch (the demoted key may not read it).
    let watcher = gw.bearer();
    let mut batch = Value::Null;
    for _ in 0..2000 {
        batch = send(
            Method::GET,
            &gw.url(&format!("/v1/batches/{id}")),
            "",
            &[("authorization", watcher.as_str())],
        )
        .await
        .json();
        if ["completed", "failed", "expired", "cancelled"]
            .contains(&batch["status"].as_str().unwrap_or(""))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    worker.stop(Duration::from_secs(1)).await;
    assert_eq!(batch["status"], "completed", "{batch}");
    assert_eq!(batch["request_counts"]["failed"], 3, "{batch}");
    assert_eq!(batch["request_counts"]["completed"], 0, "{batch}");
    assert_eq!(gw.mock.requests_seen(), 0, "no line reached the upstream");
    let errors = batch["error_file_id"].as_str().unwrap();
    let content = send(
        Method::GET,
        &gw.url(&format!("/v1/files/{errors}/content")),
        "",
        &[("authorization", watcher.as_str())],
    )
    .await;
    let text = String::from_utf8(content.body.to_vec()).unwrap();
    assert_eq!(text.lines().count(), 3, "{text}");
    for line in text.lines() {
        let line: Value = serde_json::from_str(line).unwrap();
        assert_eq!(line["response"]["status_code"], 403, "{line}");
    }
}

/// The OpenAPI document tells callers of every permission-checked route that it may answer
/// 403, and leaves it out where no credential is read.
#[test]
fn the_api_document_lists_the_refusal_of_every_checked_route() {
    let doc = gateway_app::openapi::document();
    for route in &ROUTES {
        let op = &doc["paths"][route.path][route.method.as_str().to_ascii_lowercase()];
        if op.is_null() {
            continue; // Gemini routes are documented in docs/api.md, not in the document.
        }
        let has_403 = op["responses"].get("403").is_some();
        match route.handler.access() {
            Access::Requires(_) => assert!(has_403, "{} {}", route.method, route.path),
            Access::Public => {}
        }
    }
}
