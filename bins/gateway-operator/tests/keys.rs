//! GatewayApiKey reconciled against a mocked Kubernetes API server and the real gateway:
//! the key is issued and its secret written once into a Secret that works for inference;
//! spec changes are applied; a key edited, revoked or deleted out of band is repaired (or
//! only reported); a lost status adopts the key the Secret holds instead of issuing
//! another; deleting the resource revokes the key.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;

use gateway_core::TenantId;
use gateway_core::store::Tenant;
use gateway_operator::Context;
use gateway_operator::admin::AdminClient;
use gateway_operator::crd::GatewayApiKey;
use gateway_operator::reconcile::apikey;
use serde_json::{Value, json};
use support::gateway::{ADMIN_TOKEN, RealGateway};
use support::{FakeApi, context, fetch, path_of};

const NS: &str = "team-a";
const API: &str = "gateway.llm-secure-gateway.io/v1alpha1";

fn key_path(name: &str) -> String {
    path_of(API, "gatewayapikeys", NS, name)
}

fn secret_path(name: &str) -> String {
    path_of("v1", "secrets", NS, name)
}

struct Setup {
    gw: RealGateway,
    fake: FakeApi,
    ctx: Arc<Context>,
    admin: AdminClient,
}

async fn setup(name: &str, spec_extra: Value) -> Setup {
    let gw = RealGateway::start().await;
    gw.state
        .store
        .create_tenant(&Tenant::new(TenantId::new("acme"), "Acme".to_owned()))
        .await
        .unwrap();
    let (client, fake) = FakeApi::start();
    fake.put(
        &secret_path("gw-admin"),
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "gw-admin", "namespace": NS},
               "stringData": {"token": ADMIN_TOKEN}}),
    );
    let mut spec = json!({
        "gateway": {"url": gw.url, "adminTokenSecret": {"name": "gw-admin", "key": "token"}},
        "tenant": "acme",
    });
    json_patch::merge(&mut spec, &spec_extra);
    fake.put(
        &key_path(name),
        json!({"apiVersion": API, "kind": "GatewayApiKey",
               "metadata": {"name": name, "namespace": NS, "generation": 1}, "spec": spec}),
    );
    let admin = AdminClient::new(&gw.url, ADMIN_TOKEN);
    Setup {
        gw,
        fake,
        ctx: context(client),
        admin,
    }
}

impl Setup {
    async fn reconcile(&self, name: &str) {
        for _ in 0..2 {
            let obj: GatewayApiKey = fetch(&self.fake, &key_path(name));
            apikey::reconcile(Arc::new(obj), self.ctx.clone())
                .await
                .unwrap();
        }
    }

    fn status(&self, name: &str) -> Value {
        self.fake.get(&key_path(name)).unwrap()["status"].clone()
    }

    fn key_id(&self, name: &str) -> String {
        self.status(name)["keyId"].as_str().unwrap().to_owned()
    }

    /// The secret in the Secret, as a pod would mount it.
    fn secret(&self, name: &str) -> String {
        let secret = self.fake.get(&secret_path(name)).unwrap();
        secret["stringData"]["apiKey"].as_str().unwrap().to_owned()
    }

    fn condition(&self, name: &str, type_: &str) -> Value {
        self.status(name)["conditions"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["type"] == type_).cloned())
            .unwrap_or(Value::Null)
    }

    fn bump(&self, name: &str, spec_patch: Value) {
        let mut obj = self.fake.get(&key_path(name)).unwrap();
        json_patch::merge(&mut obj, &json!({"spec": spec_patch}));
        let generation = obj["metadata"]["generation"].as_i64().unwrap() + 1;
        obj["metadata"]["generation"] = json!(generation);
        self.fake.put(&key_path(name), obj);
    }

    fn secret_writes(&self) -> usize {
        self.fake
            .take_calls()
            .iter()
            .filter(|c| c.method == http::Method::PATCH && c.path.contains("/secrets/"))
            .count()
    }

    async fn delete(&self, name: &str) {
        let mut obj = self.fake.get(&key_path(name)).unwrap();
        obj["metadata"]["deletionTimestamp"] = json!("2026-12-06T00:00:00Z");
        self.fake.put(&key_path(name), obj);
        let obj: GatewayApiKey = fetch(&self.fake, &key_path(name));
        apikey::reconcile(Arc::new(obj), self.ctx.clone())
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_key_is_issued_written_once_updated_and_revoked_on_delete() {
    let s = setup(
        "ci",
        json!({"roles": ["developer"], "limits": {"rpm": 30}, "secretName": "ci-key"}),
    )
    .await;
    s.reconcile("ci").await;
    let id = s.key_id("ci");
    let secret = s.secret("ci-key");
    assert!(secret.starts_with("sk-"), "a gateway secret");
    assert_eq!(
        s.gw.chat_status(&secret).await,
        200,
        "the Secret's key works"
    );
    let stored = s.gw.state.store.get_key(&id).await.unwrap().unwrap();
    assert_eq!(stored.limits.rpm, Some(30));
    assert_eq!(stored.metadata["managed_by"], "gateway-operator");
    let written = s.fake.get(&secret_path("ci-key")).unwrap();
    assert_eq!(
        written["metadata"]["annotations"][apikey::KEY_ID_ANNOTATION],
        json!(id)
    );
    assert_eq!(
        written["metadata"]["ownerReferences"][0]["kind"],
        "GatewayApiKey"
    );
    assert_eq!(s.condition("ci", "Ready")["status"], "True");
    assert_eq!(s.status("ci")["issued"], 1);
    s.fake.take_calls();

    // Nothing changed: no new key, the Secret is not written again.
    s.reconcile("ci").await;
    assert_eq!(s.key_id("ci"), id);
    assert_eq!(s.secret_writes(), 0, "the secret is written once");

    // The spec changes: the same key is updated in place.
    s.bump(
        "ci",
        json!({"limits": {"rpm": 90}, "allowedModels": ["gpt-test"], "displayName": "CI pipeline"}),
    );
    s.reconcile("ci").await;
    assert_eq!(s.key_id("ci"), id);
    let stored = s.gw.state.store.get_key(&id).await.unwrap().unwrap();
    assert_eq!(
        (stored.limits.rpm, stored.name.as_str()),
        (Some(90), "CI pipeline")
    );
    assert_eq!(stored.allowed_models, Some(vec!["gpt-test".to_owned()]));
    assert_eq!(s.status("ci")["driftRepairs"], 0);

    // Delete: the finalizer revokes the key; the Secret's secret stops working.
    s.delete("ci").await;
    let stored = s.gw.state.store.get_key(&id).await.unwrap().unwrap();
    assert!(stored.revoked_at.is_some(), "revoked on delete");
    assert_eq!(s.gw.chat_status(&secret).await, 401);
    assert!(s.fake.get(&key_path("ci")).is_none());
}

#[tokio::test]
async fn keys_changed_or_revoked_out_of_band_are_repaired() {
    let s = setup("svc", json!({"limits": {"rpm": 30}})).await;
    s.reconcile("svc").await;
    let first = s.key_id("svc");
    let first_secret = s.secret("svc");

    // Edited in the gateway (disabled, limits raised): set back, counted.
    s.admin
        .update_key(
            &first,
            &json!({"enabled": false, "limits": {"rpm": 100000}, "roles": ["admin"]}),
        )
        .await
        .unwrap();
    s.reconcile("svc").await;
    let stored = s.gw.state.store.get_key(&first).await.unwrap().unwrap();
    assert!(stored.enabled);
    assert_eq!(stored.limits.rpm, Some(30));
    assert_eq!(stored.roles.len(), 1);
    assert_eq!(stored.roles[0].as_str(), "developer");
    assert_eq!(s.status("svc")["driftRepairs"], 1);
    assert_eq!(s.condition("svc", "Drifted")["reason"], "Repaired");
    assert_eq!(s.gw.chat_status(&first_secret).await, 200);

    // Revoked in the gateway: a new key, the Secret rewritten with its secret.
    s.admin.revoke_key(&first).await.unwrap();
    s.reconcile("svc").await;
    let second = s.key_id("svc");
    assert_ne!(second, first);
    let second_secret = s.secret("svc");
    assert_ne!(second_secret, first_secret);
    assert_eq!(s.gw.chat_status(&second_secret).await, 200);
    assert_eq!(s.gw.chat_status(&first_secret).await, 401);
    let st = s.status("svc");
    assert_eq!(
        (st["issued"].as_u64(), st["driftRepairs"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(s.condition("svc", "Drifted")["reason"], "Reissued");

    // The Secret deleted by hand: its secret is lost, so the key is replaced and the old
    // one revoked (a key nobody holds must not stay valid).
    s.fake.remove(&secret_path("svc"));
    s.reconcile("svc").await;
    let third = s.key_id("svc");
    assert_ne!(third, second);
    assert!(
        s.gw.state
            .store
            .get_key(&second)
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some()
    );
    assert_eq!(s.gw.chat_status(&s.secret("svc")).await, 200);
}

#[tokio::test]
async fn report_mode_leaves_a_revoked_key_revoked_and_says_so() {
    let s = setup("audit", json!({"onRevoked": "Report"})).await;
    s.reconcile("audit").await;
    let id = s.key_id("audit");
    s.admin.revoke_key(&id).await.unwrap();
    s.reconcile("audit").await;
    assert_eq!(s.key_id("audit"), id, "no new key");
    let ready = s.condition("audit", "Ready");
    assert_eq!(
        (ready["status"].as_str(), ready["reason"].as_str()),
        (Some("False"), Some("RevokedOutOfBand"))
    );
    assert_eq!(s.status("audit")["issued"], 1);
}

#[tokio::test]
async fn a_lost_status_adopts_the_key_in_the_secret() {
    let s = setup("adopt", json!({})).await;
    s.reconcile("adopt").await;
    let id = s.key_id("adopt");
    // The status write after the Secret was lost (e.g. the operator restarted in between).
    let mut obj = s.fake.get(&key_path("adopt")).unwrap();
    obj.as_object_mut().unwrap().remove("status");
    s.fake.put(&key_path("adopt"), obj);
    s.fake.take_calls();
    s.reconcile("adopt").await;
    assert_eq!(s.key_id("adopt"), id, "the key the Secret holds is adopted");
    assert_eq!(s.secret_writes(), 0);
    assert_eq!(
        s.gw.state
            .store
            .list_keys(Some(&TenantId::new("acme")))
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_bad_expiry_is_an_invalid_spec_and_issues_nothing() {
    let s = setup("bad", json!({"expiresAt": "next tuesday"})).await;
    let obj: GatewayApiKey = fetch(&s.fake, &key_path("bad"));
    apikey::reconcile(Arc::new(obj), s.ctx.clone())
        .await
        .unwrap();
    let obj: GatewayApiKey = fetch(&s.fake, &key_path("bad"));
    let err = apikey::reconcile(Arc::new(obj), s.ctx.clone())
        .await
        .unwrap_err();
    assert_eq!(err.reason(), "InvalidSpec");
    assert_eq!(s.condition("bad", "Ready")["reason"], "InvalidSpec");
    assert!(s.gw.state.store.list_keys(None).await.unwrap().is_empty());
    assert!(s.fake.get(&secret_path("bad")).is_none());
}
