//! Batches of the OpenAI-compatible Batch API, as their state is stored: the batch (who owns
//! it, its status and timestamps) and one item per input line with an idempotent state
//! machine, so that a restart resumes every unfinished batch and several gateway instances
//! share one batch through leases.
//!
//! An item moves `pending -> leased -> done | failed`. A lease names its holder and lasts
//! until an expiry the holder renews; the holder's result is accepted only while it still
//! holds the lease (fencing). A lease that expires (its holder crashed) is taken over once
//! and the item is marked `retried`; an item whose second lease also expires fails. A line
//! refused for a limit goes back to `pending` with a time before which it is not leased again
//! (back-off), which is not an attempt.
//!
//! Batch-level work (validating the input, writing the output files) is leased the same way,
//! on the batch row.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use serde_json::Value;

use crate::error::GatewayError;
use crate::principal::TenantId;

/// A batch's status, as OpenAI names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BatchStatus {
    Validating,
    Failed,
    InProgress,
    Finalizing,
    Completed,
    Expired,
    Cancelling,
    Cancelled,
}

impl BatchStatus {
    pub const ALL: [BatchStatus; 8] = [
        BatchStatus::Validating,
        BatchStatus::Failed,
        BatchStatus::InProgress,
        BatchStatus::Finalizing,
        BatchStatus::Completed,
        BatchStatus::Expired,
        BatchStatus::Cancelling,
        BatchStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BatchStatus::Validating => "validating",
            BatchStatus::Failed => "failed",
            BatchStatus::InProgress => "in_progress",
            BatchStatus::Finalizing => "finalizing",
            BatchStatus::Completed => "completed",
            BatchStatus::Expired => "expired",
            BatchStatus::Cancelling => "cancelling",
            BatchStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        BatchStatus::ALL.into_iter().find(|b| b.as_str() == s)
    }

    /// Whether the batch is finished for good.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            BatchStatus::Failed
                | BatchStatus::Completed
                | BatchStatus::Expired
                | BatchStatus::Cancelled
        )
    }
}

/// How many lines a batch has and how they ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchCounts {
    pub total: u64,
    pub completed: u64,
    pub failed: u64,
}

/// One batch.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchRecord {
    /// `batch_` and a time-ordered UUID: ids sort by creation.
    pub id: String,
    pub tenant: TenantId,
    /// Who created it, as `gateway-app` snapshots the principal (JSON, never a secret): the
    /// lines run as this caller.
    pub owner: Value,
    /// `/v1/chat/completions`, `/v1/embeddings` or `/v1/responses`.
    pub endpoint: String,
    pub input_file_id: String,
    pub completion_window: String,
    pub metadata: Option<Value>,
    pub status: BatchStatus,
    /// OpenAI's `errors` object of a batch that failed validation.
    pub errors: Option<Value>,
    pub output_file_id: Option<String>,
    pub error_file_id: Option<String>,
    pub created_at: SystemTime,
    pub expires_at: SystemTime,
    pub in_progress_at: Option<SystemTime>,
    pub finalizing_at: Option<SystemTime>,
    pub completed_at: Option<SystemTime>,
    pub failed_at: Option<SystemTime>,
    pub expired_at: Option<SystemTime>,
    pub cancelling_at: Option<SystemTime>,
    pub cancelled_at: Option<SystemTime>,
    /// Counted from the items while the batch runs.
    pub counts: BatchCounts,
}

/// One input line, as stored once the input is valid.
#[derive(Debug, Clone, PartialEq)]
pub struct NewItem {
    /// 1-based line number in the input file.
    pub line: u64,
    pub custom_id: String,
    /// The line's `body` (JSON text).
    pub body: String,
}

/// A leased line, as a worker receives it.
#[derive(Debug, Clone, PartialEq)]
pub struct LeasedItem {
    pub batch_id: String,
    pub line: u64,
    pub custom_id: String,
    pub body: String,
    /// Leases so far, this one included.
    pub attempts: u32,
    /// Taken over from a holder whose lease expired (a line in flight at a crash).
    pub retried: bool,
}

/// How a line ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemOutcome {
    /// Answered with a 2xx: its line goes to the output file.
    Done,
    /// Answered with an error: its line goes to the error file.
    Failed,
}

/// A finished line, in line order, for the output files.
#[derive(Debug, Clone, PartialEq)]
pub struct FinishedItem {
    pub line: u64,
    pub custom_id: String,
    pub outcome: ItemOutcome,
    /// The output line (JSON text); `None` for a line that failed without an answer
    /// (its leases expired twice, or the batch expired before it ran).
    pub result: Option<String>,
    pub retried: bool,
}

/// Which batches of a tenant to list: newest first, after a cursor.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BatchQuery {
    pub after: Option<String>,
    pub limit: u32,
}

/// Batch and item state, tenant-scoped where a caller is involved; the worker's methods act
/// across tenants by batch id.
#[async_trait]
pub trait BatchStore: Send + Sync {
    /// Stores a new batch (status `validating`).
    async fn create_batch(&self, batch: &BatchRecord) -> Result<(), GatewayError>;
    /// The tenant's batch `id` with its current counts; `None` for another tenant's.
    async fn get_batch(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Option<BatchRecord>, GatewayError>;
    /// A batch by id, whatever its tenant (the worker).
    async fn get_batch_any(&self, id: &str) -> Result<Option<BatchRecord>, GatewayError>;
    async fn list_batches(
        &self,
        tenant: &TenantId,
        query: &BatchQuery,
    ) -> Result<Vec<BatchRecord>, GatewayError>;
    /// Moves a `validating` or `in_progress` batch of the tenant to `cancelling`; returns
    /// the batch as it then is (`None`: not the tenant's).
    async fn cancel_batch(
        &self,
        tenant: &TenantId,
        id: &str,
        now: SystemTime,
    ) -> Result<Option<BatchRecord>, GatewayError>;

    /// Leases one batch that needs batch-level work: `validating`, `finalizing`, a
    /// `cancelling` one with no line in flight, or an `in_progress` one past its expiry;
    /// not one another holder leases.
    async fn claim_batch(
        &self,
        holder: &str,
        now: SystemTime,
        lease: Duration,
    ) -> Result<Option<BatchRecord>, GatewayError>;
    /// Ends the holder's lease on the batch.
    async fn release_batch(&self, id: &str, holder: &str) -> Result<(), GatewayError>;
    /// Stores the lines of a valid input (in chunks; a first chunk replaces what an earlier,
    /// interrupted validation stored) while the holder leases the batch.
    async fn add_items(
        &self,
        id: &str,
        holder: &str,
        items: &[NewItem],
        replace: bool,
    ) -> Result<(), GatewayError>;
    /// `validating` -> `in_progress` (`total` lines) or -> `failed` with `errors`, while the
    /// holder leases the batch; a batch cancelled meanwhile becomes `cancelling`'s business.
    async fn end_validation(
        &self,
        id: &str,
        holder: &str,
        result: Result<u64, Value>,
        now: SystemTime,
    ) -> Result<bool, GatewayError>;
    /// Marks the unfinished lines of an expired `in_progress` batch failed and moves it to
    /// `finalizing` with `expired_at` set.
    async fn expire_batch(&self, id: &str, now: SystemTime) -> Result<(), GatewayError>;
    /// Every `in_progress` batch with no line left pending or leased becomes `finalizing`.
    async fn finish_drained(&self, now: SystemTime) -> Result<u64, GatewayError>;
    /// The finished lines of a batch, in line order after `after_line`.
    async fn finished_items(
        &self,
        id: &str,
        after_line: u64,
        limit: u32,
    ) -> Result<Vec<FinishedItem>, GatewayError>;
    /// `finalizing` -> `completed` (or `expired`) and `cancelling` -> `cancelled`, with the
    /// output files and final counts, while the holder leases the batch.
    async fn end_batch(
        &self,
        id: &str,
        holder: &str,
        output_file_id: Option<&str>,
        error_file_id: Option<&str>,
        now: SystemTime,
    ) -> Result<bool, GatewayError>;

    /// Leases up to `limit` lines of `in_progress` batches: pending ones due at `now`, and
    /// ones whose lease expired (taken over once, marked retried; a line whose second lease
    /// expired fails instead). Not lines another holder leases.
    async fn lease_items(
        &self,
        holder: &str,
        limit: u32,
        now: SystemTime,
        lease: Duration,
    ) -> Result<Vec<LeasedItem>, GatewayError>;
    /// Extends every lease the holder has to `now + lease`.
    async fn renew_leases(
        &self,
        holder: &str,
        now: SystemTime,
        lease: Duration,
    ) -> Result<u64, GatewayError>;
    /// Records a line's result if the holder still leases it; whether it did.
    async fn complete_item(
        &self,
        batch_id: &str,
        line: u64,
        holder: &str,
        outcome: ItemOutcome,
        result: &str,
    ) -> Result<bool, GatewayError>;
    /// Gives a leased line back as pending, not to be leased before `not_before`, without
    /// counting the attempt (a limit refused it).
    async fn defer_item(
        &self,
        batch_id: &str,
        line: u64,
        holder: &str,
        not_before: SystemTime,
    ) -> Result<bool, GatewayError>;
}
