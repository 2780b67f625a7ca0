//! The permit a granted call holds, and the `x-ratelimit-*` snapshot it is admitted with.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use gateway_core::Usage;
use gateway_core::phases::admission::{Admitted, LimitSnapshot, OutputAllowance, Permit};

use super::allowance::{Allowance, Extended, Spec};
use super::backend::{Actual, Held, RuleView};
use super::limiter::Inner;
use super::rules::{Dimension, Rule, usd_to_micros};

/// Holds nothing (no rule applied, or admitted fail-open).
pub(crate) struct Nothing;

impl Held for Nothing {
    fn settle(self: Box<Self>, _: Actual) {}
    fn holds_slot(&self) -> bool {
        false
    }
}

impl Permit for Nothing {
    fn complete(self: Box<Self>, _: Option<&Usage>, _: Option<f64>) {}
}

/// Admitted with no limit in the way.
pub(crate) fn unlimited() -> Admitted {
    Admitted {
        permit: Box::new(Nothing),
        snapshot: LimitSnapshot::default(),
    }
}

/// A granted call's reservations. `complete` reconciles them with real usage; dropping the
/// permit without completing (the call failed before the upstream answered) refunds tokens
/// and spend. Both free the call's concurrency slots and wake queued calls. Requests are
/// never refunded: an attempted call counts.
pub(crate) struct LimitPermit {
    held: Option<Box<dyn Held>>,
    limiter: Arc<Inner>,
    /// Under token or spend rules: how a stream may reserve more output.
    allowance: Option<Arc<Spec>>,
    /// Output reserved by the stream beyond the admission (charged in full).
    extended: Arc<Extended>,
}

impl LimitPermit {
    pub fn new(held: Box<dyn Held>, limiter: Arc<Inner>, allowance: Option<Spec>) -> Self {
        LimitPermit {
            held: Some(held),
            limiter,
            allowance: allowance.map(Arc::new),
            extended: Arc::default(),
        }
    }

    fn settle(&mut self, actual: Actual) {
        if let Some(held) = self.held.take() {
            let slot = held.holds_slot();
            held.settle(actual);
            if slot {
                self.limiter.queues.released();
            }
        }
    }
}

impl Permit for LimitPermit {
    /// Unknown usage keeps the token reservation charged; unknown cost keeps the spend
    /// reservation charged (the safe side in both cases).
    /// Blocks a stream reserved beyond the admission stay charged: they are taken off the
    /// real usage this reconciles.
    fn complete(mut self: Box<Self>, usage: Option<&Usage>, cost_usd: Option<f64>) {
        let tokens = self.extended.tokens.load(Ordering::Acquire);
        let cost = self.extended.cost_micros.load(Ordering::Acquire);
        let actual = Actual {
            tokens: usage.map(|u| {
                u.total_tokens
                    .max(u.prompt_tokens + u.completion_tokens)
                    .saturating_sub(tokens)
            }),
            cost_micros: cost_usd.map(|usd| usd_to_micros(usd).saturating_sub(cost)),
        };
        self.settle(actual);
    }

    fn output_allowance(&mut self) -> Option<Box<dyn OutputAllowance>> {
        let spec = self.allowance.clone()?;
        Some(Box::new(Allowance {
            limiter: self.limiter.clone(),
            spec,
            extended: self.extended.clone(),
        }))
    }
}

impl Drop for LimitPermit {
    fn drop(&mut self) {
        self.settle(Actual::REFUND);
    }
}

/// The request rule and the token rule closest to exhaustion, as OpenAI names them.
pub(crate) fn snapshot(rules: &[Rule], views: &[RuleView]) -> LimitSnapshot {
    let tightest = |requests: bool| {
        rules
            .iter()
            .zip(views)
            .filter(|(r, _)| match r.dimension {
                Dimension::Rps | Dimension::Rpm | Dimension::Rpd => requests,
                Dimension::Tpm | Dimension::Tpd => !requests,
                _ => false,
            })
            .min_by(|(ra, va), (rb, vb)| {
                // Smallest share left first; ties: the longer reset.
                let a = va.remaining as f64 / ra.limit.max(1) as f64;
                let b = vb.remaining as f64 / rb.limit.max(1) as f64;
                a.total_cmp(&b).then(vb.reset.cmp(&va.reset))
            })
    };
    let mut s = LimitSnapshot::default();
    if let Some((r, v)) = tightest(true) {
        s.limit_requests = Some(r.limit);
        s.remaining_requests = Some(v.remaining);
        s.reset_requests_secs = Some(v.reset.as_secs_f64());
    }
    if let Some((r, v)) = tightest(false) {
        s.limit_tokens = Some(r.limit);
        s.remaining_tokens = Some(v.remaining);
        s.reset_tokens_secs = Some(v.reset.as_secs_f64());
    }
    s
}
