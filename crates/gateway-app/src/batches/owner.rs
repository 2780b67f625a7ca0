//! The caller a batch's lines run as. A batch stores a snapshot of the principal that created
//! it (identity, roles, allow-lists and limits; never a credential). Before lines run, an
//! API-key owner is looked up again: a key revoked, disabled or expired since, or a tenant
//! disabled since, stops the batch's lines (they fail with 401), and the key's and tenant's
//! current limits apply. The key's current roles apply too, and every line's owner must be
//! granted `call_models` ([`gateway_auth::Permission::CallModels`]), as at the edge: a batch
//! whose key lost the role since it was created stops calling (its lines fail with 403). A
//! JWT owner cannot be looked up again: the roles its token carried when the batch was
//! created apply.

use std::sync::Arc;
use std::time::SystemTime;

use serde_json::{Value, json};

use gateway_auth::Permission;
use gateway_core::store::{Limits, Store};
use gateway_core::{AuthFailure, AuthMethod, GatewayError, GatewayRole, Principal, TenantId};

/// The snapshot stored with a batch.
pub fn snapshot(p: &Principal) -> Value {
    let list = |l: &Option<Arc<[String]>>| l.as_ref().map(|l| l.to_vec());
    let limits = |l: &Option<Arc<Limits>>| {
        l.as_deref()
            .and_then(|l| serde_json::to_value(l).ok())
            .unwrap_or(Value::Null)
    };
    json!({
        "tenant": p.tenant.as_str(),
        "subject": &*p.subject,
        "roles": p.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "allowed_models": list(&p.allowed_models),
        "allowed_regions": list(&p.allowed_regions),
        "method": match p.method {
            AuthMethod::ApiKey => "api_key",
            AuthMethod::Jwt => "jwt",
            AuthMethod::None => "none",
        },
        "key_limits": limits(&p.key_limits),
        "tenant_limits": limits(&p.tenant_limits),
    })
}

fn corrupt() -> GatewayError {
    GatewayError::Internal("a stored batch owner is unreadable".to_owned())
}

/// The principal of `snapshot`, as it is now.
pub async fn principal(store: &dyn Store, snapshot: &Value) -> Result<Principal, GatewayError> {
    let text = |k: &str| snapshot.get(k).and_then(Value::as_str);
    let list = |k: &str| -> Option<Arc<[String]>> {
        let items = snapshot.get(k)?.as_array()?;
        Some(
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
        )
    };
    let limits = |k: &str| -> Option<Arc<Limits>> {
        serde_json::from_value(snapshot.get(k)?.clone())
            .ok()
            .map(Arc::new)
    };
    let tenant = TenantId::new(text("tenant").ok_or_else(corrupt)?);
    let subject: Arc<str> = Arc::from(text("subject").ok_or_else(corrupt)?);
    let roles: Arc<[GatewayRole]> = snapshot
        .get("roles")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(|v| v.as_str().and_then(GatewayRole::parse))
                .collect()
        })
        .unwrap_or_else(|| Arc::from([]));
    let method = match text("method") {
        Some("api_key") => AuthMethod::ApiKey,
        Some("jwt") => AuthMethod::Jwt,
        _ => AuthMethod::None,
    };
    let mut principal = Principal {
        tenant,
        subject,
        roles,
        allowed_models: list("allowed_models"),
        allowed_regions: list("allowed_regions"),
        method,
        key_limits: limits("key_limits"),
        tenant_limits: limits("tenant_limits"),
        // The client address was checked when the batch was created; its lines have none.
        client_networks: None,
        threat_intel_opt_out: false,
    };
    if method == AuthMethod::None {
        return may_call_models(principal);
    }
    let gone = || {
        GatewayError::unauthenticated(
            AuthFailure::Invalid,
            "The credential that created this batch is no longer valid (revoked, disabled or expired), or its tenant is disabled.",
        )
    };
    if method == AuthMethod::ApiKey {
        let key = store.get_key(&principal.subject).await?.ok_or_else(gone)?;
        if !key.is_usable_at(SystemTime::now()) || key.tenant != principal.tenant {
            return Err(gone());
        }
        principal.key_limits = Some(Arc::new(key.limits));
        principal.roles = Arc::from(key.roles.as_slice());
    }
    if let Some(tenant) = store.get_tenant(&principal.tenant).await? {
        if !tenant.enabled {
            return Err(gone());
        }
        principal.threat_intel_opt_out = tenant.threat_intel_opt_out;
        principal.tenant_limits = Some(Arc::new(tenant.limits));
    }
    may_call_models(principal)
}

/// `principal`, when it may still call models on its own tenant; a 403 otherwise.
fn may_call_models(principal: Principal) -> Result<Principal, GatewayError> {
    gateway_auth::authorize(&principal, Permission::CallModels, Some(&principal.tenant))
        .map_err(|_| {
            GatewayError::forbidden(
                gateway_core::DeniedBy::Permission,
                "The credential that created this batch no longer grants the 'call_models' permission.",
            )
        })?;
    Ok(principal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_names_no_credential_and_keeps_the_allow_lists() {
        let p = Principal {
            tenant: TenantId::new("acme"),
            subject: Arc::from("key_1"),
            allowed_models: Some(Arc::from(vec!["gpt".to_owned()])),
            key_limits: Some(Arc::new(Limits {
                rpm: Some(5),
                ..Limits::default()
            })),
            ..Principal::anonymous()
        };
        let s = snapshot(&p);
        assert_eq!(s["subject"], "key_1");
        assert_eq!(s["allowed_models"], json!(["gpt"]));
        assert_eq!(s["key_limits"]["rpm"], 5);
        assert_eq!(s["method"], "none");
        assert!(!s.to_string().contains("sk-"));
    }
}
