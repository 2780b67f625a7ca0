//! The retry schedule under paused time: a receiver that always fails sees attempts 5 s,
//! 10 s, 20 s, ... apart (each within the ±20 % jitter), at most an hour apart, until the
//! 24 h window is over; then the delivery is dead, and a redelivery to a healed receiver
//! succeeds.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;
use gateway_app::webhooks::dispatcher::{Clock, Dispatcher, backoff};
use gateway_app::webhooks::{SendResult, Transport, signing};
use gateway_core::TenantId;
use gateway_core::store::{DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookStore};

use super::memory_store::MemoryStore;
use tokio::sync::Notify;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// Records when each attempt came (by the dispatcher's clock) and answers `status`.
struct Flaky {
    clock: Clock,
    status: Mutex<u16>,
    attempts: Mutex<Vec<SystemTime>>,
}

#[async_trait]
impl Transport for Flaky {
    async fn post(
        &self,
        _url: &str,
        headers: &[(&'static str, String)],
        body: Bytes,
    ) -> SendResult {
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.as_str())
                .unwrap()
        };
        let body = std::str::from_utf8(&body).unwrap();
        let ts: i64 = header("webhook-timestamp").parse().unwrap();
        assert!(signing::verify(
            SECRET,
            header("webhook-signature"),
            header("webhook-id"),
            ts,
            body
        ));
        self.attempts.lock().unwrap().push(self.clock.now());
        SendResult::Status(*self.status.lock().unwrap())
    }
}

#[tokio::test(start_paused = true)]
async fn a_failing_receiver_sees_the_backoff_schedule_then_the_dead_letter() {
    let store = Arc::new(MemoryStore::default());
    let clock = Clock::start();
    let now = clock.now();
    store
        .create_endpoint(&WebhookEndpoint {
            id: "ep_1".into(),
            tenant: TenantId::new("acme"),
            url: "https://hooks.example.com/in".into(),
            description: String::new(),
            events: vec!["key.created".into()],
            secret: SECRET.into(),
            previous_secret: None,
            previous_secret_until: None,
            enabled: true,
            created_at: now,
            updated_at: now,
        })
        .await
        .unwrap();
    let window = Duration::from_secs(86_400);
    store
        .enqueue_deliveries(&[WebhookDelivery {
            id: "msg_1".into(),
            endpoint_id: "ep_1".into(),
            tenant: TenantId::new("acme"),
            event_type: "key.created".into(),
            payload: r#"{"type":"key.created","data":{}}"#.into(),
            status: DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: now,
            expires_at: now + window,
            last_status_code: None,
            last_error: None,
            created_at: now,
            updated_at: now,
        }])
        .await
        .unwrap();
    let receiver = Arc::new(Flaky {
        clock,
        status: Mutex::new(503),
        attempts: Mutex::new(Vec::new()),
    });
    let dispatcher = Dispatcher {
        store: store.clone(),
        transport: receiver.clone(),
        clock,
        timeout: Duration::from_secs(10),
        max_concurrency: 4,
        poll_interval: Duration::from_secs(1),
        wake: Arc::new(Notify::new()),
    };
    // The dispatcher's loop, step by step: sleep until the next delivery is due, then tick.
    async fn drive(dispatcher: &Dispatcher, store: &MemoryStore) {
        while let Some(due) = store.next_delivery_due().await.unwrap() {
            let wait = due
                .duration_since(dispatcher.clock.now())
                .unwrap_or_default();
            tokio::time::sleep(wait).await;
            dispatcher.tick().await.unwrap();
        }
    }
    drive(&dispatcher, &store).await;
    let d = store.get_delivery("msg_1").await.unwrap().unwrap();
    assert_eq!(d.status, DeliveryStatus::Dead);
    let attempts = receiver.attempts.lock().unwrap().clone();
    assert_eq!(d.attempts as usize, attempts.len());
    assert_eq!(attempts[0], now, "the first attempt is immediate");
    for (n, pair) in attempts.windows(2).enumerate() {
        let gap = pair[1].duration_since(pair[0]).unwrap();
        let nominal = backoff(u32::try_from(n + 1).unwrap());
        // Jitter ±20 %, plus the millisecond rounding of stored times.
        let (low, high) = (
            nominal.mul_f64(0.8),
            nominal.mul_f64(1.2) + Duration::from_millis(20),
        );
        assert!(
            gap >= low && gap <= high,
            "gap {n}: {gap:?} outside {low:?}..{high:?}"
        );
    }
    let last = *attempts.last().unwrap();
    assert!(last <= now + window, "no attempt after the window");
    assert!(
        last + Duration::from_secs(3600).mul_f64(0.8)
            > now + window - Duration::from_secs(3600 * 2)
    );
    assert!(attempts.len() >= 25, "{} attempts in 24 h", attempts.len());
    let log = store.list_attempts("msg_1").await.unwrap();
    assert_eq!(log.len(), attempts.len());
    assert!(
        log.iter()
            .all(|a| a.status_code == Some(503) && !a.succeeded)
    );

    // Dead: nothing more is due, until a redelivery to a receiver that works again.
    assert_eq!(store.next_delivery_due().await.unwrap(), None);
    *receiver.status.lock().unwrap() = 204;
    let at = clock.now();
    store.redeliver("msg_1", at, at + window).await.unwrap();
    drive(&dispatcher, &store).await;
    let d = store.get_delivery("msg_1").await.unwrap().unwrap();
    assert_eq!(d.status, DeliveryStatus::Succeeded);
    assert_eq!(d.last_status_code, Some(204));
    assert_eq!(receiver.attempts.lock().unwrap().len(), attempts.len() + 1);
}
