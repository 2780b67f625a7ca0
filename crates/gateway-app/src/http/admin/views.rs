//! How admin records look on the wire. Key views never carry the hash; the secret appears
//! only in the responses that create it (create and rotate).

use std::time::SystemTime;

use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

use gateway_core::store::{ApiKeyRecord, AuditRecord, AuditVerification, Tenant, UsageAggregate};

use super::time::format;

fn opt_time(t: Option<SystemTime>) -> Value {
    t.map_or(Value::Null, |t| Value::String(format(t)))
}

pub fn tenant(t: &Tenant) -> Value {
    json!({
        "object": "tenant",
        "id": t.id.as_str(),
        "name": t.name,
        "enabled": t.enabled,
        "allowed_models": t.allowed_models,
        "allowed_regions": t.allowed_regions,
        "limits": t.limits,
        "created_at": format(t.created_at),
    })
}

/// `active`, `disabled`, `expired` or `revoked`, at `now`.
fn key_status(k: &ApiKeyRecord, now: SystemTime) -> &'static str {
    if k.revoked_at.is_some() {
        "revoked"
    } else if !k.enabled {
        "disabled"
    } else if k.expires_at.is_some_and(|e| now >= e) {
        "expired"
    } else {
        "active"
    }
}

pub fn key(k: &ApiKeyRecord) -> Value {
    json!({
        "object": "api_key",
        "id": k.id,
        "tenant": k.tenant.as_str(),
        "name": k.name,
        "prefix": k.prefix,
        "status": key_status(k, SystemTime::now()),
        "roles": k.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "allowed_models": k.allowed_models,
        "limits": k.limits,
        "expires_at": opt_time(k.expires_at),
        "metadata": k.metadata,
        "enabled": k.enabled,
        "created_at": format(k.created_at),
        "last_used_at": opt_time(k.last_used_at),
        "revoked_at": opt_time(k.revoked_at),
    })
}

/// A key view with its secret: the one time the secret is shown.
pub fn key_with_secret(k: &ApiKeyRecord, secret: &str) -> Value {
    let mut v = key(k);
    if let Value::Object(map) = &mut v {
        map.insert("secret".to_owned(), Value::String(secret.to_owned()));
    }
    v
}

pub fn usage(a: &UsageAggregate) -> Value {
    let mut v = json!({
        "requests": a.totals.requests,
        "errors": a.totals.errors,
        "cache_hits": a.totals.cache_hits,
        "prompt_tokens": a.totals.prompt_tokens,
        "completion_tokens": a.totals.completion_tokens,
        "total_tokens": a.totals.total_tokens,
        "cost_usd": a.totals.cost_usd,
        "unpriced_requests": a.totals.unpriced_requests,
    });
    if let Value::Object(map) = &mut v {
        let dims = [
            ("tenant", a.tenant.as_ref().map(|t| Value::from(t.as_str()))),
            ("key", a.subject.as_deref().map(Value::from)),
            ("model", a.model.as_deref().map(Value::from)),
            (
                "day",
                a.day
                    .map(|d| Value::from(format(d).get(..10).unwrap_or_default())),
            ),
        ];
        for (name, value) in dims {
            if let Some(value) = value {
                map.insert(name.to_owned(), value);
            }
        }
    }
    v
}

pub fn audit(r: &AuditRecord) -> Value {
    let e = &r.event;
    json!({
        "seq": r.seq,
        "at": format(e.at),
        "tenant": e.tenant.as_ref().map(|t| t.as_str()),
        "actor": e.actor,
        "action": e.action,
        "target": e.target,
        "outcome": e.outcome.as_str(),
        "ip": e.ip,
        "details": e.details,
        "prev_hash": r.prev_hash,
        "hash": r.hash,
    })
}

pub fn verification(v: &AuditVerification) -> Value {
    json!({
        "checked": v.checked,
        "intact": v.is_intact(),
        "first_broken_seq": v.first_broken_seq,
    })
}

pub fn list(data: Vec<Value>) -> Value {
    json!({ "object": "list", "data": data })
}

/// For PATCH bodies: a field that is absent stays `None`; present (`null` included) is
/// `Some`, so `"allowed_models": null` clears the list while leaving it out keeps it.
pub fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}
