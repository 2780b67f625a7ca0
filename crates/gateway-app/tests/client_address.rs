//! Client address allow-lists through the served gateway: per key and per tenant, set and
//! changed through the admin API, refused with 403 in each dialect's error shape on every
//! inbound route, audited and counted; `X-Forwarded-For` believed only from a trusted proxy.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use http::Method;
use serde_json::{Value, json};

const ADMIN_TOKEN: &str = "admin-token-0123456789abcdef";

fn admin_section() -> String {
    format!("[admin]\ntoken = \"{ADMIN_TOKEN}\"\n\n[query]\nmodel = \"gpt-test\"\n")
}

async fn admin(gw: &TestGateway, method: Method, path: &str, body: Value) -> Reply {
    let auth = format!("Bearer {ADMIN_TOKEN}");
    let body = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    send(
        method,
        &gw.url(path),
        body,
        &[
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
        ],
    )
    .await
}

/// A tenant with `tenant_networks` and a key in it with `key_networks`; the key's secret
/// and id.
async fn restricted_key(
    gw: &TestGateway,
    tenant: &str,
    tenant_networks: Value,
    key_networks: Value,
) -> (String, String) {
    let t = admin(
        gw,
        Method::POST,
        "/admin/v1/tenants",
        json!({"id": tenant, "allowed_networks": tenant_networks}),
    )
    .await;
    assert_eq!(t.status, 201, "{:?}", t.body);
    let k = admin(
        gw,
        Method::POST,
        "/admin/v1/keys",
        json!({"tenant": tenant, "name": "k", "allowed_networks": key_networks}),
    )
    .await;
    assert_eq!(k.status, 201, "{:?}", k.body);
    let k = k.json();
    (
        k["secret"].as_str().unwrap().to_owned(),
        k["id"].as_str().unwrap().to_owned(),
    )
}

/// One call of each inbound dialect (and the model list) with `key`, plus `extra` headers.
async fn every_route(gw: &TestGateway, key: &str, extra: &[(&str, &str)]) -> Vec<(String, Reply)> {
    let bearer = format!("Bearer {key}");
    let mut headers = vec![
        ("content-type", "application/json"),
        ("authorization", bearer.as_str()),
        ("x-api-key", key),
        ("x-goog-api-key", key),
    ];
    headers.extend_from_slice(extra);
    let calls: [(Method, &str, String); 6] = [
        (Method::POST, "/v1/chat/completions", chat_body("gpt-test", false)),
        (
            Method::POST,
            "/v1/messages",
            json!({"model": "gpt-test", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}).to_string(),
        ),
        (
            Method::POST,
            "/v1beta/models/gpt-test:generateContent",
            json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}).to_string(),
        ),
        (
            Method::POST,
            "/v1/embeddings",
            json!({"model": "gpt-test", "input": "hi"}).to_string(),
        ),
        (Method::POST, "/query", json!({"prompt": "hi"}).to_string()),
        (Method::GET, "/v1/models", String::new()),
    ];
    let mut out = Vec::new();
    for (method, path, body) in calls {
        let reply = send(method, &gw.url(path), body, &headers).await;
        out.push((path.to_owned(), reply));
    }
    out
}

fn assert_refused_everywhere(replies: &[(String, Reply)]) {
    for (path, reply) in replies {
        assert_eq!(reply.status, 403, "{path}: {:?}", reply.body);
        let body = reply.json();
        assert!(body["error"].is_object(), "{path}: {body}");
        if path == "/v1/messages" {
            assert_eq!(body["type"], "error", "{path}: Anthropic's shape");
            assert_eq!(body["error"]["type"], "permission_error");
        } else if path.starts_with("/v1beta") {
            assert_eq!(body["error"]["code"], 403, "{path}: Gemini's shape");
            assert_eq!(body["error"]["status"], "PERMISSION_DENIED");
        } else {
            assert_eq!(body["error"]["type"], "permission_error", "{path}: {body}");
        }
    }
}

async fn audit(gw: &TestGateway) -> Vec<Value> {
    gw.state.telemetry.flush().await;
    let page = admin(
        gw,
        Method::GET,
        "/admin/v1/audit?action=authz.denied",
        Value::Null,
    )
    .await
    .json();
    page["data"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn key_and_tenant_networks_refuse_other_addresses_on_every_route() {
    let gw = TestGateway::start_with_sections("", &admin_section()).await;
    // The tests connect from 127.0.0.1: inside the tenant's networks, outside the key's.
    let (secret, key_id) = restricted_key(
        &gw,
        "netco",
        json!(["127.0.0.0/8", "2001:db8::/32"]),
        json!(["10.1.2.3/8"]),
    )
    .await;
    let shown = admin(
        &gw,
        Method::GET,
        &format!("/admin/v1/keys/{key_id}"),
        Value::Null,
    )
    .await
    .json();
    assert_eq!(
        shown["allowed_networks"],
        json!(["10.0.0.0/8"]),
        "normalised"
    );
    let tenant = admin(&gw, Method::GET, "/admin/v1/tenants/netco", Value::Null)
        .await
        .json();
    assert_eq!(
        tenant["allowed_networks"],
        json!(["127.0.0.0/8", "2001:db8::/32"])
    );

    assert_refused_everywhere(&every_route(&gw, &secret, &[]).await);
    // The admin API refuses the key's holder too.
    let admin_call = send(
        Method::GET,
        &gw.url("/admin/v1/keys"),
        "",
        &[("authorization", &format!("Bearer {secret}"))],
    )
    .await;
    assert_eq!(admin_call.status, 403);

    let events = audit(&gw).await;
    let ours: Vec<&Value> = events
        .iter()
        .filter(|e| e["details"]["denied_by"] == "client_address")
        .collect();
    assert!(ours.len() >= 6, "{events:?}");
    assert!(ours.iter().all(|e| e["actor"] == key_id.as_str()
        && e["tenant"] == "netco"
        && e["ip"] == "127.0.0.1"));
    let metrics = gw.get("/metrics").await;
    let text = String::from_utf8_lossy(&metrics.body);
    assert!(
        text.contains("gateway_auth_failures_total{reason=\"client_address\"}"),
        "{text}"
    );

    // Widening the key's networks takes effect at once (the local cache is invalidated).
    let patched = admin(
        &gw,
        Method::PATCH,
        &format!("/admin/v1/keys/{key_id}"),
        json!({"allowed_networks": ["127.0.0.1"]}),
    )
    .await;
    assert_eq!(patched.status, 200, "{:?}", patched.body);
    for (path, reply) in every_route(&gw, &secret, &[]).await {
        assert_ne!(reply.status, 403, "{path}: {:?}", reply.body);
    }
    assert_eq!(gw_chat(&gw, &secret, &[]).await.status, 200);
    // Narrowing the tenant's refuses again, whatever the key allows.
    let patched = admin(
        &gw,
        Method::PATCH,
        "/admin/v1/tenants/netco",
        json!({"allowed_networks": ["::1/128"]}),
    )
    .await;
    assert_eq!(patched.status, 200);
    assert_refused_everywhere(&every_route(&gw, &secret, &[]).await);
    // `null` lifts the tenant's restriction.
    let lifted = admin(
        &gw,
        Method::PATCH,
        "/admin/v1/tenants/netco",
        json!({"allowed_networks": null}),
    )
    .await;
    assert_eq!(lifted.json()["allowed_networks"], Value::Null);
    let reply = gw_chat(&gw, &secret, &[]).await;
    assert_eq!(reply.status, 200);
    // Another tenant's keys are not affected.
    assert_eq!(gw_chat(&gw, &gw.key, &[]).await.status, 200);
}

async fn gw_chat(gw: &TestGateway, key: &str, extra: &[(&str, &str)]) -> Reply {
    let auth = format!("Bearer {key}");
    let mut headers = vec![
        ("content-type", "application/json"),
        ("authorization", auth.as_str()),
    ];
    headers.extend_from_slice(extra);
    send(
        Method::POST,
        &gw.url("/v1/chat/completions"),
        chat_body("gpt-test", false),
        &headers,
    )
    .await
}

#[tokio::test]
async fn bad_networks_are_refused_by_the_admin_api() {
    let gw = TestGateway::start_with_sections("", &admin_section()).await;
    for bad in [
        json!(["10.0.0.0/33"]),
        json!(["example.com"]),
        json!(["1.2.3"]),
    ] {
        let reply = admin(
            &gw,
            Method::POST,
            "/admin/v1/tenants",
            json!({"id": "bad", "allowed_networks": bad}),
        )
        .await;
        assert_eq!(reply.status, 400, "{bad}");
        assert_eq!(reply.json()["error"]["param"], "allowed_networks");
    }
    let too_many: Vec<String> = (0..257)
        .map(|i| format!("10.0.{}.{}", i / 256, i % 256))
        .collect();
    let reply = admin(
        &gw,
        Method::POST,
        "/admin/v1/keys",
        json!({"tenant": "acme", "name": "k", "allowed_networks": too_many}),
    )
    .await;
    assert_eq!(reply.status, 400);
}

#[tokio::test]
async fn forwarded_for_is_believed_from_a_trusted_proxy_only() {
    // The gateway sits behind a proxy on 127.0.0.0/8 (the test client).
    let gw =
        TestGateway::start_with_sections("trusted_proxies = [\"127.0.0.0/8\"]", &admin_section())
            .await;
    let (secret, key_id) =
        restricted_key(&gw, "office", Value::Null, json!(["203.0.113.0/24"])).await;
    let inside = gw_chat(&gw, &secret, &[("x-forwarded-for", "203.0.113.9")]).await;
    assert_eq!(inside.status, 200, "{:?}", inside.body);
    // The client wrote a good address itself; the proxy appended the real one.
    let spoofed = gw_chat(
        &gw,
        &secret,
        &[("x-forwarded-for", "203.0.113.9, 198.51.100.77")],
    )
    .await;
    assert_eq!(spoofed.status, 403);
    assert_eq!(
        gw_chat(&gw, &secret, &[]).await.status,
        403,
        "the proxy itself"
    );
    let garbage = gw_chat(
        &gw,
        &secret,
        &[("x-forwarded-for", "203.0.113.9, nonsense")],
    )
    .await;
    assert_eq!(garbage.status, 403, "a malformed hop is not walked past");
    // The audit records the resolved address (usage records carry no address).
    let events = audit(&gw).await;
    assert!(
        events
            .iter()
            .any(|e| e["actor"] == key_id.as_str() && e["ip"] == "198.51.100.77"),
        "{events:?}"
    );
}

#[tokio::test]
async fn forwarded_for_from_an_untrusted_peer_is_ignored() {
    let gw =
        TestGateway::start_with_sections("trusted_proxies = [\"10.0.0.0/8\"]", &admin_section())
            .await;
    let (secret, _) = restricted_key(&gw, "office", Value::Null, json!(["203.0.113.0/24"])).await;
    for header in ["x-forwarded-for", "forwarded"] {
        let value = if header == "forwarded" {
            "for=203.0.113.9"
        } else {
            "203.0.113.9"
        };
        let reply = gw_chat(&gw, &secret, &[(header, value)]).await;
        assert_eq!(
            reply.status, 403,
            "{header} from 127.0.0.1 must not be believed"
        );
    }
}
