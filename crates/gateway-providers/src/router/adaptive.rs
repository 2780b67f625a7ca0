//! Adaptive concurrency per deployment (AIMD): the router lowers the number of calls it sends
//! at once to a deployment when the provider answers 429, times out, or its latency climbs,
//! and raises it again as it recovers.
//!
//! - Multiplicative decrease: a 429 or a timeout multiplies the limit by `backoff` (0.5); a
//!   latency climb (the recent latency average above `latency_tolerance` times the long-run
//!   one) multiplies it by 0.9. At most one decrease per round trip (the recent latency, at
//!   least 100 ms), so one burst of 429s halves the limit once, not fifty times.
//! - Additive increase: each success while at least half the limit is in use adds 1, up to
//!   `max` (an idle deployment proves nothing about more load).
//! - The limit never drops below `min` (1 by default): a deployment is never shut off by it.
//!
//! A deployment at its limit is skipped like an open circuit; when every deployment of a model
//! is, the call gets 429 with `retry-after`. The current limit is in `DeploymentState`.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

/// Recent and long-run latency weights per sample.
const SHORT_ALPHA: f64 = 0.3;
const LONG_ALPHA: f64 = 0.02;
/// Samples before latency may lower the limit.
const MIN_SAMPLES: u32 = 20;
const LATENCY_DECREASE: f64 = 0.9;
const MIN_ROUND: Duration = Duration::from_millis(100);

/// Settings of the adaptive limit (the same for every deployment of a router).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdaptiveConfig {
    pub enabled: bool,
    /// The limit at start.
    pub initial: u32,
    pub min: u32,
    pub max: u32,
    /// Factor applied on a 429 or timeout, in (0, 1).
    pub backoff: f64,
    /// Recent latency above this many times the long-run latency counts as overload (> 1).
    pub latency_tolerance: f64,
}

impl Default for AdaptiveConfig {
    /// On, starting (and capped) at 1000 calls in flight per deployment: it only ever bites
    /// once a provider pushes back.
    fn default() -> Self {
        AdaptiveConfig {
            enabled: true,
            initial: 1000,
            min: 1,
            max: 1000,
            backoff: 0.5,
            latency_tolerance: 2.0,
        }
    }
}

impl AdaptiveConfig {
    /// Off: no limit at all.
    pub fn disabled() -> Self {
        AdaptiveConfig {
            enabled: false,
            ..AdaptiveConfig::default()
        }
    }

    fn sane(mut self) -> Self {
        self.min = self.min.max(1);
        self.max = self.max.max(self.min);
        self.initial = self.initial.clamp(self.min, self.max);
        if !(self.backoff > 0.0 && self.backoff < 1.0) {
            self.backoff = 0.5;
        }
        if self.latency_tolerance.is_nan() || self.latency_tolerance <= 1.0 {
            self.latency_tolerance = 2.0;
        }
        self
    }
}

#[derive(Debug, Default)]
struct Latency {
    short: f64,
    long: f64,
    samples: u32,
    last_decrease: Option<Instant>,
}

#[derive(Debug)]
pub(crate) struct Adaptive {
    config: AdaptiveConfig,
    limit: AtomicU32,
    latency: Mutex<Latency>,
}

impl Default for Adaptive {
    fn default() -> Self {
        Adaptive::new(AdaptiveConfig::default())
    }
}

impl Adaptive {
    pub fn new(config: AdaptiveConfig) -> Self {
        let config = config.sane();
        Adaptive {
            limit: AtomicU32::new(config.initial),
            config,
            latency: Mutex::new(Latency::default()),
        }
    }

    /// The current limit; `None` when adaptive concurrency is off.
    pub fn limit(&self) -> Option<u32> {
        self.config
            .enabled
            .then(|| self.limit.load(Ordering::Relaxed))
    }

    /// Whether one more call may go out with `in_flight` already out.
    pub fn admits(&self, in_flight: u64) -> bool {
        self.limit().is_none_or(|l| in_flight < u64::from(l))
    }

    fn decrease(&self, factor: f64, now: Instant, lat: &mut Latency) {
        let round = Duration::from_secs_f64(lat.short / 1e9).max(MIN_ROUND);
        if lat
            .last_decrease
            .is_some_and(|t| now.saturating_duration_since(t) < round)
        {
            return;
        }
        lat.last_decrease = Some(now);
        let _ = self
            .limit
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |l| {
                Some(((f64::from(l) * factor).floor() as u32).max(self.config.min))
            });
    }

    /// The provider pushed back (429, timeout).
    pub fn overloaded(&self, now: Instant) {
        if !self.config.enabled {
            return;
        }
        let mut lat = self.latency.lock().unwrap_or_else(PoisonError::into_inner);
        self.decrease(self.config.backoff, now, &mut lat);
    }

    /// A success after `rtt`, with `in_flight` calls out (this one included).
    pub fn succeeded(&self, rtt: Duration, in_flight: u64, now: Instant) {
        if !self.config.enabled {
            return;
        }
        let mut lat = self.latency.lock().unwrap_or_else(PoisonError::into_inner);
        let x = rtt.as_nanos() as f64;
        if lat.samples == 0 {
            (lat.short, lat.long) = (x, x);
        } else {
            lat.short += SHORT_ALPHA * (x - lat.short);
            lat.long += LONG_ALPHA * (x - lat.long);
        }
        lat.samples = lat.samples.saturating_add(1);
        if lat.samples >= MIN_SAMPLES && lat.short > self.config.latency_tolerance * lat.long {
            self.decrease(LATENCY_DECREASE, now, &mut lat);
            return;
        }
        drop(lat);
        let max = self.config.max;
        let _ = self
            .limit
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |l| {
                (in_flight.saturating_mul(2) >= u64::from(l) && l < max).then_some(l + 1)
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Adaptive {
        Adaptive::new(AdaptiveConfig {
            initial: 16,
            max: 32,
            ..AdaptiveConfig::default()
        })
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_of_429s_halves_once_per_round_then_recovers() {
        let a = small();
        let now = Instant::now();
        for _ in 0..10 {
            a.overloaded(now);
        }
        assert_eq!(a.limit(), Some(8), "one decrease per round");
        a.overloaded(now + Duration::from_millis(150));
        assert_eq!(a.limit(), Some(4));
        assert!(a.admits(3) && !a.admits(4));
        // Busy successes raise it by one each; idle ones do not.
        a.succeeded(Duration::from_millis(10), 1, now);
        assert_eq!(a.limit(), Some(4));
        for _ in 0..6 {
            let l = u64::from(a.limit().unwrap());
            a.succeeded(Duration::from_millis(10), l, now);
        }
        assert_eq!(a.limit(), Some(10));
    }

    #[tokio::test(start_paused = true)]
    async fn climbing_latency_lowers_the_limit_and_min_holds() {
        let a = small();
        let mut now = Instant::now();
        for _ in 0..MIN_SAMPLES {
            a.succeeded(Duration::from_millis(100), 1, now);
        }
        assert_eq!(a.limit(), Some(16));
        for _ in 0..5 {
            now += Duration::from_secs(2);
            a.succeeded(Duration::from_millis(900), 1, now);
        }
        assert!(a.limit().unwrap() < 16, "{:?}", a.limit());
        for i in 0..100 {
            a.overloaded(now + Duration::from_secs(10 * (i + 1)));
        }
        assert_eq!(a.limit(), Some(1));
        assert!(a.admits(0));
        assert_eq!(Adaptive::new(AdaptiveConfig::disabled()).limit(), None);
    }
}
