//! Asynchronous single calls (`docs/async.md`): a model call sent with `Prefer:
//! respond-async` is authenticated, read and validated like any other, then answered `202`
//! with a job ([`submit`]); the [`worker`] runs it in the background through the same
//! pipeline as the caller ([`job`]: `http::model_call::serve`, the path every model call
//! and batch line takes), stores the answer the synchronous call would have given, and queues
//! a signed `async.completed` webhook to the caller's callback URL and to the tenant's
//! subscribed endpoints. `GET /v1/async/{id}` answers with it (`crate::http::async_jobs`).
//!
//! All state is in the store (`gateway_core::store::AsyncJobStore`): a restart resumes every
//! pending job, several instances share them through leases, and a job in flight when its
//! instance stopped is run again once, marked retried.

pub mod job;
pub mod prefer;
pub mod submit;
pub mod worker;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use tokio::sync::Notify;

use gateway_core::GatewayError;
use gateway_core::store::{AsyncCounts, AsyncJob, AsyncJobStore, AsyncStatus};

use crate::config::AsyncConfig;

pub use prefer::prefers_async;

/// The request header that names a callback URL for one call.
pub const CALLBACK_HEADER: &str = "x-gateway-callback-url";

/// The API key metadata field that names a callback URL for every async call of the key.
pub const CALLBACK_METADATA: &str = "async_callback_url";

/// The path of a job.
pub const PATH_PREFIX: &str = "/v1/async/";

/// Asynchronous calls as the process runs them (kept across configuration reloads).
#[derive(Clone)]
pub struct AsyncCalls {
    pub store: Arc<dyn AsyncJobStore>,
    pub config: AsyncConfig,
    wake: Arc<Notify>,
    /// Jobs in each state ([`AsyncStatus::ALL`] order), as the worker last counted them.
    counts: Arc<[AtomicU64; 5]>,
}

impl std::fmt::Debug for AsyncCalls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncCalls").finish_non_exhaustive()
    }
}

impl AsyncCalls {
    pub fn new(store: Arc<dyn AsyncJobStore>, config: &AsyncConfig) -> Self {
        AsyncCalls {
            store,
            config: config.clone(),
            wake: Arc::new(Notify::new()),
            counts: Arc::new(Default::default()),
        }
    }

    /// Wakes this instance's worker (a job was submitted).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    pub(crate) fn woken(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Remembers the store's counts for `/metrics`.
    pub fn set_counts(&self, counts: &AsyncCounts) {
        for (status, n) in counts {
            if let Some(i) = AsyncStatus::ALL.iter().position(|s| s == status) {
                self.counts[i].store(*n, Ordering::Relaxed);
            }
        }
    }

    /// Jobs by state, as last counted.
    pub fn counts(&self) -> Vec<(AsyncStatus, u64)> {
        AsyncStatus::ALL
            .iter()
            .zip(self.counts.iter())
            .map(|(s, n)| (*s, n.load(Ordering::Relaxed)))
            .collect()
    }
}

/// A new job id: `async_` and a UUIDv7 without dashes, so ids sort by creation time.
pub fn new_job_id() -> String {
    format!("async_{}", uuid::Uuid::now_v7().simple())
}

/// The 404 of a job that is not the caller's (or not there, or deleted after its
/// retention): the same either way.
pub fn job_not_found(id: &str) -> GatewayError {
    GatewayError::NotFound(format!("No such async job: {id}"))
}

fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The job object of the API (`202` of a submission, `GET` of an unfinished job, `DELETE`).
pub fn job_view(job: &AsyncJob) -> Value {
    let mut v = json!({
        "id": job.id,
        "object": "async.job",
        "status": job.status.as_str(),
        "route": job.route,
        "created_at": unix_secs(job.created_at),
        "completed_at": job.completed_at.map(unix_secs),
        "retried": job.retried,
        "callback_url": job.callback_url,
        "links": {"self": format!("{PATH_PREFIX}{}", job.id)},
    });
    if let Some(result) = &job.result {
        v["status_code"] = json!(result.status);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::is_valid_id;
    use gateway_core::TenantId;

    #[test]
    fn job_ids_are_valid_ids_that_sort_by_creation() {
        let a = new_job_id();
        assert!(is_valid_id(&a, "async_"), "{a}");
        assert!(new_job_id() > a);
    }

    #[test]
    fn the_view_links_to_the_job_and_names_no_request() {
        let now = SystemTime::now();
        let job = AsyncJob {
            id: "async_1".to_owned(),
            tenant: TenantId::new("acme"),
            route: "/v1/chat/completions".to_owned(),
            status: AsyncStatus::Pending,
            request: "{\"body\":\"secret prompt\"}".to_owned(),
            callback_url: None,
            result: None,
            attempts: 0,
            retried: false,
            notified: false,
            created_at: now,
            updated_at: now,
            completed_at: None,
        };
        let v = job_view(&job);
        assert_eq!(v["links"]["self"], "/v1/async/async_1");
        assert_eq!(v["status"], "pending");
        assert!(!v.to_string().contains("secret prompt"));
    }
}
