//! `GatewayApiKey`: a key in the gateway, its secret in a Kubernetes Secret.
//!
//! The secret is shown by the gateway once, in the answer that creates the key: the operator
//! writes it into the Secret right then (owned by the resource, so it goes with it) and never
//! reads it back. The Secret's annotation names the key it holds, so a reconciliation that
//! lost its status after writing the Secret adopts that key instead of issuing another. Key
//! settings changed in the gateway are set back; a key revoked or deleted there (or whose
//! Secret was deleted, which loses the secret) is reissued, or only reported with
//! `onRevoked: Report`. Deleting the resource revokes the key (finalizer).

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::finalizer::{Event, finalizer};
use kube::{Api, Resource, ResourceExt};
use serde_json::{Map, Value, json};

use crate::admin::{AdminClient, KeyView, WireLimits};
use crate::conditions;
use crate::context::{Context, Target};
use crate::crd::{ApiKeyStatus, GatewayApiKey, OnRevoked};
use crate::error::Error;

/// The Secret's annotation naming the gateway key whose secret it holds.
pub const KEY_ID_ANNOTATION: &str = "gateway.llm-secure-gateway.io/key-id";
/// The Secret's data key holding the API key.
pub const SECRET_FIELD: &str = "apiKey";

pub async fn reconcile(obj: Arc<GatewayApiKey>, ctx: Arc<Context>) -> Result<Action, Error> {
    let ns = obj
        .namespace()
        .ok_or_else(|| Error::Invalid("GatewayApiKey must be namespaced".to_owned()))?;
    let api: Api<GatewayApiKey> = Api::namespaced(ctx.client.clone(), &ns);
    let (api_ref, ctx_ref, ns_ref) = (&api, ctx.as_ref(), ns.as_str());
    finalizer(&api, crate::FINALIZER, obj, |event| async move {
        match event {
            Event::Apply(k) => apply(&k, api_ref, ctx_ref, ns_ref).await,
            Event::Cleanup(k) => cleanup(&k, ctx_ref, ns_ref).await,
        }
    })
    .await
    .map_err(|e| match e {
        kube::runtime::finalizer::Error::ApplyFailed(e)
        | kube::runtime::finalizer::Error::CleanupFailed(e) => e,
        other => Error::Finalizer(other.to_string()),
    })
}

/// The Secret's name.
pub fn secret_name(k: &GatewayApiKey) -> String {
    k.spec.secret_name.clone().unwrap_or_else(|| k.name_any())
}

fn display_name(k: &GatewayApiKey) -> String {
    k.spec.display_name.clone().unwrap_or_else(|| k.name_any())
}

fn roles(k: &GatewayApiKey) -> Vec<String> {
    let mut roles = k
        .spec
        .roles
        .clone()
        .unwrap_or_else(|| vec!["developer".to_owned()]);
    roles.sort();
    roles.dedup();
    roles
}

/// The spec's expiry as a timestamp (None: never).
fn expiry(k: &GatewayApiKey) -> Result<Option<k8s_openapi::jiff::Timestamp>, Error> {
    k.spec
        .expires_at
        .as_deref()
        .map(|at| {
            at.parse().map_err(|_| {
                Error::Invalid(format!("spec.expiresAt '{at}' is not an RFC 3339 time"))
            })
        })
        .transpose()
}

/// The key's settings that differ from the spec, as a PATCH body (empty: in sync).
pub fn difference(k: &GatewayApiKey, current: &KeyView) -> Result<Map<String, Value>, Error> {
    let mut patch = Map::new();
    if current.name != display_name(k) {
        patch.insert("name".to_owned(), json!(display_name(k)));
    }
    let mut have = current.roles.clone();
    have.sort();
    if have != roles(k) {
        patch.insert("roles".to_owned(), json!(roles(k)));
    }
    if current.allowed_models != k.spec.allowed_models {
        patch.insert("allowed_models".to_owned(), json!(k.spec.allowed_models));
    }
    let limits = WireLimits::from(&k.spec.limits);
    if current.limits != limits {
        patch.insert("limits".to_owned(), json!(limits));
    }
    let want = expiry(k)?;
    let have = current.expires_at.as_deref().and_then(|t| t.parse().ok());
    if want != have {
        patch.insert("expires_at".to_owned(), json!(k.spec.expires_at));
    }
    if !current.enabled {
        patch.insert("enabled".to_owned(), json!(true));
    }
    Ok(patch)
}

async fn apply(
    k: &GatewayApiKey,
    api: &Api<GatewayApiKey>,
    ctx: &Context,
    ns: &str,
) -> Result<Action, Error> {
    let mut status = k.status.clone().unwrap_or_default();
    let generation = k.metadata.generation;
    let result = sync(k, ctx, ns, &mut status).await;
    match &result {
        Ok(None) => conditions::set(
            &mut status.conditions,
            "Ready",
            true,
            "InSync",
            format!(
                "key {} matches the spec; its secret is in Secret '{}'",
                status.key_id.as_deref().unwrap_or("?"),
                secret_name(k)
            ),
            generation,
        ),
        Ok(Some(reported)) => conditions::set(
            &mut status.conditions,
            "Ready",
            false,
            "RevokedOutOfBand",
            reported.clone(),
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
        &k.name_any(),
        &PatchParams::default(),
        &Patch::Merge(json!({ "status": status })),
    )
    .await?;
    result.map(|_| Action::requeue(ctx.resync))
}

/// Brings the key in line; `Ok(Some(message))` when a revoked key is only reported.
async fn sync(
    k: &GatewayApiKey,
    ctx: &Context,
    ns: &str,
    status: &mut ApiKeyStatus,
) -> Result<Option<String>, Error> {
    let admin = match ctx.target(ns, &k.spec.gateway).await? {
        Target::Reachable(admin) => admin,
        Target::Gone(why) => return Err(Error::Invalid(why)),
    };
    expiry(k)?;
    let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), ns);
    let secret = secrets.get_opt(&secret_name(k)).await?;
    let held = secret
        .as_ref()
        .and_then(|s| s.annotations().get(KEY_ID_ANNOTATION).cloned());
    // The key whose secret we hold: the status says, or the Secret (status lost after writing).
    let key_id = status.key_id.clone().or_else(|| held.clone());
    let Some(key_id) = key_id else {
        issue(k, &admin, &secrets, status).await?;
        return Ok(None);
    };
    let current = admin.key(&key_id).await?;
    let why = match &current {
        None => Some(format!("key {key_id} no longer exists in the gateway")),
        Some(view) if view.status == "revoked" => {
            Some(format!("key {key_id} was revoked in the gateway"))
        }
        Some(view) if view.tenant != k.spec.tenant => Some(format!(
            "key {key_id} belongs to tenant '{}', the spec says '{}'",
            view.tenant, k.spec.tenant
        )),
        Some(_) if held.as_deref() != Some(key_id.as_str()) => Some(format!(
            "Secret '{}' no longer holds key {key_id}'s secret",
            secret_name(k)
        )),
        Some(_) => None,
    };
    if let Some(why) = why {
        let replaced_by_spec = current
            .as_ref()
            .is_some_and(|v| v.status != "revoked" && v.tenant != k.spec.tenant);
        if k.spec.on_revoked == OnRevoked::Report && !replaced_by_spec {
            status.key_id = Some(key_id);
            return Ok(Some(format!(
                "{why}; onRevoked is Report, so no new key was issued"
            )));
        }
        // The old key must not stay usable once its replacement exists.
        if current.as_ref().is_some_and(|v| v.status != "revoked") {
            admin.revoke_key(&key_id).await?;
        }
        issue(k, &admin, &secrets, status).await?;
        if !replaced_by_spec {
            status.drift_repairs = status.drift_repairs.saturating_add(1);
            let message = format!(
                "{why}; key {} issued and its secret written",
                status.key_id.as_deref().unwrap_or("?")
            );
            tracing::warn!(key = %k.name_any(), "{message}");
            conditions::set(
                &mut status.conditions,
                "Drifted",
                true,
                "Reissued",
                message,
                k.metadata.generation,
            );
        }
        return Ok(None);
    }
    status.key_id = Some(key_id.clone());
    if let Some(view) = &current {
        status.prefix = Some(view.prefix.clone());
        let patch = difference(k, view)?;
        if !patch.is_empty() {
            let unchanged = status.observed_generation.is_some()
                && status.observed_generation == k.metadata.generation
                && conditions::status_of(&status.conditions, "Ready") == Some("True");
            let fields: Vec<&str> = patch.keys().map(String::as_str).collect();
            let message = format!(
                "key {key_id} had {} changed in the gateway; set back",
                fields.join(", ")
            );
            admin
                .update_key(&key_id, &Value::Object(patch.clone()))
                .await?;
            if unchanged {
                status.drift_repairs = status.drift_repairs.saturating_add(1);
                conditions::set(
                    &mut status.conditions,
                    "Drifted",
                    true,
                    "Repaired",
                    message,
                    k.metadata.generation,
                );
            }
        }
    }
    Ok(None)
}

/// Creates a key and writes its secret into the Secret (the one time it is known). If the
/// Secret cannot be written the new key is revoked: a key whose secret nobody has is no use.
async fn issue(
    k: &GatewayApiKey,
    admin: &AdminClient,
    secrets: &Api<Secret>,
    status: &mut ApiKeyStatus,
) -> Result<(), Error> {
    let body = json!({
        "tenant": k.spec.tenant,
        "name": display_name(k),
        "roles": roles(k),
        "allowed_models": k.spec.allowed_models,
        "limits": WireLimits::from(&k.spec.limits),
        "expires_at": k.spec.expires_at,
        "metadata": {
            "managed_by": crate::MANAGER,
            "resource": format!("{}/{}", k.namespace().unwrap_or_default(), k.name_any()),
        },
    });
    let created = admin.create_key(&body).await?;
    let secret_value = created.secret.clone().unwrap_or_default();
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some(secret_name(k)),
            namespace: k.namespace(),
            labels: Some(BTreeMap::from([(
                "app.kubernetes.io/managed-by".to_owned(),
                crate::MANAGER.to_owned(),
            )])),
            annotations: Some(BTreeMap::from([(
                KEY_ID_ANNOTATION.to_owned(),
                created.id.clone(),
            )])),
            owner_references: k.controller_owner_ref(&()).map(|o| vec![o]),
            ..ObjectMeta::default()
        },
        type_: Some("Opaque".to_owned()),
        string_data: Some(BTreeMap::from([
            (SECRET_FIELD.to_owned(), secret_value),
            ("keyId".to_owned(), created.id.clone()),
            ("tenant".to_owned(), created.tenant.clone()),
        ])),
        ..Secret::default()
    };
    let params = PatchParams::apply(crate::MANAGER).force();
    if let Err(e) = secrets
        .patch(&secret_name(k), &params, &Patch::Apply(&secret))
        .await
    {
        let _ = admin.revoke_key(&created.id).await;
        return Err(e.into());
    }
    status.key_id = Some(created.id);
    status.prefix = Some(created.prefix);
    status.secret_name = Some(secret_name(k));
    status.issued = status.issued.saturating_add(1);
    Ok(())
}

async fn cleanup(k: &GatewayApiKey, ctx: &Context, ns: &str) -> Result<Action, Error> {
    let Some(key_id) = k.status.as_ref().and_then(|s| s.key_id.clone()) else {
        return Ok(Action::await_change());
    };
    match ctx.target(ns, &k.spec.gateway).await? {
        Target::Reachable(admin) => {
            let found = admin.revoke_key(&key_id).await?;
            tracing::info!(key = %key_id, found = found.is_some(), "key revoked in the gateway");
        }
        Target::Gone(why) => tracing::info!(key = %key_id, "not revoked in the gateway: {why}"),
    }
    Ok(Action::await_change())
}
