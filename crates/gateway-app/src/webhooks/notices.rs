//! Events that other phases observe and hand to webhooks through `gateway-core` and
//! `gateway-policy` traits, without knowing about webhooks:
//!
//! - [`CircuitEvents`] (a `gateway_core::phases::route::CircuitObserver`, given to the router):
//!   `deployment.circuit_opened`. The fact is about the gateway, not a tenant: it goes to the
//!   endpoints of `[webhooks] operator_tenant` when set, else to every endpoint (of any tenant)
//!   subscribed to it. A flapping circuit sends at most one event per deployment per
//!   `[webhooks] circuit_event_interval`: each instance remembers when it last reported a
//!   deployment, and instances share the interval's identity (`Event::once`), so the outbox
//!   keeps one delivery per endpoint however many instances saw the circuit open.
//! - [`BudgetEvents`] (the limiter's `LimitEvents`): `budget.threshold` when a tenant's or
//!   key's spend in a budget period (UTC day or month) reaches each of `[webhooks]
//!   budget_thresholds` percent of its budget, once per threshold and period: an instance
//!   remembers the highest threshold it reported per budget and period, and the event's
//!   identity (budget, period, threshold) makes the outbox keep one delivery per endpoint
//!   across instances.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use gateway_core::TenantId;
use gateway_core::phases::route::{CircuitObserver, CircuitOpened};
use gateway_policy::limits::events::{BudgetSpend, LimitEvents, Rejection, TracingEvents};
use gateway_policy::limits::{Dimension, FailMode, Scope};
use serde_json::json;
use tokio::time::Instant;

use super::dispatcher::Clock;
use super::events::{Event, WebhookEvents};
use crate::http::admin::time_format;

/// Budgets and periods remembered per instance before old periods are swept.
const MAX_BUDGETS: usize = 100_000;

/// A deployment as the router names it: (model, provider, upstream model).
type DeploymentKey = (Arc<str>, Arc<str>, Arc<str>);

/// `deployment.circuit_opened`, de-duplicated per deployment and interval.
pub struct CircuitEvents {
    events: WebhookEvents,
    /// The operator's tenant, or `None`: every subscribed endpoint.
    tenant: Option<TenantId>,
    interval: Duration,
    clock: Clock,
    last: Mutex<HashMap<DeploymentKey, Instant>>,
}

impl CircuitEvents {
    pub fn new(
        events: WebhookEvents,
        tenant: Option<TenantId>,
        interval: Duration,
        clock: Clock,
    ) -> Self {
        CircuitEvents {
            events,
            tenant,
            interval,
            clock,
            last: Mutex::default(),
        }
    }
}

impl CircuitObserver for CircuitEvents {
    fn circuit_opened(&self, e: &CircuitOpened) {
        let now = Instant::now();
        {
            let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
            let id = (
                e.model.clone(),
                e.provider.clone(),
                e.upstream_model.clone(),
            );
            if last
                .get(&id)
                .is_some_and(|at| now.duration_since(*at) < self.interval)
            {
                return;
            }
            last.insert(id, now);
        }
        let at = self.clock.now();
        let interval_ms = i64::try_from(self.interval.as_millis())
            .unwrap_or(i64::MAX)
            .max(1);
        let bucket = gateway_core::store::unix_millis(at) / interval_ms;
        self.events.emit(Event {
            tenant: self.tenant.clone(),
            kind: "deployment.circuit_opened",
            data: json!({
                "model": &*e.model,
                "provider": &*e.provider,
                "upstream_model": &*e.upstream_model,
                "region": e.region.as_deref(),
                "consecutive_failures": e.consecutive_failures,
                "cooldown_secs": e.cooldown.as_secs_f64(),
                "reopened": e.reopened,
                "opened_at": time_format(at),
            }),
            once: Some(format!(
                "deployment.circuit_opened:{}:{}:{}:{bucket}",
                e.model, e.provider, e.upstream_model
            )),
        });
    }
}

/// `budget.threshold`, and the limiter's other events logged as before.
pub struct BudgetEvents {
    events: WebhookEvents,
    /// Ascending percentages.
    thresholds: Vec<u8>,
    clock: Clock,
    /// (rule id, period start) -> (period end, highest threshold reported).
    reported: Mutex<HashMap<(String, u64), (u64, u8)>>,
}

impl BudgetEvents {
    pub fn new(events: WebhookEvents, thresholds: &[u8], clock: Clock) -> Self {
        let mut thresholds = thresholds.to_vec();
        thresholds.sort_unstable();
        thresholds.dedup();
        BudgetEvents {
            events,
            thresholds,
            clock,
            reported: Mutex::default(),
        }
    }

    /// The highest threshold `spend` reached, if any.
    fn reached(&self, spend: &BudgetSpend<'_>) -> Option<u8> {
        let spent = u128::from(spend.spent_micros) * 100;
        self.thresholds
            .iter()
            .rev()
            .find(|t| spent >= u128::from(**t) * u128::from(spend.budget_micros))
            .copied()
    }

    /// The thresholds to report now (above what this instance already reported), remembered.
    fn newly_reached(&self, spend: &BudgetSpend<'_>, reached: u8) -> Vec<u8> {
        let mut reported = self.reported.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (spend.rule_id.to_owned(), spend.period_start);
        let before = reported.get(&key).map_or(0, |(_, t)| *t);
        if reached <= before {
            return Vec::new();
        }
        if reported.len() >= MAX_BUDGETS {
            let now = u64::try_from(gateway_core::store::unix_millis(self.clock.now()) / 1000)
                .unwrap_or_default();
            reported.retain(|_, (ends, _)| *ends > now);
            if reported.len() >= MAX_BUDGETS {
                // Still full of live periods: forget them all; the outbox still keeps one
                // delivery per threshold and period.
                reported.clear();
            }
        }
        reported.insert(key, (spend.period_end, reached));
        self.thresholds
            .iter()
            .copied()
            .filter(|t| *t > before && *t <= reached)
            .collect()
    }
}

fn usd(micros: u64) -> f64 {
    micros as f64 / 1e6
}

fn secs_to_time(secs: u64) -> String {
    time_format(std::time::UNIX_EPOCH + Duration::from_secs(secs))
}

impl LimitEvents for BudgetEvents {
    fn on_budget_spend(&self, spend: &BudgetSpend<'_>) {
        if spend.budget_micros == 0 {
            return;
        }
        let Some(reached) = self.reached(spend) else {
            return;
        };
        let period = match spend.dimension {
            Dimension::SpendDaily => "daily",
            _ => "monthly",
        };
        let scope = match spend.scope {
            Scope::Key => "key",
            _ => "tenant",
        };
        let tenant = TenantId::new(spend.tenant);
        for percent in self.newly_reached(spend, reached) {
            self.events.emit(Event {
                tenant: Some(tenant.clone()),
                kind: "budget.threshold",
                data: json!({
                    "scope": scope,
                    "tenant": spend.tenant,
                    "key_id": (spend.scope == Scope::Key).then_some(spend.subject),
                    "period": period,
                    "period_start": secs_to_time(spend.period_start),
                    "period_end": secs_to_time(spend.period_end),
                    "budget": usd(spend.budget_micros),
                    "spent": usd(spend.spent_micros),
                    "percent": percent,
                }),
                once: Some(format!(
                    "budget.threshold:{}:{}:{percent}",
                    spend.rule_id, spend.period_start
                )),
            });
        }
    }

    fn on_rejected(&self, rejection: &Rejection<'_>) {
        TracingEvents.on_rejected(rejection);
    }

    fn on_queue_full(&self, tenant: &str, depth: usize) {
        TracingEvents.on_queue_full(tenant, depth);
    }

    fn on_backend_unavailable(&self, error: &str, mode: FailMode) {
        TracingEvents.on_backend_unavailable(error, mode);
    }

    fn on_backend_recovered(&self, outage: Duration) {
        TracingEvents.on_backend_recovered(outage);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn spend(spent: u64, period_start: u64) -> BudgetSpend<'static> {
        BudgetSpend {
            tenant: "acme",
            subject: "key_1",
            scope: Scope::Key,
            dimension: Dimension::SpendDaily,
            rule_id: "k/acme/key_1/budget_usd_daily",
            budget_micros: 1_000_000,
            spent_micros: spent,
            period_start,
            period_end: period_start + 86_400,
        }
    }

    #[tokio::test]
    async fn each_threshold_is_reported_once_per_period_even_when_skipped_over() {
        let b = BudgetEvents::new(WebhookEvents::default(), &[80, 50, 100], Clock::start());
        let mut got = Vec::new();
        for spent in [100_000, 500_000, 600_000, 999_999, 1_000_000, 1_200_000] {
            let s = spend(spent, 0);
            if let Some(r) = b.reached(&s) {
                got.push(b.newly_reached(&s, r));
            }
        }
        assert_eq!(got, [vec![50], vec![], vec![80], vec![100], vec![]]);
        // The next period starts over; a jump reports every threshold passed.
        let s = spend(900_000, 86_400);
        assert_eq!(b.newly_reached(&s, b.reached(&s).unwrap()), [50, 80]);
    }
}
