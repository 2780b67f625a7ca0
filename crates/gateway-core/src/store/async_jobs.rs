//! Asynchronous single calls (`Prefer: respond-async`), as their state is stored: the call as
//! it arrived (route, path parameters, body, a snapshot of the caller), its state, and, once it
//! ran, the answer the synchronous call would have given (status, headers, body).
//!
//! A job moves `pending -> running -> completed`, or `pending -> cancelled` (cancelled by its
//! caller before it ran). A `running` job is leased by one instance until an expiry the holder
//! renews; the holder's answer is accepted only while it still holds the lease (fencing), so a
//! job never completes twice. A lease that expires (its holder crashed with the call in
//! flight) is taken over once and the job is marked `retried`; a job whose second lease also
//! expires ends `failed`, without an answer, rather than being sent a third time.
//!
//! A finished job is `notified` once its `async.completed` deliveries (to its callback and to
//! the tenant's subscribed endpoints) are in the webhook outbox; one finished but not yet
//! notified (its instance stopped in between) is found again and notified, with the same
//! message ids, so that no endpoint receives it twice.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use crate::error::GatewayError;
use crate::principal::TenantId;

/// A job's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AsyncStatus {
    /// Accepted, waiting for a worker.
    Pending,
    /// Leased by a worker: the call is in flight.
    Running,
    /// Answered (the answer may be an error: what the synchronous call would have answered).
    Completed,
    /// In flight at two instance stops: not sent a third time; no answer.
    Failed,
    /// Cancelled by its caller while pending.
    Cancelled,
}

impl AsyncStatus {
    pub const ALL: [AsyncStatus; 5] = [
        AsyncStatus::Pending,
        AsyncStatus::Running,
        AsyncStatus::Completed,
        AsyncStatus::Failed,
        AsyncStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AsyncStatus::Pending => "pending",
            AsyncStatus::Running => "running",
            AsyncStatus::Completed => "completed",
            AsyncStatus::Failed => "failed",
            AsyncStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        AsyncStatus::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Whether the job is finished for good.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            AsyncStatus::Completed | AsyncStatus::Failed | AsyncStatus::Cancelled
        )
    }
}

/// The answer of a job that ran.
#[derive(Debug, Clone, PartialEq)]
pub struct AsyncResult {
    pub status: u16,
    /// The response headers worth keeping (content type, `x-gateway-*`, rate-limit headers),
    /// as a JSON object of name to value.
    pub headers: String,
    pub body: String,
}

/// One job.
#[derive(Debug, Clone, PartialEq)]
pub struct AsyncJob {
    /// `async_` and a time-ordered UUID.
    pub id: String,
    pub tenant: TenantId,
    /// The route pattern the call arrived on (`/v1/chat/completions`, ...).
    pub route: String,
    pub status: AsyncStatus,
    /// The call as `gateway-app` stores it (JSON text: body, path parameters, caller
    /// snapshot, request id; never a credential).
    pub request: String,
    /// Where the answer is delivered as a signed `async.completed` webhook, if anywhere.
    pub callback_url: Option<String>,
    pub result: Option<AsyncResult>,
    /// Leases so far.
    pub attempts: u32,
    /// Taken over from a holder whose lease expired (in flight at an instance stop).
    pub retried: bool,
    /// Whether its `async.completed` deliveries are queued.
    pub notified: bool,
    pub created_at: SystemTime,
    pub updated_at: SystemTime,
    pub completed_at: Option<SystemTime>,
}

/// How many jobs are in each state (metrics).
pub type AsyncCounts = Vec<(AsyncStatus, u64)>;

/// Job state, tenant-scoped where a caller is involved; the worker's methods act across
/// tenants by job id.
#[async_trait]
pub trait AsyncJobStore: Send + Sync {
    /// Stores a new `pending` job.
    async fn create_job(&self, job: &AsyncJob) -> Result<(), GatewayError>;
    /// The tenant's job `id`; `None` for another tenant's, or none.
    async fn get_job(&self, tenant: &TenantId, id: &str) -> Result<Option<AsyncJob>, GatewayError>;
    /// Moves the tenant's `pending` job to `cancelled`; the job as it then is (`None`: not
    /// the tenant's). A job past `pending` is returned unchanged.
    async fn cancel_job(
        &self,
        tenant: &TenantId,
        id: &str,
        now: SystemTime,
    ) -> Result<Option<AsyncJob>, GatewayError>;
    /// Jobs `pending` across tenants (the queue's length).
    async fn pending_jobs(&self) -> Result<u64, GatewayError>;
    /// Jobs in each state.
    async fn count_jobs(&self) -> Result<AsyncCounts, GatewayError>;

    /// Leases up to `limit` jobs: pending ones, oldest first, and running ones whose lease
    /// expired (taken over once, marked retried; one whose second lease expired becomes
    /// `failed` instead). Not jobs another holder leases.
    async fn lease_jobs(
        &self,
        holder: &str,
        limit: u32,
        now: SystemTime,
        lease: Duration,
    ) -> Result<Vec<AsyncJob>, GatewayError>;
    /// Extends every lease the holder has to `now + lease`.
    async fn renew_job_leases(
        &self,
        holder: &str,
        now: SystemTime,
        lease: Duration,
    ) -> Result<u64, GatewayError>;
    /// Records the answer if the holder still leases the job; whether it did.
    async fn complete_job(
        &self,
        id: &str,
        holder: &str,
        result: &AsyncResult,
        now: SystemTime,
    ) -> Result<bool, GatewayError>;
    /// Finished jobs (`completed` or `failed`) whose `async.completed` deliveries are not
    /// queued yet, oldest first.
    async fn unnotified_jobs(&self, limit: u32) -> Result<Vec<AsyncJob>, GatewayError>;
    /// Marks a job's deliveries queued.
    async fn mark_notified(&self, id: &str) -> Result<(), GatewayError>;
    /// Deletes jobs finished before `cutoff` (retention); how many.
    async fn delete_jobs_before(&self, cutoff: SystemTime) -> Result<u64, GatewayError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_and_only_ends_are_terminal() {
        for s in AsyncStatus::ALL {
            assert_eq!(AsyncStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(AsyncStatus::parse("queued"), None);
        let terminal: Vec<_> = AsyncStatus::ALL
            .into_iter()
            .filter(|s| s.is_terminal())
            .collect();
        assert_eq!(
            terminal,
            [
                AsyncStatus::Completed,
                AsyncStatus::Failed,
                AsyncStatus::Cancelled
            ]
        );
    }
}
