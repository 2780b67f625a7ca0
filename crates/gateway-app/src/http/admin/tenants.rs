//! `/admin/v1/tenants`: create, list, show, update (enable/disable), delete.
//!
//! Creating, changing and deleting tenants is gateway-wide (`manage_tenants`: admin only);
//! reading a tenant needs `read_tenants` on it (a tenant admin reads its own).

use http::Response;
use hyper::body::Incoming;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use gateway_auth::{Permission, authorize};
use gateway_core::store::{Limits, Tenant};
use gateway_core::{GatewayError, TenantId};

use super::auth::scope;
use super::query::Query;
use super::{Admin, Mutation, ok, views};
use crate::http::body::Body;

/// Longest tenant id.
const MAX_ID: usize = 64;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateTenant {
    /// Letters, digits, `-`, `_` and `.`.
    #[schemars(length(min = 1, max = MAX_ID), extend("pattern" = "^[A-Za-z0-9._-]+$"))]
    id: String,
    /// Defaults to the id.
    #[serde(default)]
    #[schemars(length(min = 1, max = 200), extend("pattern" = "\\S"))]
    name: Option<String>,
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default)]
    allowed_models: Option<Vec<String>>,
    #[serde(default)]
    allowed_regions: Option<Vec<String>>,
    /// CIDR blocks (IPv4 or IPv6, or bare addresses) the tenant's callers may call from; at most 256.
    #[serde(default)]
    #[schemars(extend("maxItems" = 256))]
    allowed_networks: Option<Vec<String>>,
    /// `true`: threat-intelligence feeds are not applied to this tenant's calls.
    #[serde(default)]
    threat_intel_opt_out: Option<bool>,
    #[serde(default)]
    limits: Option<Limits>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateTenant {
    #[serde(default)]
    #[schemars(length(min = 1, max = 200), extend("pattern" = "\\S"))]
    name: Option<String>,
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default, deserialize_with = "views::present")]
    #[schemars(with = "Option<Vec<String>>")]
    allowed_models: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "views::present")]
    #[schemars(with = "Option<Vec<String>>")]
    allowed_regions: Option<Option<Vec<String>>>,
    /// CIDR blocks (IPv4 or IPv6, or bare addresses) the tenant's callers may call from; at most 256; `null`
    /// lifts the restriction.
    #[serde(default, deserialize_with = "views::present")]
    #[schemars(with = "Option<Vec<String>>", extend("maxItems" = 256))]
    allowed_networks: Option<Option<Vec<String>>>,
    /// `true`: threat-intelligence feeds are not applied to this tenant's calls.
    #[serde(default)]
    threat_intel_opt_out: Option<bool>,
    /// Replaces all the tenant's limits.
    #[serde(default)]
    limits: Option<Limits>,
}

/// Letters, digits, `-`, `_` and `.`; at most [`MAX_ID`] characters.
fn valid_id(id: &str) -> Result<TenantId, GatewayError> {
    let ok = !id.is_empty()
        && id.len() <= MAX_ID
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(TenantId::new(id))
    } else {
        Err(GatewayError::invalid_param(
            "id",
            format!("A tenant id is 1 to {MAX_ID} letters, digits, '-', '_' or '.'."),
        ))
    }
}

/// Not blank, at most 200 characters (as the schema's `maxLength` counts them).
fn valid_name(name: &str) -> Result<String, GatewayError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(GatewayError::invalid_param(
            "name",
            "A name is 1 to 200 characters.",
        ));
    }
    Ok(name.to_owned())
}

fn not_found(id: &str) -> GatewayError {
    GatewayError::NotFound(format!("tenant '{id}' not found."))
}

pub async fn list(ctx: &Admin<'_>, query: Option<&str>) -> Result<Response<Body>, GatewayError> {
    Query::parse(query, &[])?;
    let tenants = match scope(&ctx.principal, Permission::ReadTenants, None)? {
        None => ctx.state.store.list_tenants().await?,
        Some(own) => ctx
            .state
            .store
            .get_tenant(&own)
            .await?
            .into_iter()
            .collect(),
    };
    ok(
        200,
        &views::list(tenants.iter().map(views::tenant).collect()),
    )
}

pub async fn show(ctx: &Admin<'_>, id: &str) -> Result<Response<Body>, GatewayError> {
    authorize(
        &ctx.principal,
        Permission::ReadTenants,
        Some(&TenantId::new(id)),
    )?;
    let tenant = ctx.state.store.get_tenant(&TenantId::new(id)).await?;
    ok(200, &views::tenant(&tenant.ok_or_else(|| not_found(id))?))
}

pub async fn create(ctx: &Admin<'_>, body: Incoming) -> Result<Response<Body>, GatewayError> {
    ctx.audited(Mutation::new("tenant.create"), async |m| {
        create_inner(ctx, body, m).await
    })
    .await
}

async fn create_inner(
    ctx: &Admin<'_>,
    body: Incoming,
    m: &mut Mutation,
) -> Result<Response<Body>, GatewayError> {
    authorize(&ctx.principal, Permission::ManageTenants, None)?;
    let req: CreateTenant = ctx.json(body).await?;
    let id = valid_id(&req.id)?;
    m.on(&id, id.as_str());
    let mut tenant = Tenant::new(
        id.clone(),
        valid_name(req.name.as_deref().unwrap_or(&req.id))?,
    );
    tenant.enabled = req.enabled.unwrap_or(true);
    tenant.allowed_models = req.allowed_models;
    tenant.allowed_regions = req.allowed_regions;
    tenant.allowed_networks = super::keys::allowed_networks(req.allowed_networks)?;
    tenant.threat_intel_opt_out = req.threat_intel_opt_out.unwrap_or(false);
    tenant.limits = req.limits.unwrap_or_default();
    ctx.state.store.create_tenant(&tenant).await?;
    // A JWT or key lookup may have cached "no such tenant".
    ctx.invalidate_tenant(&id).await;
    let stored = ctx.state.store.get_tenant(&id).await?.unwrap_or(tenant);
    m.details.insert(
        "tenant".to_owned(),
        views::to_value(&views::tenant(&stored)),
    );
    ok(201, &views::tenant(&stored))
}

pub async fn update(
    ctx: &Admin<'_>,
    id: &str,
    body: Incoming,
) -> Result<Response<Body>, GatewayError> {
    let mut m = Mutation::new("tenant.update");
    m.on(&TenantId::new(id), id);
    ctx.audited(m, async |m| update_inner(ctx, id, body, m).await)
        .await
}

async fn update_inner(
    ctx: &Admin<'_>,
    id: &str,
    body: Incoming,
    m: &mut Mutation,
) -> Result<Response<Body>, GatewayError> {
    authorize(&ctx.principal, Permission::ManageTenants, None)?;
    let req: UpdateTenant = ctx.json(body).await?;
    let tenant_id = TenantId::new(id);
    let mut tenant = ctx
        .state
        .store
        .get_tenant(&tenant_id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let mut changed = Vec::new();
    if let Some(name) = req.name {
        tenant.name = valid_name(&name)?;
        changed.push("name");
    }
    if let Some(enabled) = req.enabled {
        tenant.enabled = enabled;
        changed.push("enabled");
    }
    if let Some(models) = req.allowed_models {
        tenant.allowed_models = models;
        changed.push("allowed_models");
    }
    if let Some(regions) = req.allowed_regions {
        tenant.allowed_regions = regions;
        changed.push("allowed_regions");
    }
    if let Some(networks) = req.allowed_networks {
        tenant.allowed_networks = super::keys::allowed_networks(networks)?;
        changed.push("allowed_networks");
    }
    if let Some(opt_out) = req.threat_intel_opt_out {
        tenant.threat_intel_opt_out = opt_out;
        changed.push("threat_intel_opt_out");
    }
    if let Some(limits) = req.limits {
        tenant.limits = limits;
        changed.push("limits");
    }
    m.details.insert(
        "changed".to_owned(),
        changed.into_iter().map(Value::from).collect(),
    );
    let stored = ctx.state.store.update_tenant(&tenant).await?;
    ctx.invalidate_tenant(&tenant_id).await;
    m.details.insert(
        "tenant".to_owned(),
        views::to_value(&views::tenant(&stored)),
    );
    ok(200, &views::tenant(&stored))
}

pub async fn delete(ctx: &Admin<'_>, id: &str) -> Result<Response<Body>, GatewayError> {
    let mut m = Mutation::new("tenant.delete");
    m.on(&TenantId::new(id), id);
    ctx.audited(m, async |_| delete_inner(ctx, id).await).await
}

async fn delete_inner(ctx: &Admin<'_>, id: &str) -> Result<Response<Body>, GatewayError> {
    authorize(&ctx.principal, Permission::ManageTenants, None)?;
    let tenant_id = TenantId::new(id);
    ctx.state.store.delete_tenant(&tenant_id).await?;
    // Its keys are gone from the store; drop every cached verdict that may involve them.
    ctx.invalidate_tenant(&tenant_id).await;
    ok(
        200,
        &views::TenantDeleted {
            object: "tenant",
            id: id.to_owned(),
            deleted: true,
        },
    )
}
