//! The in-process backend: exact for one instance, lock-free on the hot path. Every counter is
//! one `AtomicU64` in a sharded `DashMap` (a shard lock is held only to find or insert the
//! cell, never while counting):
//!
//! - rates are GCRA: the cell is the theoretical arrival time (TAT) in nanoseconds; a call of
//!   `n` units moves it by `n * T` (`T = ceil(period / limit)`) if that keeps it within
//!   `limit * T` of now — so a full bucket admits exactly `limit` units at once and then one
//!   every `T`;
//! - concurrency is a count of held slots;
//! - budgets are micro-USD per calendar window (the window id is part of the cell's key).
//!
//! A call takes its rules one by one with compare-and-swap and, if one refuses, gives back
//! what it took. Between the take and the give-back another call may see the counter
//! briefly higher and be refused: contention can refuse spuriously, never admit too much.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use dashmap::DashMap;

use super::backend::{Actual, Ask, Backend, BackendDown, Decision, Denial, Held, RuleView, delta};
use super::clock::{Clock, window_at};
use super::rules::{Kind, Rule};

/// Sweep idle counters after this many admissions.
const SWEEP_EVERY: u64 = 4096;

/// Counter maps are keyed by rule ids, built from configured models and authenticated
/// tenants and keys (never free caller text), and looked up on every call: foldhash rather
/// than SipHash.
type Cells<K, V> = DashMap<K, V, foldhash::fast::RandomState>;

#[derive(Debug)]
pub(crate) struct MemoryBackend {
    clock: Clock,
    rates: Cells<String, Arc<AtomicU64>>,
    slots: Cells<String, Arc<AtomicU64>>,
    /// Keyed by rule id and window id; the value's window end (unix secs) decides expiry.
    budgets: Cells<(String, u64), (u64, Arc<AtomicU64>)>,
    ops: AtomicU64,
}

#[derive(Debug, Clone, Copy)]
enum Op {
    /// A GCRA cell with its emission interval in nanoseconds.
    Rate {
        interval: u64,
    },
    Slot,
    Spend,
}

#[derive(Debug)]
struct Taken {
    cell: Arc<AtomicU64>,
    op: Op,
    amount: u64,
    /// Whether real usage may change the amount (token rates and budgets).
    reconcile: bool,
}

fn interval_nanos(period: Duration, limit: u64) -> u64 {
    let p = u64::try_from(period.as_nanos()).unwrap_or(u64::MAX);
    p.div_ceil(limit.max(1)).max(1)
}

/// Apply `f` to the cell until the compare-and-swap wins; `f` returning `Err` stops.
fn update<E>(cell: &AtomicU64, mut f: impl FnMut(u64) -> Result<u64, E>) -> Result<u64, E> {
    let mut cur = cell.load(Ordering::Acquire);
    loop {
        let next = f(cur)?;
        match cell.compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return Ok(next),
            Err(actual) => cur = actual,
        }
    }
}

/// Charge (`d > 0`) or refund (`d < 0`) `d` units to a cell; rates move from `now` at least.
fn adjust(cell: &AtomicU64, op: Op, d: i128, now: u64) {
    if d == 0 {
        return;
    }
    let magnitude = u64::try_from(d.unsigned_abs()).unwrap_or(u64::MAX);
    let _ = update::<()>(cell, |cur| {
        Ok(match (op, d > 0) {
            (Op::Rate { interval }, true) => cur
                .max(now)
                .saturating_add(magnitude.saturating_mul(interval)),
            (Op::Rate { interval }, false) => {
                cur.saturating_sub(magnitude.saturating_mul(interval))
            }
            (_, true) => cur.saturating_add(magnitude),
            (_, false) => cur.saturating_sub(magnitude),
        })
    });
}

impl MemoryBackend {
    pub fn new(clock: Clock) -> Self {
        MemoryBackend {
            clock,
            rates: Cells::default(),
            slots: Cells::default(),
            budgets: Cells::default(),
            ops: AtomicU64::new(0),
        }
    }

    fn cell(map: &Cells<String, Arc<AtomicU64>>, id: &str) -> Arc<AtomicU64> {
        if let Some(c) = map.get(id) {
            return c.clone();
        }
        map.entry(id.to_owned()).or_default().clone()
    }

    /// Try one rule; on success the cell, what was taken and the view after it.
    fn take(&self, rule: &Rule, amount: u64, now: u64) -> Result<(Taken, RuleView), Denial> {
        let deny = |retry_after: Option<Duration>, too_large: bool| Denial {
            index: 0,
            retry_after,
            too_large,
        };
        match rule.dimension.kind() {
            Kind::Rate { period, tokens } => {
                let cell = Self::cell(&self.rates, &rule.id);
                let interval = interval_nanos(period, rule.limit);
                let capacity = rule.limit.saturating_mul(interval);
                let inc = amount.saturating_mul(interval);
                if inc > capacity {
                    return Err(deny(None, true));
                }
                let tat = update(&cell, |tat| {
                    let base = tat.max(now);
                    let after = base - now + inc;
                    if after > capacity {
                        Err(deny(Some(Duration::from_nanos(after - capacity)), false))
                    } else {
                        Ok(base + inc)
                    }
                })?;
                let used = tat.saturating_sub(now);
                let view = RuleView {
                    remaining: (capacity - used.min(capacity)) / interval,
                    reset: Duration::from_nanos(used),
                };
                let op = Op::Rate { interval };
                Ok((
                    Taken {
                        cell,
                        op,
                        amount,
                        reconcile: tokens,
                    },
                    view,
                ))
            }
            Kind::Concurrency => {
                let cell = Self::cell(&self.slots, &rule.id);
                let held = update(&cell, |n| {
                    if n >= rule.limit {
                        Err(deny(None, false))
                    } else {
                        Ok(n + 1)
                    }
                })?;
                let view = RuleView {
                    remaining: rule.limit - held,
                    reset: Duration::ZERO,
                };
                Ok((
                    Taken {
                        cell,
                        op: Op::Slot,
                        amount: 1,
                        reconcile: false,
                    },
                    view,
                ))
            }
            Kind::Spend(w) => {
                let wall = self.clock.wall();
                let span = window_at(w, wall);
                let cell = self
                    .budgets
                    .entry((rule.id.clone(), span.id))
                    .or_insert_with(|| (span.ends_at, Arc::default()))
                    .1
                    .clone();
                let left = span.left(wall);
                if amount > rule.limit {
                    return Err(deny(None, true));
                }
                let spent = update(&cell, |spent| {
                    if spent >= rule.limit || spent + amount > rule.limit {
                        Err(deny(Some(left), false))
                    } else {
                        Ok(spent + amount)
                    }
                })?;
                let view = RuleView {
                    remaining: rule.limit.saturating_sub(spent),
                    reset: left,
                };
                Ok((
                    Taken {
                        cell,
                        op: Op::Spend,
                        amount,
                        reconcile: true,
                    },
                    view,
                ))
            }
        }
    }

    fn sweep(&self, now: u64) {
        self.rates
            .retain(|_, c| Arc::strong_count(c) > 1 || c.load(Ordering::Acquire) > now);
        self.slots
            .retain(|_, c| Arc::strong_count(c) > 1 || c.load(Ordering::Acquire) > 0);
        let wall = self.clock.wall().as_secs();
        self.budgets
            .retain(|_, (ends, c)| Arc::strong_count(c) > 1 || *ends > wall);
    }
}

#[async_trait]
impl Backend for MemoryBackend {
    async fn acquire(&self, ask: &Ask<'_>) -> Result<Decision, BackendDown> {
        let now = self.clock.nanos();
        if self.ops.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.sweep(now);
        }
        let mut taken = Vec::with_capacity(ask.rules.len());
        let mut views = Vec::with_capacity(ask.rules.len());
        for (index, rule) in ask.rules.iter().enumerate() {
            match self.take(rule, ask.amount(rule), now) {
                Ok((t, v)) => {
                    taken.push(t);
                    views.push(v);
                }
                Err(denial) => {
                    for t in &taken {
                        adjust(&t.cell, t.op, -i128::from(t.amount), now);
                    }
                    return Ok(Decision::Denied(Denial { index, ..denial }));
                }
            }
        }
        let held = MemoryHeld {
            taken,
            clock: self.clock,
        };
        Ok(Decision::Granted {
            held: Box::new(held),
            views,
        })
    }
}

#[derive(Debug)]
struct MemoryHeld {
    taken: Vec<Taken>,
    clock: Clock,
}

impl Held for MemoryHeld {
    fn settle(self: Box<Self>, actual: Actual) {
        let now = self.clock.nanos();
        for t in &self.taken {
            let d = match t.op {
                Op::Slot => -1,
                Op::Rate { .. } if t.reconcile => delta(t.amount, actual.tokens),
                Op::Spend => delta(t.amount, actual.cost_micros),
                Op::Rate { .. } => 0,
            };
            adjust(&t.cell, t.op, d, now);
        }
    }

    fn holds_slot(&self) -> bool {
        self.taken.iter().any(|t| matches!(t.op, Op::Slot))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::rules::{Dimension, Scope};

    fn rule(dimension: Dimension, limit: u64) -> Rule {
        Rule {
            scope: Scope::Key,
            dimension,
            limit,
            id: format!("k/t/s/{}", dimension.as_str()),
        }
    }

    async fn take(b: &MemoryBackend, rules: &[Rule], tokens: u64) -> Result<Box<dyn Held>, Denial> {
        let ask = Ask {
            rules,
            tokens,
            cost_micros: 0,
        };
        match b.acquire(&ask).await.unwrap() {
            Decision::Granted { held, .. } => Ok(held),
            Decision::Denied(d) => Err(d),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn gcra_admits_the_limit_at_once_then_one_per_interval() {
        let b = MemoryBackend::new(Clock::new());
        let rules = [rule(Dimension::Rpm, 7)];
        for _ in 0..7 {
            take(&b, &rules, 0).await.unwrap().settle(Actual::REFUND);
        }
        let Err(denied) = take(&b, &rules, 0).await else {
            panic!("admitted over the limit")
        };
        let wait = denied.retry_after.unwrap();
        assert!(
            wait <= Duration::from_nanos(60_000_000_000u64.div_ceil(7)),
            "{wait:?}"
        );
        tokio::time::advance(wait).await;
        assert!(take(&b, &rules, 0).await.is_ok());
        assert!(take(&b, &rules, 0).await.is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn a_refusal_gives_back_what_was_taken() {
        let b = MemoryBackend::new(Clock::new());
        let rules = [rule(Dimension::Tpm, 100), rule(Dimension::Concurrency, 1)];
        let first = take(&b, &rules, 10).await.unwrap();
        let Err(denied) = take(&b, &rules, 10).await else {
            panic!("admitted over the limit")
        };
        assert_eq!(denied.index, 1);
        // The refused call gave its 10 tokens back; with the first refunded, all 100 fit.
        first.settle(Actual::REFUND);
        assert!(take(&b, &rules, 100).await.is_ok());
    }
}
