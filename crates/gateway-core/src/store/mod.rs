//! Persistence vocabulary: the records the gateway keeps (tenants, API keys, usage, audit,
//! stored Responses API answers, prompt templates) and the async traits a storage backend implements.
//! `gateway-store` implements them over SQLite and PostgreSQL; `gateway-auth` reads keys and
//! tenants through them. Nothing here does I/O.
//!
//! Conventions every implementation follows:
//! - Times are [`SystemTime`] in the API and unix milliseconds at rest (sub-millisecond
//!   precision is dropped; see [`unix_millis`]).
//! - "Not there" is `Ok(None)` for lookups and [`GatewayError::NotFound`] for updates;
//!   duplicates are [`GatewayError::InvalidRequest`] with code [`CONFLICT_CODE`]; a backend
//!   failure is [`GatewayError::Unavailable`] whose message names no internals.
//! - API keys are stored only as a hash of the secret; the secret never reaches a store.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::GatewayError;
use crate::phases::account::UsageRecord;
use crate::principal::{GatewayRole, TenantId};

mod anomalies;
mod async_jobs;
mod bandit;
mod batches;
mod feedback;
mod files;
mod minutes;
mod responses;
mod templates;
mod webhooks;

pub use anomalies::{AnomalyStore, AnomalyThrottle, StoredBaseline};
pub use async_jobs::{AsyncCounts, AsyncJob, AsyncJobStore, AsyncResult, AsyncStatus};
pub use bandit::{ArmCounts, BanditStore, MemoryBanditStore};
pub use batches::{
    BatchCounts, BatchQuery, BatchRecord, BatchStatus, BatchStore, FinishedItem, ItemOutcome,
    LeasedItem, NewItem,
};
pub use feedback::{
    Feedback, FeedbackAggregate, FeedbackDimension, FeedbackQuery, FeedbackStore,
    MAX_FEEDBACK_COMMENT_BYTES, MAX_FEEDBACK_PAGE, MAX_FEEDBACK_TAG_BYTES, MAX_FEEDBACK_TAGS,
    RatedCall,
};
pub use files::{FileQuery, FileRecord, FileStore, StorageUsage};
pub use minutes::{MinuteKey, UsageMinute, UsageTotals, minute_start_ms};
pub use responses::{ResponseStore, StoredResponse};
pub use templates::{TemplateRecord, TemplateStore};
pub use webhooks::{
    AttemptOutcome, DeliveryAttempt, DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookStore,
};

/// `code` of the [`GatewayError::InvalidRequest`] a store returns for a duplicate id.
pub const CONFLICT_CODE: &str = "already_exists";

/// Unix milliseconds of `t` (negative before 1970), the representation at rest.
pub fn unix_millis(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_millis()).map_or(i64::MIN, |ms| -ms),
    }
}

/// The inverse of [`unix_millis`].
pub fn from_unix_millis(ms: i64) -> SystemTime {
    if ms >= 0 {
        UNIX_EPOCH + Duration::from_millis(ms.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_millis(ms.unsigned_abs())
    }
}

/// Rate, token, concurrency and spend limits of a tenant or a key. `None` means no limit at
/// this level. Stored here; enforced by the limits phase (`gateway-policy`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Requests per minute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpm: Option<u64>,
    /// Tokens (prompt + completion) per minute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tpm: Option<u64>,
    /// Requests in flight at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrency: Option<u32>,
    /// Spend per UTC day, in USD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_usd_daily: Option<f64>,
    /// Spend per UTC calendar month, in USD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_usd_monthly: Option<f64>,
    /// Requests per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rps: Option<u64>,
    /// Requests per UTC day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpd: Option<u64>,
    /// Tokens (prompt + completion) per UTC day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tpd: Option<u64>,
}

/// A tenant: isolates keys, usage, limits, cache and audit.
#[derive(Debug, Clone, PartialEq)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    /// A disabled tenant's keys and tokens are all rejected.
    pub enabled: bool,
    /// Public model names the tenant may use; `None` means all.
    pub allowed_models: Option<Vec<String>>,
    /// Regions the tenant's traffic may be served from; `None` means any.
    pub allowed_regions: Option<Vec<String>>,
    /// CIDR blocks the tenant's callers may call from; `None` means any address.
    pub allowed_networks: Option<Vec<String>>,
    /// Threat-intelligence feeds are not applied to this tenant's calls.
    pub threat_intel_opt_out: bool,
    pub limits: Limits,
    pub created_at: SystemTime,
}

impl Tenant {
    /// An enabled tenant with no restrictions, created now.
    pub fn new(id: TenantId, name: impl Into<String>) -> Self {
        Tenant {
            id,
            name: name.into(),
            enabled: true,
            allowed_models: None,
            allowed_regions: None,
            allowed_networks: None,
            threat_intel_opt_out: false,
            limits: Limits::default(),
            created_at: SystemTime::now(),
        }
    }
}

/// A gateway-issued API key, as stored. The secret itself is never stored: only `hash`.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKeyRecord {
    /// Public id, safe to log and show (e.g. `key_0190...`); the principal's subject.
    pub id: String,
    pub tenant: TenantId,
    pub name: String,
    /// The first characters of the secret, for display only (e.g. `sk-gw-AbC1`).
    pub prefix: String,
    /// Lowercase hex of the keyed hash of the secret (see `gateway-auth`).
    pub hash: String,
    pub roles: Vec<GatewayRole>,
    /// Public model names this key may use; `None` means all the tenant may use.
    pub allowed_models: Option<Vec<String>>,
    /// CIDR blocks this key may be used from; `None` means any (within the tenant's).
    pub allowed_networks: Option<Vec<String>>,
    pub limits: Limits,
    pub expires_at: Option<SystemTime>,
    /// Free-form JSON the operator attaches (owner, ticket, ...). Never interpreted.
    pub metadata: Value,
    pub enabled: bool,
    pub created_at: SystemTime,
    pub last_used_at: Option<SystemTime>,
    /// Set once by [`KeyStore::revoke_key`]; a revoked key can never be used or re-enabled.
    pub revoked_at: Option<SystemTime>,
}

impl ApiKeyRecord {
    /// Whether the key itself (not its tenant) admits requests at `now`.
    pub fn is_usable_at(&self, now: SystemTime) -> bool {
        self.enabled && self.revoked_at.is_none() && self.expires_at.is_none_or(|exp| now < exp)
    }
}

/// A column usage can be grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UsageDimension {
    Tenant,
    /// The principal's subject: the key id for API keys, `sub` for JWTs.
    Subject,
    /// The public model name the caller asked for.
    Model,
    /// UTC day of the call.
    Day,
    /// The batch a call was a line of (calls outside batches form one group with none).
    Batch,
    /// The classifier's task type (unclassified calls, and per-minute totals, form one
    /// group with none).
    Task,
}

/// Which usage to aggregate. Filters are ANDed; `from` is inclusive, `until` exclusive.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UsageQuery {
    pub tenant: Option<TenantId>,
    pub subject: Option<String>,
    pub model: Option<String>,
    pub from: Option<SystemTime>,
    pub until: Option<SystemTime>,
    /// Empty: one aggregate over everything that matches.
    pub group_by: Vec<UsageDimension>,
}

/// Totals of one group. The dimension fields are `Some` exactly for the grouped dimensions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UsageAggregate {
    pub tenant: Option<TenantId>,
    pub subject: Option<String>,
    pub model: Option<String>,
    /// Midnight UTC starting the day.
    pub day: Option<SystemTime>,
    /// The batch id, when grouped by batch and the group's calls were batch lines.
    pub batch: Option<String>,
    /// The task type, when grouped by task and the group's calls were classified.
    pub task: Option<String>,
    /// What the group's calls add up to.
    pub totals: UsageTotals,
    /// Calls whose answer was scored (per-call records only: minute totals keep no score).
    pub scored_requests: u64,
    /// Their mean heuristic quality score; `None` when none was scored.
    pub mean_quality: Option<f64>,
    /// Calls the LLM judge scored (a sampled share; per-call records only).
    pub judged_requests: u64,
    /// Their mean judge score; `None` when none was judged.
    pub mean_judge_score: Option<f64>,
}

/// How an audited action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditOutcome {
    Success,
    /// Refused by authentication, RBAC or policy.
    Denied,
    Failure,
}

impl AuditOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditOutcome::Success => "success",
            AuditOutcome::Denied => "denied",
            AuditOutcome::Failure => "failure",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            AuditOutcome::Success,
            AuditOutcome::Denied,
            AuditOutcome::Failure,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }
}

/// One audited event, before the store places it in the chain.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub at: SystemTime,
    /// The tenant the event belongs to; `None` for gateway-wide events.
    pub tenant: Option<TenantId>,
    /// Who acted: a principal subject, `system`, or `anonymous`.
    pub actor: String,
    /// What was done, dotted (e.g. `key.create`, `tenant.update`, `auth.denied`).
    pub action: String,
    /// What it was done to (e.g. a key id).
    pub target: Option<String>,
    pub outcome: AuditOutcome,
    pub ip: Option<String>,
    /// Structured context. Never a secret, never a prompt unless the operator enabled it.
    pub details: Value,
}

/// An event as stored: numbered and chained. `hash` covers the event, `seq` and `prev_hash`,
/// so editing or deleting a stored event breaks every later link.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    /// 1, 2, 3, ... with no gaps.
    pub seq: u64,
    pub event: AuditEvent,
    /// `hash` of the previous record; 64 zeros for the first.
    pub prev_hash: String,
    pub hash: String,
}

/// Which audit records to list, oldest first unless `newest_first`.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditQuery {
    pub tenant: Option<TenantId>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub from: Option<SystemTime>,
    pub until: Option<SystemTime>,
    /// Only records with `seq` greater than this (paging).
    pub after_seq: Option<u64>,
    pub limit: u32,
    pub newest_first: bool,
}

impl Default for AuditQuery {
    fn default() -> Self {
        AuditQuery {
            tenant: None,
            actor: None,
            action: None,
            from: None,
            until: None,
            after_seq: None,
            limit: 100,
            newest_first: false,
        }
    }
}

/// The result of re-computing the audit chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditVerification {
    /// Records checked.
    pub checked: u64,
    /// `seq` of the first record whose hash or link does not match; `None` when intact.
    pub first_broken_seq: Option<u64>,
}

impl AuditVerification {
    pub fn is_intact(&self) -> bool {
        self.first_broken_seq.is_none()
    }
}

/// Tenants.
#[async_trait]
pub trait TenantStore: Send + Sync {
    /// Fails with [`CONFLICT_CODE`] when the id exists.
    async fn create_tenant(&self, tenant: &Tenant) -> Result<(), GatewayError>;
    async fn get_tenant(&self, id: &TenantId) -> Result<Option<Tenant>, GatewayError>;
    /// All tenants, by id.
    async fn list_tenants(&self) -> Result<Vec<Tenant>, GatewayError>;
    /// Replaces every field but `id` and `created_at`; returns the stored tenant.
    async fn update_tenant(&self, tenant: &Tenant) -> Result<Tenant, GatewayError>;
    /// Deletes the tenant and its keys; usage and audit are kept.
    async fn delete_tenant(&self, id: &TenantId) -> Result<(), GatewayError>;
}

/// API keys (hashed).
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// Fails with [`CONFLICT_CODE`] when the id or hash exists, with `NotFound` when the
    /// tenant does not.
    async fn create_key(&self, key: &ApiKeyRecord) -> Result<(), GatewayError>;
    async fn get_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, GatewayError>;
    /// The authentication lookup; the caller compares the hash again in constant time.
    async fn get_key_by_hash(&self, hash: &str) -> Result<Option<ApiKeyRecord>, GatewayError>;
    /// Keys of one tenant, or of all tenants, oldest first.
    async fn list_keys(&self, tenant: Option<&TenantId>)
    -> Result<Vec<ApiKeyRecord>, GatewayError>;
    /// Replaces name, roles, allowed models, limits, expiry, metadata and enabled; the rest is
    /// fixed at creation. A revoked key cannot be updated.
    async fn update_key(&self, key: &ApiKeyRecord) -> Result<ApiKeyRecord, GatewayError>;
    /// Disables the key for good. Idempotent: revoking twice keeps the first time.
    async fn revoke_key(&self, id: &str, at: SystemTime) -> Result<ApiKeyRecord, GatewayError>;
    /// Records use; only ever moves `last_used_at` forward. Unknown ids are ignored.
    async fn touch_key_last_used(&self, id: &str, at: SystemTime) -> Result<(), GatewayError>;
}

/// Usage records and their aggregates.
#[async_trait]
pub trait UsageStore: Send + Sync {
    /// Writes a batch in one transaction.
    async fn insert_usage(&self, records: &[UsageRecord]) -> Result<(), GatewayError>;
    /// Adds per-minute totals to those stored for the same keys, in one transaction.
    async fn add_usage_minutes(&self, minutes: &[UsageMinute]) -> Result<(), GatewayError>;
    /// Aggregates per-call records and per-minute totals together; a minute row matches a
    /// time filter by the start of its minute.
    async fn query_usage(&self, query: &UsageQuery) -> Result<Vec<UsageAggregate>, GatewayError>;
    /// Deletes the records written, and the minutes started, before `cutoff` (retention);
    /// returns how many rows went.
    async fn delete_usage_before(&self, cutoff: SystemTime) -> Result<u64, GatewayError>;
    /// Sets the LLM judge's score of `tenant`'s call `request_id` on its usage record;
    /// `false` when no record of the call is stored (yet: records are written in batches).
    /// Stores without per-call records keep no judge score.
    async fn set_judge_score(
        &self,
        tenant: &TenantId,
        request_id: &str,
        score: f64,
    ) -> Result<bool, GatewayError> {
        let _ = (tenant, request_id, score);
        Ok(false)
    }
}

/// The append-only, hash-chained audit log.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends at the end of the chain, also when several gateway instances append at once.
    async fn append_audit(&self, event: &AuditEvent) -> Result<AuditRecord, GatewayError>;
    async fn list_audit(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, GatewayError>;
    /// Re-computes every link of the chain from the stored bytes.
    async fn verify_audit(&self) -> Result<AuditVerification, GatewayError>;
}

/// Everything the gateway persists, behind one handle.
#[async_trait]
pub trait Store: TenantStore + KeyStore + UsageStore + AuditStore {
    /// Whether the backend answers (readiness).
    async fn ping(&self) -> Result<(), GatewayError>;
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_round_trip_drops_sub_millisecond_precision() {
        let t = UNIX_EPOCH + Duration::from_micros(1_700_000_000_123_456);
        assert_eq!(unix_millis(t), 1_700_000_000_123);
        assert_eq!(
            from_unix_millis(unix_millis(t)),
            UNIX_EPOCH + Duration::from_millis(1_700_000_000_123)
        );
        assert_eq!(from_unix_millis(-5), UNIX_EPOCH - Duration::from_millis(5));
        assert_eq!(unix_millis(UNIX_EPOCH - Duration::from_millis(5)), -5);
    }

    #[test]
    fn key_usability() {
        let now = SystemTime::now();
        let mut key = ApiKeyRecord {
            id: "key_1".into(),
            tenant: TenantId::new("t"),
            name: "k".into(),
            prefix: "sk-gw-abcd".into(),
            hash: "00".into(),
            roles: vec![GatewayRole::Developer],
            allowed_models: None,
            allowed_networks: None,
            limits: Limits::default(),
            expires_at: None,
            metadata: Value::Null,
            enabled: true,
            created_at: now,
            last_used_at: None,
            revoked_at: None,
        };
        assert!(key.is_usable_at(now));
        key.expires_at = Some(now);
        assert!(!key.is_usable_at(now));
        key.expires_at = None;
        key.revoked_at = Some(now);
        assert!(!key.is_usable_at(now));
    }

    #[test]
    fn limits_toml_shape_rejects_unknown_fields() {
        let l: Limits = serde_json::from_str(r#"{"rpm": 60, "budget_usd_daily": 1.5}"#).unwrap();
        assert_eq!(l.rpm, Some(60));
        assert!(serde_json::from_str::<Limits>(r#"{"rpn": 60}"#).is_err());
    }
}
