//! What the web console needs beyond the other admin endpoints:
//!
//! - `GET /admin/v1/me`: who the credential is and which permissions it holds (somewhere), so
//!   the console offers only the views it may use. Any valid credential may ask.
//! - `GET /admin/v1/config`: the running configuration with every secret redacted
//!   (`manage_config`, admins only).
//! - `POST /admin/v1/guardrails/check`: a tenant's guardrails on a text, like
//!   `/v1/guardrails/check` but for an admin credential and any tenant it may read
//!   (`read_tenants` on that tenant; default: the caller's own).

use http::Response;
use hyper::body::Incoming;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use gateway_auth::{Permission, authorize};
use gateway_core::{GatewayError, TenantId};

use super::auth::{is_admin, require_somewhere};
use super::{Admin, ok};
use crate::http::body::Body;
use crate::http::guardrails_check::{CheckDirection, CheckText, read_request, verdict};

/// `GET /admin/v1/me`.
pub fn me(ctx: &Admin<'_>) -> Result<Response<Body>, GatewayError> {
    let p = &ctx.principal;
    let permissions: Vec<&str> = Permission::ALL
        .into_iter()
        .filter(|perm| require_somewhere(p, *perm).is_ok())
        .map(Permission::as_str)
        .collect();
    let tenant = (!is_admin(p) || p.tenant.as_str() != "*").then(|| p.tenant.as_str());
    ok(
        200,
        &Me {
            object: "principal",
            subject: &p.subject,
            tenant,
            roles: p.roles.iter().map(|r| r.as_str()).collect(),
            permissions,
        },
    )
}

/// What `GET /admin/v1/me` answers: the caller and what it may do.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Me<'a> {
    #[schemars(extend("const" = "principal"))]
    pub object: &'static str,
    /// The key id, JWT subject or `admin-token`.
    pub subject: &'a str,
    /// The caller's tenant; `null` for the bootstrap admin.
    pub tenant: Option<&'a str>,
    pub roles: Vec<&'static str>,
    /// The permissions it holds on at least one tenant.
    pub permissions: Vec<&'static str>,
}

/// What `GET /admin/v1/config` answers.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct RunningConfig<'a> {
    #[schemars(extend("const" = "config"))]
    pub object: &'static str,
    /// When this configuration was loaded (RFC 3339).
    pub loaded_at: String,
    /// The configuration as TOML, every secret redacted.
    pub text: &'a str,
}

/// `GET /admin/v1/config`.
pub fn config(ctx: &Admin<'_>) -> Result<Response<Body>, GatewayError> {
    authorize(&ctx.principal, Permission::ManageConfig, None)?;
    let view = &ctx.state.config_view;
    ok(
        200,
        &RunningConfig {
            object: "config",
            loaded_at: super::time::format(view.loaded_at),
            text: &view.text,
        },
    )
}

/// The body of `POST /admin/v1/guardrails/check`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AdminCheck {
    /// The tenant whose guardrails apply (default: the caller's).
    #[serde(default)]
    tenant: Option<String>,
    /// The text to check (at most 256 KiB).
    text: String,
    #[serde(default)]
    direction: CheckDirection,
}

impl CheckText for AdminCheck {
    fn text(&self) -> &str {
        &self.text
    }
}

/// `POST /admin/v1/guardrails/check`.
pub async fn guardrails_check(
    ctx: &Admin<'_>,
    body: Incoming,
) -> Result<Response<Body>, GatewayError> {
    require_somewhere(&ctx.principal, Permission::ReadTenants)?;
    let request: AdminCheck = read_request(ctx.state, body).await?;
    let tenant = match &request.tenant {
        Some(t) => TenantId::new(t),
        None => ctx.principal.tenant.clone(),
    };
    if request.tenant.is_some() {
        authorize(&ctx.principal, Permission::ReadTenants, Some(&tenant))?;
    }
    ok(
        200,
        &verdict(ctx.state, tenant.as_str(), &request.text, request.direction),
    )
}
