//! `/admin/v1/webhooks`: a tenant's webhook endpoints (create, list, show, change, delete,
//! rotate the signing secret), each endpoint's delivery log, and manual redelivery.
//!
//! Reads need `read_keys`, changes `manage_keys`, on the endpoint's tenant (admins and tenant
//! admins; see docs/webhooks.md). An endpoint or delivery of a tenant the caller may not see
//! answers exactly like one that does not exist (404). The signing secret is shown when it is
//! made: on create and on rotation.

use std::time::SystemTime;

use http::Response;
use hyper::body::Incoming;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use gateway_auth::{Permission, authorize};
use gateway_core::store::{DeliveryAttempt, WebhookDelivery, WebhookEndpoint};
use gateway_core::{GatewayError, TenantId};

use super::auth::{require_somewhere, scope};
use super::keys::NoFields;
use super::query::Query;
use super::{Admin, Mutation, ok, time::format, views};
use crate::http::body::Body;
use crate::webhooks::{EVENT_TYPES, Webhooks, signing};

/// Most deliveries listed per page.
const MAX_PAGE: u64 = 100;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateWebhook {
    tenant: String,
    /// https (http only where the operator allows it); public addresses only, unless the
    /// operator's `[webhooks] allow_private` names the network.
    url: String,
    /// Event types to deliver (see docs/webhooks.md); none for an endpoint that only receives
    /// the callbacks of asynchronous calls naming its URL.
    events: Vec<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    enabled: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateWebhook {
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    events: Option<Vec<String>>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    enabled: Option<bool>,
}

/// A webhook endpoint.
#[derive(Debug, Serialize, JsonSchema)]
pub struct WebhookView {
    #[schemars(extend("const" = "webhook_endpoint"))]
    pub object: &'static str,
    pub id: String,
    pub tenant: String,
    pub url: String,
    pub description: String,
    pub events: Vec<String>,
    pub enabled: bool,
    /// The signing secret (`whsec_...`): only in the answers to create and rotate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Until when the secret before the last rotation still signs (RFC 3339), if it does.
    pub previous_secret_expires_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// One attempt of a delivery.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AttemptView {
    pub attempt: u32,
    pub at: String,
    /// The receiver's status, if it answered.
    pub status_code: Option<u16>,
    pub latency_ms: u64,
    pub error: Option<String>,
    pub succeeded: bool,
}

/// One event on its way to an endpoint, with its attempts.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DeliveryView {
    #[schemars(extend("const" = "webhook_delivery"))]
    pub object: &'static str,
    /// The `webhook-id` header of every attempt.
    pub id: String,
    pub endpoint_id: String,
    pub event_type: String,
    /// `pending`, `succeeded` or `dead` (given up; redeliverable).
    pub status: String,
    pub attempts: u32,
    /// When the next attempt is due (pending deliveries).
    pub next_attempt_at: Option<String>,
    pub last_status_code: Option<u16>,
    pub last_error: Option<String>,
    /// The body sent (and signed).
    pub payload: Value,
    pub created_at: String,
    pub log: Vec<AttemptView>,
}

fn view(e: &WebhookEndpoint, secret: Option<&str>, now: SystemTime) -> WebhookView {
    WebhookView {
        object: "webhook_endpoint",
        id: e.id.clone(),
        tenant: e.tenant.to_string(),
        url: e.url.clone(),
        description: e.description.clone(),
        events: e.events.clone(),
        enabled: e.enabled,
        secret: secret.map(str::to_owned),
        previous_secret_expires_at: e
            .previous_secret_until
            .filter(|until| *until > now)
            .map(format),
        created_at: format(e.created_at),
        updated_at: format(e.updated_at),
    }
}

fn attempt_view(a: &DeliveryAttempt) -> AttemptView {
    AttemptView {
        attempt: a.attempt,
        at: format(a.at),
        status_code: a.status_code,
        latency_ms: a.latency_ms,
        error: a.error.clone(),
        succeeded: a.succeeded,
    }
}

fn delivery_view(d: &WebhookDelivery, log: &[DeliveryAttempt]) -> DeliveryView {
    let pending = d.status == gateway_core::store::DeliveryStatus::Pending;
    DeliveryView {
        object: "webhook_delivery",
        id: d.id.clone(),
        endpoint_id: d.endpoint_id.clone(),
        event_type: d.event_type.clone(),
        status: d.status.as_str().to_owned(),
        attempts: d.attempts,
        next_attempt_at: pending.then(|| format(d.next_attempt_at)),
        last_status_code: d.last_status_code,
        last_error: d.last_error.clone(),
        payload: serde_json::from_str(&d.payload).unwrap_or(Value::Null),
        created_at: format(d.created_at),
        log: log.iter().map(attempt_view).collect(),
    }
}

fn not_found(what: &str, id: &str) -> GatewayError {
    GatewayError::NotFound(format!("{what} '{id}' not found."))
}

fn webhooks<'a>(ctx: &Admin<'a>) -> Result<&'a Webhooks, GatewayError> {
    ctx.state.webhooks.as_ref().ok_or_else(|| {
        GatewayError::Unavailable("Webhooks are not available on this gateway.".to_owned())
    })
}

/// The event types of an endpoint. None is allowed: such an endpoint receives only the
/// callbacks of asynchronous calls that name its URL (`x-gateway-callback-url`).
fn events(list: Vec<String>) -> Result<Vec<String>, GatewayError> {
    let mut out: Vec<String> = Vec::new();
    for e in list {
        if !EVENT_TYPES.contains(&e.as_str()) {
            return Err(GatewayError::invalid_param(
                "events",
                format!(
                    "Unknown event type '{e}'; types are {}.",
                    EVENT_TYPES.join(", ")
                ),
            ));
        }
        if !out.contains(&e) {
            out.push(e);
        }
    }
    Ok(out)
}

async fn checked_url(hooks: &Webhooks, url: &str) -> Result<String, GatewayError> {
    hooks
        .policy
        .resolve(url)
        .await
        .map(|t| t.url.to_string())
        .map_err(|why| GatewayError::invalid_param("url", why))
}

fn description(text: Option<String>) -> Result<String, GatewayError> {
    let text = text.unwrap_or_default();
    if text.len() > 1024 {
        return Err(GatewayError::invalid_param(
            "description",
            "'description' is longer than 1024 bytes.",
        ));
    }
    Ok(text)
}

/// The endpoint `id` if the caller holds `permission` on its tenant, else 403 when it holds
/// it nowhere, and otherwise the same 404 as for an endpoint that does not exist.
async fn endpoint_in_scope(
    ctx: &Admin<'_>,
    id: &str,
    permission: Permission,
) -> Result<WebhookEndpoint, GatewayError> {
    require_somewhere(&ctx.principal, permission)?;
    let endpoint = webhooks(ctx)?
        .store
        .get_endpoint(id)
        .await?
        .ok_or_else(|| not_found("webhook", id))?;
    if authorize(&ctx.principal, permission, Some(&endpoint.tenant)).is_err() {
        return Err(not_found("webhook", id));
    }
    Ok(endpoint)
}

pub async fn list(ctx: &Admin<'_>, query: Option<&str>) -> Result<Response<Body>, GatewayError> {
    let q = Query::parse(query, &["tenant"])?;
    let tenant = scope(&ctx.principal, Permission::ReadKeys, q.text("tenant"))?;
    let hooks = webhooks(ctx)?;
    let all = hooks.store.list_endpoints(tenant.as_ref()).await?;
    let now = hooks.clock.now();
    ok(
        200,
        &views::list(all.iter().map(|e| view(e, None, now)).collect()),
    )
}

pub async fn show(ctx: &Admin<'_>, id: &str) -> Result<Response<Body>, GatewayError> {
    let e = endpoint_in_scope(ctx, id, Permission::ReadKeys).await?;
    ok(200, &view(&e, None, webhooks(ctx)?.clock.now()))
}

pub async fn create(ctx: &Admin<'_>, body: Incoming) -> Result<Response<Body>, GatewayError> {
    ctx.audited(Mutation::new("webhook.create"), async |m| {
        require_somewhere(&ctx.principal, Permission::ManageKeys)?;
        let req: CreateWebhook = ctx.json(body).await?;
        let tenant = TenantId::new(&req.tenant);
        m.tenant = Some(tenant.clone());
        authorize(&ctx.principal, Permission::ManageKeys, Some(&tenant))?;
        if ctx.state.store.get_tenant(&tenant).await?.is_none() {
            return Err(GatewayError::invalid_param(
                "tenant",
                format!("tenant '{}' not found.", req.tenant),
            ));
        }
        let hooks = webhooks(ctx)?;
        let now = hooks.clock.now();
        let endpoint = WebhookEndpoint {
            id: format!("ep_{}", uuid::Uuid::now_v7().simple()),
            tenant,
            url: checked_url(hooks, &req.url).await?,
            description: description(req.description)?,
            events: events(req.events)?,
            secret: signing::new_secret(),
            previous_secret: None,
            previous_secret_until: None,
            enabled: req.enabled.unwrap_or(true),
            created_at: now,
            updated_at: now,
        };
        hooks.store.create_endpoint(&endpoint).await?;
        m.target = Some(endpoint.id.clone());
        let shown = view(&endpoint, None, now);
        m.details
            .insert("webhook".to_owned(), views::to_value(&shown));
        ok(201, &view(&endpoint, Some(&endpoint.secret), now))
    })
    .await
}

pub async fn update(
    ctx: &Admin<'_>,
    id: &str,
    body: Incoming,
) -> Result<Response<Body>, GatewayError> {
    let mut m = Mutation::new("webhook.update");
    m.target = Some(id.to_owned());
    ctx.audited(m, async |m| {
        let mut e = endpoint_in_scope(ctx, id, Permission::ManageKeys).await?;
        m.tenant = Some(e.tenant.clone());
        let req: UpdateWebhook = ctx.json(body).await?;
        let hooks = webhooks(ctx)?;
        if let Some(url) = req.url {
            e.url = checked_url(hooks, &url).await?;
        }
        if let Some(list) = req.events {
            e.events = events(list)?;
        }
        if let Some(text) = req.description {
            e.description = description(Some(text))?;
        }
        if let Some(enabled) = req.enabled {
            e.enabled = enabled;
        }
        let now = hooks.clock.now();
        e.updated_at = now;
        hooks.store.update_endpoint(&e).await?;
        let shown = view(&e, None, now);
        m.details
            .insert("webhook".to_owned(), views::to_value(&shown));
        ok(200, &shown)
    })
    .await
}

/// The answer to a deletion.
#[derive(Debug, Serialize, JsonSchema)]
pub struct WebhookDeleted {
    pub id: String,
    #[schemars(extend("const" = "webhook_endpoint"))]
    pub object: &'static str,
    pub deleted: bool,
}

pub async fn delete(ctx: &Admin<'_>, id: &str) -> Result<Response<Body>, GatewayError> {
    let mut m = Mutation::new("webhook.delete");
    m.target = Some(id.to_owned());
    ctx.audited(m, async |m| {
        let e = endpoint_in_scope(ctx, id, Permission::ManageKeys).await?;
        m.tenant = Some(e.tenant.clone());
        webhooks(ctx)?.store.delete_endpoint(&e.id).await?;
        ok(
            200,
            &WebhookDeleted {
                id: e.id,
                object: "webhook_endpoint",
                deleted: true,
            },
        )
    })
    .await
}

pub async fn rotate(
    ctx: &Admin<'_>,
    id: &str,
    body: Incoming,
) -> Result<Response<Body>, GatewayError> {
    let mut m = Mutation::new("webhook.rotate_secret");
    m.target = Some(id.to_owned());
    ctx.audited(m, async |m| {
        let mut e = endpoint_in_scope(ctx, id, Permission::ManageKeys).await?;
        m.tenant = Some(e.tenant.clone());
        let NoFields {} = ctx.optional_json(body).await?;
        let hooks = webhooks(ctx)?;
        let now = hooks.clock.now();
        let new = signing::new_secret();
        e.previous_secret = Some(std::mem::replace(&mut e.secret, new));
        e.previous_secret_until = Some(now + hooks.config.secret_overlap);
        e.updated_at = now;
        hooks.store.update_endpoint(&e).await?;
        ok(200, &view(&e, Some(&e.secret), now))
    })
    .await
}

pub async fn deliveries(
    ctx: &Admin<'_>,
    id: &str,
    query: Option<&str>,
) -> Result<Response<Body>, GatewayError> {
    let q = Query::parse(query, &["before", "limit"])?;
    let limit = q.number("limit")?.unwrap_or(20);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(GatewayError::invalid_param(
            "limit",
            format!("'limit' must be between 1 and {MAX_PAGE}."),
        ));
    }
    let e = endpoint_in_scope(ctx, id, Permission::ReadKeys).await?;
    let store = &webhooks(ctx)?.store;
    let page = store
        .list_deliveries(&e.id, q.text("before"), u32::try_from(limit).unwrap_or(20))
        .await?;
    let mut out = Vec::with_capacity(page.len());
    for d in &page {
        out.push(delivery_view(d, &store.list_attempts(&d.id).await?));
    }
    ok(200, &views::list(out))
}

pub async fn redeliver(
    ctx: &Admin<'_>,
    id: &str,
    body: Incoming,
) -> Result<Response<Body>, GatewayError> {
    let mut m = Mutation::new("webhook.redeliver");
    m.target = Some(id.to_owned());
    ctx.audited(m, async |m| {
        require_somewhere(&ctx.principal, Permission::ManageKeys)?;
        let hooks = webhooks(ctx)?;
        let d = hooks
            .store
            .get_delivery(id)
            .await?
            .ok_or_else(|| not_found("webhook delivery", id))?;
        if authorize(&ctx.principal, Permission::ManageKeys, Some(&d.tenant)).is_err() {
            return Err(not_found("webhook delivery", id));
        }
        m.tenant = Some(d.tenant.clone());
        let NoFields {} = ctx.optional_json(body).await?;
        let now = hooks.clock.now();
        let queued = hooks
            .store
            .redeliver(id, now, now + hooks.config.retry_window)
            .await?;
        hooks.wake();
        let log = hooks.store.list_attempts(id).await?;
        ok(202, &delivery_view(&queued, &log))
    })
    .await
}
