//! `/admin/v1/keys`: create, list, show, update, rotate, revoke.
//!
//! Reads need `read_keys`, changes `manage_keys`, on the key's tenant. A key of a tenant the
//! caller may not see answers exactly like a key that does not exist (404), so key ids cannot
//! be probed across tenants. Only an admin may issue or grant the `admin` role.

use std::time::{Duration, SystemTime};

use http::Response;
use hyper::body::Incoming;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use gateway_auth::{NewApiKey, Permission, authorize};
use gateway_core::store::{ApiKeyRecord, Limits};
use gateway_core::{GatewayError, GatewayRole, TenantId};

use super::auth::{may_grant, require_somewhere, scope};
use super::query::Query;
use super::{Admin, Mutation, ok, time, views};
use crate::http::body::Body;

/// Longest accepted `expires_in_days` (about 100 years).
const MAX_DAYS: u64 = 36_500;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateKey {
    tenant: String,
    name: String,
    #[serde(default)]
    #[schemars(schema_with = "role_names")]
    roles: Option<Vec<String>>,
    #[serde(default)]
    allowed_models: Option<Vec<String>>,
    /// CIDR blocks (IPv4 or IPv6, or bare addresses) the key may be used from; at most 256.
    #[serde(default)]
    #[schemars(extend("maxItems" = 256))]
    allowed_networks: Option<Vec<String>>,
    #[serde(default)]
    limits: Option<Limits>,
    #[serde(default)]
    expires_at: Option<String>,
    #[serde(default)]
    #[schemars(range(min = 1, max = MAX_DAYS))]
    expires_in_days: Option<u64>,
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Map<String, Value>>")]
    metadata: Option<Value>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateKey {
    #[serde(default)]
    #[schemars(extend("pattern" = "\\S"))]
    name: Option<String>,
    /// At least one.
    #[serde(default)]
    #[schemars(schema_with = "role_names", extend("minItems" = 1))]
    roles: Option<Vec<String>>,
    #[serde(default, deserialize_with = "views::present")]
    #[schemars(with = "Option<Vec<String>>")]
    allowed_models: Option<Option<Vec<String>>>,
    /// CIDR blocks (IPv4 or IPv6, or bare addresses) the key may be used from; at most 256; `null`
    /// lifts the restriction.
    #[serde(default, deserialize_with = "views::present")]
    #[schemars(with = "Option<Vec<String>>", extend("maxItems" = 256))]
    allowed_networks: Option<Option<Vec<String>>>,
    #[serde(default)]
    limits: Option<Limits>,
    #[serde(default, deserialize_with = "views::present")]
    #[schemars(with = "Option<String>")]
    expires_at: Option<Option<String>>,
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Map<String, Value>>")]
    metadata: Option<Value>,
    #[serde(default)]
    enabled: Option<bool>,
}

/// The schema of a `roles` field: the names [`GatewayRole::parse`] accepts, or `null`.
fn role_names(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let names: Vec<&str> = GatewayRole::ALL.iter().map(|r| r.as_str()).collect();
    schemars::json_schema!({
        "type": ["array", "null"],
        "items": { "type": "string", "enum": names },
    })
}

/// The body of rotate and revoke: nothing yet, but unknown fields are still refused.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NoFields {}

fn roles(names: &[String]) -> Result<Vec<GatewayRole>, GatewayError> {
    names
        .iter()
        .map(|n| {
            GatewayRole::parse(n).ok_or_else(|| {
                let known: Vec<&str> = GatewayRole::ALL.iter().map(|r| r.as_str()).collect();
                GatewayError::invalid_param(
                    "roles",
                    format!("Unknown role '{n}'; roles are {}.", known.join(", ")),
                )
            })
        })
        .collect()
}

fn expiry(at: Option<&str>, in_days: Option<u64>) -> Result<Option<SystemTime>, GatewayError> {
    match (at, in_days) {
        (Some(_), Some(_)) => Err(GatewayError::invalid_param(
            "expires_at",
            "Give either 'expires_at' or 'expires_in_days', not both.",
        )),
        (Some(at), None) => time::parse(at).map(|p| Some(p.at)).ok_or_else(|| {
            GatewayError::invalid_param(
                "expires_at",
                "'expires_at' must be an RFC 3339 time, a date or unix seconds.",
            )
        }),
        (None, Some(days)) if (1..=MAX_DAYS).contains(&days) => {
            Ok(Some(SystemTime::now() + Duration::from_secs(days * 86_400)))
        }
        (None, Some(_)) => Err(GatewayError::invalid_param(
            "expires_in_days",
            format!("'expires_in_days' must be between 1 and {MAX_DAYS}."),
        )),
        (None, None) => Ok(None),
    }
}

fn metadata(value: Option<Value>) -> Result<Value, GatewayError> {
    match value {
        None => Ok(Value::Object(serde_json::Map::new())),
        Some(v @ Value::Object(_)) => Ok(v),
        Some(_) => Err(GatewayError::invalid_param(
            "metadata",
            "'metadata' must be a JSON object.",
        )),
    }
}

/// An allow-list of client networks from the admin API: each entry checked and normalised
/// (`10.1.2.3/8` is stored as `10.0.0.0/8`); 400 naming the first bad entry.
pub(super) fn allowed_networks(
    list: Option<Vec<String>>,
) -> Result<Option<Vec<String>>, GatewayError> {
    list.map(|l| gateway_core::client_networks::normalize_networks(&l))
        .transpose()
        .map_err(|e| GatewayError::invalid_param("allowed_networks", format!("{e}.")))
}

fn not_found(id: &str) -> GatewayError {
    GatewayError::NotFound(format!("key '{id}' not found."))
}

/// The key `id` if the caller holds `permission` on its tenant; else 403 when the caller
/// holds it nowhere, and otherwise the same 404 as for a key that does not exist. Changing a
/// key that holds the `admin` role (rotating it would hand out an admin secret) is for admins.
pub(crate) async fn key_in_scope(
    ctx: &Admin<'_>,
    id: &str,
    permission: Permission,
) -> Result<ApiKeyRecord, GatewayError> {
    require_somewhere(&ctx.principal, permission)?;
    let key = ctx
        .state
        .store
        .get_key(id)
        .await?
        .ok_or_else(|| not_found(id))?;
    if authorize(&ctx.principal, permission, Some(&key.tenant)).is_err() {
        return Err(not_found(id));
    }
    if permission == Permission::ManageKeys {
        may_grant(&ctx.principal, &key.roles)?;
    }
    Ok(key)
}

pub async fn list(ctx: &Admin<'_>, query: Option<&str>) -> Result<Response<Body>, GatewayError> {
    let q = Query::parse(query, &["tenant"])?;
    let tenant = scope(&ctx.principal, Permission::ReadKeys, q.text("tenant"))?;
    let keys = ctx.state.store.list_keys(tenant.as_ref()).await?;
    ok(200, &views::list(keys.iter().map(views::key).collect()))
}

pub async fn show(ctx: &Admin<'_>, id: &str) -> Result<Response<Body>, GatewayError> {
    let key = key_in_scope(ctx, id, Permission::ReadKeys).await?;
    ok(200, &views::key(&key))
}

pub async fn create(ctx: &Admin<'_>, body: Incoming) -> Result<Response<Body>, GatewayError> {
    ctx.audited(Mutation::new("key.create"), async |m| {
        create_inner(ctx, body, m).await
    })
    .await
}

async fn create_inner(
    ctx: &Admin<'_>,
    body: Incoming,
    m: &mut Mutation,
) -> Result<Response<Body>, GatewayError> {
    require_somewhere(&ctx.principal, Permission::ManageKeys)?;
    let req: CreateKey = ctx.json(body).await?;
    let tenant = TenantId::new(&req.tenant);
    m.tenant = Some(tenant.clone());
    authorize(&ctx.principal, Permission::ManageKeys, Some(&tenant))?;
    let roles = roles(req.roles.as_deref().unwrap_or_default())?;
    may_grant(&ctx.principal, &roles)?;
    let new = NewApiKey {
        tenant,
        name: req.name,
        roles,
        allowed_models: req.allowed_models,
        allowed_networks: allowed_networks(req.allowed_networks)?,
        limits: req.limits.unwrap_or_default(),
        expires_at: expiry(req.expires_at.as_deref(), req.expires_in_days)?,
        metadata: metadata(req.metadata)?,
    };
    let created = ctx.key_manager()?.create(new).await?;
    ctx.key_event("key.created", &created.record);
    m.target = Some(created.record.id.clone());
    m.details.insert(
        "key".to_owned(),
        views::to_value(&views::key(&created.record)),
    );
    ok(
        201,
        &views::key_with_secret(&created.record, created.secret.expose()),
    )
}

pub async fn update(
    ctx: &Admin<'_>,
    id: &str,
    body: Incoming,
) -> Result<Response<Body>, GatewayError> {
    let mut m = Mutation::new("key.update");
    m.target = Some(id.to_owned());
    ctx.audited(m, async |m| update_inner(ctx, id, body, m).await)
        .await
}

async fn update_inner(
    ctx: &Admin<'_>,
    id: &str,
    body: Incoming,
    m: &mut Mutation,
) -> Result<Response<Body>, GatewayError> {
    let mut key = key_in_scope(ctx, id, Permission::ManageKeys).await?;
    m.tenant = Some(key.tenant.clone());
    let req: UpdateKey = ctx.json(body).await?;
    let mut changed = Vec::new();
    if let Some(name) = req.name {
        if name.trim().is_empty() {
            return Err(GatewayError::invalid_param(
                "name",
                "A key needs a non-empty name.",
            ));
        }
        key.name = name;
        changed.push("name");
    }
    if let Some(names) = req.roles {
        let roles = roles(&names)?;
        if roles.is_empty() {
            return Err(GatewayError::invalid_param(
                "roles",
                "A key needs at least one role.",
            ));
        }
        may_grant(&ctx.principal, &roles)?;
        key.roles = roles;
        changed.push("roles");
    }
    if let Some(models) = req.allowed_models {
        key.allowed_models = models;
        changed.push("allowed_models");
    }
    if let Some(networks) = req.allowed_networks {
        key.allowed_networks = allowed_networks(networks)?;
        changed.push("allowed_networks");
    }
    if let Some(limits) = req.limits {
        key.limits = limits;
        changed.push("limits");
    }
    if let Some(expires) = req.expires_at {
        key.expires_at = expiry(expires.as_deref(), None)?;
        changed.push("expires_at");
    }
    if let Some(meta) = req.metadata {
        key.metadata = metadata(Some(meta))?;
        changed.push("metadata");
    }
    if let Some(enabled) = req.enabled {
        key.enabled = enabled;
        changed.push("enabled");
    }
    m.details.insert(
        "changed".to_owned(),
        changed.into_iter().map(Value::from).collect(),
    );
    let stored = ctx.key_manager()?.update(&key).await?;
    m.details
        .insert("key".to_owned(), views::to_value(&views::key(&stored)));
    ok(200, &views::key(&stored))
}

pub async fn rotate(
    ctx: &Admin<'_>,
    id: &str,
    body: Incoming,
) -> Result<Response<Body>, GatewayError> {
    let mut m = Mutation::new("key.rotate");
    m.target = Some(id.to_owned());
    ctx.audited(m, async |m| rotate_inner(ctx, id, body, m).await)
        .await
}

/// A new secret with the old key's tenant, name and settings; the old key is revoked.
async fn rotate_inner(
    ctx: &Admin<'_>,
    id: &str,
    body: Incoming,
    m: &mut Mutation,
) -> Result<Response<Body>, GatewayError> {
    let old = key_in_scope(ctx, id, Permission::ManageKeys).await?;
    m.tenant = Some(old.tenant.clone());
    let NoFields {} = ctx.optional_json(body).await?;
    if old.revoked_at.is_some() {
        return Err(GatewayError::invalid_param(
            "id",
            format!("key '{id}' is revoked and cannot be rotated; create a new key."),
        ));
    }
    let manager = ctx.key_manager()?;
    let created = manager
        .create(NewApiKey {
            tenant: old.tenant.clone(),
            name: old.name.clone(),
            roles: old.roles.clone(),
            allowed_models: old.allowed_models.clone(),
            allowed_networks: old.allowed_networks.clone(),
            limits: old.limits.clone(),
            expires_at: old.expires_at,
            metadata: old.metadata.clone(),
        })
        .await?;
    m.details.insert(
        "new_key".to_owned(),
        Value::from(created.record.id.as_str()),
    );
    ctx.key_event("key.created", &created.record);
    let revoked = manager.revoke(&old.id).await?;
    ctx.key_event("key.revoked", &revoked);
    let view = views::KeyView {
        replaces: Some(old.id.clone()),
        ..views::key_with_secret(&created.record, created.secret.expose())
    };
    ok(201, &view)
}

pub async fn revoke(
    ctx: &Admin<'_>,
    id: &str,
    body: Incoming,
) -> Result<Response<Body>, GatewayError> {
    let mut m = Mutation::new("key.revoke");
    m.target = Some(id.to_owned());
    ctx.audited(m, async |m| revoke_inner(ctx, id, body, m).await)
        .await
}

async fn revoke_inner(
    ctx: &Admin<'_>,
    id: &str,
    body: Incoming,
    m: &mut Mutation,
) -> Result<Response<Body>, GatewayError> {
    let key = key_in_scope(ctx, id, Permission::ManageKeys).await?;
    m.tenant = Some(key.tenant.clone());
    let NoFields {} = ctx.optional_json(body).await?;
    let revoked = ctx.key_manager()?.revoke(&key.id).await?;
    ctx.key_event("key.revoked", &revoked);
    ok(200, &views::key(&revoked))
}
