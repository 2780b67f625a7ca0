//! `gateway-operator`: a Kubernetes operator for LLM Secure Gateway, built on `kube`'s
//! controller runtime. It owns three custom resources ([`crd`]):
//!
//! - `LlmGateway` -> a ConfigMap (`gateway.toml`), a Deployment and a Service, applied with
//!   server-side apply and re-applied when someone edits them ([`reconcile::gateway`]);
//! - `GatewayTenant` -> a tenant in the gateway, through its admin API
//!   ([`reconcile::tenant`]);
//! - `GatewayApiKey` -> an API key in the gateway, its secret written once into a Kubernetes
//!   Secret; deleting the resource revokes the key ([`reconcile::apikey`]).
//!
//! Tenants and keys carry a finalizer so that deleting the resource reaches the gateway
//! before the object goes. The gateway has no watch API, so the operator polls each tenant
//! and key (every `resync`) and repairs what was changed out of band, counting and reporting
//! each repair in the status (`driftRepairs`, condition `Drifted`).
//!
//! This crate is a leaf binary: it talks to the gateway only over HTTP and depends on no
//! gateway crate (the tests start a real gateway from `gateway-app`).

pub mod admin;
pub mod conditions;
pub mod context;
pub mod crd;
pub mod error;
pub mod manifests;
pub mod reconcile;

pub use context::Context;
pub use error::Error;

/// The finalizer on GatewayTenant and GatewayApiKey objects.
pub const FINALIZER: &str = "gateway.llm-secure-gateway.io/cleanup";
/// The field manager of every server-side apply.
pub const MANAGER: &str = "gateway-operator";
