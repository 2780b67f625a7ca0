//! Operations on the running gateway: `GET /admin/v1/deployments` (each deployment's circuit,
//! latency and load) and `POST /admin/v1/cache/invalidate` (by tenant, model or all; other
//! instances are told through Redis when configured).
//!
//! Deployment states are gateway-wide but hold no tenant data: any caller with `read_usage`
//! somewhere may read them. Invalidating the cache is gateway-wide configuration: admins only.

use http::Response;
use hyper::body::Incoming;
use schemars::JsonSchema;
use serde::Serialize;

use gateway_auth::{Permission, authorize};
use gateway_cache::Invalidation;
use gateway_core::{GatewayError, TenantId};

use super::auth::require_somewhere;
use super::{Admin, Mutation, ok, views};
use crate::http::body::Body;

/// `GET /admin/v1/deployments`.
pub async fn deployments(ctx: &Admin<'_>) -> Result<Response<Body>, GatewayError> {
    require_somewhere(&ctx.principal, Permission::ReadUsage)?;
    let states = ctx.state.router.deployment_states();
    ok(200, &views::list(states))
}

/// `POST /admin/v1/cache/invalidate` with `{"scope": "all"}`, `{"scope": "tenant", "tenant": ..}`
/// or `{"scope": "model", "model": ..}`.
pub async fn invalidate_cache(
    ctx: &Admin<'_>,
    body: Incoming,
) -> Result<Response<Body>, GatewayError> {
    ctx.audited(Mutation::new("cache.invalidate"), async |m| {
        invalidate_inner(ctx, body, m).await
    })
    .await
}

async fn invalidate_inner(
    ctx: &Admin<'_>,
    body: Incoming,
    m: &mut Mutation,
) -> Result<Response<Body>, GatewayError> {
    authorize(&ctx.principal, Permission::ManageConfig, None)?;
    let scope: Invalidation = ctx.json(body).await?;
    match &scope {
        Invalidation::Tenant { tenant } => m.on(&TenantId::new(tenant), tenant),
        Invalidation::Model { model } => m.target = Some(model.clone()),
        Invalidation::All => m.target = Some("*".to_owned()),
    }
    let Some(cache) = &ctx.state.cache else {
        return Err(GatewayError::invalid(
            "The response cache is not enabled ([cache] enabled = true).",
        ));
    };
    let removed = cache
        .invalidate(&scope)
        .await
        .map_err(|e| GatewayError::Unavailable(format!("Cache invalidation failed: {e}")))?;
    m.details.insert("removed".to_owned(), removed.into());
    ok(
        200,
        &CacheInvalidated {
            object: "cache.invalidation",
            scope,
            removed,
        },
    )
}

/// What `POST /admin/v1/cache/invalidate` answers.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct CacheInvalidated {
    #[schemars(extend("const" = "cache.invalidation"))]
    pub object: &'static str,
    /// The invalidation asked for.
    pub scope: Invalidation,
    /// Entries removed (on this instance; other instances drop theirs when told).
    pub removed: u64,
}
