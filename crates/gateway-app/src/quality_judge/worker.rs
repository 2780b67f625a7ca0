//! The judge's background worker: takes cases from the queue, at most `max_concurrent`
//! judgments at once, each a call through the gateway as the judge tenant, within the daily
//! budget; stores each score on the judged call's usage record.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::{Semaphore, mpsc};

use gateway_core::quality::JudgeCase;
use gateway_core::store::Store;
use gateway_core::{Endpoint, GatewayRole, Principal, RequestContext};

use super::{Shared, verdict};

/// Attempts at storing a score: usage records are written in batches, so the judged call's
/// record may not be there yet when the judge answers.
const STORE_ATTEMPTS: u32 = 6;
/// The first wait between attempts; it doubles (0.25 s to 8 s, about 16 s in all).
const STORE_BACKOFF: Duration = Duration::from_millis(250);

/// What the judge spent on the current UTC day.
#[derive(Default)]
struct Spend {
    day: u64,
    usd: f64,
}

fn today() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400)
}

pub(super) async fn run(
    shared: Weak<Shared>,
    mut rx: mpsc::Receiver<JudgeCase>,
    store: Arc<dyn Store>,
) {
    let Some(limit) = shared
        .upgrade()
        .map(|s| s.settings.load().config.max_concurrent.max(1) as usize)
    else {
        return;
    };
    let slots = Arc::new(Semaphore::new(limit));
    let spend = Arc::new(Mutex::new(Spend::default()));
    // Ends when the judge is dropped (its queue's sender with it).
    while let Some(case) = rx.recv().await {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let store = store.clone();
        let spend = spend.clone();
        tokio::spawn(async move {
            judge(&shared, &*store, &spend, case).await;
            drop(permit);
        });
    }
}

/// One judgment, counted in exactly one of scored, malformed, failed and over_budget (and
/// unstored when the score could not be stored).
async fn judge(shared: &Shared, store: &dyn Store, spend: &Mutex<Spend>, case: JudgeCase) {
    let counters = &shared.counters;
    let settings = shared.settings.load_full();
    let config = &settings.config;
    let over = {
        let mut s = spend
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let day = today();
        if s.day != day {
            *s = Spend { day, usd: 0.0 };
        }
        s.usd >= config.daily_budget_usd
    };
    if over {
        counters.over_budget.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let gateway = shared.gateway.read().ok().and_then(|g| g.upgrade());
    let Some(gateway) = gateway else {
        counters.failed.fetch_add(1, Ordering::Relaxed);
        return;
    };
    let principal = match principal(store, &settings.tenant).await {
        Some(p) => p,
        None => {
            tracing::warn!(tenant = %settings.tenant.0, "quality judge: its tenant is disabled");
            counters.failed.fetch_add(1, Ordering::Relaxed);
            return;
        }
    };
    let rubric = case
        .task
        .and_then(|t| config.rubrics.get(t.as_str()))
        .or_else(|| config.rubrics.get("default"))
        .map_or_else(|| verdict::builtin_rubric(case.task), String::as_str);
    let request = verdict::request(&config.model, rubric, &case);
    let ctx = RequestContext::new(
        format!("judge-{}", case.request_id),
        principal,
        Endpoint::ChatCompletions,
    );
    let outcome = match gateway.chat(&ctx, request).await {
        Ok(outcome) => outcome,
        Err(err) => {
            // The status only: the error's message may quote the judged text.
            tracing::warn!(request_id = %case.request_id, status = err.status(), "quality judge call failed");
            counters.failed.fetch_add(1, Ordering::Relaxed);
            return;
        }
    };
    let cost = outcome.cost_usd.unwrap_or(0.0).max(0.0);
    {
        let mut s = spend
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        s.usd += cost;
    }
    counters
        .cost_micro_usd
        .fetch_add((cost * 1e6).round() as u64, Ordering::Relaxed);
    let text = outcome
        .response
        .choices
        .first()
        .and_then(|c| c.message.content.as_ref())
        .map(|c| c.texts().collect::<String>())
        .unwrap_or_default();
    let Some(score) = verdict::parse(&text) else {
        tracing::warn!(request_id = %case.request_id, "quality judge answered no valid verdict");
        counters.malformed.fetch_add(1, Ordering::Relaxed);
        return;
    };
    counters.scored.fetch_add(1, Ordering::Relaxed);
    counters
        .score_micros
        .fetch_add((score * 1e6).round() as u64, Ordering::Relaxed);
    let mut wait = STORE_BACKOFF;
    for attempt in 1..=STORE_ATTEMPTS {
        match store
            .set_judge_score(&case.tenant, &case.request_id, score)
            .await
        {
            Ok(true) => return,
            Ok(false) if attempt < STORE_ATTEMPTS => {}
            Ok(false) => break,
            Err(err) => {
                tracing::warn!(request_id = %case.request_id, error = %err, "quality judge score not stored");
                break;
            }
        }
        tokio::time::sleep(wait).await;
        wait *= 2;
    }
    counters.unstored.fetch_add(1, Ordering::Relaxed);
}

/// The judge tenant's principal: its limits and allowed models from the store when it is a
/// stored tenant; `None` when that tenant is disabled.
async fn principal(store: &dyn Store, tenant: &gateway_core::TenantId) -> Option<Principal> {
    let stored = store.get_tenant(tenant).await.ok().flatten();
    if stored.as_ref().is_some_and(|t| !t.enabled) {
        return None;
    }
    let mut p = Principal::anonymous();
    p.tenant = tenant.clone();
    p.subject = Arc::from("quality-judge");
    p.roles = Arc::from([GatewayRole::Developer]);
    if let Some(t) = stored {
        p.tenant_limits = Some(Arc::new(t.limits));
        p.allowed_models = t.allowed_models.map(Arc::from);
        p.allowed_regions = t.allowed_regions.map(Arc::from);
    }
    Some(p)
}
