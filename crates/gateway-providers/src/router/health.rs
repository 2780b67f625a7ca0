//! Per-deployment health: a circuit breaker, a peak-EWMA latency estimate and counters.
//!
//! Counters are atomics; the circuit and the latency estimate each sit behind their own small
//! mutex, held for a few instructions and never across an `await`. An [`InFlight`] permit is
//! taken for every attempt: it counts the request in flight until dropped, and releases a
//! half-open probe that ended without an outcome (a cancelled request) so the circuit cannot
//! get stuck.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use gateway_core::phases::route::{CircuitObserver, CircuitOpened};
use tokio::time::Instant;

use super::adaptive::{Adaptive, AdaptiveConfig};
use super::policy::CircuitConfig;

/// Time constant of the latency average: older samples weigh e^(-age/TAU).
const TAU_SECS: f64 = 10.0;

/// `now + d`, saturating far in the future instead of overflowing on absurd configurations.
pub(crate) fn later(now: Instant, d: Duration) -> Instant {
    now.checked_add(d)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Circuit {
    Closed,
    Open {
        until: Instant,
    },
    /// After the cooldown: one probe request at a time decides.
    HalfOpen {
        probing: bool,
    },
}

#[derive(Debug)]
struct Breaker {
    circuit: Circuit,
    consecutive_failures: u32,
}

#[derive(Debug, Default)]
struct PeakEwma {
    nanos: f64,
    stamp: Option<Instant>,
}

impl PeakEwma {
    fn observe(&mut self, rtt: Duration, now: Instant) {
        let rtt = rtt.as_nanos() as f64;
        match self.stamp {
            Some(stamp) if rtt <= self.nanos => {
                let age = now.saturating_duration_since(stamp).as_secs_f64();
                let w = (-age / TAU_SECS).exp();
                self.nanos = self.nanos * w + rtt * (1.0 - w);
            }
            // The first sample, or a new peak: jump to it at once.
            _ => self.nanos = rtt,
        }
        self.stamp = Some(now);
    }
}

#[derive(Debug)]
pub(crate) struct Health {
    in_flight: AtomicU64,
    requests: AtomicU64,
    failures: AtomicU64,
    breaker: Mutex<Breaker>,
    latency: Mutex<PeakEwma>,
    adaptive: Adaptive,
    /// Who is told when the circuit opens (set once, by `ModelRouter::with_circuit_observer`).
    pub(crate) notice: OnceLock<Notice>,
}

/// The observer of a deployment's circuit and what names the deployment to it.
#[derive(Clone)]
pub(crate) struct Notice {
    pub observer: Arc<dyn CircuitObserver>,
    pub model: Arc<str>,
    pub provider: Arc<str>,
    pub upstream_model: Arc<str>,
    pub region: Option<Arc<str>>,
}

impl std::fmt::Debug for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notice")
            .field("model", &self.model)
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A point-in-time view for state reporting and selection.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Snapshot {
    pub circuit: Circuit,
    pub consecutive_failures: u32,
    pub ewma_latency: Option<Duration>,
    pub in_flight: u64,
    pub requests: u64,
    pub failures: u64,
    /// The adaptive concurrency limit; `None` when off.
    pub concurrency_limit: Option<u32>,
}

impl Default for Health {
    fn default() -> Self {
        Health {
            in_flight: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            breaker: Mutex::new(Breaker {
                circuit: Circuit::Closed,
                consecutive_failures: 0,
            }),
            latency: Mutex::new(PeakEwma::default()),
            adaptive: Adaptive::default(),
            notice: OnceLock::new(),
        }
    }
}

impl Health {
    pub fn in_flight(&self) -> u64 {
        self.in_flight.load(Ordering::Relaxed)
    }

    pub fn latency_nanos(&self) -> Option<f64> {
        let l = lock(&self.latency);
        l.stamp.map(|_| l.nanos)
    }

    /// Whether a request could be let through now (without taking a probe slot).
    pub fn admits(&self, now: Instant) -> bool {
        match lock(&self.breaker).circuit {
            Circuit::Closed | Circuit::HalfOpen { probing: false } => true,
            Circuit::Open { until } => now >= until,
            Circuit::HalfOpen { probing: true } => false,
        }
    }

    /// With adaptive concurrency configured as `config`.
    pub fn with_adaptive(config: AdaptiveConfig) -> Self {
        Health {
            adaptive: Adaptive::new(config),
            ..Health::default()
        }
    }

    /// Whether the adaptive concurrency limit is reached.
    pub fn saturated(&self) -> bool {
        !self.adaptive.admits(self.in_flight())
    }

    /// Let one request through if the circuit and the adaptive concurrency limit allow it.
    pub fn try_acquire(self: &Arc<Self>, now: Instant) -> Option<InFlight> {
        if self.saturated() {
            return None;
        }
        let probe = {
            let mut b = lock(&self.breaker);
            match b.circuit {
                Circuit::Closed => false,
                Circuit::Open { until } if now < until => return None,
                Circuit::HalfOpen { probing: true } => return None,
                Circuit::Open { .. } | Circuit::HalfOpen { probing: false } => {
                    b.circuit = Circuit::HalfOpen { probing: true };
                    true
                }
            }
        };
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.requests.fetch_add(1, Ordering::Relaxed);
        Some(InFlight {
            health: Arc::clone(self),
            probe,
            settled: false,
            started: now,
        })
    }

    pub fn snapshot(&self) -> Snapshot {
        let (circuit, consecutive_failures) = {
            let b = lock(&self.breaker);
            (b.circuit, b.consecutive_failures)
        };
        Snapshot {
            circuit,
            consecutive_failures,
            ewma_latency: self.latency_nanos().map(|n| Duration::from_nanos(n as u64)),
            in_flight: self.in_flight(),
            requests: self.requests.load(Ordering::Relaxed),
            failures: self.failures.load(Ordering::Relaxed),
            concurrency_limit: self.adaptive.limit(),
        }
    }
}

/// What a failed call says about the deployment's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// It failed (connect error, timeout, 429/5xx, garbage): counts towards opening the circuit.
    Unhealthy,
    /// It answered properly; the request was at fault (a non-retryable 4xx).
    Healthy,
    /// The request never left the gateway (it could not be translated).
    Unknown,
}

impl Verdict {
    pub fn of(err: &gateway_core::ProviderError) -> Self {
        use gateway_core::ProviderError;
        match err {
            ProviderError::Status { .. } if !err.is_retryable() => Verdict::Healthy,
            ProviderError::Unsupported(_) | ProviderError::UnsupportedParam { .. } => {
                Verdict::Unknown
            }
            _ => Verdict::Unhealthy,
        }
    }
}

/// One attempt against one deployment, counted in flight until dropped.
#[derive(Debug)]
pub(crate) struct InFlight {
    health: Arc<Health>,
    probe: bool,
    settled: bool,
    started: Instant,
}

impl InFlight {
    /// The deployment answered well: close the circuit and record the latency.
    pub fn succeed(&mut self, now: Instant) {
        let rtt = now.saturating_duration_since(self.started);
        lock(&self.health.latency).observe(rtt, now);
        self.health
            .adaptive
            .succeeded(rtt, self.health.in_flight(), now);
        self.healthy();
    }

    /// The deployment answered, but the request was at fault (a non-retryable 4xx): it is
    /// healthy, though the latency says nothing.
    pub fn healthy(&mut self) {
        let mut b = lock(&self.health.breaker);
        b.consecutive_failures = 0;
        b.circuit = Circuit::Closed;
        self.settled = true;
    }

    /// Record what a failure says about the deployment.
    pub fn failed(
        &mut self,
        err: &gateway_core::ProviderError,
        now: Instant,
        config: &CircuitConfig,
    ) {
        use gateway_core::ProviderError;
        if matches!(
            err,
            ProviderError::Status { status: 429, .. } | ProviderError::Timeout(_)
        ) {
            self.health.adaptive.overloaded(now);
        }
        match Verdict::of(err) {
            Verdict::Unhealthy => self.fail(now, config),
            Verdict::Healthy => self.healthy(),
            Verdict::Unknown => {}
        }
    }

    /// The deployment failed: count it; open the circuit at the threshold,
    /// or again at once when this was the half-open probe.
    /// An opening (from closed, or from half-open after a failed probe) is reported to the
    /// deployment's observer, after the lock is released; a failure of a call that started
    /// before the circuit opened only extends the cooldown.
    pub fn fail(&mut self, now: Instant, config: &CircuitConfig) {
        self.health.failures.fetch_add(1, Ordering::Relaxed);
        let opened = {
            let mut b = lock(&self.health.breaker);
            b.consecutive_failures = b.consecutive_failures.saturating_add(1);
            let reopen = matches!(b.circuit, Circuit::HalfOpen { .. });
            let was_open = matches!(b.circuit, Circuit::Open { .. });
            if reopen || b.consecutive_failures >= config.failure_threshold {
                b.circuit = Circuit::Open {
                    until: later(now, config.cooldown),
                };
                (!was_open).then_some((reopen, b.consecutive_failures))
            } else {
                None
            }
        };
        self.settled = true;
        if let (Some((reopened, failures)), Some(n)) = (opened, self.health.notice.get()) {
            n.observer.circuit_opened(&CircuitOpened {
                model: n.model.clone(),
                provider: n.provider.clone(),
                upstream_model: n.upstream_model.clone(),
                region: n.region.clone(),
                consecutive_failures: failures,
                cooldown: config.cooldown,
                reopened,
            });
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.health.in_flight.fetch_sub(1, Ordering::Relaxed);
        if self.probe && !self.settled {
            let mut b = lock(&self.health.breaker);
            if b.circuit == (Circuit::HalfOpen { probing: true }) {
                b.circuit = Circuit::HalfOpen { probing: false };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn peak_ewma_jumps_up_and_decays_down() {
        let mut e = PeakEwma::default();
        let t0 = Instant::now();
        e.observe(Duration::from_millis(100), t0);
        e.observe(Duration::from_millis(500), t0);
        assert_eq!(e.nanos as u64, 500_000_000);
        e.observe(Duration::from_millis(100), t0 + Duration::from_secs(10));
        let ms = e.nanos / 1e6;
        assert!((240.0..=250.0).contains(&ms), "{ms}");
    }

    #[tokio::test(start_paused = true)]
    async fn cancelled_probe_is_released() {
        let h = Arc::new(Health::default());
        let now = Instant::now();
        let cfg = CircuitConfig {
            failure_threshold: 1,
            cooldown: Duration::from_secs(1),
        };
        h.try_acquire(now).unwrap().fail(now, &cfg);
        assert!(h.try_acquire(now).is_none());
        let later = now + Duration::from_secs(1);
        let probe = h.try_acquire(later).unwrap();
        assert!(h.try_acquire(later).is_none(), "one probe at a time");
        drop(probe);
        assert!(h.try_acquire(later).is_some());
        assert_eq!(h.in_flight(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn upstream_429_lowers_the_adaptive_limit_and_saturation_refuses() {
        let h = Arc::new(Health::with_adaptive(AdaptiveConfig {
            initial: 2,
            max: 2,
            ..AdaptiveConfig::default()
        }));
        let now = Instant::now();
        let cfg = CircuitConfig::default();
        let too_many = gateway_core::ProviderError::Status {
            status: 429,
            message: String::new(),
            retry_after: None,
        };
        h.try_acquire(now).unwrap().failed(&too_many, now, &cfg);
        assert_eq!(h.snapshot().concurrency_limit, Some(1));
        let held = h.try_acquire(now).unwrap();
        assert!(h.saturated());
        assert!(h.try_acquire(now).is_none());
        drop(held);
        let mut p = h.try_acquire(now).unwrap();
        p.succeed(now + Duration::from_millis(5));
        drop(p);
        assert_eq!(
            h.snapshot().concurrency_limit,
            Some(2),
            "a busy success adds one"
        );
    }
}
