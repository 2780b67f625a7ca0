//! The dispatcher: a background task per instance that leases due deliveries from the
//! outbox (several instances share the outbox safely: a leased row is nobody else's until the
//! lease runs out), signs and posts them with at most `max_concurrency` in flight, logs every
//! attempt, and reschedules a failed one with exponential backoff and jitter — 5 s, 10 s,
//! 20 s, ... at most an hour apart, each ±20 % — until its retry window (24 h by default)
//! is over; then the delivery is dead (redeliverable from the admin API).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::future::join_all;
use gateway_core::store::{AttemptOutcome, DeliveryAttempt, WebhookDelivery, WebhookStore};
use tokio::sync::Notify;

use super::sender::{SendResult, Transport};
use super::signing;
use crate::idle_backoff::IdleBackoff;

/// First retry delay; each next one doubles.
pub const FIRST_RETRY: Duration = Duration::from_secs(5);
/// Longest delay between two attempts.
pub const MAX_RETRY: Duration = Duration::from_secs(3600);

/// Wall-clock time that moves with tokio's clock (so that tests under paused time see the
/// schedule unfold): a start time plus the monotonic time elapsed since.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    start: SystemTime,
    started: tokio::time::Instant,
}

impl Clock {
    pub fn start() -> Self {
        Clock {
            start: SystemTime::now(),
            started: tokio::time::Instant::now(),
        }
    }

    /// Whole milliseconds (what the store keeps).
    pub fn now(&self) -> SystemTime {
        let t = self.start + self.started.elapsed();
        gateway_core::store::from_unix_millis(gateway_core::store::unix_millis(t))
    }
}

/// The delay after `failed` failed attempts, before jitter.
pub fn backoff(failed: u32) -> Duration {
    let doubling = FIRST_RETRY.saturating_mul(1u32 << failed.saturating_sub(1).min(20));
    doubling.min(MAX_RETRY)
}

fn jittered(d: Duration) -> Duration {
    let factor = 0.8 + 0.4 * (rand::random::<u32>() as f64 / u32::MAX as f64);
    d.mul_f64(factor)
}

/// What the dispatcher needs.
pub struct Dispatcher {
    pub store: Arc<dyn WebhookStore>,
    pub transport: Arc<dyn Transport>,
    pub clock: Clock,
    pub timeout: Duration,
    pub max_concurrency: usize,
    pub poll_interval: Duration,
    /// Woken when deliveries were queued.
    pub wake: Arc<Notify>,
}

impl Dispatcher {
    /// Runs until the task is dropped.
    pub async fn run(self) {
        let mut backoff = IdleBackoff::new(self.poll_interval);
        loop {
            match self.tick().await {
                Ok(n) if n > 0 => {
                    backoff.reset();
                    continue;
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "webhook dispatcher: could not read the outbox")
                }
            }
            // Until the next delivery is due, or the idle poll (another instance may queue
            // meanwhile; see `IdleBackoff`), or a wake-up from this instance's events.
            let mut pause = backoff.idle();
            if let Ok(Some(due)) = self.store.next_delivery_due().await {
                let wait = due
                    .duration_since(self.clock.now())
                    .unwrap_or(Duration::ZERO);
                pause = pause.min(wait.max(Duration::from_millis(10)));
            }
            tokio::select! {
                () = self.wake.notified() => backoff.reset(),
                () = tokio::time::sleep(pause) => {}
            }
        }
    }

    /// Attempts every due delivery it can lease (up to `max_concurrency`, all at once);
    /// returns how many.
    pub async fn tick(&self) -> Result<usize, gateway_core::GatewayError> {
        let now = self.clock.now();
        // Long enough for the attempt and its bookkeeping; a crashed instance's rows come
        // back after it.
        let lease = now + self.timeout * 2 + Duration::from_secs(30);
        let limit = u32::try_from(self.max_concurrency).unwrap_or(u32::MAX);
        let due = self.store.claim_deliveries(now, lease, limit).await?;
        let n = due.len();
        join_all(due.into_iter().map(|d| self.attempt(d))).await;
        Ok(n)
    }

    async fn attempt(&self, d: WebhookDelivery) {
        let started = tokio::time::Instant::now();
        let at = self.clock.now();
        let attempt = d.attempts.saturating_add(1);
        let result = match self.store.get_endpoint(&d.endpoint_id).await {
            Ok(Some(e)) if e.enabled => {
                let mut secrets = vec![e.secret.as_str()];
                if let (Some(old), Some(until)) = (&e.previous_secret, e.previous_secret_until)
                    && until > at
                {
                    secrets.push(old);
                }
                let timestamp = at
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
                let headers = [
                    ("webhook-id", d.id.clone()),
                    ("webhook-timestamp", timestamp.to_string()),
                    (
                        "webhook-signature",
                        signing::signature_header(&secrets, &d.id, timestamp, &d.payload),
                    ),
                ];
                self.transport
                    .post(&e.url, &headers, Bytes::from(d.payload.clone()))
                    .await
            }
            Ok(Some(_)) => SendResult::Failed("the endpoint is disabled".to_owned()),
            Ok(None) => SendResult::Failed("the endpoint was deleted".to_owned()),
            Err(_) => SendResult::Failed("the store is unavailable".to_owned()),
        };
        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let (status_code, error) = match &result {
            SendResult::Status(s) if (200..300).contains(s) => (Some(*s), None),
            SendResult::Status(s) => (Some(*s), Some(format!("the receiver answered {s}"))),
            SendResult::Failed(why) => (None, Some(why.clone())),
        };
        let succeeded = error.is_none();
        let outcome = if succeeded {
            AttemptOutcome::Succeeded
        } else {
            let next = self.clock.now() + jittered(backoff(attempt));
            if next > d.expires_at {
                AttemptOutcome::Dead
            } else {
                AttemptOutcome::Retry(next)
            }
        };
        if matches!(outcome, AttemptOutcome::Dead) {
            tracing::warn!(delivery = %d.id, endpoint = %d.endpoint_id, attempts = attempt, "webhook delivery given up (dead letter)");
        }
        let record = DeliveryAttempt {
            delivery_id: d.id,
            attempt,
            at,
            status_code,
            latency_ms,
            error,
            succeeded,
        };
        if let Err(e) = self.store.record_attempt(&record, &outcome).await {
            // The lease runs out and the delivery is attempted again: at least once.
            tracing::warn!(error = %e, delivery = %record.delivery_id, "could not record a webhook attempt");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        let secs: Vec<u64> = (1..=12).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(
            secs,
            [5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]
        );
        assert_eq!(backoff(u32::MAX), MAX_RETRY);
        for _ in 0..100 {
            let j = jittered(Duration::from_secs(100));
            assert!(j >= Duration::from_secs(80) && j <= Duration::from_secs(120));
        }
    }
}
