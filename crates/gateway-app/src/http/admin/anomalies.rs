//! `GET /admin/v1/anomalies` (the anomalies this instance raised, newest first) and
//! `POST /admin/v1/keys/{id}/resume` (a key suspended by anomaly detection, or disabled
//! otherwise, admits requests again).
//!
//! Listing needs `read_keys` on the tenant asked for (without `tenant=`, an admin sees
//! every anomaly, gateway-wide ones included, and anyone else their own tenant's); resuming
//! needs `manage_keys` on the key's tenant.

use http::Response;
use hyper::body::Incoming;
use serde_json::Value;

use gateway_auth::Permission;
use gateway_core::GatewayError;

use super::auth::scope;
use super::keys::{NoFields, key_in_scope};
use super::query::Query;
use super::{Admin, Mutation, ok, views};
use crate::anomaly::RECENT;
use crate::anomaly::view::{AnomalyView, view};
use crate::http::body::Body;

/// `GET /admin/v1/anomalies?tenant=&limit=`.
pub async fn list(ctx: &Admin<'_>, query: Option<&str>) -> Result<Response<Body>, GatewayError> {
    let q = Query::parse(query, &["tenant", "limit"])?;
    let tenant = scope(&ctx.principal, Permission::ReadKeys, q.text("tenant"))?;
    let limit = q.number("limit")?.unwrap_or(100);
    if !(1..=RECENT as u64).contains(&limit) {
        return Err(GatewayError::invalid_param(
            "limit",
            format!("'limit' must be between 1 and {RECENT}."),
        ));
    }
    let data: Vec<AnomalyView> = ctx
        .state
        .anomalies
        .recent(tenant.as_ref().map(|t| t.as_str()), limit as usize)
        .iter()
        .map(view)
        .collect();
    ok(200, &views::list(data))
}

/// `POST /admin/v1/keys/{id}/resume`: enables the key again (a revoked key stays revoked).
pub async fn resume(
    ctx: &Admin<'_>,
    id: &str,
    body: Incoming,
) -> Result<Response<Body>, GatewayError> {
    let mut m = Mutation::new("key.resume");
    m.target = Some(id.to_owned());
    ctx.audited(m, async |m| resume_inner(ctx, id, body, m).await)
        .await
}

async fn resume_inner(
    ctx: &Admin<'_>,
    id: &str,
    body: Incoming,
    m: &mut Mutation,
) -> Result<Response<Body>, GatewayError> {
    let key = key_in_scope(ctx, id, Permission::ManageKeys).await?;
    m.tenant = Some(key.tenant.clone());
    let NoFields {} = ctx.optional_json(body).await?;
    if key.revoked_at.is_some() {
        return Err(GatewayError::invalid_param(
            "id",
            format!("key '{id}' is revoked and cannot be resumed; create a new key."),
        ));
    }
    m.details
        .insert("was_enabled".to_owned(), Value::from(key.enabled));
    let resumed = ctx.key_manager()?.set_enabled(&key.id, true).await?;
    ok(200, &views::key(&resumed))
}
