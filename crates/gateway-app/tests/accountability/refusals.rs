//! Refusals of each kind, through the served gateway, name their kind in the metric labels
//! and the audit log: the labels come from the refusal's typed fields (limit kind, auth
//! failure, who denied), so the messages callers read can change freely.

use gateway_core::store::AuditQuery;
use http::Method;
use serde_json::Value;

use crate::common::{TestGateway, chat_body, send};
use crate::parse_metrics;

const ADMIN: &str = "admin-token-for-refusal-tests-01";

/// A key of tenant `acme` with `limits` (JSON), issued through the admin API.
async fn key_with_limits(gw: &TestGateway, name: &str, limits: &str) -> String {
    let created = send(
        Method::POST,
        &gw.url("/admin/v1/keys"),
        format!(r#"{{"tenant":"acme","name":"{name}","limits":{limits}}}"#),
        &[
            ("authorization", &format!("Bearer {ADMIN}")),
            ("content-type", "application/json"),
        ],
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    format!("Bearer {}", created.json()["secret"].as_str().unwrap())
}

async fn chat(gw: &TestGateway, model: &str, authorization: Option<&str>) -> u16 {
    let mut headers = vec![("content-type", "application/json")];
    if let Some(auth) = authorization {
        headers.push(("authorization", auth));
    }
    let url = gw.url("/v1/chat/completions");
    send(Method::POST, &url, chat_body(model, false), &headers)
        .await
        .status
        .as_u16()
}

#[tokio::test]
async fn each_refusal_kind_reaches_metrics_and_audit_by_its_typed_fields() {
    let gw = TestGateway::start_with_sections("", &format!("[admin]\ntoken = \"{ADMIN}\"")).await;
    let one_per_minute = key_with_limits(&gw, "rpm", r#"{"rpm":1}"#).await;
    let few_tokens = key_with_limits(&gw, "tpm", r#"{"tpm":1}"#).await;

    assert_eq!(chat(&gw, "gpt-test", None).await, 401);
    assert_eq!(
        chat(&gw, "gpt-test", Some("Bearer sk-gw-wrong-key-000000000000")).await,
        401
    );
    assert_eq!(chat(&gw, "gpt-test", Some(&one_per_minute)).await, 200);
    assert_eq!(chat(&gw, "gpt-test", Some(&one_per_minute)).await, 429);
    assert_eq!(chat(&gw, "gpt-test", Some(&few_tokens)).await, 429);
    assert_eq!(chat(&gw, "upstream-429", Some(&gw.bearer())).await, 429);

    let text = String::from_utf8(
        send(Method::GET, &gw.url("/metrics"), "", &[])
            .await
            .body
            .to_vec(),
    )
    .unwrap();
    let m = parse_metrics(&text);
    let get = |k: &str| m.get(k).copied().unwrap_or(0.0);
    for (series, count) in [
        (r#"gateway_auth_failures_total{reason="missing"}"#, 1.0),
        (r#"gateway_auth_failures_total{reason="invalid"}"#, 1.0),
        (r#"gateway_limit_rejections_total{limit="requests"}"#, 1.0),
        (r#"gateway_limit_rejections_total{limit="tokens"}"#, 1.0),
        (r#"gateway_limit_rejections_total{limit="upstream"}"#, 1.0),
    ] {
        assert_eq!(get(series), count, "{series} in\n{text}");
    }

    gw.state.telemetry.flush().await;
    let log = gw
        .state
        .store
        .list_audit(&AuditQuery::default())
        .await
        .unwrap();
    let refusals: Vec<(&str, &Value)> = log
        .iter()
        .filter(|r| !r.event.action.starts_with("key."))
        .map(|r| (r.event.action.as_str(), &r.event.details))
        .collect();
    let fields: Vec<(&str, &str)> = refusals
        .iter()
        .map(|(action, details)| {
            let field = details
                .get("reason")
                .or_else(|| details.get("limit"))
                .and_then(Value::as_str)
                .unwrap_or("-");
            (*action, field)
        })
        .collect();
    assert_eq!(
        fields,
        [
            ("auth.failed", "missing"),
            ("auth.failed", "invalid"),
            ("limit.reject", "requests"),
            ("limit.reject", "tokens"),
            ("limit.reject", "upstream"),
        ],
        "{refusals:?}"
    );
}
