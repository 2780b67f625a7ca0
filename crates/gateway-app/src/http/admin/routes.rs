//! The admin API's route table: every method and path under `/admin/v1/`, in the pattern
//! syntax of the edge's table ([`crate::http::routes`]). Dispatch and the OpenAPI document
//! both read it; nothing else spells an admin path.

use http::Method;

/// What serves an admin route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminHandler {
    ListTenants,
    CreateTenant,
    ShowTenant,
    UpdateTenant,
    DeleteTenant,
    ListKeys,
    CreateKey,
    ShowKey,
    UpdateKey,
    RotateKey,
    RevokeKey,
    /// Enable a key again (after a suspension by anomaly detection).
    ResumeKey,
    /// The anomalies this instance raised.
    ListAnomalies,
    Usage,
    Audit,
    VerifyAudit,
    Deployments,
    InvalidateCache,
    /// Who the credential is (the web console).
    Me,
    /// The running configuration, secrets redacted (the web console).
    Config,
    /// A tenant's guardrails on a text (the web console).
    GuardrailsCheck,
    ListWebhooks,
    CreateWebhook,
    ShowWebhook,
    UpdateWebhook,
    DeleteWebhook,
    RotateWebhookSecret,
    WebhookDeliveries,
    RedeliverWebhook,
    CreateBackup,
    ListBackups,
    ShowBackup,
    /// A tenant's data keys (encryption of stored content).
    TenantKeys,
    RotateTenantKey,
    ReencryptTenant,
    /// Every data key re-wrapped under the current KEK.
    RewrapKeys,
    /// Sealed content-log fields opened by an operator.
    OpenSealed,
    ListTemplates,
    CreateTemplate,
    ShowTemplate,
    ShowTemplateVersion,
    DeleteTemplate,
    RenderTemplate,
    LintPrompt,
    /// Callers' feedback on their calls.
    ListFeedback,
    /// Feedback aggregated per model, deployment and task.
    FeedbackSummary,
}

/// One method on one admin path (the whole path, prefix included).
#[derive(Debug)]
pub struct AdminRoute {
    pub method: Method,
    pub path: &'static str,
    pub handler: AdminHandler,
}

const fn admin(method: Method, path: &'static str, handler: AdminHandler) -> AdminRoute {
    AdminRoute {
        method,
        path,
        handler,
    }
}

/// Every admin route.
pub static ADMIN_ROUTES: [AdminRoute; 46] = [
    admin(Method::GET, "/admin/v1/tenants", AdminHandler::ListTenants),
    admin(
        Method::POST,
        "/admin/v1/tenants",
        AdminHandler::CreateTenant,
    ),
    admin(
        Method::GET,
        "/admin/v1/tenants/{id}",
        AdminHandler::ShowTenant,
    ),
    admin(
        Method::PATCH,
        "/admin/v1/tenants/{id}",
        AdminHandler::UpdateTenant,
    ),
    admin(
        Method::DELETE,
        "/admin/v1/tenants/{id}",
        AdminHandler::DeleteTenant,
    ),
    admin(Method::GET, "/admin/v1/keys", AdminHandler::ListKeys),
    admin(Method::POST, "/admin/v1/keys", AdminHandler::CreateKey),
    admin(Method::GET, "/admin/v1/keys/{id}", AdminHandler::ShowKey),
    admin(
        Method::PATCH,
        "/admin/v1/keys/{id}",
        AdminHandler::UpdateKey,
    ),
    admin(
        Method::POST,
        "/admin/v1/keys/{id}/rotate",
        AdminHandler::RotateKey,
    ),
    admin(
        Method::POST,
        "/admin/v1/keys/{id}/revoke",
        AdminHandler::RevokeKey,
    ),
    admin(
        Method::POST,
        "/admin/v1/keys/{id}/resume",
        AdminHandler::ResumeKey,
    ),
    admin(
        Method::GET,
        "/admin/v1/anomalies",
        AdminHandler::ListAnomalies,
    ),
    admin(Method::GET, "/admin/v1/usage", AdminHandler::Usage),
    admin(
        Method::GET,
        "/admin/v1/feedback",
        AdminHandler::ListFeedback,
    ),
    admin(
        Method::GET,
        "/admin/v1/feedback/summary",
        AdminHandler::FeedbackSummary,
    ),
    admin(Method::GET, "/admin/v1/audit", AdminHandler::Audit),
    admin(
        Method::GET,
        "/admin/v1/audit/verify",
        AdminHandler::VerifyAudit,
    ),
    admin(
        Method::GET,
        "/admin/v1/deployments",
        AdminHandler::Deployments,
    ),
    admin(
        Method::POST,
        "/admin/v1/cache/invalidate",
        AdminHandler::InvalidateCache,
    ),
    admin(Method::GET, "/admin/v1/me", AdminHandler::Me),
    admin(Method::GET, "/admin/v1/config", AdminHandler::Config),
    admin(
        Method::POST,
        "/admin/v1/guardrails/check",
        AdminHandler::GuardrailsCheck,
    ),
    admin(
        Method::GET,
        "/admin/v1/webhooks",
        AdminHandler::ListWebhooks,
    ),
    admin(
        Method::POST,
        "/admin/v1/webhooks",
        AdminHandler::CreateWebhook,
    ),
    admin(
        Method::GET,
        "/admin/v1/webhooks/{id}",
        AdminHandler::ShowWebhook,
    ),
    admin(
        Method::PATCH,
        "/admin/v1/webhooks/{id}",
        AdminHandler::UpdateWebhook,
    ),
    admin(
        Method::DELETE,
        "/admin/v1/webhooks/{id}",
        AdminHandler::DeleteWebhook,
    ),
    admin(
        Method::POST,
        "/admin/v1/webhooks/{id}/rotate-secret",
        AdminHandler::RotateWebhookSecret,
    ),
    admin(
        Method::GET,
        "/admin/v1/webhooks/{id}/deliveries",
        AdminHandler::WebhookDeliveries,
    ),
    admin(
        Method::POST,
        "/admin/v1/webhooks/deliveries/{id}/redeliver",
        AdminHandler::RedeliverWebhook,
    ),
    admin(
        Method::POST,
        "/admin/v1/backups",
        AdminHandler::CreateBackup,
    ),
    admin(Method::GET, "/admin/v1/backups", AdminHandler::ListBackups),
    admin(
        Method::GET,
        "/admin/v1/backups/{id}",
        AdminHandler::ShowBackup,
    ),
    admin(
        Method::GET,
        "/admin/v1/tenants/{id}/encryption",
        AdminHandler::TenantKeys,
    ),
    admin(
        Method::POST,
        "/admin/v1/tenants/{id}/encryption/rotate",
        AdminHandler::RotateTenantKey,
    ),
    admin(
        Method::POST,
        "/admin/v1/tenants/{id}/encryption/reencrypt",
        AdminHandler::ReencryptTenant,
    ),
    admin(
        Method::POST,
        "/admin/v1/tenants/{id}/encryption/open",
        AdminHandler::OpenSealed,
    ),
    admin(
        Method::POST,
        "/admin/v1/encryption/rewrap",
        AdminHandler::RewrapKeys,
    ),
    admin(
        Method::GET,
        "/admin/v1/templates",
        AdminHandler::ListTemplates,
    ),
    admin(
        Method::POST,
        "/admin/v1/templates",
        AdminHandler::CreateTemplate,
    ),
    admin(
        Method::GET,
        "/admin/v1/templates/{id}",
        AdminHandler::ShowTemplate,
    ),
    admin(
        Method::DELETE,
        "/admin/v1/templates/{id}",
        AdminHandler::DeleteTemplate,
    ),
    admin(
        Method::GET,
        "/admin/v1/templates/{id}/versions/{version}",
        AdminHandler::ShowTemplateVersion,
    ),
    admin(
        Method::POST,
        "/admin/v1/templates/{id}/render",
        AdminHandler::RenderTemplate,
    ),
    admin(
        Method::POST,
        "/admin/v1/prompts/lint",
        AdminHandler::LintPrompt,
    ),
];

/// Where an admin request goes.
pub enum AdminFound {
    /// The handler, with the values of the path's parameters (`{id}`, then a second one).
    Route(AdminHandler, Option<Box<str>>, Option<Box<str>>),
    /// The path exists, not with this method (405).
    WrongMethod,
    Unknown,
}

/// Looks an admin request up in [`ADMIN_ROUTES`].
pub fn lookup(method: &Method, path: &str) -> AdminFound {
    let mut known = false;
    for route in &ADMIN_ROUTES {
        if let Some(params) = crate::http::routes::matches(route.path, path) {
            if route.method == method {
                return AdminFound::Route(
                    route.handler,
                    params.get(0).map(Box::from),
                    params.get(1).map(Box::from),
                );
            }
            known = true;
        }
    }
    if known {
        AdminFound::WrongMethod
    } else {
        AdminFound::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_found_with_their_ids() {
        let found = |m: &Method, p: &str| match lookup(m, p) {
            AdminFound::Route(h, id, _) => Some((h, id.map(String::from))),
            _ => None,
        };
        assert_eq!(
            found(&Method::POST, "/admin/v1/keys/key_1/rotate"),
            Some((AdminHandler::RotateKey, Some("key_1".to_owned())))
        );
        assert_eq!(
            found(&Method::GET, "/admin/v1/audit/verify"),
            Some((AdminHandler::VerifyAudit, None))
        );
        assert!(matches!(
            lookup(&Method::GET, "/admin/v1/templates/greet/versions/2"),
            AdminFound::Route(AdminHandler::ShowTemplateVersion, Some(id), Some(v))
                if &*id == "greet" && &*v == "2"
        ));
        assert!(matches!(
            lookup(&Method::PUT, "/admin/v1/keys/key_1"),
            AdminFound::WrongMethod
        ));
        for path in ["/admin/v1/keys/", "/admin/v1/tenants//x", "/admin/v1/nope"] {
            assert!(
                matches!(lookup(&Method::GET, path), AdminFound::Unknown),
                "{path}"
            );
        }
        for route in &ADMIN_ROUTES {
            assert!(route.path.starts_with(crate::http::routes::ADMIN_PREFIX));
        }
    }
}
