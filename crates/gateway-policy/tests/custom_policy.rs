//! Custom Rego policies: the example of `docs/policies.md` decides as the page says, bad
//! policies are rejected at load with their error, and evaluation fails closed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers

use std::collections::HashMap;
use std::sync::Arc;

use gateway_core::phases::guard::RequestPolicy;
use gateway_core::types::{ChatRequest, Message, Role};
use gateway_core::{Endpoint, Principal, RequestContext, TenantId};
use gateway_policy::custom::DeploymentInfo;
use gateway_policy::{CustomPolicy, Error, GuardrailConfig, GuardrailSet, PolicyConfig};

/// The first ```rego block of the policies page.
fn documented_policy() -> String {
    let page = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/policies.md"
    ))
    .unwrap();
    let start = page.find("```rego\n").unwrap() + "```rego\n".len();
    let end = start + page[start..].find("```").unwrap();
    page[start..end].to_owned()
}

fn json(v: regorus::Value) -> serde_json::Value {
    serde_json::to_value(&v).unwrap()
}

fn deployments() -> HashMap<String, Vec<DeploymentInfo>> {
    let d = |provider: &str, region: &str| DeploymentInfo {
        provider: provider.into(),
        region: Some(region.into()),
    };
    HashMap::from([
        (
            "gpt-large".to_owned(),
            vec![d("openai-eu", "eu"), d("openai-us", "us")],
        ),
        ("gpt-small".to_owned(), vec![d("openai-us", "us")]),
    ])
}

fn policy() -> CustomPolicy {
    let text = documented_policy();
    CustomPolicy::from_sources(&[("gateway.rego", &text)], "data.gateway.decision")
        .unwrap()
        .with_deployments(deployments())
        .with_guardrails(GuardrailSet::new(&GuardrailConfig::default()).unwrap())
}

fn ctx(tenant: &str) -> RequestContext {
    let mut p = Principal::anonymous();
    p.tenant = TenantId::new(tenant);
    RequestContext::new("req-1", p, Endpoint::ChatCompletions)
}

fn request(text: &str) -> ChatRequest {
    ChatRequest {
        model: "gpt-large".into(),
        messages: vec![Message::text(Role::User, text)],
        ..ChatRequest::default()
    }
}

#[test]
fn the_documented_policy_allows_denies_pins_and_moves() {
    let p = policy();

    let (mut c, mut r) = (ctx("acme"), request("Hello"));
    p.decide(&mut c, &mut r).unwrap();
    assert_eq!(
        (c.constraints.regions.clone(), r.model.as_str()),
        (None, "gpt-large")
    );

    let (mut c, mut r) = (ctx("trial"), request("Hello"));
    p.decide(&mut c, &mut r).unwrap();
    assert_eq!(
        r.model, "gpt-small",
        "trial tenants are moved to the small model"
    );

    let (mut c, mut r) = (ctx("acme"), request("I am jane@example.com"));
    p.decide(&mut c, &mut r).unwrap();
    assert_eq!(
        c.constraints.regions.as_deref(),
        Some(&["eu".to_owned()][..])
    );

    let (mut c, mut r) = (ctx("acme"), request(&"word ".repeat(8000)));
    let err = p.decide(&mut c, &mut r).unwrap_err();
    assert_eq!(err.status(), 403);
    assert_eq!(
        err.to_string(),
        "Request denied by policy (rule 'prompt_too_large'): prompts are limited to 8000 tokens"
    );
}

#[tokio::test]
async fn headers_reach_the_policy_only_when_configured() {
    let p = policy();
    let policy_with_headers = {
        let cfg = PolicyConfig {
            headers: vec!["X-Team".into()],
            ..PolicyConfig::default()
        };
        // capture_headers only needs the configured names.
        let dir = std::env::temp_dir().join(format!("gw-policy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("gateway.rego");
        std::fs::write(&file, documented_policy()).unwrap();
        CustomPolicy::new(&PolicyConfig {
            files: vec![file],
            ..cfg
        })
        .unwrap()
        .unwrap()
    };
    let raw: [(&str, &[u8]); 2] = [("x-team", b"batch"), ("authorization", b"Bearer sk-x")];
    let captured = policy_with_headers.capture_headers(raw.into_iter());
    assert_eq!(
        captured.as_deref(),
        Some(&[("x-team".to_owned(), "batch".to_owned())][..])
    );
    assert!(p.capture_headers(raw.into_iter()).is_none());

    let mut with_captured = ctx("acme");
    with_captured.headers = captured;
    let input = json(policy_with_headers.input(&with_captured, &request("hi")));
    assert_eq!(input["headers"], serde_json::json!({"x-team": "batch"}));
    let hour = input["time"]["hour"].as_i64().unwrap();
    let decided = policy_with_headers.decide(&mut with_captured, &mut request("hi"));
    assert_eq!(decided.is_err(), (8..18).contains(&hour), "{decided:?}");
}

#[test]
fn input_document_has_every_documented_key() {
    let p = policy();
    let mut c = ctx("acme");
    c.constraints.regions = Some(Arc::from(vec!["us".to_owned()]));
    let input = json(p.input(&c, &request("mail jane@example.com")));
    for key in [
        "principal",
        "tenant",
        "endpoint",
        "request_id",
        "model",
        "stream",
        "message_count",
        "tools",
        "deployments",
        "providers",
        "regions",
        "region_constraint",
        "estimated_tokens",
        "guardrails",
        "time",
        "headers",
    ] {
        assert!(input.get(key).is_some(), "missing {key}");
    }
    assert_eq!(input["providers"], serde_json::json!(["openai-us"]));
    assert_eq!(input["regions"], serde_json::json!(["us"]));
    assert_eq!(input["guardrails"]["findings"][0]["category"], "email");
    assert!(input["guardrails"]["findings"][0].get("start").is_none());
    assert_eq!(input["principal"]["method"], "none");
}

#[test]
fn bad_policies_are_rejected_at_load_with_their_error() {
    let load = |text: &str, query: &str| CustomPolicy::from_sources(&[("bad.rego", text)], query);
    let problems = |e: Error| match e {
        Error::InvalidConfig(p) => p,
        other => panic!("{other}"),
    };
    let p = problems(
        load(
            "package gateway\nimport rego.v1\nallow if {\n  input.x ==\n}\n",
            "data.gateway.allow",
        )
        .unwrap_err(),
    );
    assert_eq!(p[0].0, "policies.files[0]");
    assert!(p[0].1.contains("bad.rego:5:1"), "{}", p[0].1);

    let p = problems(
        load(
            "package gateway\nimport rego.v1\nallow := true\n",
            "data.gateway.decison",
        )
        .unwrap_err(),
    );
    assert_eq!(p[0].0, "policies.query");

    let p = problems(
        load(
            "package gateway\nimport rego.v1\ndecision := time.now_ns() > 0\n",
            "data.gateway.decision",
        )
        .unwrap_err(),
    );
    assert!(p[0].1.contains("time.now_ns"), "{}", p[0].1);

    let missing = PolicyConfig {
        files: vec!["/nonexistent/gateway.rego".into()],
        ..PolicyConfig::default()
    };
    let p = missing.validate();
    assert_eq!(p[0].0, "policies.files[0]");
    assert!(p[0].1.contains("cannot read"));
}

#[test]
fn evaluation_fails_closed() {
    let undefined = CustomPolicy::from_sources(
        &[("p.rego", "package gateway\nimport rego.v1\ndecision := {\"allow\": true} if input.tenant == \"vip\"\n")],
        "data.gateway.decision",
    )
    .unwrap();
    let err = undefined
        .decide(&mut ctx("acme"), &mut request("hi"))
        .unwrap_err();
    assert_eq!(err.status(), 403);
    assert!(
        err.to_string()
            .contains("no policy rule produced a decision")
    );
    assert!(
        undefined
            .decide(&mut ctx("vip"), &mut request("hi"))
            .is_ok()
    );

    let conflicting = CustomPolicy::from_sources(
        &[("p.rego", "package gateway\nimport rego.v1\ndecision := true if input.stream == false\ndecision := false if input.tenant == \"acme\"\n")],
        "data.gateway.decision",
    )
    .unwrap();
    let err = conflicting
        .decide(&mut ctx("acme"), &mut request("hi"))
        .unwrap_err();
    assert_eq!(err.status(), 500);

    let misspelt = CustomPolicy::from_sources(
        &[(
            "p.rego",
            "package gateway\nimport rego.v1\ndecision := {\"allow\": true, \"regoin\": \"eu\"}\n",
        )],
        "data.gateway.decision",
    )
    .unwrap();
    assert_eq!(
        misspelt
            .decide(&mut ctx("acme"), &mut request("hi"))
            .unwrap_err()
            .status(),
        500
    );
}

#[test]
fn evaluation_cost() {
    // A measurement, not an assertion: printed with `-- --nocapture`.
    let p = policy();
    let req = request(&"Please summarise the attached quarterly report for me. ".repeat(9));
    let runs = 2000u32;
    let started = std::time::Instant::now();
    for _ in 0..runs {
        p.decide(&mut ctx("acme"), &mut req.clone()).unwrap();
    }
    let with_guardrails = started.elapsed() / runs;
    let plain = CustomPolicy::from_sources(
        &[(
            "p.rego",
            &documented_policy().replace("input.guardrails.findings", "input.findings"),
        )],
        "data.gateway.decision",
    )
    .unwrap()
    .with_deployments(deployments());
    let started = std::time::Instant::now();
    for _ in 0..runs {
        plain.input(&ctx("acme"), &req);
    }
    let build = started.elapsed() / runs;
    let input = plain.input(&ctx("acme"), &req);
    let started = std::time::Instant::now();
    for _ in 0..runs {
        plain.evaluate(input.clone()).unwrap();
    }
    let eval_only = started.elapsed() / runs;
    let started = std::time::Instant::now();
    for _ in 0..runs {
        plain.decide(&mut ctx("acme"), &mut req.clone()).unwrap();
    }
    let decide = started.elapsed() / runs;
    println!(
        "custom policy ({}-byte prompt): build input {build:?}, evaluate {eval_only:?}, \
         decide {decide:?}, decide with input.guardrails {with_guardrails:?}",
        req.messages[0]
            .content
            .as_ref()
            .unwrap()
            .joined_text()
            .len()
    );
}
