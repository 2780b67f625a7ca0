//! Data residency and custom policies through the served gateway: a tenant (or a key) pinned
//! to `eu` is only ever served by `eu` deployments and fails closed when there is none, while
//! an unpinned tenant falls back elsewhere; a Rego policy pins regions, moves models and denies.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use gateway_core::TenantId;
use gateway_core::store::Tenant;
use http::Method;

/// `gpt-geo`: `us` first, then `eu`. `gpt-geo-down`: `eu` (failing) first, then `us`.
/// `gpt-us-only`: one `us` deployment. `gpt-alias`: moved to `gpt-geo` by the policy.
const MODELS: &str = r#"
[[models.gpt-geo.deployments]]
provider = "mock"
upstream_model = "gpt-4o-mini"
region = "us"

[[models.gpt-geo.deployments]]
provider = "mock"
upstream_model = "gpt-4o-mini"
region = "eu"
priority = 1

[models.gpt-geo-down]
routing = { max_attempts = 2 }

[[models.gpt-geo-down.deployments]]
provider = "mock"
upstream_model = "mock-500"
region = "eu"

[[models.gpt-geo-down.deployments]]
provider = "mock"
upstream_model = "gpt-4o-mini"
region = "us"
priority = 1

[models.gpt-us-only]
provider = "mock"
upstream_model = "gpt-4o-mini"
region = "us"

[models.gpt-alias]
provider = "mock"
upstream_model = "gpt-4o-mini"
region = "us"
"#;

const POLICY: &str = r#"package gateway

import rego.v1

default decision := {"allow": true}

decision := {"allow": true, "region": input.headers["x-data-region"]} if {
	input.headers["x-data-region"]
	input.model != "gpt-alias"
}

decision := {"allow": true, "model": "gpt-geo"} if input.model == "gpt-alias"

decision := {"allow": false, "rule": "blocked_team", "reason": "this team may not call models"} if {
	input.headers["x-team"] == "blocked"
}
"#;

/// A tenant whose traffic must stay in `regions`, and a key in it.
async fn pinned_key(gw: &TestGateway, tenant: &str, regions: &[&str]) -> String {
    let id = TenantId::new(tenant);
    let t = Tenant {
        allowed_regions: Some(regions.iter().map(|r| (*r).to_owned()).collect()),
        ..Tenant::new(id, tenant)
    };
    gw.state.store.create_tenant(&t).await.unwrap();
    issue_key(&gw.state, tenant).await
}

async fn chat(gw: &TestGateway, key: &str, model: &str, extra: &[(&str, &str)]) -> Reply {
    chat_as(gw, key, model, false, extra).await
}

async fn chat_as(
    gw: &TestGateway,
    key: &str,
    model: &str,
    stream: bool,
    extra: &[(&str, &str)],
) -> Reply {
    let auth = format!("Bearer {key}");
    let mut headers = vec![
        ("content-type", "application/json"),
        ("authorization", auth.as_str()),
    ];
    headers.extend_from_slice(extra);
    let url = gw.url("/v1/chat/completions");
    send(Method::POST, &url, chat_body(model, stream), &headers).await
}

fn region(reply: &Reply) -> Option<&str> {
    reply
        .headers
        .get("x-gateway-region")
        .and_then(|v| v.to_str().ok())
}

fn upstream_calls(gw: &TestGateway, upstream_model: &str) -> usize {
    gw.mock
        .requests()
        .iter()
        .filter(|r| r.json()["model"] == upstream_model)
        .count()
}

#[tokio::test]
async fn a_pinned_tenant_is_served_only_in_its_region_and_fails_closed() {
    let gw = TestGateway::start_with_sections("", MODELS).await;
    let eu = pinned_key(&gw, "eu-corp", &["eu"]).await;

    for stream in [false, true] {
        let reply = chat_as(&gw, &eu, "gpt-geo", stream, &[]).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        assert_eq!(
            region(&reply),
            Some("eu"),
            "the eu tenant skips the preferred us deployment"
        );
        let reply = chat_as(&gw, &gw.key, "gpt-geo", stream, &[]).await;
        assert_eq!(
            region(&reply),
            Some("us"),
            "an unpinned tenant takes the preferred one"
        );
    }

    // No deployment in the region: 403 naming the constraint, and no upstream call.
    let before = gw.mock.requests().len();
    let reply = chat(&gw, &eu, "gpt-us-only", &[]).await;
    assert_eq!(reply.status, 403, "{:?}", reply.body);
    let message = reply.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("region"), "{message}");
    assert_eq!(gw.mock.requests().len(), before);

    // The eu deployment is down: the pinned tenant fails rather than going to us ...
    let us_calls = upstream_calls(&gw, "gpt-4o-mini");
    let reply = chat(&gw, &eu, "gpt-geo-down", &[]).await;
    assert!(
        reply.status.as_u16() >= 500,
        "{}: {:?}",
        reply.status,
        reply.body
    );
    let message = reply.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.contains("region(s) eu") && message.contains("not sent elsewhere"),
        "{message}"
    );
    assert_eq!(
        upstream_calls(&gw, "gpt-4o-mini"),
        us_calls,
        "never sent to us"
    );
    // ... while an unpinned tenant falls back to us.
    let reply = chat(&gw, &gw.key, "gpt-geo-down", &[]).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(region(&reply), Some("us"));
}

#[tokio::test]
async fn a_key_can_be_pinned_through_its_metadata() {
    let gw = TestGateway::start_with_sections("", MODELS).await;
    let manager = gw.state.auth.key_manager.as_ref().unwrap();
    let new = gateway_auth::NewApiKey {
        metadata: serde_json::json!({"allowed_regions": ["eu"]}),
        ..gateway_auth::NewApiKey::new(TenantId::new("acme"), "eu-only key")
    };
    let key = manager.create(new).await.unwrap().secret.expose().clone();
    let reply = chat(&gw, &key, "gpt-geo", &[]).await;
    assert_eq!(region(&reply), Some("eu"));
    assert_eq!(chat(&gw, &key, "gpt-us-only", &[]).await.status, 403);
    // The tenant's other keys are not affected.
    assert_eq!(
        region(&chat(&gw, &gw.key, "gpt-geo", &[]).await),
        Some("us")
    );
}

fn policy_sections(name: &str) -> String {
    let dir = std::env::temp_dir().join(format!("gw-residency-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("gateway.rego");
    std::fs::write(&file, POLICY).unwrap();
    format!(
        "{MODELS}\n[policies]\nfiles = [{:?}]\nheaders = [\"x-data-region\", \"x-team\"]\n",
        file.display().to_string()
    )
}

#[tokio::test]
async fn a_rego_policy_pins_regions_moves_models_and_denies() {
    let gw = TestGateway::start_with_sections("", &policy_sections("policy")).await;

    for stream in [false, true] {
        let reply = chat_as(&gw, &gw.key, "gpt-geo", stream, &[("x-data-region", "eu")]).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        assert_eq!(region(&reply), Some("eu"), "stream={stream}");
    }
    let reply = chat(&gw, &gw.key, "gpt-us-only", &[("x-data-region", "eu")]).await;
    assert_eq!(
        reply.status, 403,
        "pinned to a region the model lacks: {:?}",
        reply.body
    );

    let reply = chat(&gw, &gw.key, "gpt-alias", &[]).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(
        reply.json()["model"],
        "gpt-geo",
        "moved to another model group"
    );

    let before = gw.mock.requests().len();
    let reply = chat(&gw, &gw.key, "gpt-geo", &[("x-team", "blocked")]).await;
    assert_eq!(reply.status, 403, "{:?}", reply.body);
    let message = reply.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        message,
        "Request denied by policy (rule 'blocked_team'): this team may not call models"
    );
    assert_eq!(
        gw.mock.requests().len(),
        before,
        "a denied request never reaches the upstream"
    );
}

#[tokio::test]
async fn a_bad_policy_is_rejected_at_load_with_its_error() {
    let dir = std::env::temp_dir().join(format!("gw-residency-{}-bad", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.rego");
    std::fs::write(&file, "package gateway\nimport rego.v1\ndecision if {\n").unwrap();
    let text = format!("[policies]\nfiles = [{:?}]\n", file.display().to_string());
    let err = gateway_app::Config::from_toml_str(&text, &|_| None, std::iter::empty()).unwrap_err();
    assert_eq!(err.0[0].path, "policies.files[0]", "{err}");
    assert!(err.0[0].message.contains("bad.rego:"), "{err}");
}
