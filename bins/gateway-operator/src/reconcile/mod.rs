//! One reconcile function per resource kind, each callable on its own (the tests drive
//! them against a mocked API server), and [`run`], which wires them into `kube`'s
//! controllers.

pub mod apikey;
pub mod gateway;
pub mod tenant;

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, Service};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::{Api, Client};

use crate::context::Context;
use crate::crd::{GatewayApiKey, GatewayTenant, LlmGateway};
use crate::error::Error;

/// Wait before retrying a reconciliation that failed.
const RETRY: Duration = Duration::from_secs(15);

fn retry<K>(_obj: Arc<K>, error: &Error, _ctx: Arc<Context>) -> Action {
    tracing::warn!(error = %error, "reconciliation failed; retrying in {} s", RETRY.as_secs());
    Action::requeue(RETRY)
}

/// The three controllers, until the process is stopped. `namespace` limits the watch to one
/// namespace (None: all namespaces, which needs a ClusterRole).
pub async fn run(client: Client, namespace: Option<String>, ctx: Context) {
    let ctx = Arc::new(ctx);
    fn api<K>(client: &Client, ns: Option<&str>) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        <K as kube::Resource>::DynamicType: Default,
    {
        match ns {
            Some(ns) => Api::namespaced(client.clone(), ns),
            None => Api::all(client.clone()),
        }
    }
    let ns = namespace.as_deref();
    let config = watcher::Config::default();
    let gateways = Controller::new(api::<LlmGateway>(&client, ns), config.clone())
        .owns(api::<Deployment>(&client, ns), config.clone())
        .owns(api::<Service>(&client, ns), config.clone())
        .owns(api::<ConfigMap>(&client, ns), config.clone())
        .shutdown_on_signal()
        .run(gateway::reconcile, retry, ctx.clone())
        .for_each(|r| async move { log("LlmGateway", r) });
    let tenants = Controller::new(api::<GatewayTenant>(&client, ns), config.clone())
        .shutdown_on_signal()
        .run(tenant::reconcile, retry, ctx.clone())
        .for_each(|r| async move { log("GatewayTenant", r) });
    let keys = Controller::new(api::<GatewayApiKey>(&client, ns), config)
        // A key's Secret deleted by hand is drift too (the secret cannot be recovered).
        .owns(
            api::<Secret>(&client, ns),
            watcher::Config::default().labels("app.kubernetes.io/managed-by=gateway-operator"),
        )
        .shutdown_on_signal()
        .run(apikey::reconcile, retry, ctx)
        .for_each(|r| async move { log("GatewayApiKey", r) });
    tokio::join!(gateways, tenants, keys);
}

fn log<O: std::fmt::Debug, E: std::fmt::Display>(kind: &str, result: Result<O, E>) {
    match result {
        Ok(obj) => tracing::debug!(kind, object = ?obj, "reconciled"),
        Err(e) => tracing::warn!(kind, error = %e, "reconcile error"),
    }
}
