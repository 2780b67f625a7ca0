//! The shared backend: every instance's admissions go through one atomic Lua script in Redis
//! (`admit.lua`: check every rule, then commit every rule, one round trip), and completions
//! through another (`settle.lua`), sent in the background. Redis is the single serialisation
//! point, with its own clock (`TIME`), so N instances behave like one: see `docs/limits.md`.
//!
//! While Redis is unreachable, one call per `retry_interval` probes it and every other call
//! gets [`BackendDown`] at once (the limiter then applies its fail mode).
//!
//! Concurrency slots are leases, renewed while their calls run ([`super::lease`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::backend::{Actual, Ask, Backend, BackendDown, Decision, Denial, Held, RuleView, delta};
use super::clock::{Clock, window_at};
use super::config::RedisLimitsConfig;
use super::events::LimiterStats;
use super::lease::{LeaseOwner, Leases, renew_while_alive};
use super::rules::{Kind, Rule};

const ADMIT: &str = include_str!("admit.lua");
const SETTLE: &str = include_str!("settle.lua");

struct Shared {
    conn: ConnectionManager,
    settle: redis::Script,
    timeout: Duration,
    stats: Arc<LimiterStats>,
    leases: Leases,
}

impl LeaseOwner for Shared {
    fn leases(&self) -> &Leases {
        &self.leases
    }

    fn connection(&self) -> ConnectionManager {
        self.conn.clone()
    }

    fn timeout(&self) -> Duration {
        self.timeout
    }
}

pub(crate) struct RedisBackend {
    shared: Arc<Shared>,
    admit: redis::Script,
    prefix: String,
    lease_ms: u64,
    retry_interval: Duration,
    clock: Clock,
    /// Clock nanos before which Redis is presumed down (0: up).
    down_until: AtomicU64,
    instance: String,
    seq: AtomicU64,
}

impl std::fmt::Debug for RedisBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBackend")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// One rule as the scripts see it: key, kind letter, `a`, `b`.
struct Wire {
    key: String,
    kind: &'static str,
    a: u64,
    b: u64,
}

impl RedisBackend {
    /// A lazily connecting backend: nothing is dialled until the first admission, so a Redis
    /// that is down at start-up is handled like one that goes down later. Must be called
    /// inside a tokio runtime, where it starts the lease renewal task.
    pub fn new(
        config: &RedisLimitsConfig,
        clock: Clock,
        stats: Arc<LimiterStats>,
    ) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(config.url.as_str())?;
        let manager = ConnectionManagerConfig::new()
            .set_response_timeout(Some(config.timeout))
            .set_connection_timeout(Some(config.timeout))
            .set_number_of_retries(1)
            .set_max_delay(config.retry_interval);
        let conn = client.get_connection_manager_lazy(manager)?;
        let instance = format!(
            "{:x}-{:x}",
            std::process::id(),
            clock.wall().as_nanos() & 0xffff_ffff_ffff
        );
        let shared = Arc::new(Shared {
            conn,
            settle: redis::Script::new(SETTLE),
            timeout: config.timeout,
            stats,
            leases: Leases::default(),
        });
        tokio::spawn(renew_while_alive(Arc::downgrade(&shared), config.lease));
        Ok(RedisBackend {
            shared,
            admit: redis::Script::new(ADMIT),
            prefix: config.key_prefix.clone(),
            lease_ms: u64::try_from(config.lease.as_millis()).unwrap_or(u64::MAX),
            retry_interval: config.retry_interval,
            clock,
            down_until: AtomicU64::new(0),
            instance,
            seq: AtomicU64::new(0),
        })
    }

    fn wire(&self, rule: &Rule) -> Wire {
        let mut key = String::with_capacity(self.prefix.len() + rule.id.len() + 8);
        key.push_str(&self.prefix);
        key.push_str(&rule.id);
        let (kind, a, b) = match rule.dimension.kind() {
            Kind::Rate { period, .. } => (
                "r",
                rule.limit,
                u64::try_from(period.as_micros()).unwrap_or(u64::MAX),
            ),
            Kind::Concurrency => ("c", rule.limit, 0),
            Kind::Spend(w) => {
                let span = window_at(w, self.clock.wall());
                key.push('@');
                key.push_str(&span.id.to_string());
                ("b", rule.limit, span.ends_at)
            }
        };
        Wire { key, kind, a, b }
    }

    /// Whether to skip Redis now because it failed recently (one caller per interval probes).
    fn presumed_down(&self) -> bool {
        let until = self.down_until.load(Ordering::Acquire);
        if until == 0 {
            return false;
        }
        let now = self.clock.nanos();
        if now < until {
            return true;
        }
        let next = now.saturating_add(nanos(self.retry_interval));
        // Whoever moves the deadline probes; the others keep skipping.
        self.down_until
            .compare_exchange(until, next, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
    }

    fn mark(&self, up: bool) {
        let v = if up {
            0
        } else {
            self.clock
                .nanos()
                .saturating_add(nanos(self.retry_interval))
                .max(1)
        };
        self.down_until.store(v, Ordering::Release);
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

fn micros(v: i64) -> Duration {
    Duration::from_micros(u64::try_from(v).unwrap_or(0))
}

#[async_trait]
impl Backend for RedisBackend {
    async fn acquire(&self, ask: &Ask<'_>) -> Result<Decision, BackendDown> {
        if self.presumed_down() {
            return Err(BackendDown("Redis was unreachable moments ago".to_owned()));
        }
        let wires: Vec<Wire> = ask.rules.iter().map(|r| self.wire(r)).collect();
        let member = format!(
            "{}:{}",
            self.instance,
            self.seq.fetch_add(1, Ordering::Relaxed)
        );
        let mut inv = self.admit.prepare_invoke();
        for w in &wires {
            inv.key(&w.key);
        }
        inv.arg(&member).arg(self.lease_ms);
        for (w, rule) in wires.iter().zip(ask.rules) {
            inv.arg(w.kind).arg(w.a).arg(w.b).arg(ask.amount(rule));
        }
        let mut conn = self.shared.conn.clone();
        let reply: Vec<i64> =
            match tokio::time::timeout(self.shared.timeout, inv.invoke_async(&mut conn)).await {
                Ok(Ok(reply)) => reply,
                Ok(Err(e)) => {
                    self.mark(false);
                    return Err(BackendDown(e.to_string()));
                }
                Err(_) => {
                    self.mark(false);
                    return Err(BackendDown(format!(
                        "no answer within {:?}",
                        self.shared.timeout
                    )));
                }
            };
        self.mark(true);
        match reply.as_slice() {
            [1, rest @ ..] if rest.len() == 2 * wires.len() => {
                let slots: Vec<String> = wires
                    .iter()
                    .filter(|w| w.kind == "c")
                    .map(|w| w.key.clone())
                    .collect();
                self.shared.leases.hold(&member, slots);
                let views = rest
                    .chunks_exact(2)
                    .map(|c| RuleView {
                        remaining: u64::try_from(c[0]).unwrap_or(0),
                        reset: micros(c[1]),
                    })
                    .collect();
                let held = RedisHeld {
                    shared: self.shared.clone(),
                    member,
                    parts: wires
                        .into_iter()
                        .zip(ask.rules)
                        .map(|(w, r)| (w, r.dimension.kind(), ask.amount(r)))
                        .collect(),
                };
                Ok(Decision::Granted {
                    held: Box::new(held),
                    views,
                })
            }
            [0, index, retry] => Ok(Decision::Denied(Denial {
                index: usize::try_from(*index - 1).unwrap_or(0),
                retry_after: (*retry >= 0).then(|| micros(*retry)),
                too_large: *retry == -1,
            })),
            other => Err(BackendDown(format!("unexpected script reply {other:?}"))),
        }
    }
}

struct RedisHeld {
    shared: Arc<Shared>,
    member: String,
    parts: Vec<(Wire, Kind, u64)>,
}

impl Held for RedisHeld {
    fn settle(self: Box<Self>, actual: Actual) {
        self.shared.leases.release(&self.member);
        let deltas: Vec<i128> = self
            .parts
            .iter()
            .map(|(_, kind, amount)| match kind {
                Kind::Rate { tokens: true, .. } => delta(*amount, actual.tokens),
                Kind::Rate { tokens: false, .. } => 0,
                Kind::Concurrency => 1,
                Kind::Spend(_) => delta(*amount, actual.cost_micros),
            })
            .collect();
        if deltas.iter().all(|d| *d == 0) {
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            self.shared.stats.bump_settle_error();
            return;
        };
        let RedisHeld {
            shared,
            member,
            parts,
        } = *self;
        handle.spawn(async move {
            let mut inv = shared.settle.prepare_invoke();
            inv.arg(&member);
            for ((w, _, _), d) in parts.iter().zip(&deltas) {
                inv.key(&w.key);
                inv.arg(w.kind)
                    .arg(w.a)
                    .arg(w.b)
                    .arg(i64::try_from(*d).unwrap_or(0));
            }
            let mut conn = shared.conn.clone();
            let sent = tokio::time::timeout(
                shared.timeout.saturating_mul(4),
                inv.invoke_async::<i64>(&mut conn),
            )
            .await;
            if !matches!(sent, Ok(Ok(_))) {
                // Tokens and spend stay charged (the safe side); a slot frees with its lease.
                shared.stats.bump_settle_error();
            }
        });
    }

    fn holds_slot(&self) -> bool {
        self.parts
            .iter()
            .any(|(_, k, _)| matches!(k, Kind::Concurrency))
    }
}
