//! The contract between the limiter and where counters live (in-process or Redis): take every
//! rule of a call at once or none of them, and later settle what was taken with real usage.

use std::time::Duration;

use async_trait::async_trait;

use super::rules::{Kind, Rule};

/// What one call asks of its rules.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ask<'a> {
    pub rules: &'a [Rule],
    /// Tokens reserved on token rates (prompt estimate + output budget).
    pub tokens: u64,
    /// Micro-USD reserved on budgets (0 when unpriced).
    pub cost_micros: u64,
}

impl Ask<'_> {
    /// How much of rule `r` this call takes.
    pub fn amount(&self, r: &Rule) -> u64 {
        match r.dimension.kind() {
            Kind::Rate { tokens: true, .. } => self.tokens,
            Kind::Rate { tokens: false, .. } | Kind::Concurrency => 1,
            Kind::Spend(_) => self.cost_micros,
        }
    }
}

/// The state of one rule after a granted call, for `x-ratelimit-*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RuleView {
    pub remaining: u64,
    /// Until the counter is back to its full allowance (rates) or the window ends (budgets).
    pub reset: Duration,
}

/// Why a call was refused: the first rule (index into the ask's rules) that did not admit it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Denial {
    pub index: usize,
    /// When trying again could succeed; `None` when unknown (a concurrency slot) or never
    /// (see `too_large`).
    pub retry_after: Option<Duration>,
    /// The call alone needs more than the limit allows: retrying cannot help.
    pub too_large: bool,
}

pub(crate) enum Decision {
    Granted {
        held: Box<dyn Held>,
        views: Vec<RuleView>,
    },
    Denied(Denial),
}

/// The shared backend could not answer in time.
#[derive(Debug, Clone, thiserror::Error)]
#[error("limits backend unavailable: {0}")]
pub(crate) struct BackendDown(pub String);

/// What a call really used, to reconcile reservations. `None` keeps the reservation as
/// charged; `Some(0)` refunds it all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Actual {
    pub tokens: Option<u64>,
    pub cost_micros: Option<u64>,
}

impl Actual {
    /// The call never reached the upstream (or failed before using anything).
    pub const REFUND: Actual = Actual {
        tokens: Some(0),
        cost_micros: Some(0),
    };
}

/// What a granted call holds: reservations to reconcile and slots to free, exactly once.
pub(crate) trait Held: Send {
    fn settle(self: Box<Self>, actual: Actual);
    /// Whether settling frees a concurrency slot (queued calls are then woken).
    fn holds_slot(&self) -> bool;
}

#[async_trait]
pub(crate) trait Backend: Send + Sync {
    /// Take every rule of `ask`, or none.
    async fn acquire(&self, ask: &Ask<'_>) -> Result<Decision, BackendDown>;
}

/// `actual - reserved` as a signed adjustment (positive: charge more).
pub(crate) fn delta(reserved: u64, actual: Option<u64>) -> i128 {
    actual.map_or(0, |a| i128::from(a) - i128::from(reserved))
}
