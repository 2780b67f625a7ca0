//! The hourly work of the webhooks: finished deliveries older than `[webhooks] retention`
//! are deleted, and every key expiring within `key_expiring_within` is announced with
//! `key.expiring` — once per key and expiry time (the event has a stable identity, so scans
//! on several instances or every hour do not repeat it).

use std::sync::Arc;
use std::time::Duration;

use gateway_core::store::{Store, WebhookStore, unix_millis};
use serde_json::json;

use super::dispatcher::Clock;
use super::events::{Event, WebhookEvents};
use crate::config::WebhooksConfig;

/// How often the work runs (and once at start).
pub const EVERY: Duration = Duration::from_secs(3600);

pub struct Maintenance {
    pub store: Arc<dyn WebhookStore>,
    pub keys: Option<Arc<dyn Store>>,
    pub events: WebhookEvents,
    pub clock: Clock,
    pub config: WebhooksConfig,
}

impl Maintenance {
    pub async fn run(self) {
        let mut every = tokio::time::interval(EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            self.once().await;
        }
    }

    pub async fn once(&self) {
        let now = self.clock.now();
        if let Some(cutoff) = now.checked_sub(self.config.retention) {
            match self.store.delete_deliveries_before(cutoff).await {
                Ok(0) => {}
                Ok(deleted) => tracing::info!(deleted, "old webhook deliveries deleted"),
                Err(e) => tracing::warn!(error = %e, "deleting old webhook deliveries failed"),
            }
        }
        let Some(keys) = &self.keys else { return };
        let keys = match keys.list_keys(None).await {
            Ok(keys) => keys,
            Err(e) => {
                tracing::warn!(error = %e, "key.expiring scan: could not list keys");
                return;
            }
        };
        let horizon = now + self.config.key_expiring_within;
        for key in keys {
            let Some(expires) = key.expires_at else {
                continue;
            };
            if key.revoked_at.is_some() || expires <= now || expires > horizon {
                continue;
            }
            self.events.emit(Event {
                once: Some(format!("key.expiring:{}:{}", key.id, unix_millis(expires))),
                tenant: Some(key.tenant.clone()),
                kind: "key.expiring",
                data: json!({
                    "key_id": key.id,
                    "name": key.name,
                    "expires_at": crate::http::admin::time_format(expires),
                }),
            });
        }
    }
}
