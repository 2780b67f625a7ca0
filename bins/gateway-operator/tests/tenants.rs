//! GatewayTenant reconciled against a mocked Kubernetes API server and the real gateway's
//! admin API: create, update from the spec, drift repair (edited or deleted in the gateway
//! out of band), and delete through the finalizer.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use gateway_core::TenantId;
use gateway_operator::admin::AdminClient;
use gateway_operator::crd::GatewayTenant;
use gateway_operator::reconcile::tenant;
use serde_json::json;
use support::gateway::{ADMIN_TOKEN, RealGateway};
use support::{FakeApi, context, fetch, path_of};

const NS: &str = "team-a";
const API: &str = "gateway.llm-secure-gateway.io/v1alpha1";

fn tenant_path(name: &str) -> String {
    path_of(API, "gatewaytenants", NS, name)
}

/// The admin token Secret and a GatewayTenant pointing at the real gateway by URL.
fn seed(fake: &FakeApi, gw: &RealGateway, name: &str, spec_extra: serde_json::Value) {
    fake.put(
        &path_of("v1", "secrets", NS, "gw-admin"),
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "gw-admin", "namespace": NS},
               "stringData": {"token": ADMIN_TOKEN}}),
    );
    let mut spec = json!({
        "gateway": {"url": gw.url, "adminTokenSecret": {"name": "gw-admin", "key": "token"}},
    });
    json_patch::merge(&mut spec, &spec_extra);
    fake.put(
        &tenant_path(name),
        json!({"apiVersion": API, "kind": "GatewayTenant",
               "metadata": {"name": name, "namespace": NS, "generation": 1}, "spec": spec}),
    );
}

/// Runs reconciliations (the finalizer is added by the first) until one returns.
async fn reconcile(fake: &FakeApi, ctx: &std::sync::Arc<gateway_operator::Context>, name: &str) {
    for _ in 0..2 {
        let obj: GatewayTenant = fetch(fake, &tenant_path(name));
        tenant::reconcile(std::sync::Arc::new(obj), ctx.clone())
            .await
            .unwrap();
    }
}

fn bump(fake: &FakeApi, name: &str, spec_patch: serde_json::Value) {
    let mut obj = fake.get(&tenant_path(name)).unwrap();
    json_patch::merge(&mut obj, &json!({"spec": spec_patch}));
    let generation = obj["metadata"]["generation"].as_i64().unwrap() + 1;
    obj["metadata"]["generation"] = json!(generation);
    fake.put(&tenant_path(name), obj);
}

fn status(fake: &FakeApi, name: &str) -> serde_json::Value {
    fake.get(&tenant_path(name)).unwrap()["status"].clone()
}

fn condition(status: &serde_json::Value, type_: &str) -> serde_json::Value {
    status["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == type_).cloned())
        .unwrap_or(serde_json::Value::Null)
}

#[tokio::test]
async fn a_tenant_is_created_updated_repaired_and_deleted() {
    let gw = RealGateway::start().await;
    let (client, fake) = FakeApi::start();
    let ctx = context(client);
    seed(
        &fake,
        &gw,
        "acme",
        json!({"displayName": "Acme Corp", "allowedModels": ["gpt-test"], "limits": {"rpm": 60}}),
    );

    // Create: the finalizer first, then the tenant.
    reconcile(&fake, &ctx, "acme").await;
    let obj = fake.get(&tenant_path("acme")).unwrap();
    assert_eq!(
        obj["metadata"]["finalizers"],
        json!([gateway_operator::FINALIZER])
    );
    let stored = gw
        .state
        .store
        .get_tenant(&TenantId::new("acme"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.name, "Acme Corp");
    assert_eq!(stored.allowed_models, Some(vec!["gpt-test".to_owned()]));
    assert_eq!(stored.limits.rpm, Some(60));
    let st = status(&fake, "acme");
    assert_eq!(condition(&st, "Ready")["status"], "True");
    assert_eq!(st["tenantId"], "acme");
    assert_eq!(st["driftRepairs"], 0);

    // Update: the spec changes, the tenant follows; not counted as drift.
    bump(
        &fake,
        "acme",
        json!({"limits": {"rpm": 120, "tpm": 50000}, "enabled": false}),
    );
    reconcile(&fake, &ctx, "acme").await;
    let stored = gw
        .state
        .store
        .get_tenant(&TenantId::new("acme"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.limits.rpm, stored.limits.tpm, stored.enabled),
        (Some(120), Some(50000), false)
    );
    assert_eq!(status(&fake, "acme")["driftRepairs"], 0);

    // Drift: someone edits the tenant through the admin API; the next poll sets it back.
    let admin = AdminClient::new(&gw.url, ADMIN_TOKEN);
    admin
        .update_tenant(
            "acme",
            &json!({"name": "hijacked", "limits": {"rpm": 100000}, "allowed_models": null}),
        )
        .await
        .unwrap();
    reconcile(&fake, &ctx, "acme").await;
    let stored = gw
        .state
        .store
        .get_tenant(&TenantId::new("acme"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.name, "Acme Corp");
    assert_eq!(stored.limits.rpm, Some(120));
    assert_eq!(stored.allowed_models, Some(vec!["gpt-test".to_owned()]));
    let st = status(&fake, "acme");
    assert_eq!(st["driftRepairs"], 1);
    let drifted = condition(&st, "Drifted");
    assert_eq!(drifted["reason"], "Repaired");
    let message = drifted["message"].as_str().unwrap();
    assert!(
        message.contains("name") && message.contains("limits"),
        "{message}"
    );

    // Drift: the tenant is deleted in the gateway; it is created again.
    assert!(admin.delete_tenant("acme").await.unwrap());
    reconcile(&fake, &ctx, "acme").await;
    assert!(
        gw.state
            .store
            .get_tenant(&TenantId::new("acme"))
            .await
            .unwrap()
            .is_some()
    );
    let st = status(&fake, "acme");
    assert_eq!(st["driftRepairs"], 2);
    assert_eq!(condition(&st, "Drifted")["reason"], "Recreated");

    // Delete: the API server marks it; the finalizer deletes the tenant, then lets go.
    let mut obj = fake.get(&tenant_path("acme")).unwrap();
    obj["metadata"]["deletionTimestamp"] = json!("2026-12-06T00:00:00Z");
    fake.put(&tenant_path("acme"), obj);
    let obj: GatewayTenant = fetch(&fake, &tenant_path("acme"));
    tenant::reconcile(std::sync::Arc::new(obj), ctx.clone())
        .await
        .unwrap();
    assert!(
        gw.state
            .store
            .get_tenant(&TenantId::new("acme"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        fake.get(&tenant_path("acme")).is_none(),
        "the object is gone once its finalizer is"
    );
}

#[tokio::test]
async fn an_unreachable_gateway_or_bad_reference_is_reported_not_hidden() {
    let gw = RealGateway::start().await;
    let (client, fake) = FakeApi::start();
    let ctx = context(client);
    seed(&fake, &gw, "beta", json!({}));
    // A wrong token: the gateway refuses, Ready=False says so, and the error is returned.
    fake.put(
        &path_of("v1", "secrets", NS, "gw-admin"),
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "gw-admin", "namespace": NS},
               "stringData": {"token": "wrong-token-wrong-token"}}),
    );
    let obj: GatewayTenant = fetch(&fake, &tenant_path("beta"));
    tenant::reconcile(std::sync::Arc::new(obj), ctx.clone())
        .await
        .unwrap();
    let obj: GatewayTenant = fetch(&fake, &tenant_path("beta"));
    let err = tenant::reconcile(std::sync::Arc::new(obj), ctx.clone())
        .await
        .unwrap_err();
    assert_eq!(err.reason(), "GatewayRefused");
    let ready = condition(&status(&fake, "beta"), "Ready");
    assert_eq!(
        (ready["status"].as_str(), ready["reason"].as_str()),
        (Some("False"), Some("GatewayRefused"))
    );
    assert!(
        !ready["message"].as_str().unwrap().contains("wrong-token"),
        "the token never shows"
    );

    // Both a name and a URL: invalid spec.
    bump(&fake, "beta", json!({"gateway": {"name": "gw"}}));
    let obj: GatewayTenant = fetch(&fake, &tenant_path("beta"));
    let err = tenant::reconcile(std::sync::Arc::new(obj), ctx.clone())
        .await
        .unwrap_err();
    assert_eq!(err.reason(), "InvalidSpec");

    // The referenced LlmGateway does not exist: nothing to call.
    bump(&fake, "beta", json!({"gateway": {"url": null}}));
    let obj: GatewayTenant = fetch(&fake, &tenant_path("beta"));
    let err = tenant::reconcile(std::sync::Arc::new(obj), ctx.clone())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("LlmGateway 'gw' does not exist"),
        "{err}"
    );
    // ...and deleting the resource then does not hang on the finalizer.
    let mut obj = fake.get(&tenant_path("beta")).unwrap();
    obj["metadata"]["deletionTimestamp"] = json!("2026-12-06T00:00:00Z");
    fake.put(&tenant_path("beta"), obj);
    let obj: GatewayTenant = fetch(&fake, &tenant_path("beta"));
    tenant::reconcile(std::sync::Arc::new(obj), ctx.clone())
        .await
        .unwrap();
    assert!(fake.get(&tenant_path("beta")).is_none());
}
