//! The admin API under `/admin/v1/`: tenants, keys, usage and audit, deployments, and what the
//! web console needs (`me`, `config`, `guardrails/check`), webhook endpoints and their
//! deliveries (`webhooks`), callers' feedback (`feedback`), backups of the store
//! (`backups`), key management of the encryption of stored content (`encryption`), prompt
//! templates (`templates`) and the prompt linter (`prompts`); see `docs/admin.md`,
//! `docs/webhooks.md`, `docs/security.md` and `docs/templates.md`. It routes by its own
//! table ([`routes::ADMIN_ROUTES`]).
//!
//! Every request is authenticated first ([`auth::authenticate`]: 401 before anything else,
//! the body is not even read), then routed; every endpoint checks one RBAC permission, and
//! every mutation — allowed, denied or failed — appends an audit event. Changes to keys and
//! tenants take effect for authentication on this instance at once.

pub(crate) mod anomalies;
mod auth;
pub(crate) mod backups;
pub(crate) mod console;
pub(crate) mod encryption;
mod encryption_open;
pub(crate) mod feedback;
pub(crate) mod keys;
pub(crate) mod ops;
pub(crate) mod prompts;
pub(crate) mod query;
mod reports;
pub(crate) mod routes;
pub(crate) mod templates;
pub(crate) mod tenants;
mod time;
pub(crate) mod views;
pub(crate) mod webhooks;

pub(crate) use time::format as time_format;

use http::{Request, Response};
use hyper::body::Incoming;
use serde::de::DeserializeOwned;
use serde_json::Value;

use gateway_core::store::{AuditEvent, AuditOutcome};
use gateway_core::{GatewayError, Principal, TenantId};

use super::body::{Body, parse_json, read_limited};
use super::inbound::Inbound;
use super::info::json_response;
use crate::state::AppState;
use routes::{AdminFound, AdminHandler};

/// One admin request: the state, the authenticated caller and the request id.
pub struct Admin<'a> {
    pub state: &'a AppState,
    pub principal: Principal,
    pub request_id: &'a str,
    /// Where the call came from, for the audit log.
    pub client_ip: Option<std::net::IpAddr>,
}

/// What a mutation did, filled in as the handler learns it, then appended to the audit log.
#[derive(Debug)]
pub struct Mutation {
    pub action: &'static str,
    pub tenant: Option<TenantId>,
    pub target: Option<String>,
    pub details: serde_json::Map<String, Value>,
}

impl Mutation {
    pub fn new(action: &'static str) -> Self {
        Mutation {
            action,
            tenant: None,
            target: None,
            details: serde_json::Map::new(),
        }
    }

    pub fn on(&mut self, tenant: &TenantId, target: &str) {
        self.tenant = Some(tenant.clone());
        self.target = Some(target.to_owned());
    }
}

/// Route an authenticated admin request (the path starts with `/admin/v1/`).
pub async fn handle(
    state: &AppState,
    req: Request<Incoming>,
    inbound: &mut Inbound,
) -> Result<Response<Body>, GatewayError> {
    let principal = match auth::authenticate(state, req.headers()).await {
        Ok(principal) => principal,
        Err(e) => {
            inbound.failed(state, crate::http::extract_token(req.headers()));
            return Err(e);
        }
    };
    inbound.identified(&principal);
    inbound.admit_address(&principal)?;
    inbound.screen(state, &principal, crate::http::extract_token(req.headers()))?;
    let ctx = Admin {
        state,
        principal,
        request_id: &inbound.request_id,
        client_ip: inbound.client_ip,
    };
    let (parts, body) = req.into_parts();
    let query = parts.uri.query();
    let (handler, id, second) = match routes::lookup(&parts.method, parts.uri.path()) {
        AdminFound::Route(handler, id, second) => (handler, id, second),
        AdminFound::WrongMethod => {
            return Err(GatewayError::MethodNotAllowed(format!(
                "Method {} is not allowed on {}.",
                parts.method,
                parts.uri.path()
            )));
        }
        AdminFound::Unknown => {
            return Err(GatewayError::NotFound(format!(
                "Unknown admin path '{}'.",
                parts.uri.path()
            )));
        }
    };
    let id = id.as_deref().unwrap_or_default();
    let second = second.as_deref().unwrap_or_default();
    match handler {
        AdminHandler::ListTenants => tenants::list(&ctx, query).await,
        AdminHandler::CreateTenant => tenants::create(&ctx, body).await,
        AdminHandler::ShowTenant => tenants::show(&ctx, id).await,
        AdminHandler::UpdateTenant => tenants::update(&ctx, id, body).await,
        AdminHandler::DeleteTenant => tenants::delete(&ctx, id).await,
        AdminHandler::ListKeys => keys::list(&ctx, query).await,
        AdminHandler::CreateKey => keys::create(&ctx, body).await,
        AdminHandler::ShowKey => keys::show(&ctx, id).await,
        AdminHandler::UpdateKey => keys::update(&ctx, id, body).await,
        AdminHandler::RotateKey => keys::rotate(&ctx, id, body).await,
        AdminHandler::RevokeKey => keys::revoke(&ctx, id, body).await,
        AdminHandler::ResumeKey => anomalies::resume(&ctx, id, body).await,
        AdminHandler::ListAnomalies => anomalies::list(&ctx, query).await,
        AdminHandler::Usage => reports::usage(&ctx, query).await,
        AdminHandler::ListFeedback => feedback::list(&ctx, query).await,
        AdminHandler::FeedbackSummary => feedback::summary(&ctx, query).await,
        AdminHandler::Audit => reports::audit(&ctx, query).await,
        AdminHandler::VerifyAudit => reports::verify(&ctx).await,
        AdminHandler::Deployments => ops::deployments(&ctx).await,
        AdminHandler::InvalidateCache => ops::invalidate_cache(&ctx, body).await,
        AdminHandler::Me => console::me(&ctx),
        AdminHandler::Config => console::config(&ctx),
        AdminHandler::GuardrailsCheck => console::guardrails_check(&ctx, body).await,
        AdminHandler::ListWebhooks => webhooks::list(&ctx, query).await,
        AdminHandler::CreateWebhook => webhooks::create(&ctx, body).await,
        AdminHandler::ShowWebhook => webhooks::show(&ctx, id).await,
        AdminHandler::UpdateWebhook => webhooks::update(&ctx, id, body).await,
        AdminHandler::DeleteWebhook => webhooks::delete(&ctx, id).await,
        AdminHandler::RotateWebhookSecret => webhooks::rotate(&ctx, id, body).await,
        AdminHandler::WebhookDeliveries => webhooks::deliveries(&ctx, id, query).await,
        AdminHandler::RedeliverWebhook => webhooks::redeliver(&ctx, id, body).await,
        AdminHandler::CreateBackup => backups::create(&ctx).await,
        AdminHandler::ListBackups => backups::list(&ctx).await,
        AdminHandler::ShowBackup => backups::show(&ctx, id).await,
        AdminHandler::TenantKeys => encryption::show(&ctx, id).await,
        AdminHandler::RotateTenantKey => encryption::rotate(&ctx, id).await,
        AdminHandler::ReencryptTenant => encryption::reencrypt(&ctx, id).await,
        AdminHandler::RewrapKeys => encryption::rewrap(&ctx).await,
        AdminHandler::OpenSealed => encryption::open(&ctx, id, body).await,
        AdminHandler::ListTemplates => templates::list(&ctx, query).await,
        AdminHandler::CreateTemplate => templates::create(&ctx, body).await,
        AdminHandler::ShowTemplate => templates::show(&ctx, id, query).await,
        AdminHandler::ShowTemplateVersion => templates::show_version(&ctx, id, second, query).await,
        AdminHandler::DeleteTemplate => templates::delete(&ctx, id, query).await,
        AdminHandler::RenderTemplate => templates::render(&ctx, id, query, body).await,
        AdminHandler::LintPrompt => prompts::lint(&ctx, body).await,
    }
}

impl Admin<'_> {
    /// Read and decode a JSON body (unknown fields are refused by the types themselves).
    pub async fn json<T: DeserializeOwned>(&self, body: Incoming) -> Result<T, GatewayError> {
        let bytes = read_limited(body, self.state.max_body_bytes, self.state.body_timeout).await?;
        parse_json(&bytes)
    }

    /// Like [`Admin::json`], but an empty body means `{}` (for action endpoints).
    pub async fn optional_json<T: DeserializeOwned>(
        &self,
        body: Incoming,
    ) -> Result<T, GatewayError> {
        let bytes = read_limited(body, self.state.max_body_bytes, self.state.body_timeout).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return parse_json(b"{}");
        }
        parse_json(&bytes)
    }

    /// Emits `key.created` / `key.revoked` for `key` to its tenant's webhooks.
    pub fn key_event(&self, kind: &'static str, key: &gateway_core::store::ApiKeyRecord) {
        if let Some(hooks) = &self.state.webhooks {
            let mut data = views::to_value(&views::key(key));
            if let Value::Object(map) = &mut data {
                map.insert(
                    "actor".to_owned(),
                    Value::from(self.principal.subject.to_string()),
                );
            }
            hooks
                .events
                .emit(crate::webhooks::Event::new(&key.tenant, kind, data));
        }
    }

    pub fn key_manager(&self) -> Result<&gateway_auth::KeyManager, GatewayError> {
        self.state.auth.key_manager.as_ref().ok_or_else(|| {
            GatewayError::Unavailable("API keys are not available on this gateway.".to_owned())
        })
    }

    /// Forget cached verdicts that depend on `tenant` (its keys, the tenant itself, for API
    /// keys and JWTs).
    pub async fn invalidate_tenant(&self, tenant: &TenantId) {
        self.state.auth.invalidate_tenant(tenant).await;
    }

    /// Runs a mutation and audits it with its outcome, success or not. `run` fills in what
    /// it learns (tenant, target, details) as it goes.
    pub async fn audited(
        &self,
        mut m: Mutation,
        run: impl AsyncFnOnce(&mut Mutation) -> Result<Response<Body>, GatewayError>,
    ) -> Result<Response<Body>, GatewayError> {
        let result = run(&mut m).await;
        self.record(m, result.as_ref().err()).await;
        result
    }

    /// Append the audit event of a mutation with its outcome. A failure to write is logged,
    /// not returned: the change itself has already happened.
    /// `error` is `None` when the mutation succeeded.
    async fn record(&self, mut m: Mutation, error: Option<&GatewayError>) {
        let outcome = match error {
            None => AuditOutcome::Success,
            Some(GatewayError::Forbidden(_) | GatewayError::Unauthenticated(_)) => {
                AuditOutcome::Denied
            }
            Some(_) => AuditOutcome::Failure,
        };
        if let Some(e) = error {
            m.details
                .insert("error".to_owned(), Value::String(e.to_string()));
            m.details
                .insert("status".to_owned(), Value::from(e.status()));
        }
        m.details
            .insert("request_id".to_owned(), Value::from(self.request_id));
        m.details.insert(
            "roles".to_owned(),
            self.principal.roles.iter().map(|r| r.as_str()).collect(),
        );
        let event = AuditEvent {
            at: std::time::SystemTime::now(),
            tenant: m.tenant,
            actor: self.principal.subject.to_string(),
            action: m.action.to_owned(),
            target: m.target,
            outcome,
            ip: self.client_ip.map(|ip| ip.to_string()),
            details: Value::Object(m.details),
        };
        if let Err(e) = self.state.store.append_audit(&event).await {
            tracing::error!(request_id = self.request_id, action = m.action, error = %e, "could not write the audit event of an admin change");
        }
    }
}

pub fn ok(status: u16, value: &impl serde::Serialize) -> Result<Response<Body>, GatewayError> {
    Ok(json_response(status, value))
}
