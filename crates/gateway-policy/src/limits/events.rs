//! What the limiter tells the rest of the gateway: counters (for Prometheus, wired by the
//! telemetry crate) and events (for audit and logs) through [`LimitEvents`].

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use super::config::FailMode;
use super::rules::{Dimension, Scope};

/// A refused call, as reported to [`LimitEvents::on_rejected`].
#[derive(Debug, Clone)]
pub struct Rejection<'a> {
    pub tenant: &'a str,
    pub subject: &'a str,
    pub model: &'a str,
    pub scope: Scope,
    pub dimension: Dimension,
    /// The limit hit, in its unit (micro-USD for budgets).
    pub limit: u64,
    pub retry_after: Option<Duration>,
    /// Set when the call waited in the queue first.
    pub waited: Option<Duration>,
}

/// What a granted call left on a tenant's or key's budget (`budget_usd_daily` or
/// `budget_usd_monthly`), as reported to [`LimitEvents::on_budget_spend`]: the counter as the
/// limiter holds it right after this call's reservation, i.e. the spend of settled calls plus
/// what calls in flight reserved (reconciled with their real cost when they end).
#[derive(Debug, Clone)]
pub struct BudgetSpend<'a> {
    pub tenant: &'a str,
    pub subject: &'a str,
    /// [`Scope::Tenant`] or [`Scope::Key`].
    pub scope: Scope,
    /// [`Dimension::SpendDaily`] or [`Dimension::SpendMonthly`].
    pub dimension: Dimension,
    /// The counter's identity, the same on every instance (`t/acme/budget_usd_daily`).
    pub rule_id: &'a str,
    /// The budget, in micro-USD.
    pub budget_micros: u64,
    /// Spent in this period, in micro-USD (may exceed the budget after reconciliation).
    pub spent_micros: u64,
    /// The budget period (a UTC day or month): start and end, in unix seconds.
    pub period_start: u64,
    pub period_end: u64,
}

/// Receives the limiter's events. Called on the request path: return at once.
pub trait LimitEvents: Send + Sync {
    /// A call was admitted under a tenant's or key's budget (once per such budget and call;
    /// batch lines' shares are not reported apart).
    fn on_budget_spend(&self, spend: &BudgetSpend<'_>) {
        let _ = spend;
    }
    /// A call got 429 from a limit (not from the queue being full: see `on_queue_full`).
    fn on_rejected(&self, rejection: &Rejection<'_>) {
        let _ = rejection;
    }
    /// A tenant's queue was full; the call got 429 without waiting.
    fn on_queue_full(&self, tenant: &str, depth: usize) {
        let _ = (tenant, depth);
    }
    /// The shared backend stopped answering: emitted once per outage, with the mode applied.
    fn on_backend_unavailable(&self, error: &str, mode: FailMode) {
        let _ = (error, mode);
    }
    /// The shared backend answers again.
    fn on_backend_recovered(&self, outage: Duration) {
        let _ = outage;
    }
}

/// The default: log through `tracing` (rejections at debug, backend outages at error).
#[derive(Debug, Clone, Copy, Default)]
pub struct TracingEvents;

impl LimitEvents for TracingEvents {
    fn on_rejected(&self, r: &Rejection<'_>) {
        tracing::debug!(
            tenant = r.tenant,
            subject = r.subject,
            model = r.model,
            scope = ?r.scope,
            limit = r.dimension.as_str(),
            value = r.limit,
            retry_after_ms = r.retry_after.map(|d| d.as_millis() as u64),
            "call refused by a limit"
        );
    }

    fn on_queue_full(&self, tenant: &str, depth: usize) {
        tracing::debug!(tenant, depth, "limits queue full");
    }

    fn on_backend_unavailable(&self, error: &str, mode: FailMode) {
        let mode = match mode {
            FailMode::Open => "fail-open: calls are admitted without shared limits",
            FailMode::Closed => "fail-closed: calls are refused with 503",
        };
        tracing::error!(error, mode, "limits backend (Redis) unreachable");
    }

    fn on_backend_recovered(&self, outage: Duration) {
        tracing::warn!(
            outage_ms = outage.as_millis() as u64,
            "limits backend (Redis) reachable again"
        );
    }
}

/// Monotonic counters, read with [`LimiterStats::snapshot`].
#[derive(Debug, Default)]
pub struct LimiterStats {
    admitted: AtomicU64,
    rejected: AtomicU64,
    queued: AtomicU64,
    queue_full: AtomicU64,
    queue_timeouts: AtomicU64,
    backend_errors: AtomicU64,
    fail_open: AtomicU64,
    fail_closed: AtomicU64,
    unpriced: AtomicU64,
    settle_errors: AtomicU64,
    backend_down: AtomicBool,
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// Calls admitted (fail-open admissions included).
    pub admitted: u64,
    /// Calls refused by a limit (429), queue timeouts and full queues included.
    pub rejected: u64,
    /// Calls that waited in a queue (however it ended).
    pub queued: u64,
    pub queue_full: u64,
    pub queue_timeouts: u64,
    /// Admissions the shared backend failed to answer.
    pub backend_errors: u64,
    /// Of those, admitted without shared limits (fail-open) ...
    pub fail_open: u64,
    /// ... and refused with 503 (fail-closed).
    pub fail_closed: u64,
    /// Calls under a spend limit whose price was unknown.
    pub unpriced: u64,
    /// Reconciliations that did not reach the backend (their reservation stays charged).
    pub settle_errors: u64,
    /// Whether the shared backend is currently considered down.
    pub backend_down: bool,
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

impl LimiterStats {
    pub fn snapshot(&self) -> StatsSnapshot {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        StatsSnapshot {
            admitted: g(&self.admitted),
            rejected: g(&self.rejected),
            queued: g(&self.queued),
            queue_full: g(&self.queue_full),
            queue_timeouts: g(&self.queue_timeouts),
            backend_errors: g(&self.backend_errors),
            fail_open: g(&self.fail_open),
            fail_closed: g(&self.fail_closed),
            unpriced: g(&self.unpriced),
            settle_errors: g(&self.settle_errors),
            backend_down: self.backend_down.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn bump_admitted(&self) {
        bump(&self.admitted);
    }
    pub(crate) fn bump_rejected(&self) {
        bump(&self.rejected);
    }
    pub(crate) fn bump_queued(&self) {
        bump(&self.queued);
    }
    pub(crate) fn bump_queue_full(&self) {
        bump(&self.queue_full);
        bump(&self.rejected);
    }
    pub(crate) fn bump_queue_timeout(&self) {
        bump(&self.queue_timeouts);
    }
    pub(crate) fn bump_unpriced(&self) {
        bump(&self.unpriced);
    }
    pub(crate) fn bump_settle_error(&self) {
        bump(&self.settle_errors);
    }

    /// Count a backend failure; `true` when this starts an outage (report it once).
    pub(crate) fn backend_failed(&self, mode: FailMode) -> bool {
        bump(&self.backend_errors);
        match mode {
            FailMode::Open => bump(&self.fail_open),
            FailMode::Closed => bump(&self.fail_closed),
        }
        !self.backend_down.swap(true, Ordering::AcqRel)
    }

    /// `true` when this ends an outage.
    pub(crate) fn backend_answered(&self) -> bool {
        self.backend_down.load(Ordering::Relaxed) && self.backend_down.swap(false, Ordering::AcqRel)
    }
}
