//! The async worker of one instance: a loop that leases jobs (at most `[async] concurrency`
//! at once) and runs each through the pipeline ([`super::job::run`]), records its answer while
//! it still holds the lease, and queues its webhook; a task that renews this instance's
//! leases; and, once per poll, the notification of finished jobs whose webhook was not queued
//! yet, the job counts for `/metrics`, and (hourly) the deletion of jobs past their
//! retention. Nothing lives only in memory: an instance stopped at any point leaves leases
//! that expire, and any instance takes the work over.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use arc_swap::ArcSwap;
use tokio::task::{JoinHandle, JoinSet};

use gateway_core::GatewayError;
use gateway_core::store::{AsyncJob, AsyncStatus};

use super::job;
use crate::config::AsyncConfig;
use crate::idle_backoff::IdleBackoff;
use crate::state::AppState;

/// How often finished jobs past their retention are deleted.
const RETENTION_EVERY: Duration = Duration::from_secs(3600);

/// Finished jobs notified per round of the sweep.
const NOTIFY_BATCH: u32 = 64;

/// The running worker; stopped when dropped (jobs in flight are then abandoned: their leases
/// expire and they run again, once, marked retried), or gracefully by [`AsyncWorker::stop`].
pub struct AsyncWorker {
    tasks: Vec<JoinHandle<()>>,
    stopping: Arc<tokio::sync::Notify>,
}

impl Drop for AsyncWorker {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl AsyncWorker {
    /// Starts the worker over the state `states` holds (the current one for each job).
    /// `None` when the gateway has no SQL store or `[async] worker = false`.
    pub fn start(states: Arc<ArcSwap<AppState>>, config: &AsyncConfig) -> Option<AsyncWorker> {
        if !config.worker {
            return None;
        }
        states.load().async_calls.as_ref()?;
        let holder: Arc<str> = Arc::from(format!(
            "{}-{}",
            std::process::id(),
            uuid::Uuid::now_v7().simple()
        ));
        let stopping = Arc::new(tokio::sync::Notify::new());
        let renewer = tokio::spawn(renew(states.clone(), holder.clone(), config.lease));
        let main = tokio::spawn(work(states, holder, config.clone(), stopping.clone()));
        Some(AsyncWorker {
            // The main loop last: `stop` waits for it.
            tasks: vec![renewer, main],
            stopping,
        })
    }

    /// Stops leasing and lets the jobs in flight finish and record their answers, for at
    /// most `grace` (at shutdown, so that a restart sends none of them again).
    pub async fn stop(mut self, grace: Duration) {
        self.stopping.notify_one();
        if let Some(main) = self.tasks.pop() {
            let _ = tokio::time::timeout(grace, main).await;
        }
    }
}

/// Renews this instance's leases three times per lease period.
async fn renew(states: Arc<ArcSwap<AppState>>, holder: Arc<str>, lease: Duration) {
    let mut every = tokio::time::interval(lease / 3);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let state = states.load_full();
        let Some(calls) = &state.async_calls else {
            return;
        };
        if let Err(e) = calls
            .store
            .renew_job_leases(&holder, SystemTime::now(), lease)
            .await
        {
            tracing::warn!(error = %e, "renewing async job leases failed");
        }
    }
}

async fn work(
    states: Arc<ArcSwap<AppState>>,
    holder: Arc<str>,
    config: AsyncConfig,
    stopping: Arc<tokio::sync::Notify>,
) {
    let concurrency = config.concurrency as usize;
    let mut running: JoinSet<()> = JoinSet::new();
    let mut last_sweep = Instant::now() - config.poll_interval;
    let mut last_retention: Option<Instant> = None;
    let mut backoff = IdleBackoff::new(config.poll_interval);
    loop {
        let state = states.load_full();
        let Some(calls) = state.async_calls.clone() else {
            return;
        };
        let mut busy = false;
        if last_sweep.elapsed() >= config.poll_interval {
            last_sweep = Instant::now();
            if last_retention.is_none_or(|at| at.elapsed() >= RETENTION_EVERY) {
                last_retention = Some(Instant::now());
                retention(&state, &config).await;
            }
            if let Err(e) = sweep(&state).await {
                tracing::warn!(error = %e, "async job sweep failed; retrying");
            }
        }
        let free = concurrency.saturating_sub(running.len());
        if free > 0 {
            match calls
                .store
                .lease_jobs(
                    &holder,
                    u32::try_from(free).unwrap_or(u32::MAX),
                    SystemTime::now(),
                    config.lease,
                )
                .await
            {
                Ok(jobs) => {
                    busy |= !jobs.is_empty();
                    for job in jobs {
                        let state = state.clone();
                        let holder = holder.clone();
                        running.spawn(async move { run_job(&state, job, &holder).await });
                    }
                }
                Err(e) => tracing::warn!(error = %e, "leasing async jobs failed"),
            }
        }
        if busy {
            backoff.reset();
        }
        let wait = if busy && running.len() < concurrency {
            Duration::ZERO
        } else {
            backoff.idle()
        };
        let wake = calls.woken();
        tokio::select! {
            // An ended line or job may make more work due: not an idle look.
            Some(_) = running.join_next(), if !running.is_empty() => backoff.reset(),
            () = tokio::time::sleep(wait) => {}
            () = wake.notified() => backoff.reset(),
            () = stopping.notified() => {
                // Lease nothing more; the jobs in flight record their answers.
                while running.join_next().await.is_some() {}
                return;
            }
        }
    }
}

/// Counts for `/metrics`, and the webhooks of finished jobs not notified yet (jobs that
/// failed for good, and those whose instance stopped between answer and webhook).
async fn sweep(state: &AppState) -> Result<(), GatewayError> {
    let Some(calls) = &state.async_calls else {
        return Ok(());
    };
    calls.set_counts(&calls.store.count_jobs().await?);
    for job in calls.store.unnotified_jobs(NOTIFY_BATCH).await? {
        if job.status == AsyncStatus::Failed {
            tracing::warn!(job = %job.id, "async job failed: in flight at two instance stops");
        }
        job::notify(state, &job).await?;
    }
    Ok(())
}

async fn retention(state: &AppState, config: &AsyncConfig) {
    let Some(calls) = &state.async_calls else {
        return;
    };
    let cutoff = SystemTime::now()
        .checked_sub(config.retention)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    match calls.store.delete_jobs_before(cutoff).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(deleted = n, "async jobs past their retention deleted"),
        Err(e) => tracing::warn!(error = %e, "deleting old async jobs failed"),
    }
}

async fn run_job(state: &AppState, mut job: AsyncJob, holder: &str) {
    let Some(calls) = &state.async_calls else {
        return;
    };
    if job.retried {
        tracing::warn!(job = %job.id, "async job in flight at an instance stop: running it again, once");
    }
    let result = job::run(state, &job).await;
    let now = SystemTime::now();
    match calls
        .store
        .complete_job(&job.id, holder, &result, now)
        .await
    {
        Ok(true) => {
            job.status = AsyncStatus::Completed;
            job.result = Some(result);
            job.completed_at = Some(now);
            if let Err(e) = job::notify(state, &job).await {
                tracing::warn!(job = %job.id, error = %e, "queuing an async job's webhook failed; the sweep retries");
            }
        }
        Ok(false) => tracing::warn!(
            job = %job.id,
            "an async job's lease was lost before its answer was recorded; its new holder runs it"
        ),
        Err(e) => tracing::warn!(
            job = %job.id, error = %e,
            "an async job's answer could not be recorded; it runs again after its lease"
        ),
    }
}
