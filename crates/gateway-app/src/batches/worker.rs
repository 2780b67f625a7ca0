//! The batch worker of one instance: a loop that takes batch-level work (validation,
//! finalization, expiry, cancellation) and leases lines, running at most `[batches]
//! concurrency` lines at once, each through the pipeline as its batch's owner; and a task that
//! renews this instance's leases while it lives. Nothing is kept only in memory: an instance
//! killed at any point leaves leases that expire, and any instance takes the work over.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use arc_swap::ArcSwap;
use tokio::task::{JoinHandle, JoinSet};

use gateway_core::GatewayError;
use gateway_core::store::{BatchRecord, BatchStatus, ItemOutcome, LeasedItem};

use super::line::{LineEnd, LineOwner, run};
use super::{jobs, owner};
use crate::config::BatchesConfig;
use crate::idle_backoff::IdleBackoff;
use crate::state::AppState;
use crate::webhooks::Event;

/// How long an owner looked up for a batch's lines is reused (a revoked key stops a batch
/// within this).
const OWNER_TTL: Duration = Duration::from_secs(5);

/// The running worker; stopped when dropped (lines in flight are then abandoned: their
/// leases expire and they run again, marked retried), or gracefully by [`Worker::stop`].
pub struct Worker {
    tasks: Vec<JoinHandle<()>>,
    stopping: Arc<tokio::sync::Notify>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Worker {
    /// Starts the worker over the state `states` holds (the current one for each line, so a
    /// configuration reload applies to the lines after it). `None` when the gateway has no
    /// SQL store (no Files and Batch APIs) or `[batches] worker = false`.
    pub fn start(states: Arc<ArcSwap<AppState>>, config: &BatchesConfig) -> Option<Worker> {
        if !config.worker {
            return None;
        }
        states.load().files.as_ref()?;
        let holder: Arc<str> = Arc::from(format!(
            "{}-{}",
            std::process::id(),
            uuid::Uuid::now_v7().simple()
        ));
        let stopping = Arc::new(tokio::sync::Notify::new());
        let renewer = tokio::spawn(renew(states.clone(), holder.clone(), config.lease));
        let main = tokio::spawn(work(states, holder, config.clone(), stopping.clone()));
        Some(Worker {
            // The main loop last: `stop` waits for it.
            tasks: vec![renewer, main],
            stopping,
        })
    }

    /// Stops leasing and lets the lines in flight finish and record their results, for at
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
        let Some(files) = &state.files else { return };
        if let Err(e) = files
            .batches
            .renew_leases(&holder, SystemTime::now(), lease)
            .await
        {
            tracing::warn!(error = %e, "renewing batch leases failed");
        }
    }
}

/// Who a batch's lines run as, looked up at most every [`OWNER_TTL`].
type Owners = HashMap<String, (Instant, Result<LineOwner, GatewayError>)>;

async fn work(
    states: Arc<ArcSwap<AppState>>,
    holder: Arc<str>,
    config: BatchesConfig,
    stopping: Arc<tokio::sync::Notify>,
) {
    let concurrency = config.concurrency as usize;
    let mut running: JoinSet<()> = JoinSet::new();
    let mut owners: Owners = HashMap::new();
    let mut last_batch_work = Instant::now() - config.poll_interval;
    let mut backoff = IdleBackoff::new(config.poll_interval);
    // A batch created on this instance wakes the loop to validate it at once.
    let mut woken = false;
    loop {
        let state = states.load_full();
        let Some(files) = state.files.clone() else {
            return;
        };
        let store = files.batches.clone();
        let wake = files.batch_wake.clone();
        let mut busy = false;
        // Batch-level work, at most once per poll interval (it is rarer than lines).
        if std::mem::take(&mut woken) || last_batch_work.elapsed() >= config.poll_interval {
            last_batch_work = Instant::now();
            match batch_work(&state, &holder, &config).await {
                Ok(did) => busy |= did,
                Err(e) => tracing::warn!(error = %e, "batch work failed; retrying"),
            }
        }
        let free = concurrency.saturating_sub(running.len());
        if free >= concurrency.div_ceil(4).max(1) {
            match store
                .lease_items(
                    &holder,
                    u32::try_from(free).unwrap_or(u32::MAX),
                    SystemTime::now(),
                    config.lease,
                )
                .await
            {
                Ok(items) => {
                    busy |= !items.is_empty();
                    for item in items {
                        let line_owner =
                            owner_of(&state, &mut owners, &item.batch_id, &config).await;
                        let state = state.clone();
                        let holder = holder.clone();
                        running.spawn(async move {
                            run_line(&state, line_owner, item, &holder).await;
                        });
                    }
                }
                Err(e) => tracing::warn!(error = %e, "leasing batch lines failed"),
            }
        }
        // Wait for a line to end, or for the next look at the store.
        if busy {
            backoff.reset();
        }
        let wait = if busy && running.len() < concurrency {
            Duration::ZERO
        } else {
            backoff.idle()
        };
        tokio::select! {
            // An ended line or job may make more work due: not an idle look.
            Some(_) = running.join_next(), if !running.is_empty() => backoff.reset(),
            () = tokio::time::sleep(wait) => {}
            () = wake.notified() => {
                backoff.reset();
                woken = true;
            }
            () = stopping.notified() => {
                // Lease nothing more; the lines in flight record their results.
                while running.join_next().await.is_some() {}
                return;
            }
        }
        owners.retain(|_, (at, _)| at.elapsed() < OWNER_TTL);
    }
}

/// One round of batch-level work; whether there was any.
async fn batch_work(
    state: &AppState,
    holder: &str,
    config: &BatchesConfig,
) -> Result<bool, GatewayError> {
    let Some(files) = &state.files else {
        return Ok(false);
    };
    let store = &*files.batches;
    let now = SystemTime::now();
    let mut did = store.finish_drained(now).await? > 0;
    // Bounded, so that lines get their turn between rounds.
    for _ in 0..16 {
        let Some(batch) = store.claim_batch(holder, now, config.lease).await? else {
            break;
        };
        did = true;
        let result = one_batch(state, &batch, holder).await;
        // Whatever happened, the batch is free again for the next round.
        store.release_batch(&batch.id, holder).await?;
        if let Err(e) = result {
            tracing::warn!(batch = %batch.id, error = %e, "batch work failed; retrying later");
            break;
        }
    }
    Ok(did)
}

async fn one_batch(
    state: &AppState,
    batch: &BatchRecord,
    holder: &str,
) -> Result<(), GatewayError> {
    let Some(files) = &state.files else {
        return Ok(());
    };
    let store = &*files.batches;
    match batch.status {
        BatchStatus::Validating => {
            if jobs::validate(files, store, batch, holder, state.max_body_bytes).await? {
                report_end(state, store, &batch.id).await;
            }
            tracing::info!(batch = %batch.id, "batch validated");
        }
        BatchStatus::InProgress => {
            // Past its completion window: its unfinished lines fail, then it ends expired.
            store.expire_batch(&batch.id, SystemTime::now()).await?;
            if let Some(expired) = store.get_batch_any(&batch.id).await?
                && jobs::finalize(files, store, &expired, holder).await?
            {
                report_end(state, store, &batch.id).await;
            }
            tracing::info!(batch = %batch.id, "batch expired");
        }
        BatchStatus::Finalizing | BatchStatus::Cancelling => {
            if jobs::finalize(files, store, batch, holder).await? {
                report_end(state, store, &batch.id).await;
            }
            tracing::info!(batch = %batch.id, "batch ended");
        }
        _ => {}
    }
    Ok(())
}

/// Emits `batch.completed`, `batch.failed`, `batch.expired` or `batch.cancelled` for a batch
/// this instance just ended. Called only by the holder whose transition the store applied, and
/// keyed by the batch (`Event::once`), so each endpoint receives it once even if a crash
/// between the transition and this call made another instance report it too.
async fn report_end(state: &AppState, store: &dyn gateway_core::store::BatchStore, id: &str) {
    let Some(hooks) = &state.webhooks else { return };
    let batch = match store.get_batch_any(id).await {
        Ok(Some(batch)) => batch,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(batch = %id, error = %e, "could not read an ended batch for its event");
            return;
        }
    };
    let kind = match batch.status {
        BatchStatus::Completed => "batch.completed",
        BatchStatus::Failed => "batch.failed",
        BatchStatus::Expired => "batch.expired",
        BatchStatus::Cancelled => "batch.cancelled",
        _ => return,
    };
    let mut event = Event::new(
        &batch.tenant,
        kind,
        crate::http::batches::batch_object(&batch),
    );
    event.once = Some(format!("{kind}:{}", batch.id));
    hooks.events.emit(event);
}

async fn owner_of(
    state: &AppState,
    owners: &mut Owners,
    batch_id: &str,
    config: &BatchesConfig,
) -> Result<LineOwner, GatewayError> {
    if let Some((at, found)) = owners.get(batch_id)
        && at.elapsed() < OWNER_TTL
    {
        return found.clone();
    }
    let found = look_up_owner(state, batch_id, config).await;
    owners.insert(batch_id.to_owned(), (Instant::now(), found.clone()));
    found
}

async fn look_up_owner(
    state: &AppState,
    batch_id: &str,
    config: &BatchesConfig,
) -> Result<LineOwner, GatewayError> {
    let files = state
        .files
        .as_ref()
        .ok_or_else(|| GatewayError::Internal("no batch store".to_owned()))?;
    let batch = files
        .batches
        .get_batch_any(batch_id)
        .await?
        .ok_or_else(|| super::batch_not_found(batch_id))?;
    let principal = owner::principal(&*state.store, &batch.owner).await?;
    Ok(LineOwner {
        batch_id: Arc::from(batch_id),
        endpoint: batch.endpoint,
        principal,
        limit_share: config.limit_share,
    })
}

async fn run_line(
    state: &AppState,
    owner: Result<LineOwner, GatewayError>,
    item: LeasedItem,
    holder: &str,
) {
    let Some(files) = &state.files else { return };
    let store = &*files.batches;
    // A store that cannot be read is not the line's fault: give it back for later.
    if let Err(GatewayError::Unavailable(_)) = &owner {
        let _ = store
            .defer_item(&item.batch_id, item.line, holder, SystemTime::now())
            .await;
        return;
    }
    let end = run(state, owner.as_ref(), &item).await;
    let recorded = match end {
        LineEnd::Later(wait) => {
            store
                .defer_item(&item.batch_id, item.line, holder, SystemTime::now() + wait)
                .await
        }
        LineEnd::Answered { status, line } => {
            let outcome = if (200..300).contains(&status) {
                ItemOutcome::Done
            } else {
                ItemOutcome::Failed
            };
            store
                .complete_item(&item.batch_id, item.line, holder, outcome, &line)
                .await
        }
    };
    match recorded {
        Ok(true) => {}
        Ok(false) => tracing::warn!(
            batch = %item.batch_id, line = item.line,
            "a batch line's lease was lost before its result was recorded; its new holder runs it"
        ),
        Err(e) => tracing::warn!(
            batch = %item.batch_id, line = item.line, error = %e,
            "a batch line's result could not be recorded; it runs again after its lease"
        ),
    }
}
