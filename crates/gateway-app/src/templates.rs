//! The template library as the edge and the admin API see it: a tenant's templates in the
//! store (`gateway_core::store::TemplateStore`) plus the built-in ones of `gateway-policy`,
//! and the expansion of `{"template": {...}}` in a chat or messages call into the canonical
//! request's messages, before the pipeline (so guardrails, limits and the cache see the
//! rendered prompt like any other).

use std::time::SystemTime;

use serde::Deserialize;
use serde_json::{Map, Value};

use gateway_core::store::{TemplateRecord, TemplateStore};
use gateway_core::types::{Message, Role};
use gateway_core::{ChatRequest, GatewayError, RequestContext, TenantId};
use gateway_policy::templates::{self, RenderLimits, TemplateError, TemplateSource, builtin};

use crate::state::AppState;

/// The request field that names a template.
pub const TEMPLATE_FIELD: &str = "template";

/// Bounds of every render: engine steps per message and bytes of all rendered messages.
pub const LIMITS: RenderLimits = RenderLimits {
    fuel: 50_000,
    max_bytes: 256 * 1024,
};

/// One version of a template, whoever keeps it.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub id: String,
    pub version: u32,
    pub description: String,
    pub source: TemplateSource,
    pub builtin: bool,
    /// `None` for a built-in template.
    pub tenant: Option<TenantId>,
    pub created_at: Option<SystemTime>,
    pub created_by: Option<String>,
}

/// `{"template": {...}}` in a call.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateRef {
    id: String,
    #[serde(default)]
    version: Option<u32>,
    #[serde(default)]
    variables: Map<String, Value>,
}

pub fn not_found(id: &str) -> GatewayError {
    GatewayError::NotFound(format!("Template '{id}' not found."))
}

/// A template error as the caller's 400, naming the field to fix.
pub fn invalid(e: &TemplateError) -> GatewayError {
    GatewayError::invalid_param(&e.param(), e.to_string())
}

/// The built-in template `id` at version 1.
pub fn builtin_resolved(b: &builtin::Builtin) -> Resolved {
    Resolved {
        id: b.id.to_owned(),
        version: 1,
        description: b.description.to_owned(),
        source: b.source.clone(),
        builtin: true,
        tenant: None,
        created_at: None,
        created_by: None,
    }
}

/// Version `version` (latest with `None`) of the template `id` that `tenant` can use: a
/// built-in one, or the tenant's own. Another tenant's template is not found, like an
/// unknown one.
pub async fn resolve(
    state: &AppState,
    tenant: &TenantId,
    id: &str,
    version: Option<u32>,
) -> Result<Resolved, GatewayError> {
    if id.starts_with(templates::BUILTIN_PREFIX) {
        return builtin::get(id)
            .filter(|_| version.is_none_or(|v| v == 1))
            .map(builtin_resolved)
            .ok_or_else(|| not_found(id));
    }
    let Some(store) = state.sql_store() else {
        return Err(not_found(id));
    };
    let record = store
        .get_template(tenant, id, version)
        .await?
        .ok_or_else(|| not_found(id))?;
    from_record(record)
}

/// A stored version with its definition decoded.
pub fn from_record(record: TemplateRecord) -> Result<Resolved, GatewayError> {
    let source: TemplateSource = serde_json::from_str(&record.body).map_err(|_| {
        GatewayError::Internal(format!("stored template '{}' does not decode", record.id))
    })?;
    Ok(Resolved {
        id: record.id,
        version: record.version,
        description: record.description,
        source,
        builtin: false,
        tenant: Some(record.tenant),
        created_at: Some(record.created_at),
        created_by: Some(record.created_by),
    })
}

/// A chat request's body may omit `messages` when it names a template: `Some` body with
/// `"messages": []` added when that is the case, `None` otherwise (the first decode's error
/// stands). Only asked after a decode failed, so calls without templates pay nothing.
pub fn with_empty_messages(body: &[u8]) -> Option<Vec<u8>> {
    let mut object: Map<String, Value> = serde_json::from_slice(body).ok()?;
    if !object.contains_key(TEMPLATE_FIELD) || object.contains_key("messages") {
        return None;
    }
    object.insert("messages".to_owned(), Value::Array(Vec::new()));
    serde_json::to_vec(&object).ok()
}

/// Replaces `template` in `chat` by the messages it renders, before the caller's messages.
/// Nothing to do (and nothing paid but one map lookup) for a call without one.
pub async fn expand(
    state: &AppState,
    ctx: &RequestContext,
    chat: &mut ChatRequest,
) -> Result<(), GatewayError> {
    let Some(value) = chat.extra.remove(TEMPLATE_FIELD) else {
        return Ok(());
    };
    let reference: TemplateRef = serde_json::from_value(value).map_err(|e| {
        GatewayError::invalid_param(
            TEMPLATE_FIELD,
            format!("'template' must be {{\"id\", \"version\"?, \"variables\"?}}: {e}."),
        )
    })?;
    let resolved = resolve(
        state,
        &ctx.principal.tenant,
        &reference.id,
        reference.version,
    )
    .await?;
    let rendered = templates::render(&resolved.source, &reference.variables, &LIMITS)
        .map_err(|e| invalid(&e))?;
    let mut messages = Vec::with_capacity(rendered.len() + chat.messages.len());
    for m in rendered {
        messages.push(Message::text(role(&m.role), m.content));
    }
    messages.append(&mut chat.messages);
    chat.messages = messages;
    Ok(())
}

fn role(name: &str) -> Role {
    match name {
        "system" => Role::System,
        "developer" => Role::Developer,
        "assistant" => Role::Assistant,
        _ => Role::User,
    }
}

/// The text of a message's content (string, or the text of its parts), for the linter.
pub fn content_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}
