//! Audit events of the request path: who was refused what, when, from where, and why.
//! Admin actions are audited by the admin API itself.

use std::time::SystemTime;

use gateway_core::phases::account::UsageRecord;
use gateway_core::store::{AuditEvent, AuditOutcome};
use gateway_core::{DeniedBy, GatewayError, TenantId};
use serde_json::{Map, Value, json};

/// Who made a refused request, when known.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    pub tenant: Option<&'a TenantId>,
    /// The principal's subject (key id or JWT `sub`); `None` when authentication failed.
    pub subject: Option<&'a str>,
    pub ip: Option<&'a str>,
}

/// The audit event of a refusal the edge answered: authentication failures
/// (`auth.failed`), authorisation refusals (`authz.denied`), guardrail blocks
/// (`guardrail.block`) and limit rejections (`limit.reject`). `None` for other errors. A
/// failed authentication with an existing key (revoked, expired, disabled, or of a disabled
/// tenant) is the tenant's event (`attributed: true`), so its administrators see it.
pub fn denial_event(
    err: &GatewayError,
    caller: Caller<'_>,
    request_id: &str,
    route: &str,
) -> Option<AuditEvent> {
    let mut details = Map::new();
    let mut tenant = caller.tenant;
    let action = match err {
        GatewayError::Unauthenticated(refusal) => {
            details.insert("reason".into(), json!(refusal.reason.as_str()));
            if tenant.is_none() && refusal.tenant.is_some() {
                tenant = refusal.tenant.as_ref();
                details.insert("attributed".into(), json!(true));
            }
            "auth.failed"
        }
        GatewayError::Forbidden(denial) => {
            details.insert("denied_by".into(), json!(denial.by.as_str()));
            if let DeniedBy::Policy { rule: Some(rule) } = &denial.by {
                details.insert("rule".into(), json!(rule));
            }
            if let DeniedBy::ThreatIntel { feed } = &denial.by {
                details.insert("feed".into(), json!(feed));
            }
            "authz.denied"
        }
        GatewayError::PolicyBlocked { guardrail, rule } => {
            details.insert("guardrail".into(), json!(guardrail));
            details.insert("rule".into(), json!(rule));
            "guardrail.block"
        }
        GatewayError::RateLimited {
            limit, retry_after, ..
        } => {
            details.insert("limit".into(), json!(limit.as_str()));
            if let Some(after) = retry_after {
                details.insert("retry_after_ms".into(), json!(after.as_millis() as u64));
            }
            "limit.reject"
        }
        _ => return None,
    };
    details.insert("request_id".into(), json!(request_id));
    details.insert("route".into(), json!(route));
    details.insert("status".into(), json!(err.status()));
    details.insert("message".into(), json!(err.to_string()));
    Some(AuditEvent {
        at: SystemTime::now(),
        tenant: tenant.cloned(),
        actor: caller.subject.unwrap_or("anonymous").to_owned(),
        action: action.to_owned(),
        target: None,
        outcome: AuditOutcome::Denied,
        ip: caller.ip.map(str::to_owned),
        details: Value::Object(details),
    })
}

/// The audit event of a streamed response an output guardrail stopped (the edge never sees
/// those as errors: the stream ends with an error event).
pub(crate) fn stream_block_event(r: &UsageRecord) -> AuditEvent {
    AuditEvent {
        at: r.at,
        tenant: Some(r.tenant.clone()),
        actor: r.subject.to_string(),
        action: "guardrail.block".to_owned(),
        target: Some(r.model.clone()),
        outcome: AuditOutcome::Denied,
        ip: None,
        details: json!({
            "request_id": &*r.request_id,
            "route": r.endpoint,
            "direction": "output",
            "stream": true,
            "provider": r.provider.as_deref(),
            "status": r.status,
        }),
    }
}
