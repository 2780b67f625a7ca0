//! Events and their way into the outbox. [`WebhookEvents::emit`] never waits and never does
//! I/O: it puts the event on a bounded channel (an event that finds the channel full is
//! dropped and counted), and a task fans it out to the tenant's endpoints subscribed to its
//! type, as one outbox row each. `limit.exceeded` is aggregated before that: the refusal path
//! only sends a small record on a channel of its own, and a task emits one event per key and
//! minute with the count ([`WebhookEvents::limit_exceeded`]).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use gateway_core::TenantId;
use gateway_core::store::{DeliveryStatus, WebhookDelivery, WebhookStore};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::{Notify, mpsc};

use super::dispatcher::Clock;

/// Every event type an endpoint may subscribe to.
pub const EVENT_TYPES: [&str; 13] = [
    "batch.completed",
    "batch.failed",
    "batch.expired",
    "batch.cancelled",
    "async.completed",
    "budget.threshold",
    "key.created",
    "key.revoked",
    "key.expiring",
    "limit.exceeded",
    "guardrail.blocked",
    "deployment.circuit_opened",
    "anomaly.detected",
];

/// Events queued and not yet fanned out, at most.
const QUEUE: usize = 4096;

/// One event. `data` is the payload's `data` object.
#[derive(Debug, Clone)]
pub struct Event {
    /// The tenant whose endpoints receive it; `None` for a gateway-wide fact (a circuit
    /// opened), which every subscribed endpoint receives.
    pub tenant: Option<TenantId>,
    pub kind: &'static str,
    pub data: Value,
    /// A stable identity for facts that several instances (or several scans) may observe:
    /// each endpoint then gets it once. `None`: every emit is a new event.
    pub once: Option<String>,
}

impl Event {
    pub fn new(tenant: &TenantId, kind: &'static str, data: Value) -> Self {
        Event {
            tenant: Some(tenant.clone()),
            kind,
            data,
            once: None,
        }
    }
}

/// A refusal by a limit, as the refusal path reports it (no allocation beyond the two
/// reference-counted ids).
#[derive(Debug)]
struct LimitHit {
    tenant: TenantId,
    key: Arc<str>,
    limit: &'static str,
}

/// The handle that emits events (cheap to clone). Built by [`super::Webhooks::start`]; the
/// edge profile, which has no store, holds a disabled one whose `emit` does nothing.
#[derive(Clone, Default)]
pub struct WebhookEvents {
    events: Option<mpsc::Sender<Event>>,
    limits: Option<mpsc::Sender<LimitHit>>,
    dropped: Arc<AtomicU64>,
    sample_rate: f64,
}

impl std::fmt::Debug for WebhookEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookEvents")
            .field("enabled", &self.events.is_some())
            .finish_non_exhaustive()
    }
}

impl WebhookEvents {
    /// Queue `event` for fan-out. Never blocks; a full queue drops it (counted).
    pub fn emit(&self, event: Event) {
        if let Some(tx) = &self.events
            && tx.try_send(event).is_err()
        {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts a refusal by `limit` (`rpm`, `tpm`, ...) of `key`; one `limit.exceeded` per key
    /// and minute follows.
    pub fn limit_exceeded(&self, tenant: &TenantId, key: &Arc<str>, limit: &'static str) {
        if let Some(tx) = &self.limits {
            let hit = LimitHit {
                tenant: tenant.clone(),
                key: key.clone(),
                limit,
            };
            if tx.try_send(hit).is_err() {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// The edge's refusal path: a limit's 429 is counted for `limit.exceeded` (an upstream's
    /// 429 is not the caller's limit), and a guardrail's block is reported as
    /// `guardrail.blocked` at `guardrail_sample_rate`. Nothing else is done per refusal.
    pub fn refused(
        &self,
        err: &gateway_core::GatewayError,
        tenant: &TenantId,
        subject: &Arc<str>,
        route: &'static str,
    ) {
        use gateway_core::{GatewayError, LimitKind};
        match err {
            GatewayError::RateLimited { limit, .. } if *limit != LimitKind::Upstream => {
                self.limit_exceeded(tenant, subject, limit.as_str());
            }
            GatewayError::PolicyBlocked { guardrail, rule } if self.sample_guardrail() => {
                self.emit(Event::new(
                    tenant,
                    "guardrail.blocked",
                    json!({ "subject": &**subject, "guardrail": guardrail, "rule": rule,
                            "route": route }),
                ));
            }
            _ => {}
        }
    }

    /// Whether a guardrail block should be reported (`guardrail_sample_rate`).
    pub fn sample_guardrail(&self) -> bool {
        self.events.is_some() && self.sample_rate > 0.0 && rand::random::<f64>() < self.sample_rate
    }

    /// Events dropped because a queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// The two tasks behind a [`WebhookEvents`].
pub(super) fn start(
    store: Arc<dyn WebhookStore>,
    clock: Clock,
    retry_window: Duration,
    sample_rate: f64,
    wake: Arc<Notify>,
) -> WebhookEvents {
    let (events_tx, events_rx) = mpsc::channel(QUEUE);
    let (limits_tx, limits_rx) = mpsc::channel(QUEUE);
    let fan = FanOut {
        store,
        clock,
        retry_window,
        wake,
    };
    tokio::spawn(fan.run(events_rx));
    tokio::spawn(aggregate_limits(limits_rx, events_tx.clone(), clock));
    WebhookEvents {
        events: Some(events_tx),
        limits: Some(limits_tx),
        dropped: Arc::new(AtomicU64::new(0)),
        sample_rate,
    }
}

struct FanOut {
    store: Arc<dyn WebhookStore>,
    clock: Clock,
    retry_window: Duration,
    wake: Arc<Notify>,
}

impl FanOut {
    async fn run(self, mut rx: mpsc::Receiver<Event>) {
        while let Some(event) = rx.recv().await {
            if let Err(e) = self.fan_out(&event).await {
                tracing::warn!(error = %e, kind = event.kind, "could not queue a webhook event");
            }
        }
    }

    async fn fan_out(&self, event: &Event) -> Result<(), gateway_core::GatewayError> {
        let endpoints = self.store.list_endpoints(event.tenant.as_ref()).await?;
        let now = self.clock.now();
        let payload = json!({
            "type": event.kind,
            "timestamp": crate::http::admin::time_format(now),
            "data": event.data,
        })
        .to_string();
        let deliveries: Vec<WebhookDelivery> = endpoints
            .iter()
            .filter(|e| e.enabled && e.events.iter().any(|k| k == event.kind))
            .map(|e| WebhookDelivery {
                id: message_id(event.once.as_deref(), &e.id),
                endpoint_id: e.id.clone(),
                tenant: e.tenant.clone(),
                event_type: event.kind.to_owned(),
                payload: payload.clone(),
                status: DeliveryStatus::Pending,
                attempts: 0,
                next_attempt_at: now,
                expires_at: now + self.retry_window,
                last_status_code: None,
                last_error: None,
                created_at: now,
                updated_at: now,
            })
            .collect();
        if !deliveries.is_empty() && self.store.enqueue_deliveries(&deliveries).await? > 0 {
            self.wake.notify_one();
        }
        Ok(())
    }
}

/// `msg_` and a time-ordered id, or, for an event with a stable identity, a digest of it and
/// the endpoint (so that a second emit is a duplicate the store skips).
pub fn message_id(once: Option<&str>, endpoint: &str) -> String {
    match once {
        None => format!("msg_{}", uuid::Uuid::now_v7().simple()),
        Some(identity) => {
            let digest = Sha256::new()
                .chain_update(identity.as_bytes())
                .chain_update([0])
                .chain_update(endpoint.as_bytes())
                .finalize();
            let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
            format!("msg_{hex}")
        }
    }
}

/// Counts refusals per (tenant, key, limit) and minute; at each minute's end emits one
/// `limit.exceeded` per key with the counts.
async fn aggregate_limits(
    mut rx: mpsc::Receiver<LimitHit>,
    out: mpsc::Sender<Event>,
    clock: Clock,
) {
    let mut counts: HashMap<(TenantId, Arc<str>), HashMap<&'static str, u64>> = HashMap::new();
    let mut minute = minute_of(&clock);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let hit = tokio::select! {
            hit = rx.recv() => match hit {
                Some(h) => Some(h),
                None => break,
            },
            // Nothing to flush while nothing was counted: an idle gateway does not tick.
            _ = tick.tick(), if !counts.is_empty() => None,
        };
        // The minute rolls over before a hit is counted, so that a hit after a quiet spell
        // is not reported in the minute of the previous ones.
        let now_minute = minute_of(&clock);
        if now_minute != minute {
            flush_minute(&mut counts, minute, &out);
            minute = now_minute;
        }
        if let Some(h) = hit {
            *counts
                .entry((h.tenant, h.key))
                .or_default()
                .entry(h.limit)
                .or_default() += 1;
        }
    }
    flush_minute(&mut counts, minute, &out);
}

fn minute_of(clock: &Clock) -> i64 {
    gateway_core::store::unix_millis(clock.now()) / 60_000
}

fn flush_minute(
    counts: &mut HashMap<(TenantId, Arc<str>), HashMap<&'static str, u64>>,
    minute: i64,
    out: &mpsc::Sender<Event>,
) {
    let start = gateway_core::store::from_unix_millis(minute * 60_000);
    for ((tenant, key), limits) in counts.drain() {
        let total: u64 = limits.values().sum();
        let event = Event {
            once: Some(format!("limit.exceeded:{tenant}:{key}:{minute}")),
            tenant: Some(tenant),
            kind: "limit.exceeded",
            data: json!({
                "key_id": &*key,
                "minute": crate::http::admin::time_format(start),
                "refusals": total,
                "limits": limits,
            }),
        };
        // Best effort: a full queue drops it, like any event.
        let _ = out.try_send(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_events_have_one_id_per_endpoint() {
        let a = message_id(Some("key.expiring:key_1"), "ep_1");
        assert_eq!(a, message_id(Some("key.expiring:key_1"), "ep_1"));
        assert_ne!(a, message_id(Some("key.expiring:key_1"), "ep_2"));
        assert_ne!(message_id(None, "ep_1"), message_id(None, "ep_1"));
        assert!(a.starts_with("msg_") && a.len() == 36);
    }

    #[tokio::test(start_paused = true)]
    async fn refusals_are_aggregated_per_key_and_minute() {
        let (tx, rx) = mpsc::channel(16);
        let (out_tx, mut out) = mpsc::channel(16);
        let clock = Clock::start();
        tokio::spawn(aggregate_limits(rx, out_tx, clock));
        let tenant = TenantId::new("acme");
        let (k1, k2): (Arc<str>, Arc<str>) = (Arc::from("key_1"), Arc::from("key_2"));
        for (key, limit) in [(&k1, "rpm"), (&k1, "rpm"), (&k1, "tpm"), (&k2, "rpm")] {
            tx.send(LimitHit {
                tenant: tenant.clone(),
                key: key.clone(),
                limit,
            })
            .await
            .unwrap();
        }
        tokio::time::sleep(Duration::from_secs(61)).await;
        let mut got = Vec::new();
        while let Ok(e) = out.try_recv() {
            got.push(e);
        }
        got.sort_by_key(|e| e.data["key_id"].as_str().unwrap_or_default().to_owned());
        assert_eq!(got.len(), 2, "one event per key");
        assert_eq!(got[0].kind, "limit.exceeded");
        assert_eq!(got[0].data["refusals"], 3);
        assert_eq!(got[0].data["limits"]["rpm"], 2);
        assert_eq!(got[1].data["refusals"], 1);
    }
}
