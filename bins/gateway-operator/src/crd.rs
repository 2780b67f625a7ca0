//! The custom resources, as Rust types: the CRD manifests in `deploy/operator/crds.yaml` are
//! generated from them (`gateway-operator crds`), never written by hand.
//!
//! - [`LlmGateway`]: a gateway deployment (replicas, image, `gateway.toml`, the Secrets its
//!   provider keys and admin token come from); the operator owns its Deployment, Service and
//!   ConfigMap.
//! - [`GatewayTenant`]: a tenant of a gateway, kept equal to the spec through the admin API.
//! - [`GatewayApiKey`]: an API key of a tenant; its secret is written once into a Kubernetes
//!   Secret, and deleting the resource revokes the key.

// `printcolumn(...)` arguments of the CustomResource derive repeat `type_ = ...`: not
// duplicated attributes, whatever clippy reads into them.
#![allow(clippy::duplicated_attributes)]

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The API group of every resource.
pub const GROUP: &str = "gateway.llm-secure-gateway.io";

/// One key of a Kubernetes Secret in the resource's namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretKeyRef {
    /// The Secret's name.
    pub name: String,
    /// The key inside the Secret.
    pub key: String,
}

/// A provider credential: the environment variable the gateway's configuration refers to as
/// `${ENV}`, filled from a Secret (never copied into the ConfigMap).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretEnv {
    /// The variable name, e.g. `OPENAI_API_KEY`.
    pub env: String,
    /// Where its value comes from.
    pub secret_key_ref: SecretKeyRef,
}

/// A gateway on the cluster: the operator keeps a Deployment, a Service and a ConfigMap of
/// this name equal to the spec, and repairs them when they are edited.
#[derive(CustomResource, Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "gateway.llm-secure-gateway.io",
    version = "v1alpha1",
    kind = "LlmGateway",
    namespaced,
    status = "LlmGatewayStatus",
    shortname = "llmgw",
    category = "llm-gateway",
    derive = "PartialEq",
    printcolumn(name = "Replicas", type_ = "integer", json_path = ".spec.replicas"),
    printcolumn(name = "Ready", type_ = "integer", json_path = ".status.readyReplicas"),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct LlmGatewaySpec {
    /// Pods to run (the HPA of the kustomize/Helm paths is not part of the operator path).
    #[serde(default = "default_replicas")]
    #[schemars(range(min = 0, max = 100))]
    pub replicas: i32,
    /// The container image.
    #[serde(default = "default_image")]
    pub image: String,
    /// The whole `gateway.toml`. Secrets are written as `${VAR}` and come from `providers`
    /// and `adminTokenSecret`.
    pub config: String,
    /// The admin token (`GATEWAY_ADMIN_TOKEN`): the configuration should say
    /// `[admin] token = "${GATEWAY_ADMIN_TOKEN}"`; GatewayTenant and GatewayApiKey use it too.
    pub admin_token_secret: SecretKeyRef,
    /// Provider keys and other secrets, each an environment variable from a Secret.
    #[serde(default)]
    pub providers: Vec<SecretEnv>,
    /// Memory requested and limited per pod, e.g. `128Mi` / `512Mi`.
    #[serde(default)]
    pub resources: Option<PodResources>,
}

/// The pod's requests and limits (the same for every replica).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PodResources {
    /// CPU requested, e.g. `500m`.
    pub cpu_request: Option<String>,
    /// Memory requested, e.g. `128Mi`.
    pub memory_request: Option<String>,
    /// Memory limit, e.g. `512Mi`.
    pub memory_limit: Option<String>,
}

fn default_replicas() -> i32 {
    2
}

/// The image the kustomize base and the Helm chart also default to.
pub fn default_image() -> String {
    "ghcr.io/llm-secure-gateway/llm-gateway:0.1.0".to_owned()
}

/// What the operator saw of an LlmGateway's objects.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LlmGatewayStatus {
    /// Pods of the Deployment that pass `/ready`.
    #[serde(default)]
    pub ready_replicas: i32,
    /// The hash of the `gateway.toml` the pods run (a change rolls them).
    #[serde(default)]
    pub config_hash: Option<String>,
    /// The spec generation these conditions describe.
    #[serde(default)]
    pub observed_generation: Option<i64>,
    /// `Ready` (all replicas ready) and `Reconciled` (objects applied).
    #[serde(default)]
    pub conditions: Vec<Condition>,
}

/// Which gateway's admin API a tenant or key is managed through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GatewayRef {
    /// An LlmGateway in the same namespace: its Service (`http://NAME.NAMESPACE.svc:8080`)
    /// and its admin token Secret are used.
    #[serde(default)]
    pub name: Option<String>,
    /// Or the admin API base URL of a gateway the operator does not manage (then
    /// `adminTokenSecret` is required).
    #[serde(default)]
    pub url: Option<String>,
    /// The admin token, for `url`.
    #[serde(default)]
    pub admin_token_secret: Option<SecretKeyRef>,
}

/// Per-tenant or per-key limits, as the admin API takes them (every field optional; absent
/// means unlimited, or the tenant's limit for a key).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    /// Requests per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rps: Option<u64>,
    /// Requests per minute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpm: Option<u64>,
    /// Requests per UTC day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpd: Option<u64>,
    /// Tokens per minute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tpm: Option<u64>,
    /// Tokens per UTC day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tpd: Option<u64>,
    /// Requests in flight at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrency: Option<u32>,
    /// Spend per UTC day, USD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_usd_daily: Option<f64>,
    /// Spend per UTC month, USD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_usd_monthly: Option<f64>,
}

/// A tenant of a gateway, declared in Git. The tenant id is the resource's name unless
/// `tenantId` says otherwise; deleting the resource deletes the tenant (and its keys).
#[derive(CustomResource, Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "gateway.llm-secure-gateway.io",
    version = "v1alpha1",
    kind = "GatewayTenant",
    namespaced,
    status = "TenantStatus",
    shortname = "gwtenant",
    category = "llm-gateway",
    derive = "PartialEq",
    printcolumn(name = "Tenant", type_ = "string", json_path = ".status.tenantId"),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct GatewayTenantSpec {
    pub gateway: GatewayRef,
    /// The tenant id in the gateway (default: the resource's name).
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// A display name (default: the id).
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Models the tenant may call (absent: every model).
    #[serde(default)]
    pub allowed_models: Option<Vec<String>>,
    /// Regions the tenant's calls may go to (absent: any).
    #[serde(default)]
    pub allowed_regions: Option<Vec<String>>,
    #[serde(default)]
    pub limits: Limits,
}

fn yes() -> bool {
    true
}

/// What the operator last saw of a tenant.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TenantStatus {
    #[serde(default)]
    pub tenant_id: Option<String>,
    #[serde(default)]
    pub observed_generation: Option<i64>,
    /// How many times the tenant was found changed or missing in the gateway and repaired.
    #[serde(default)]
    pub drift_repairs: u32,
    /// `Ready` (the tenant equals the spec) and `Drifted` (the last repair, if any).
    #[serde(default)]
    pub conditions: Vec<Condition>,
}

/// An API key of a tenant. The secret is shown by the gateway once: the operator writes it
/// to the Secret `secretName` (owned by this resource) and never reads it back. Deleting the
/// resource revokes the key.
#[derive(CustomResource, Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "gateway.llm-secure-gateway.io",
    version = "v1alpha1",
    kind = "GatewayApiKey",
    namespaced,
    status = "ApiKeyStatus",
    shortname = "gwkey",
    category = "llm-gateway",
    derive = "PartialEq",
    printcolumn(name = "Tenant", type_ = "string", json_path = ".spec.tenant"),
    printcolumn(name = "Key", type_ = "string", json_path = ".status.keyId"),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct GatewayApiKeySpec {
    pub gateway: GatewayRef,
    /// The tenant id in the gateway.
    pub tenant: String,
    /// The key's name in the gateway (default: the resource's name).
    #[serde(default)]
    pub display_name: Option<String>,
    /// Roles: `admin`, `tenant_admin`, `developer`, `viewer` (default `developer`).
    #[serde(default)]
    pub roles: Option<Vec<String>>,
    #[serde(default)]
    pub allowed_models: Option<Vec<String>>,
    #[serde(default)]
    pub limits: Limits,
    /// Expiry (RFC 3339); absent: never.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// The Secret the key's secret is written to, under `apiKey` (default: the resource's
    /// name).
    #[serde(default)]
    pub secret_name: Option<String>,
    /// What to do when the key is found revoked or deleted in the gateway by someone else:
    /// `Reissue` (a new key, the Secret rewritten) or `Report` (condition only).
    #[serde(default)]
    pub on_revoked: OnRevoked,
}

/// The answer to a key revoked out of band.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum OnRevoked {
    /// Issue a new key and rewrite the Secret (the declared key exists again).
    #[default]
    Reissue,
    /// Leave it revoked and say so in the `Ready` condition.
    Report,
}

/// What the operator last saw of a key.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyStatus {
    /// The gateway's key id.
    #[serde(default)]
    pub key_id: Option<String>,
    /// Its display prefix (`sk-gw-AbC1…`), to recognise it in logs and the console.
    #[serde(default)]
    pub prefix: Option<String>,
    #[serde(default)]
    pub secret_name: Option<String>,
    #[serde(default)]
    pub observed_generation: Option<i64>,
    /// Keys issued for this resource (more than one after a reissue).
    #[serde(default)]
    pub issued: u32,
    #[serde(default)]
    pub drift_repairs: u32,
    #[serde(default)]
    pub conditions: Vec<Condition>,
}

/// A status condition in the shape of Kubernetes' `metav1.Condition`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    pub reason: String,
    pub message: String,
    /// RFC 3339.
    pub last_transition_time: String,
    #[serde(default)]
    pub observed_generation: Option<i64>,
}

/// The three CustomResourceDefinitions as one YAML stream, as committed in
/// `deploy/operator/crds.yaml` (`gateway-operator crds > deploy/operator/crds.yaml`).
pub fn crds_yaml() -> Result<String, serde_yaml_ng::Error> {
    use kube::CustomResourceExt;
    let mut out = String::from(
        "# Generated by `gateway-operator crds` from bins/gateway-operator/src/crd.rs: do not edit.\n",
    );
    for crd in [
        LlmGateway::crd(),
        GatewayTenant::crd(),
        GatewayApiKey::crd(),
    ] {
        out.push_str("---\n");
        out.push_str(&serde_yaml_ng::to_string(&crd)?);
    }
    Ok(out)
}
