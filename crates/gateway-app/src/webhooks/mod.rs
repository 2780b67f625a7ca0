//! Signed webhooks (docs/webhooks.md): endpoints per tenant, events, a durable outbox in the
//! store, and the background tasks that deliver it.
//!
//! - [`signing`]: Standard Webhooks signatures (`webhook-id`, `webhook-timestamp`,
//!   `webhook-signature: v1,<base64 HMAC-SHA256>`; two entries during a secret rotation).
//! - [`ssrf`]: which URLs may be called, resolved once and connected to by address.
//! - [`sender`]: one HTTP attempt, bounded in time and in what it reads.
//! - [`dispatcher`]: leases due deliveries (safe across instances), retries with backoff and
//!   jitter for `[webhooks] retry_window`, then dead-letters.
//! - [`events`]: the event types and [`WebhookEvents`], the handle that emits them.
//! - [`maintenance`]: hourly retention of finished deliveries and the `key.expiring` scan.
//! - [`notices`]: `deployment.circuit_opened` (the router's circuit observer) and
//!   `budget.threshold` (the limiter's events), de-duplicated.
//!
//! # Emitting an event (for other parts of the gateway, the batch worker among them)
//!
//! `AppState::webhooks` holds a [`Webhooks`]; its `events` field is a cheap-to-clone
//! [`WebhookEvents`]. Emitting never blocks and does no I/O:
//!
//! ```ignore
//! use gateway_app::webhooks::Event;
//! state.webhooks.events.emit(Event::new(&tenant, "batch.completed", serde_json::json!({
//!     "id": batch_id, "status": "completed", "request_counts": counts,
//! })));
//! ```
//!
//! `kind` must be one of [`events::EVENT_TYPES`] (`batch.completed`, `batch.failed`,
//! `batch.expired`, ...); `data` becomes the payload's `data` object. Set [`Event::once`] to
//! a stable identity (`"batch.completed:batch_123"`) when several instances may report the
//! same fact: each endpoint then receives it once.

pub mod dispatcher;
pub mod events;
pub mod maintenance;
pub mod notices;
pub mod sender;
pub mod signing;
pub mod ssrf;

use std::sync::Arc;

use gateway_core::store::{Store, WebhookStore};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::config::WebhooksConfig;
pub use dispatcher::{Clock, Dispatcher};
pub use events::{EVENT_TYPES, Event, WebhookEvents};
pub use sender::{HttpTransport, SendResult, Transport};
pub use ssrf::UrlPolicy;

/// Webhooks as the process runs them: kept across configuration reloads (a change to
/// `[webhooks]` needs a restart).
#[derive(Clone)]
pub struct Webhooks {
    pub store: Arc<dyn WebhookStore>,
    pub events: WebhookEvents,
    pub policy: UrlPolicy,
    pub config: WebhooksConfig,
    pub clock: Clock,
    /// Given to each router built from the configuration (kept across reloads, so that its
    /// de-duplication holds across them).
    pub circuit: Arc<notices::CircuitEvents>,
    /// Given to the limiter (`budget.threshold`).
    pub budgets: Arc<notices::BudgetEvents>,
    wake: Arc<Notify>,
    _tasks: Arc<Tasks>,
}

impl std::fmt::Debug for Webhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhooks").finish_non_exhaustive()
    }
}

/// Background tasks, aborted when the last handle goes (tests build and drop many states).
struct Tasks(Vec<JoinHandle<()>>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

impl Webhooks {
    /// Starts the dispatcher, the event tasks and the maintenance task on the current
    /// runtime, delivering over HTTP.
    pub fn start(
        store: Arc<dyn WebhookStore>,
        keys: Arc<dyn Store>,
        config: &WebhooksConfig,
    ) -> Self {
        let policy = UrlPolicy::from_config(config);
        let transport = Arc::new(HttpTransport {
            policy: policy.clone(),
            timeout: config.timeout,
            max_response_bytes: config.max_response_bytes,
        });
        Self::start_with(store, Some(keys), transport, Clock::start(), config)
    }

    /// [`Webhooks::start`] with another transport and clock (tests).
    pub fn start_with(
        store: Arc<dyn WebhookStore>,
        keys: Option<Arc<dyn Store>>,
        transport: Arc<dyn Transport>,
        clock: Clock,
        config: &WebhooksConfig,
    ) -> Self {
        let wake = Arc::new(Notify::new());
        let events = events::start(
            store.clone(),
            clock,
            config.retry_window,
            config.guardrail_sample_rate,
            wake.clone(),
        );
        let dispatcher = Dispatcher {
            store: store.clone(),
            transport,
            clock,
            timeout: config.timeout,
            max_concurrency: config.max_concurrency,
            poll_interval: config.poll_interval,
            wake: wake.clone(),
        };
        let mut tasks = vec![tokio::spawn(dispatcher.run())];
        let maintenance = maintenance::Maintenance {
            store: store.clone(),
            keys,
            events: events.clone(),
            clock,
            config: config.clone(),
        };
        tasks.push(tokio::spawn(maintenance.run()));
        let circuit = Arc::new(notices::CircuitEvents::new(
            events.clone(),
            config
                .operator_tenant
                .as_deref()
                .map(gateway_core::TenantId::new),
            config.circuit_event_interval,
            clock,
        ));
        let budgets = Arc::new(notices::BudgetEvents::new(
            events.clone(),
            &config.budget_thresholds,
            clock,
        ));
        Webhooks {
            store,
            circuit,
            budgets,
            events,
            policy: UrlPolicy::from_config(config),
            config: config.clone(),
            clock,
            wake,
            _tasks: Arc::new(Tasks(tasks)),
        }
    }

    /// Wakes the dispatcher (after a redelivery).
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}
