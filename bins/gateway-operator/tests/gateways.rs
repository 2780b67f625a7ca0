//! LlmGateway reconciled against a mocked Kubernetes API server: its ConfigMap, Deployment
//! and Service are created by server-side apply, follow spec updates (a new configuration
//! rolls the pods through the hash annotation), are put back after out-of-band edits, and
//! are owned by the resource (deleted with it by the garbage collector); the status reports
//! readiness.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;

use gateway_operator::crd::LlmGateway;
use gateway_operator::manifests::{CONFIG_HASH, config_hash};
use gateway_operator::reconcile::gateway;
use serde_json::{Value, json};
use support::{FakeApi, context, fetch, path_of};

const NS: &str = "llm";
const API: &str = "gateway.llm-secure-gateway.io/v1alpha1";
const CONFIG: &str = "[admin]\ntoken = \"${GATEWAY_ADMIN_TOKEN}\"\n";

fn gw_path() -> String {
    path_of(API, "llmgateways", NS, "edge")
}
fn deploy_path() -> String {
    path_of("apps/v1", "deployments", NS, "edge")
}
fn svc_path() -> String {
    path_of("v1", "services", NS, "edge")
}
fn cm_path() -> String {
    path_of("v1", "configmaps", NS, "edge-config")
}

async fn reconcile(fake: &FakeApi, ctx: &Arc<gateway_operator::Context>) {
    let obj: LlmGateway = fetch(fake, &gw_path());
    gateway::reconcile(Arc::new(obj), ctx.clone())
        .await
        .unwrap();
}

fn env_names(deploy: &Value) -> Vec<String> {
    deploy["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_owned())
        .collect()
}

fn condition(fake: &FakeApi, type_: &str) -> Value {
    fake.get(&gw_path()).unwrap()["status"]["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == type_).cloned())
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn objects_are_created_updated_repaired_and_owned() {
    let (client, fake) = FakeApi::start();
    let ctx = context(client);
    fake.put(
        &gw_path(),
        json!({"apiVersion": API, "kind": "LlmGateway",
               "metadata": {"name": "edge", "namespace": NS, "generation": 1, "uid": "gw-uid-1"},
               "spec": {"replicas": 3, "config": CONFIG,
                        "adminTokenSecret": {"name": "gw-secrets", "key": "admin-token"},
                        "providers": [{"env": "OPENAI_API_KEY",
                                       "secretKeyRef": {"name": "gw-secrets", "key": "openai"}}]}}),
    );

    // Create.
    reconcile(&fake, &ctx).await;
    let cm = fake.get(&cm_path()).unwrap();
    assert_eq!(cm["data"]["gateway.toml"], CONFIG);
    let deploy = fake.get(&deploy_path()).unwrap();
    assert_eq!(deploy["spec"]["replicas"], 3);
    let pod = &deploy["spec"]["template"];
    assert_eq!(
        pod["metadata"]["annotations"][CONFIG_HASH],
        json!(config_hash(CONFIG))
    );
    assert_eq!(
        env_names(&deploy),
        ["GATEWAY_ADMIN_TOKEN", "OPENAI_API_KEY"]
    );
    let env = &pod["spec"]["containers"][0]["env"][1];
    assert_eq!(
        env["valueFrom"]["secretKeyRef"],
        json!({"name": "gw-secrets", "key": "openai", "optional": false})
    );
    assert!(
        env.get("value").is_none(),
        "secrets are referenced, never copied"
    );
    assert_eq!(
        pod["spec"]["containers"][0]["readinessProbe"]["httpGet"]["path"],
        "/ready"
    );
    assert_eq!(
        pod["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesystem"],
        true
    );
    let svc = fake.get(&svc_path()).unwrap();
    assert_eq!(svc["spec"]["ports"][0]["port"], 8080);
    assert_eq!(
        svc["spec"]["selector"],
        deploy["spec"]["selector"]["matchLabels"]
    );
    for obj in [&cm, &deploy, &svc] {
        let owner = &obj["metadata"]["ownerReferences"][0];
        assert_eq!(
            (owner["kind"].as_str(), owner["uid"].as_str()),
            (Some("LlmGateway"), Some("gw-uid-1"))
        );
        assert_eq!(owner["controller"], true);
    }
    // No pod is ready yet.
    assert_eq!(condition(&fake, "Ready")["status"], "False");
    assert_eq!(condition(&fake, "Reconciled")["status"], "True");
    let applies = fake.take_calls();
    assert!(applies.iter().filter(|c| c.method == http::Method::PATCH && c.path != format!("{}/status", gw_path()))
        .all(|c| c.content_type == "application/apply-patch+yaml"), "server-side apply: {applies:?}");

    // Update: a new configuration and replica count.
    let mut obj = fake.get(&gw_path()).unwrap();
    let new_config = format!("{CONFIG}\n[cache]\nenabled = true\n");
    obj["spec"]["config"] = json!(new_config);
    obj["spec"]["replicas"] = json!(2);
    obj["metadata"]["generation"] = json!(2);
    fake.put(&gw_path(), obj);
    reconcile(&fake, &ctx).await;
    let deploy = fake.get(&deploy_path()).unwrap();
    assert_eq!(deploy["spec"]["replicas"], 2);
    assert_eq!(
        deploy["spec"]["template"]["metadata"]["annotations"][CONFIG_HASH],
        json!(config_hash(&new_config)),
        "a new configuration rolls the pods"
    );
    assert_eq!(
        fake.get(&cm_path()).unwrap()["data"]["gateway.toml"],
        json!(new_config)
    );

    // Drift: someone scales the Deployment and edits the ConfigMap; they come back.
    let mut deploy = fake.get(&deploy_path()).unwrap();
    deploy["spec"]["replicas"] = json!(9);
    deploy["spec"]["template"]["spec"]["containers"][0]["image"] = json!("evil/gateway:latest");
    deploy["status"] = json!({"readyReplicas": 2});
    fake.put(&deploy_path(), deploy);
    let mut cm = fake.get(&cm_path()).unwrap();
    cm["data"]["gateway.toml"] = json!("[admin]\ntoken = \"hardcoded\"\n");
    fake.put(&cm_path(), cm);
    fake.remove(&svc_path());
    reconcile(&fake, &ctx).await;
    let deploy = fake.get(&deploy_path()).unwrap();
    assert_eq!(deploy["spec"]["replicas"], 2);
    assert_eq!(
        deploy["spec"]["template"]["spec"]["containers"][0]["image"],
        "ghcr.io/llm-secure-gateway/llm-gateway:0.1.0"
    );
    assert_eq!(
        fake.get(&cm_path()).unwrap()["data"]["gateway.toml"],
        json!(new_config)
    );
    assert!(
        fake.get(&svc_path()).is_some(),
        "a deleted Service is recreated"
    );

    // Readiness: two of two replicas ready.
    let status = &fake.get(&gw_path()).unwrap()["status"];
    assert_eq!(status["readyReplicas"], 2);
    assert_eq!(status["observedGeneration"], 2);
    assert_eq!(condition(&fake, "Ready")["status"], "True");
}

#[tokio::test]
async fn an_empty_configuration_is_refused_and_reported() {
    let (client, fake) = FakeApi::start();
    let ctx = context(client);
    fake.put(
        &gw_path(),
        json!({"apiVersion": API, "kind": "LlmGateway",
               "metadata": {"name": "edge", "namespace": NS, "generation": 1},
               "spec": {"config": "  ", "adminTokenSecret": {"name": "s", "key": "k"}}}),
    );
    let obj: LlmGateway = fetch(&fake, &gw_path());
    let err = gateway::reconcile(Arc::new(obj), ctx).await.unwrap_err();
    assert_eq!(err.reason(), "InvalidSpec");
    assert_eq!(condition(&fake, "Reconciled")["status"], "False");
    assert!(fake.get(&deploy_path()).is_none(), "nothing is rolled out");
}
