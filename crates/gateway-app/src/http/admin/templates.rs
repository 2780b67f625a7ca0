//! `/admin/v1/templates`: a tenant's versioned prompt templates (create or add a version,
//! list, show with its versions, show one version, delete, render as a dry run), plus the
//! read-only built-in ones (`builtin.*`) every tenant sees.
//!
//! Reads and dry runs need `read_keys`, changes `manage_keys`, on the template's tenant
//! (admins and tenant admins), like webhooks. The tenant is the caller's own, or `tenant`
//! (in the body of a create, in the query otherwise) for an admin. Audit events name the
//! template and version, never its text.

use http::Response;
use hyper::body::Incoming;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use gateway_auth::{Permission, authorize};
use gateway_core::store::{TemplateRecord, TemplateStore};
use gateway_core::{GatewayError, TenantId};
use gateway_policy::templates::{
    self as engine, Rendered, TemplateMessage, TemplateSource, VariableSpec,
};

use super::auth::{require_somewhere, scope};
use super::query::Query;
use super::{Admin, Mutation, ok, time::format, views};
use crate::http::body::Body;
use crate::templates::{self as library, Resolved, invalid, not_found};

/// Most templates one list answers.
const MAX_LIST: u32 = 1_000;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateTemplate {
    /// The template's id within its tenant: a new id creates version 1, a known one adds a
    /// version (unless nothing changed).
    id: String,
    /// Default: the caller's tenant (an admin names one).
    #[serde(default)]
    tenant: Option<String>,
    #[serde(default)]
    description: Option<String>,
    /// Chat messages, each content a MiniJinja source (give these or `prompt`).
    #[serde(default)]
    messages: Vec<TemplateMessage>,
    /// One prompt, rendered as a single user message.
    #[serde(default)]
    prompt: Option<String>,
    /// Declared variables; left out, those the sources use, all required.
    #[serde(default)]
    variables: Vec<VariableSpec>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RenderTemplate {
    /// Default: the latest.
    #[serde(default)]
    version: Option<u32>,
    #[serde(default)]
    variables: Map<String, Value>,
}

/// One version of a template, in a template's history.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TemplateVersionView {
    pub version: u32,
    pub description: String,
    pub created_at: String,
    pub created_by: String,
}

/// A prompt template at one version.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TemplateView {
    #[schemars(extend("const" = "prompt_template"))]
    pub object: &'static str,
    pub id: String,
    /// `null` for a built-in template.
    pub tenant: Option<String>,
    pub version: u32,
    pub description: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<TemplateMessage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    pub variables: Vec<VariableSpec>,
    /// Built-in templates are read-only and available to every tenant.
    pub builtin: bool,
    pub created_at: Option<String>,
    pub created_by: Option<String>,
    /// Every version, oldest first (`GET /admin/v1/templates/{id}` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub versions: Option<Vec<TemplateVersionView>>,
}

/// A dry run: what a call naming the template would send.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RenderView {
    #[schemars(extend("const" = "prompt_template.render"))]
    pub object: &'static str,
    pub id: String,
    pub version: u32,
    pub messages: Vec<Rendered>,
}

/// The answer to a deletion.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TemplateDeleted {
    #[schemars(extend("const" = "prompt_template"))]
    pub object: &'static str,
    pub id: String,
    /// How many versions went.
    pub versions: u64,
    pub deleted: bool,
}

fn view(r: Resolved) -> TemplateView {
    TemplateView {
        object: "prompt_template",
        id: r.id,
        tenant: r.tenant.map(|t| t.to_string()),
        version: r.version,
        description: r.description,
        messages: r.source.messages,
        prompt: r.source.prompt,
        variables: r.source.variables,
        builtin: r.builtin,
        created_at: r.created_at.map(format),
        created_by: r.created_by,
        versions: None,
    }
}

fn store<'a>(ctx: &Admin<'a>) -> Result<&'a gateway_store::SqlStore, GatewayError> {
    ctx.state.sql_store().map(|s| s.as_ref()).ok_or_else(|| {
        GatewayError::Unavailable("Templates are not stored on this gateway.".to_owned())
    })
}

fn is_builtin(id: &str) -> bool {
    id.starts_with(engine::BUILTIN_PREFIX)
}

/// The tenant a request by id is about: the caller's, or `?tenant=` (checked). Built-in
/// templates belong to no tenant, so an admin may leave it out for them.
fn tenant_for(
    ctx: &Admin<'_>,
    permission: Permission,
    query: Option<&str>,
    id: &str,
) -> Result<TenantId, GatewayError> {
    let q = Query::parse(query, &["tenant"])?;
    require_somewhere(&ctx.principal, permission)?;
    match scope(&ctx.principal, permission, q.text("tenant"))? {
        Some(t) => Ok(t),
        None if is_builtin(id) => Ok(ctx.principal.tenant.clone()),
        None => Err(GatewayError::invalid_param(
            "tenant",
            "Name the template's tenant: '?tenant=...'.",
        )),
    }
}

pub async fn list(ctx: &Admin<'_>, query: Option<&str>) -> Result<Response<Body>, GatewayError> {
    let q = Query::parse(query, &["tenant"])?;
    let tenant = scope(&ctx.principal, Permission::ReadKeys, q.text("tenant"))?;
    let mut out = Vec::new();
    if let Some(store) = ctx.state.sql_store() {
        for record in store.list_templates(tenant.as_ref(), MAX_LIST).await? {
            out.push(view(library::from_record(record)?));
        }
    }
    out.extend(
        engine::builtin::all()
            .iter()
            .map(|b| view(library::builtin_resolved(b))),
    );
    ok(200, &views::list(out))
}

pub async fn show(
    ctx: &Admin<'_>,
    id: &str,
    query: Option<&str>,
) -> Result<Response<Body>, GatewayError> {
    let tenant = tenant_for(ctx, Permission::ReadKeys, query, id)?;
    if is_builtin(id) {
        return ok(
            200,
            &view(library::resolve(ctx.state, &tenant, id, None).await?),
        );
    }
    let versions = store(ctx)?.template_versions(&tenant, id).await?;
    let history = versions
        .iter()
        .map(|r| TemplateVersionView {
            version: r.version,
            description: r.description.clone(),
            created_at: format(r.created_at),
            created_by: r.created_by.clone(),
        })
        .collect();
    let latest = versions.into_iter().last().ok_or_else(|| not_found(id))?;
    let mut shown = view(library::from_record(latest)?);
    shown.versions = Some(history);
    ok(200, &shown)
}

pub async fn show_version(
    ctx: &Admin<'_>,
    id: &str,
    version: &str,
    query: Option<&str>,
) -> Result<Response<Body>, GatewayError> {
    let tenant = tenant_for(ctx, Permission::ReadKeys, query, id)?;
    let version: u32 = version
        .parse()
        .map_err(|_| not_found(&format!("{id}' version '{version}")))?;
    let found = library::resolve(ctx.state, &tenant, id, Some(version)).await?;
    ok(200, &view(found))
}

pub async fn create(ctx: &Admin<'_>, body: Incoming) -> Result<Response<Body>, GatewayError> {
    ctx.audited(Mutation::new("template.create"), async |m| {
        require_somewhere(&ctx.principal, Permission::ManageKeys)?;
        let req: CreateTemplate = ctx.json(body).await?;
        let tenant = match req.tenant.as_deref() {
            Some(t) => TenantId::new(t),
            None if super::auth::is_admin(&ctx.principal) => {
                return Err(GatewayError::invalid_param(
                    "tenant",
                    "Name the template's tenant: 'tenant'.",
                ));
            }
            None => ctx.principal.tenant.clone(),
        };
        m.on(&tenant, &req.id);
        authorize(&ctx.principal, Permission::ManageKeys, Some(&tenant))?;
        engine::valid_id(&req.id).map_err(|e| invalid(&e))?;
        if ctx.state.store.get_tenant(&tenant).await?.is_none() {
            return Err(GatewayError::invalid_param(
                "tenant",
                format!("tenant '{tenant}' not found."),
            ));
        }
        let description = req.description.unwrap_or_default();
        if description.len() > 1024 {
            return Err(GatewayError::invalid_param(
                "description",
                "'description' is longer than 1024 bytes.",
            ));
        }
        let mut source = TemplateSource {
            messages: req.messages,
            prompt: req.prompt,
            variables: req.variables,
        };
        source.validate().map_err(|e| invalid(&e))?;
        let store = store(ctx)?;
        // The same definition again is not a new version: the answer is the stored one.
        if let Some(latest) = store.get_template(&tenant, &req.id, None).await?
            && latest.description == description
            && serde_json::from_str::<TemplateSource>(&latest.body).ok() == Some(source.clone())
        {
            m.details
                .insert("version".to_owned(), latest.version.into());
            return ok(200, &view(library::from_record(latest)?));
        }
        let mut record = TemplateRecord {
            key: format!("tpl_{}", uuid::Uuid::now_v7().simple()),
            tenant,
            id: req.id,
            version: 0,
            description,
            body: serde_json::to_string(&source)
                .map_err(|e| GatewayError::Internal(format!("template encoding: {e}")))?,
            created_at: std::time::SystemTime::now(),
            created_by: ctx.principal.subject.to_string(),
        };
        record.version = store.add_template_version(&record).await?;
        m.details
            .insert("version".to_owned(), record.version.into());
        ok(201, &view(library::from_record(record)?))
    })
    .await
}

pub async fn delete(
    ctx: &Admin<'_>,
    id: &str,
    query: Option<&str>,
) -> Result<Response<Body>, GatewayError> {
    let mut m = Mutation::new("template.delete");
    m.target = Some(id.to_owned());
    ctx.audited(m, async |m| {
        let tenant = tenant_for(ctx, Permission::ManageKeys, query, id)?;
        m.tenant = Some(tenant.clone());
        if is_builtin(id) {
            return Err(GatewayError::invalid_param(
                "id",
                "Built-in templates are read-only.",
            ));
        }
        let versions = store(ctx)?.delete_template(&tenant, id).await?;
        if versions == 0 {
            return Err(not_found(id));
        }
        m.details.insert("versions".to_owned(), versions.into());
        ok(
            200,
            &TemplateDeleted {
                object: "prompt_template",
                id: id.to_owned(),
                versions,
                deleted: true,
            },
        )
    })
    .await
}

pub async fn render(
    ctx: &Admin<'_>,
    id: &str,
    query: Option<&str>,
    body: Incoming,
) -> Result<Response<Body>, GatewayError> {
    let tenant = tenant_for(ctx, Permission::ReadKeys, query, id)?;
    let req: RenderTemplate = ctx.optional_json(body).await?;
    let found = library::resolve(ctx.state, &tenant, id, req.version).await?;
    let messages =
        engine::render(&found.source, &req.variables, &library::LIMITS).map_err(|e| invalid(&e))?;
    ok(
        200,
        &RenderView {
            object: "prompt_template.render",
            id: found.id,
            version: found.version,
            messages,
        },
    )
}
