//! `LlmGateway`: server-side apply of its ConfigMap, Deployment and Service (forcing the
//! operator's fields back when someone edited them), then the Deployment's readiness in the
//! status. The owned objects are garbage collected with the resource (owner references), so
//! no finalizer is needed here.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Service};
use kube::api::{Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::{Api, ResourceExt};
use serde_json::json;

use crate::conditions;
use crate::context::Context;
use crate::crd::{LlmGateway, LlmGatewayStatus};
use crate::error::Error;
use crate::manifests;

/// Re-check readiness this often while the Deployment is rolling.
const WHILE_ROLLING: Duration = Duration::from_secs(10);
/// And this often once all replicas are ready (edits of owned objects wake it anyway).
const WHEN_READY: Duration = Duration::from_secs(300);

pub async fn reconcile(gw: Arc<LlmGateway>, ctx: Arc<Context>) -> Result<Action, Error> {
    let ns = gw
        .namespace()
        .ok_or_else(|| Error::Invalid("LlmGateway must be namespaced".to_owned()))?;
    let name = gw.name_any();
    let api: Api<LlmGateway> = Api::namespaced(ctx.client.clone(), &ns);
    let mut status = gw.status.clone().unwrap_or_default();
    let generation = gw.metadata.generation;
    match apply_children(&gw, &ctx, &ns).await {
        Ok(deployment) => {
            let ready = deployment
                .status
                .as_ref()
                .and_then(|s| s.ready_replicas)
                .unwrap_or(0);
            status.ready_replicas = ready;
            status.config_hash = Some(manifests::config_hash(&gw.spec.config));
            status.observed_generation = generation;
            conditions::set(
                &mut status.conditions,
                "Reconciled",
                true,
                "Applied",
                "ConfigMap, Deployment and Service match the spec",
                generation,
            );
            let all = ready >= gw.spec.replicas;
            conditions::set(
                &mut status.conditions,
                "Ready",
                all,
                if all {
                    "ReplicasReady"
                } else {
                    "ReplicasNotReady"
                },
                format!("{ready}/{} replicas ready", gw.spec.replicas),
                generation,
            );
            patch_status(&api, &name, &status).await?;
            Ok(Action::requeue(if all {
                WHEN_READY
            } else {
                WHILE_ROLLING
            }))
        }
        Err(e) => {
            conditions::set(
                &mut status.conditions,
                "Reconciled",
                false,
                e.reason(),
                e.to_string(),
                generation,
            );
            patch_status(&api, &name, &status).await?;
            Err(e)
        }
    }
}

/// Applies the three objects; returns the Deployment as the API server has it now.
async fn apply_children(gw: &LlmGateway, ctx: &Context, ns: &str) -> Result<Deployment, Error> {
    if gw.spec.config.trim().is_empty() {
        return Err(Error::Invalid(
            "spec.config (gateway.toml) is empty".to_owned(),
        ));
    }
    // force: fields another manager took (a `kubectl edit`, `kubectl scale`) come back.
    let params = PatchParams::apply(crate::MANAGER).force();
    let cm = manifests::config_map(gw);
    let cms: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), ns);
    cms.patch(&cm.name_any(), &params, &Patch::Apply(&cm))
        .await?;
    let svc = manifests::service(gw);
    let svcs: Api<Service> = Api::namespaced(ctx.client.clone(), ns);
    svcs.patch(&svc.name_any(), &params, &Patch::Apply(&svc))
        .await?;
    let deploy = manifests::deployment(gw);
    let deploys: Api<Deployment> = Api::namespaced(ctx.client.clone(), ns);
    Ok(deploys
        .patch(&deploy.name_any(), &params, &Patch::Apply(&deploy))
        .await?)
}

async fn patch_status(
    api: &Api<LlmGateway>,
    name: &str,
    status: &LlmGatewayStatus,
) -> Result<(), Error> {
    api.patch_status(
        name,
        &PatchParams::default(),
        &Patch::Merge(json!({ "status": status })),
    )
    .await?;
    Ok(())
}
