//! Audit events of admin changes, and usage queries: grouping, time bounds and scoping.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use gateway_core::Usage;
use gateway_core::phases::account::UsageRecord;

use super::*;

#[tokio::test]
async fn mutations_are_audited_and_scoped() {
    let gw = start().await;
    ensure_tenant(&gw, "other").await;
    let created = admin(
        &gw,
        ADMIN_TOKEN,
        Method::POST,
        "/admin/v1/keys",
        r#"{"tenant":"acme","name":"a"}"#,
    )
    .await;
    let secret = created.json()["secret"].as_str().unwrap().to_owned();
    admin(
        &gw,
        ADMIN_TOKEN,
        Method::POST,
        "/admin/v1/keys",
        r#"{"tenant":"other","name":"b"}"#,
    )
    .await;
    let ta = key_with_role(&gw, "acme", GatewayRole::TenantAdmin).await;
    let denied = admin(
        &gw,
        &ta,
        Method::POST,
        "/admin/v1/keys",
        r#"{"tenant":"other","name":"c"}"#,
    )
    .await;
    assert_eq!(denied.status, 403);

    let all = admin(
        &gw,
        ADMIN_TOKEN,
        Method::GET,
        "/admin/v1/audit?action=key.create",
        "",
    )
    .await
    .json();
    let events = all["data"].as_array().unwrap();
    assert_eq!(events.len(), 3, "{all}");
    assert_eq!(events[0]["actor"], "admin-token");
    assert_eq!(events[0]["outcome"], "success");
    assert_eq!(events[0]["tenant"], "acme");
    assert!(events[0]["target"].as_str().unwrap().starts_with("key_"));
    assert_eq!(events[2]["outcome"], "denied");
    assert_eq!(events[2]["tenant"], "other");
    assert!(
        !serde_json::to_string(&all).unwrap().contains(&secret),
        "no secret in the audit log"
    );

    let page = admin(
        &gw,
        ADMIN_TOKEN,
        Method::GET,
        "/admin/v1/audit?limit=1&order=oldest",
        "",
    )
    .await
    .json();
    let next = page["next_after"].as_u64().unwrap();
    let page2 = admin(
        &gw,
        ADMIN_TOKEN,
        Method::GET,
        &format!("/admin/v1/audit?limit=1&after={next}"),
        "",
    )
    .await
    .json();
    assert_eq!(page2["data"][0]["seq"].as_u64(), Some(next + 1));

    // An auditor of acme sees acme's events only.
    let auditor = key_with_role(&gw, "acme", GatewayRole::Auditor).await;
    let seen = admin(&gw, &auditor, Method::GET, "/admin/v1/audit", "")
        .await
        .json();
    let tenants: Vec<&str> = seen["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["tenant"].as_str())
        .collect();
    assert!(
        !tenants.is_empty() && tenants.iter().all(|t| *t == "acme"),
        "{seen}"
    );

    let verify = admin(&gw, ADMIN_TOKEN, Method::GET, "/admin/v1/audit/verify", "")
        .await
        .json();
    assert_eq!(verify["intact"], true);
    assert!(verify["checked"].as_u64().unwrap() >= 3);
}

fn usage_record(
    tenant: &str,
    subject: &str,
    model: &str,
    at: SystemTime,
    tokens: u64,
) -> UsageRecord {
    UsageRecord {
        request_id: Arc::from(format!("req-{tenant}-{model}-{tokens}").as_str()),
        at,
        tenant: TenantId::new(tenant),
        subject: Arc::from(subject),
        endpoint: "chat_completions",
        model: model.to_owned(),
        provider: Some(Arc::from("mock")),
        upstream_model: Some(Arc::from(model)),
        usage: Some(Usage {
            prompt_tokens: tokens,
            completion_tokens: 1,
            total_tokens: tokens + 1,
            ..Usage::default()
        }),
        cost_usd: Some(0.5),
        saved_cost_usd: None,
        status: 200,
        latency: Duration::from_millis(5),
        upstream_latency: Some(Duration::from_millis(4)),
        time_to_first_token: None,
        stream: false,
        cache_hit: false,
        cancelled: false,
        batch_id: None,
        quality: None,
        task: None,
        route_reason: None,
        guardrail_findings: Default::default(),
    }
}

#[tokio::test]
async fn usage_is_grouped_and_scoped() {
    let gw = start().await;
    ensure_tenant(&gw, "other").await;
    let day = gateway_core::store::from_unix_millis(1_714_564_800_000); // 2024-05-01T12:00Z
    let next_day = day + Duration::from_secs(86_400);
    gw.state
        .store
        .insert_usage(&[
            usage_record("acme", "key_a", "model-x", day, 10),
            usage_record("acme", "key_a", "model-y", next_day, 20),
            usage_record("acme", "key_b", "model-x", next_day, 30),
            usage_record("other", "key_c", "model-x", day, 40),
        ])
        .await
        .unwrap();

    let r = admin(
        &gw,
        ADMIN_TOKEN,
        Method::GET,
        "/admin/v1/usage?tenant=acme&group_by=model&from=2024-05-01&to=2024-05-02",
        "",
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let data = r.json()["data"].clone();
    let x = data
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["model"] == "model-x")
        .unwrap();
    assert_eq!(
        (x["requests"].as_u64(), x["prompt_tokens"].as_u64()),
        (Some(2), Some(40))
    );

    let r = admin(
        &gw,
        ADMIN_TOKEN,
        Method::GET,
        "/admin/v1/usage?tenant=acme&group_by=day&to=2024-05-01",
        "",
    )
    .await
    .json();
    assert_eq!(r["data"].as_array().unwrap().len(), 1, "{r}");
    assert_eq!(r["data"][0]["day"], "2024-05-01");
    let r = admin(
        &gw,
        ADMIN_TOKEN,
        Method::GET,
        "/admin/v1/usage?key=key_a&group_by=key",
        "",
    )
    .await
    .json();
    assert_eq!(r["data"][0]["key"], "key_a");
    assert_eq!(r["data"][0]["requests"], 2);

    // A viewer without a filter sees its own tenant only, and may not ask for another.
    let viewer = key_with_role(&gw, "acme", GatewayRole::Viewer).await;
    let r = admin(
        &gw,
        &viewer,
        Method::GET,
        "/admin/v1/usage?group_by=tenant",
        "",
    )
    .await
    .json();
    let tenants: Vec<&Value> = r["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| &row["tenant"])
        .collect();
    assert_eq!(tenants, vec!["acme"]);
    let r = admin(
        &gw,
        &viewer,
        Method::GET,
        "/admin/v1/usage?tenant=other",
        "",
    )
    .await;
    assert_eq!(r.status, 403);
}
