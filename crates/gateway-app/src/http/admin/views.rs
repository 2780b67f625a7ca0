//! How admin records look on the wire: one typed view per record, which both the handlers
//! serialise and the OpenAPI document describes. Key views never carry the hash; the secret
//! appears only in the responses that create it (create and rotate).

use std::time::SystemTime;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use gateway_core::store::{
    ApiKeyRecord, AuditRecord, AuditVerification, Limits, Tenant, UsageAggregate,
};

use super::time::format;

fn opt_time(t: Option<SystemTime>) -> Option<String> {
    t.map(format)
}

/// A tenant.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TenantView {
    #[schemars(extend("const" = "tenant"))]
    pub object: &'static str,
    pub id: String,
    pub name: String,
    /// A disabled tenant's keys and tokens are all refused.
    pub enabled: bool,
    /// Public model names the tenant may use; `null` means all.
    pub allowed_models: Option<Vec<String>>,
    /// Regions the tenant's traffic may be served from; `null` means any.
    pub allowed_regions: Option<Vec<String>>,
    /// CIDR blocks the tenant's callers may call from; `null` means any address.
    pub allowed_networks: Option<Vec<String>>,
    /// Threat-intelligence feeds are not applied to this tenant's calls.
    pub threat_intel_opt_out: bool,
    pub limits: Limits,
    /// RFC 3339, UTC.
    pub created_at: String,
}

pub fn tenant(t: &Tenant) -> TenantView {
    TenantView {
        object: "tenant",
        id: t.id.as_str().to_owned(),
        name: t.name.clone(),
        enabled: t.enabled,
        allowed_models: t.allowed_models.clone(),
        allowed_regions: t.allowed_regions.clone(),
        allowed_networks: t.allowed_networks.clone(),
        threat_intel_opt_out: t.threat_intel_opt_out,
        limits: t.limits.clone(),
        created_at: format(t.created_at),
    }
}

/// What `DELETE /admin/v1/tenants/{id}` answers.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TenantDeleted {
    #[schemars(extend("const" = "tenant"))]
    pub object: &'static str,
    pub id: String,
    #[schemars(extend("const" = true))]
    pub deleted: bool,
}

/// Where a key stands now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeyStatus {
    Active,
    Disabled,
    Expired,
    Revoked,
}

/// An API key (never its hash).
#[derive(Debug, Serialize, JsonSchema)]
pub struct KeyView {
    #[schemars(extend("const" = "api_key"))]
    pub object: &'static str,
    pub id: String,
    pub tenant: String,
    pub name: String,
    /// The first characters of the secret, to recognise it by.
    pub prefix: String,
    pub status: KeyStatus,
    pub roles: Vec<&'static str>,
    /// Public model names the key may use; `null` means what its tenant may.
    pub allowed_models: Option<Vec<String>>,
    /// CIDR blocks the key may be used from; `null` means any (within its tenant's).
    pub allowed_networks: Option<Vec<String>>,
    pub limits: Limits,
    pub expires_at: Option<String>,
    pub metadata: Value,
    pub enabled: bool,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
    /// The secret, shown once: only in the answers of create and rotate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// On rotate: the id of the key this one replaces (now revoked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaces: Option<String>,
}

/// `active`, `disabled`, `expired` or `revoked`, at `now`.
fn key_status(k: &ApiKeyRecord, now: SystemTime) -> KeyStatus {
    if k.revoked_at.is_some() {
        KeyStatus::Revoked
    } else if !k.enabled {
        KeyStatus::Disabled
    } else if k.expires_at.is_some_and(|e| now >= e) {
        KeyStatus::Expired
    } else {
        KeyStatus::Active
    }
}

pub fn key(k: &ApiKeyRecord) -> KeyView {
    KeyView {
        object: "api_key",
        id: k.id.clone(),
        tenant: k.tenant.as_str().to_owned(),
        name: k.name.clone(),
        prefix: k.prefix.clone(),
        status: key_status(k, SystemTime::now()),
        roles: k.roles.iter().map(|r| r.as_str()).collect(),
        allowed_models: k.allowed_models.clone(),
        allowed_networks: k.allowed_networks.clone(),
        limits: k.limits.clone(),
        expires_at: opt_time(k.expires_at),
        metadata: k.metadata.clone(),
        enabled: k.enabled,
        created_at: format(k.created_at),
        last_used_at: opt_time(k.last_used_at),
        revoked_at: opt_time(k.revoked_at),
        secret: None,
        replaces: None,
    }
}

/// A key view with its secret: the one time the secret is shown.
pub fn key_with_secret(k: &ApiKeyRecord, secret: &str) -> KeyView {
    KeyView {
        secret: Some(secret.to_owned()),
        ..key(k)
    }
}

/// One row of a usage report: the totals of one group (the dimensions grouped by are set).
#[derive(Debug, Serialize, JsonSchema)]
pub struct UsageRow {
    pub requests: u64,
    /// Calls answered with status >= 400.
    pub errors: u64,
    pub cache_hits: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
    /// Sum over the calls with a known price.
    pub cost_usd: f64,
    /// Calls whose price was unknown (not counted in `cost_usd`).
    pub unpriced_requests: u64,
    /// Guardrail findings over the calls' inputs and outputs: every flag, redaction and
    /// block counts once (a blocked call is also in `errors`).
    pub guardrail_findings: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// `YYYY-MM-DD` (UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub day: Option<String>,
    /// The batch id (grouped by batch; absent for calls outside batches).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch: Option<String>,
    /// The classifier's task type (grouped by task; absent for unclassified calls).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// Calls whose answer got a heuristic quality score.
    pub scored_requests: u64,
    /// Their mean quality score (0..1); absent when none was scored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avg_quality: Option<f64>,
    /// Calls the LLM judge scored (a sampled share; `[quality.judge]`).
    pub judged_requests: u64,
    /// Their mean judge score (0..1); absent when none was judged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avg_judge_score: Option<f64>,
}

pub fn usage(a: &UsageAggregate) -> UsageRow {
    let t = &a.totals;
    UsageRow {
        requests: t.requests,
        errors: t.errors,
        cache_hits: t.cache_hits,
        prompt_tokens: t.prompt_tokens,
        completion_tokens: t.completion_tokens,
        total_tokens: t.total_tokens,
        cost_usd: t.cost_usd,
        unpriced_requests: t.unpriced_requests,
        guardrail_findings: t.guardrail_findings,
        tenant: a.tenant.as_ref().map(|t| t.as_str().to_owned()),
        key: a.subject.clone(),
        model: a.model.clone(),
        day: a
            .day
            .map(|d| format(d).get(..10).unwrap_or_default().to_owned()),
        batch: a.batch.clone(),
        task: a.task.clone(),
        scored_requests: a.scored_requests,
        avg_quality: a.mean_quality,
        judged_requests: a.judged_requests,
        avg_judge_score: a.mean_judge_score,
    }
}

/// A usage report: one row per group.
#[derive(Debug, Serialize, JsonSchema)]
pub struct UsageReport {
    #[schemars(extend("const" = "list"))]
    pub object: &'static str,
    pub data: Vec<UsageRow>,
    /// The dimensions asked for in `group_by`, in order.
    pub group_by: Vec<String>,
}

/// One audit record, linked to the one before by its hash.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AuditEntry {
    pub seq: u64,
    pub at: String,
    pub tenant: Option<String>,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    /// `success`, `denied` or `failure`.
    pub outcome: &'static str,
    pub ip: Option<String>,
    pub details: Value,
    pub prev_hash: String,
    pub hash: String,
}

pub fn audit(r: &AuditRecord) -> AuditEntry {
    let e = &r.event;
    AuditEntry {
        seq: r.seq,
        at: format(e.at),
        tenant: e.tenant.as_ref().map(|t| t.as_str().to_owned()),
        actor: e.actor.clone(),
        action: e.action.clone(),
        target: e.target.clone(),
        outcome: e.outcome.as_str(),
        ip: e.ip.clone(),
        details: e.details.clone(),
        prev_hash: r.prev_hash.clone(),
        hash: r.hash.clone(),
    }
}

/// A page of audit records.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AuditPage {
    #[schemars(extend("const" = "list"))]
    pub object: &'static str,
    pub data: Vec<AuditEntry>,
    /// Pass as `after` for the next page; `null` on the last page (and with `order=newest`).
    pub next_after: Option<u64>,
}

/// The result of re-computing the audit chain.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AuditVerificationView {
    pub checked: u64,
    pub intact: bool,
    pub first_broken_seq: Option<u64>,
}

pub fn verification(v: &AuditVerification) -> AuditVerificationView {
    AuditVerificationView {
        checked: v.checked,
        intact: v.is_intact(),
        first_broken_seq: v.first_broken_seq,
    }
}

/// A list of records.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "{T}List")]
pub struct List<T> {
    #[schemars(extend("const" = "list"))]
    pub object: &'static str,
    pub data: Vec<T>,
}

pub fn list<T>(data: Vec<T>) -> List<T> {
    List {
        object: "list",
        data,
    }
}

/// A view as a JSON value, for the details of an audit event.
pub fn to_value(view: &impl Serialize) -> Value {
    serde_json::to_value(view).unwrap_or_default()
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
