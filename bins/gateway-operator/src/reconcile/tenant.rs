//! `GatewayTenant`: the tenant in the gateway is made equal to the spec (created, or patched
//! field by field). A difference found while the spec did not change since the last
//! reconciliation was made out of band: it is repaired all the same, and counted and
//! reported (`driftRepairs`, condition `Drifted`). Deleting the resource deletes the tenant
//! (with its keys) before the finalizer lets the object go.

use std::sync::Arc;

use kube::api::{Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::finalizer::{Event, finalizer};
use kube::{Api, ResourceExt};
use serde_json::{Map, Value, json};

use crate::admin::{TenantView, WireLimits};
use crate::conditions;
use crate::context::{Context, Target};
use crate::crd::{GatewayTenant, TenantStatus};
use crate::error::Error;

pub async fn reconcile(obj: Arc<GatewayTenant>, ctx: Arc<Context>) -> Result<Action, Error> {
    let ns = obj
        .namespace()
        .ok_or_else(|| Error::Invalid("GatewayTenant must be namespaced".to_owned()))?;
    let api: Api<GatewayTenant> = Api::namespaced(ctx.client.clone(), &ns);
    let (api_ref, ctx_ref, ns_ref) = (&api, ctx.as_ref(), ns.as_str());
    finalizer(&api, crate::FINALIZER, obj, |event| async move {
        match event {
            Event::Apply(t) => apply(&t, api_ref, ctx_ref, ns_ref).await,
            Event::Cleanup(t) => cleanup(&t, ctx_ref, ns_ref).await,
        }
    })
    .await
    .map_err(|e| match e {
        kube::runtime::finalizer::Error::ApplyFailed(e)
        | kube::runtime::finalizer::Error::CleanupFailed(e) => e,
        other => Error::Finalizer(other.to_string()),
    })
}

/// The tenant id in the gateway.
pub fn tenant_id(t: &GatewayTenant) -> String {
    t.spec.tenant_id.clone().unwrap_or_else(|| t.name_any())
}

/// The fields of the tenant that differ from the spec, as a PATCH body (empty: in sync).
pub fn difference(t: &GatewayTenant, current: &TenantView) -> Map<String, Value> {
    let spec = &t.spec;
    let mut patch = Map::new();
    let name = spec.display_name.clone().unwrap_or_else(|| tenant_id(t));
    if current.name != name {
        patch.insert("name".to_owned(), json!(name));
    }
    if current.enabled != spec.enabled {
        patch.insert("enabled".to_owned(), json!(spec.enabled));
    }
    if current.allowed_models != spec.allowed_models {
        patch.insert("allowed_models".to_owned(), json!(spec.allowed_models));
    }
    if current.allowed_regions != spec.allowed_regions {
        patch.insert("allowed_regions".to_owned(), json!(spec.allowed_regions));
    }
    let limits = WireLimits::from(&spec.limits);
    if current.limits != limits {
        patch.insert("limits".to_owned(), json!(limits));
    }
    patch
}

async fn apply(
    t: &GatewayTenant,
    api: &Api<GatewayTenant>,
    ctx: &Context,
    ns: &str,
) -> Result<Action, Error> {
    let mut status = t.status.clone().unwrap_or_default();
    let generation = t.metadata.generation;
    let result = sync(t, ctx, ns, &mut status).await;
    match &result {
        Ok(()) => conditions::set(
            &mut status.conditions,
            "Ready",
            true,
            "InSync",
            format!("tenant '{}' matches the spec", tenant_id(t)),
            generation,
        ),
        Err(e) => conditions::set(
            &mut status.conditions,
            "Ready",
            false,
            e.reason(),
            e.to_string(),
            generation,
        ),
    }
    status.observed_generation = generation;
    api.patch_status(
        &t.name_any(),
        &PatchParams::default(),
        &Patch::Merge(json!({ "status": status })),
    )
    .await?;
    result.map(|()| Action::requeue(ctx.resync))
}

async fn sync(
    t: &GatewayTenant,
    ctx: &Context,
    ns: &str,
    status: &mut TenantStatus,
) -> Result<(), Error> {
    let admin = match ctx.target(ns, &t.spec.gateway).await? {
        Target::Reachable(admin) => admin,
        Target::Gone(why) => return Err(Error::Invalid(why)),
    };
    let id = tenant_id(t);
    // The spec is unchanged since it was last in sync: any difference was made by someone else.
    let unchanged = status.observed_generation.is_some()
        && status.observed_generation == t.metadata.generation
        && status.tenant_id.as_deref() == Some(id.as_str())
        && conditions::status_of(&status.conditions, "Ready") == Some("True");
    match admin.tenant(&id).await? {
        None => {
            let spec = &t.spec;
            let body = json!({
                "id": id,
                "name": spec.display_name.clone().unwrap_or_else(|| id.clone()),
                "enabled": spec.enabled,
                "allowed_models": spec.allowed_models,
                "allowed_regions": spec.allowed_regions,
                "limits": WireLimits::from(&spec.limits),
            });
            admin.create_tenant(&body).await?;
            if status.tenant_id.as_deref() == Some(id.as_str()) {
                drifted(
                    status,
                    t,
                    "Recreated",
                    format!("tenant '{id}' was deleted in the gateway; created again"),
                );
            }
        }
        Some(current) => {
            let patch = difference(t, &current);
            if !patch.is_empty() {
                let fields: Vec<&str> = patch.keys().map(String::as_str).collect();
                let message = format!(
                    "tenant '{id}' had {} changed in the gateway; set back",
                    fields.join(", ")
                );
                admin
                    .update_tenant(&id, &Value::Object(patch.clone()))
                    .await?;
                if unchanged {
                    drifted(status, t, "Repaired", message);
                }
            }
        }
    }
    status.tenant_id = Some(id);
    Ok(())
}

fn drifted(status: &mut TenantStatus, t: &GatewayTenant, reason: &str, message: String) {
    tracing::warn!(tenant = %t.name_any(), "{message}");
    status.drift_repairs = status.drift_repairs.saturating_add(1);
    conditions::set(
        &mut status.conditions,
        "Drifted",
        true,
        reason,
        message,
        t.metadata.generation,
    );
}

async fn cleanup(t: &GatewayTenant, ctx: &Context, ns: &str) -> Result<Action, Error> {
    let id = tenant_id(t);
    match ctx.target(ns, &t.spec.gateway).await {
        Ok(Target::Reachable(admin)) => {
            let existed = admin.delete_tenant(&id).await?;
            tracing::info!(tenant = %id, existed, "tenant deleted in the gateway");
        }
        // The gateway goes too: nothing left to delete the tenant from.
        Ok(Target::Gone(why)) => tracing::info!(tenant = %id, "not deleted in the gateway: {why}"),
        Err(e) => return Err(e),
    }
    Ok(Action::await_change())
}
