//! The operations of the admin API's route table
//! ([`ADMIN_ROUTES`](crate::http::admin::routes::ADMIN_ROUTES)). The match is exhaustive: a new
//! admin handler does not compile until it is described here.

use schemars::SchemaGenerator;
use serde_json::{Value, json};

use gateway_cache::Invalidation;
use gateway_providers::router::DeploymentState;

use super::operation::{Access, Operation};
use crate::anomaly::view::AnomalyView;
use crate::backups::BackupEntry;
use crate::http::admin::backups::BackupList;
use crate::http::admin::console::{AdminCheck, Me, RunningConfig};
use crate::http::admin::encryption::{OpenSealed, OpenedList, RewrapView, TenantKeysView};
use crate::http::admin::feedback::FeedbackSummary;
use crate::http::admin::keys::{CreateKey, NoFields, UpdateKey};
use crate::http::admin::ops::CacheInvalidated;
use crate::http::admin::prompts::{LintReport, LintRequest};
use crate::http::admin::routes::{AdminHandler, AdminRoute};
use crate::http::admin::templates::{
    CreateTemplate, RenderTemplate, RenderView, TemplateDeleted, TemplateView,
};
use crate::http::admin::tenants::{CreateTenant, UpdateTenant};
use crate::http::admin::views::{
    AuditPage, AuditVerificationView, KeyView, List, TenantDeleted, TenantView, UsageReport,
};
use crate::http::admin::webhooks::{
    CreateWebhook, DeliveryView, UpdateWebhook, WebhookDeleted, WebhookView,
};
use crate::http::error::ErrorShape;
use crate::http::feedback::FeedbackView;
use crate::http::guardrails_check::CheckResponse;

/// Errors of a read.
const READ_ERRORS: &[u16] = &[400, 401, 403, 404, 500, 503];
/// Errors of a change (it reads a body).
const WRITE_ERRORS: &[u16] = &[400, 401, 403, 404, 408, 413, 500, 503];

fn string() -> Value {
    json!({ "type": "string" })
}

fn time_bound(what: &str) -> String {
    format!(
        "{what}: an RFC 3339 time (`2024-05-01T12:00:00Z`), a date (`2024-05-01`) or unix seconds."
    )
}

/// Links from an answer carrying a key to the operations on that key.
fn key_links() -> [(&'static str, &'static str, Value); 4] {
    let id = || json!({ "id": "$response.body#/id" });
    [
        ("GetKey", "getKey", id()),
        ("UpdateKey", "updateKey", id()),
        ("RotateKey", "rotateKey", id()),
        ("RevokeKey", "revokeKey", id()),
    ]
}

/// The operation of an admin route.
pub fn describe(route: &AdminRoute, g: &mut SchemaGenerator) -> Operation {
    let shape = ErrorShape::OpenAi;
    let op = match route.handler {
        AdminHandler::ListTenants => Operation::new("listTenants", "Admin: tenants", "List tenants")
            .description("Every tenant for an admin; a tenant admin sees its own.")
            .answer::<List<TenantView>>(g, 200, "The tenants.")
            .errors(shape, READ_ERRORS),
        AdminHandler::CreateTenant => Operation::new("createTenant", "Admin: tenants", "Create a tenant")
            .description("Admins only (`manage_tenants`).")
            .body::<CreateTenant>(
                g,
                json!({ "id": "acme", "name": "Acme Corp", "allowed_models": ["demo"],
                        "limits": { "rpm": 600, "budget_usd_daily": 50.0 } }),
            )
            .answer::<TenantView>(g, 201, "The tenant.")
            .links(
                201,
                &[
                    ("GetTenant", "getTenant", json!({ "id": "$response.body#/id" })),
                    ("UpdateTenant", "updateTenant", json!({ "id": "$response.body#/id" })),
                    ("DeleteTenant", "deleteTenant", json!({ "id": "$response.body#/id" })),
                ],
            )
            .errors(shape, WRITE_ERRORS),
        AdminHandler::ShowTenant => Operation::new("getTenant", "Admin: tenants", "Show a tenant")
            .answer::<TenantView>(g, 200, "The tenant.")
            .errors(shape, READ_ERRORS),
        AdminHandler::UpdateTenant => Operation::new("updateTenant", "Admin: tenants", "Change a tenant")
            .description(
                "Only the fields given change; `null` clears `allowed_models` or \
                 `allowed_regions`; `limits` replaces all the tenant's limits.",
            )
            .body::<UpdateTenant>(g, json!({ "enabled": false }))
            .answer::<TenantView>(g, 200, "The tenant as stored.")
            .errors(shape, WRITE_ERRORS),
        AdminHandler::DeleteTenant => Operation::new("deleteTenant", "Admin: tenants", "Delete a tenant")
            .description("With its keys. Admins only.")
            .answer::<TenantDeleted>(g, 200, "Deleted.")
            .errors(shape, WRITE_ERRORS),
        AdminHandler::ListKeys => Operation::new("listKeys", "Admin: keys", "List keys")
            .query("tenant", "Only this tenant's keys (default: every tenant for an admin, else the caller's).", string())
            .answer::<List<KeyView>>(g, 200, "The keys (never their secrets).")
            .errors(shape, READ_ERRORS),
        AdminHandler::CreateKey => Operation::new("createKey", "Admin: keys", "Create a key")
            .description(
                "The answer carries the secret: the only time it is shown. Only an admin may \
                 issue the `admin` role.",
            )
            .body::<CreateKey>(
                g,
                json!({ "tenant": "demo", "name": "ci", "roles": ["developer"],
                        "limits": { "rpm": 60 }, "expires_in_days": 30 }),
            )
            .answer::<KeyView>(g, 201, "The key, with its secret.")
            .links(201, &key_links())
            .errors(shape, WRITE_ERRORS),
        AdminHandler::ShowKey => Operation::new("getKey", "Admin: keys", "Show a key")
            .answer::<KeyView>(g, 200, "The key (never its secret).")
            .errors(shape, READ_ERRORS),
        AdminHandler::UpdateKey => Operation::new("updateKey", "Admin: keys", "Change a key")
            .description(
                "Only the fields given change; `null` clears `allowed_models` or `expires_at`; \
                 `enabled: false` suspends the key.",
            )
            .body::<UpdateKey>(g, json!({ "limits": { "rpm": 120 } }))
            .answer::<KeyView>(g, 200, "The key as stored.")
            .errors(shape, WRITE_ERRORS),
        AdminHandler::RotateKey => Operation::new("rotateKey", "Admin: keys", "Rotate a key")
            .description(
                "A new key with the same tenant, name and settings; the old one is revoked. The \
                 body may be empty.",
            )
            .body_schema(g.subschema_for::<NoFields>().to_value(), json!({}), false)
            .answer::<KeyView>(g, 201, "The new key, with its secret and `replaces`.")
            .links(201, &key_links())
            .errors(shape, WRITE_ERRORS),
        AdminHandler::RevokeKey => Operation::new("revokeKey", "Admin: keys", "Revoke a key")
            .description("At once, on this instance; for good. The body may be empty.")
            .body_schema(g.subschema_for::<NoFields>().to_value(), json!({}), false)
            .answer::<KeyView>(g, 200, "The revoked key.")
            .errors(shape, WRITE_ERRORS),
        AdminHandler::ResumeKey => Operation::new("resumeKey", "Admin: keys", "Resume a key")
            .description(
                "Enables a key again: one suspended by anomaly detection (`anomaly.suspend` in \
                 the audit log), or disabled otherwise. A revoked key stays revoked. The body \
                 may be empty.",
            )
            .body_schema(g.subschema_for::<NoFields>().to_value(), json!({}), false)
            .answer::<KeyView>(g, 200, "The key, enabled.")
            .errors(shape, WRITE_ERRORS),
        AdminHandler::ListAnomalies => Operation::new("listAnomalies", "Admin: reports", "Recent anomalies")
            .description(
                "The anomalies behavioural anomaly detection raised on this instance (the last \
                 512), newest first; the audit log (`action=anomaly.detected`) keeps all of \
                 them. Every tenant's and the gateway-wide ones for an admin; a tenant \
                 administrator sees its own tenant's.",
            )
            .query("tenant", "Only this tenant (default: every tenant for an admin, else the caller's).", string())
            .query("limit", "Anomalies at most.", json!({ "type": "integer", "minimum": 1, "maximum": 512, "default": 100 }))
            .answer::<List<AnomalyView>>(g, 200, "The anomalies, newest first.")
            .errors(shape, READ_ERRORS),
        AdminHandler::Usage => Operation::new("getUsage", "Admin: reports", "Usage report")
            .description("Requests, tokens and cost, summed per group.")
            .query("tenant", "Only this tenant (default: every tenant for an admin, else the caller's).", string())
            .query("key", "Only this key (its id) or JWT subject.", string())
            .query("model", "Only this public model.", string())
            .query("from", &time_bound("Start, inclusive"), string())
            .query("to", &time_bound("End, exclusive (a date includes that day)"), string())
            .query("group_by", "Comma-separated dimensions: `tenant`, `key`, `model`, `day`, `batch`, `task`.", string())
            .answer::<UsageReport>(g, 200, "One row per group, with the mean heuristic quality of its scored answers.")
            .errors(shape, READ_ERRORS),
        AdminHandler::ListFeedback => Operation::new("listFeedback", "Admin: reports", "Callers' feedback")
            .description("Feedback given with `POST /v1/feedback`, newest first.")
            .query("tenant", "Only this tenant (default: every tenant for an admin, else the caller's).", string())
            .query("model", "Only calls to this public model.", string())
            .query("provider", "Only calls this provider answered.", string())
            .query("task", "Only calls of this task type (`code`, `math`, ...).", string())
            .query("from", &time_bound("Start, inclusive"), string())
            .query("to", &time_bound("End, exclusive (a date includes that day)"), string())
            .query("limit", "At most this many, newest first.", json!({ "type": "integer", "minimum": 1, "maximum": 1000, "default": 100 }))
            .answer::<List<FeedbackView>>(g, 200, "The feedback.")
            .errors(shape, READ_ERRORS),
        AdminHandler::FeedbackSummary => Operation::new("getFeedbackSummary", "Admin: reports", "Feedback summary")
            .description("Feedback aggregated per group: count, mean score, thumbs up and down, and the mean heuristic quality of the rated answers.")
            .query("tenant", "Only this tenant (default: every tenant for an admin, else the caller's).", string())
            .query("model", "Only calls to this public model.", string())
            .query("provider", "Only calls this provider answered.", string())
            .query("task", "Only calls of this task type.", string())
            .query("from", &time_bound("Start, inclusive"), string())
            .query("to", &time_bound("End, exclusive (a date includes that day)"), string())
            .query("group_by", "Comma-separated dimensions: `tenant`, `model`, `deployment`, `task` (default `model,task`).", string())
            .answer::<FeedbackSummary>(g, 200, "One row per group.")
            .errors(shape, READ_ERRORS),
        AdminHandler::Audit => Operation::new("listAudit", "Admin: reports", "Audit log")
            .description("Every admin change, allowed, denied or failed, oldest first by default; page with `after`.")
            .query("tenant", "Only this tenant.", string())
            .query("actor", "Only this actor (key id, JWT subject or `admin-token`).", string())
            .query("action", "Only this action (`key.create`, `tenant.update`, ...).", string())
            .query("from", &time_bound("Start, inclusive"), string())
            .query("to", &time_bound("End, exclusive"), string())
            .query("after", "Records after this `seq` (the previous page's `next_after`).", json!({ "type": "integer", "minimum": 0 }))
            .query("limit", "Records per page.", json!({ "type": "integer", "minimum": 1, "maximum": 1000, "default": 100 }))
            .query("order", "`oldest` (default) or `newest` first.", json!({ "type": "string", "enum": ["oldest", "newest"] }))
            .answer::<AuditPage>(g, 200, "A page of records.")
            .errors(shape, READ_ERRORS),
        AdminHandler::VerifyAudit => Operation::new("verifyAudit", "Admin: reports", "Verify the audit chain")
            .description("Re-computes every record's hash and link. Admins only.")
            .answer::<AuditVerificationView>(g, 200, "The result.")
            .errors(shape, READ_ERRORS),
        AdminHandler::Deployments => Operation::new("listDeployments", "Admin: operations", "Deployment states")
            .description("Each deployment's circuit, latency and load, as the router sees them now.")
            .answer::<List<DeploymentState>>(g, 200, "The deployments.")
            .errors(shape, READ_ERRORS),
        AdminHandler::InvalidateCache => Operation::new("invalidateCache", "Admin: operations", "Invalidate the response cache")
            .description(
                "By tenant, by model or all; other instances are told through Redis when \
                 configured. Admins only (`manage_config`). 400 when the cache is off.",
            )
            .body::<Invalidation>(g, json!({ "scope": "model", "model": "demo" }))
            .answer::<CacheInvalidated>(g, 200, "What was removed.")
            .errors(shape, WRITE_ERRORS),
        AdminHandler::Me => Operation::new("getMe", "Admin: console", "Who am I")
            .description("The caller's subject, tenant, roles and the permissions it holds somewhere. Any valid credential.")
            .answer::<Me<'static>>(g, 200, "The caller.")
            .errors(shape, &[401, 500, 503]),
        AdminHandler::Config => Operation::new("getConfig", "Admin: console", "The running configuration")
            .description("As TOML, every secret redacted. Admins only (`manage_config`).")
            .answer::<RunningConfig<'static>>(g, 200, "The configuration.")
            .errors(shape, READ_ERRORS),
        AdminHandler::GuardrailsCheck => Operation::new(
            "checkTenantGuardrails",
            "Admin: console",
            "Check a text against a tenant's guardrails",
        )
        .description("Like `POST /v1/guardrails/check`, for any tenant the caller may read (`read_tenants`).")
        .body::<AdminCheck>(g, json!({ "tenant": "demo", "text": "Mail me at jane@example.com" }))
        .answer::<CheckResponse>(g, 200, "The verdict.")
        .errors(shape, WRITE_ERRORS),
        AdminHandler::ListWebhooks => Operation::new("listWebhooks", "Admin: webhooks", "List webhook endpoints")
            .query("tenant", "Only this tenant's endpoints (default: every tenant for an admin, else the caller's).", string())
            .answer::<List<WebhookView>>(g, 200, "The endpoints (never their secrets).")
            .errors(shape, READ_ERRORS),
        AdminHandler::CreateWebhook => Operation::new("createWebhook", "Admin: webhooks", "Create a webhook endpoint")
            .description(
                "The URL must be https and resolve to public addresses only (unless the \
                 operator allows otherwise). The answer carries the signing secret \
                 (`whsec_...`), shown only here and on rotation.",
            )
            .body::<CreateWebhook>(
                g,
                json!({ "tenant": "demo", "url": "https://hooks.example.com/gateway",
                        "events": ["batch.completed", "key.created"], "description": "ops" }),
            )
            .answer::<WebhookView>(g, 201, "The endpoint, with its secret.")
            .errors(shape, WRITE_ERRORS),
        AdminHandler::ShowWebhook => Operation::new("getWebhook", "Admin: webhooks", "Show a webhook endpoint")
            .answer::<WebhookView>(g, 200, "The endpoint (never its secret).")
            .errors(shape, READ_ERRORS),
        AdminHandler::UpdateWebhook => Operation::new("updateWebhook", "Admin: webhooks", "Change a webhook endpoint")
            .description("Only the fields given change; `enabled: false` pauses deliveries.")
            .body::<UpdateWebhook>(g, json!({ "events": ["limit.exceeded"] }))
            .answer::<WebhookView>(g, 200, "The endpoint as stored.")
            .errors(shape, WRITE_ERRORS),
        AdminHandler::DeleteWebhook => Operation::new("deleteWebhook", "Admin: webhooks", "Delete a webhook endpoint")
            .description("With its deliveries.")
            .answer::<WebhookDeleted>(g, 200, "Deleted.")
            .errors(shape, WRITE_ERRORS),
        AdminHandler::RotateWebhookSecret => Operation::new("rotateWebhookSecret", "Admin: webhooks", "Rotate a signing secret")
            .description(
                "A new secret signs from now on; the old one also signs (a second \
                 `webhook-signature` entry) for `[webhooks] secret_overlap`. The body may be empty.",
            )
            .body_schema(g.subschema_for::<NoFields>().to_value(), json!({}), false)
            .answer::<WebhookView>(g, 200, "The endpoint, with its new secret.")
            .errors(shape, WRITE_ERRORS),
        AdminHandler::WebhookDeliveries => Operation::new("listWebhookDeliveries", "Admin: webhooks", "Delivery log of an endpoint")
            .description("Newest first, each with its attempts (status, response code, latency).")
            .query("before", "Deliveries older than this delivery id (the last id of the previous page).", string())
            .query("limit", "Deliveries per page.", json!({ "type": "integer", "minimum": 1, "maximum": 100, "default": 20 }))
            .answer::<List<DeliveryView>>(g, 200, "A page of deliveries.")
            .errors(shape, READ_ERRORS),
        AdminHandler::RedeliverWebhook => Operation::new("redeliverWebhook", "Admin: webhooks", "Redeliver a delivery")
            .description(
                "Queues the delivery again at once (a dead one included), with the same \
                 `webhook-id` and a new retry window. The body may be empty.",
            )
            .body_schema(g.subschema_for::<NoFields>().to_value(), json!({}), false)
            .answer::<DeliveryView>(g, 202, "The delivery, queued.")
            .errors(shape, WRITE_ERRORS),
        AdminHandler::CreateBackup => Operation::new("createBackup", "Admin: backups", "Take a backup now")
            .description(
                "A consistent online snapshot of every table of the store, encrypted \
                 (AES-256-GCM) with `[backup] key`, written to `[backup] dir`. One backup \
                 at a time across instances: 503 while another runs. Admins only \
                 (`manage_config`). No body.",
            )
            .answer::<BackupEntry>(g, 201, "The archive and its manifest.")
            .errors(shape, &[400, 401, 403, 500, 503]),
        AdminHandler::ListBackups => Operation::new("listBackups", "Admin: backups", "List backups")
            .description("The archives in `[backup] dir`, newest first, each with its authenticated manifest. Admins only.")
            .answer::<BackupList>(g, 200, "The archives.")
            .errors(shape, READ_ERRORS),
        AdminHandler::ShowBackup => Operation::new("getBackup", "Admin: backups", "Show a backup")
            .description("One archive's manifest (version, time, schema version, row counts, audit chain head, checksum). Admins only.")
            .answer::<BackupEntry>(g, 200, "The archive.")
            .errors(shape, READ_ERRORS),
        AdminHandler::TenantKeys => Operation::new("getTenantKeys", "Admin: encryption", "A tenant's data keys")
            .description("The versions of the tenant's data keys and the KEK wrapping each; never key material. Needs `read_keys` on the tenant (an admin, or the tenant's own tenant admin). Audited. 400 when `[encryption]` is not configured.")
            .answer::<TenantKeysView>(g, 200, "The tenant's keys.")
            .errors(shape, READ_ERRORS),
        AdminHandler::RotateTenantKey => Operation::new("rotateTenantKey", "Admin: encryption", "Rotate a tenant's data key")
            .description("A new data-key version for the tenant's new writes; what was sealed with older versions stays readable until re-encrypted. Needs `manage_keys` on the tenant. Audited. No body.")
            .answer::<TenantKeysView>(g, 200, "The tenant's keys after rotation.")
            .errors(shape, &[400, 401, 403, 404, 500, 503]),
        AdminHandler::ReencryptTenant => Operation::new("reencryptTenant", "Admin: encryption", "Re-encrypt a tenant's stored content")
            .description("Seals again, with the tenant's current data key, every stored value (Responses API state, asynchronous calls) sealed with an older key or not at all; paged, compare-and-set per value, so it runs while traffic goes on. Needs `manage_keys` on the tenant. Audited. No body.")
            .answer::<TenantKeysView>(g, 200, "The tenant's keys and what was re-encrypted.")
            .errors(shape, &[400, 401, 403, 404, 500, 503]),
        AdminHandler::OpenSealed => Operation::new("openSealedContent", "Admin: encryption", "Open sealed content-log fields")
            .description("Reads sealed prompt/completion log fields (`gwe1:` text written under `telemetry.log_prompts_for_tenants` with `[encryption]`) in clear: each value answers `opened` with its plaintext, `destroyed` once the tenant's keys were shredded, or `invalid`. At most 100 values of at most 1 MiB each. Admins only (`manage_config`); every call is audited with its counts, never the content.")
            .body::<OpenSealed>(g, json!({ "values": ["gwe1:R1dFMQAAAAE..."] }))
            .answer::<OpenedList>(g, 200, "One result per value, in order.")
            .errors(shape, WRITE_ERRORS),
        AdminHandler::RewrapKeys => Operation::new("rewrapDataKeys", "Admin: encryption", "Re-wrap every data key under the current KEK")
            .description("After `[encryption] kek` changed (the old one kept in `retired_keks`): wraps every data key under the current KEK, after which the retired KEK can be removed. Content is not touched. Admins only (`manage_config`). Audited. No body.")
            .answer::<RewrapView>(g, 200, "How many keys were re-wrapped.")
            .errors(shape, &[400, 401, 403, 500, 503]),
        AdminHandler::ListTemplates => Operation::new("listTemplates", "Admin: templates", "List prompt templates")
            .description("The latest version of each of the tenant's templates, then the built-in ones (`builtin.*`, read-only).")
            .query("tenant", "Only this tenant's templates (default: every tenant for an admin, else the caller's).", string())
            .answer::<List<TemplateView>>(g, 200, "The templates.")
            .errors(shape, READ_ERRORS),
        AdminHandler::CreateTemplate => Operation::new("createTemplate", "Admin: templates", "Create a template or a new version")
            .description(
                "A new id creates version 1; a known id gets the next version (versions never \
                 change), unless the definition and description are those of the latest version, \
                 which is then answered with 200. Sources are MiniJinja; undeclared variables \
                 are those the sources use, all required. `manage_keys` on the tenant.",
            )
            .body::<CreateTemplate>(
                g,
                json!({ "tenant": "demo", "id": "support-reply", "description": "Reply to a ticket",
                        "messages": [
                            { "role": "system", "content": "You answer support tickets. Respond in Markdown, at most 120 words." },
                            { "role": "user", "content": "Reply to the ticket between the markers.\n<<<TICKET\n{{ ticket }}\nTICKET>>>" }
                        ] }),
            )
            .answer::<TemplateView>(g, 201, "The new version.")
            .answer::<TemplateView>(g, 200, "The latest version, unchanged: the definition and description were already its own.")
            .errors(shape, WRITE_ERRORS),
        AdminHandler::ShowTemplate => Operation::new("getTemplate", "Admin: templates", "Show a template")
            .description("Its latest version, with the list of every version.")
            .query("tenant", "The template's tenant (default: the caller's).", string())
            .answer::<TemplateView>(g, 200, "The template.")
            .errors(shape, READ_ERRORS),
        AdminHandler::ShowTemplateVersion => Operation::new("getTemplateVersion", "Admin: templates", "Show one version of a template")
            .query("tenant", "The template's tenant (default: the caller's).", string())
            .answer::<TemplateView>(g, 200, "The version.")
            .errors(shape, READ_ERRORS),
        AdminHandler::DeleteTemplate => Operation::new("deleteTemplate", "Admin: templates", "Delete a template")
            .description("Every version. Built-in templates cannot be deleted (400).")
            .query("tenant", "The template's tenant (default: the caller's).", string())
            .answer::<TemplateDeleted>(g, 200, "Deleted.")
            .errors(shape, WRITE_ERRORS),
        AdminHandler::RenderTemplate => Operation::new("renderTemplate", "Admin: templates", "Render a template (dry run)")
            .description(
                "The messages a call naming the template would send, before guardrails. A \
                 missing or unknown variable is a 400 naming it; rendering is bounded by fuel \
                 and size.",
            )
            .query("tenant", "The template's tenant (default: the caller's).", string())
            .body::<RenderTemplate>(g, json!({ "variables": { "ticket": "My invoice is wrong." } }))
            .answer::<RenderView>(g, 200, "The rendered messages.")
            .errors(shape, WRITE_ERRORS),
        AdminHandler::LintPrompt => Operation::new("lintPrompt", "Admin: templates", "Lint a prompt or template")
            .description(
                "Local, explainable findings (rule, severity, location, suggestion) on a \
                 template definition or a plain prompt or messages: variables in the system \
                 prompt, instructions after untrusted input, missing output format, unbounded \
                 length. Stores nothing. `call_models` or `read_keys` on the caller's tenant.",
            )
            .body::<LintRequest>(
                g,
                json!({ "messages": [
                    { "role": "system", "content": "You help {{ customer }}." },
                    { "role": "user", "content": "{{ question }}" }
                ] }),
            )
            .answer::<LintReport>(g, 200, "The findings.")
            .errors(shape, WRITE_ERRORS),
    };
    op.access(Access::Admin)
}
