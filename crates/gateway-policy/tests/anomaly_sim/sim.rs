//! A deterministic traffic simulator for anomaly detection: a seeded RNG, a simulated clock
//! in whole minutes, no sleeping. It drives the real [`Counters`] and [`Detector`] the
//! gateway runs, minute by minute: a normal population of keys with diurnal and weekly
//! seasonality, day-to-day and hour-to-hour variation, occasional new client networks and
//! models, background authentication failures; and on top, the attack scenarios.
//!
//! Shared by `tests/anomaly_sim.rs` (which asserts) and `examples/anomaly_eval.rs` (which
//! prints the figures published in docs/security.md).

#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr};

use gateway_policy::anomaly::{
    Anomaly, AnomalyConfig, CallObservation, Counters, Detector, EntityKind,
};

/// Monday 2026-01-05 00:00 UTC.
pub const START: u64 = 1_767_571_200;
pub const MINUTE: u64 = 60;
pub const DAY_MINUTES: u64 = 24 * 60;
pub const TENANT: &str = "acme";

/// splitmix64: small, seeded, reproducible everywhere.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.f64()
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    pub fn normal(&mut self) -> f64 {
        let u1 = self.f64().max(1e-12);
        let u2 = self.f64();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
    pub fn lognormal(&mut self, sigma: f64) -> f64 {
        (sigma * self.normal() - sigma * sigma / 2.0).exp()
    }
    pub fn poisson(&mut self, lambda: f64) -> u64 {
        if lambda <= 0.0 {
            return 0;
        }
        if lambda > 30.0 {
            return (lambda + lambda.sqrt() * self.normal()).round().max(0.0) as u64;
        }
        let limit = (-lambda).exp();
        let mut k = 0;
        let mut p = self.f64();
        while p > limit {
            k += 1;
            p *= self.f64();
        }
        k
    }
}

/// One simulated key's habits.
pub struct KeyProfile {
    pub id: String,
    /// Requests per minute at the busiest hour of a working day.
    pub peak_rate: f64,
    /// Hour (UTC) of the busiest time.
    pub peak_hour: f64,
    /// Weekend activity relative to weekdays.
    pub weekend: f64,
    /// Mean tokens per request.
    pub tokens: f64,
    /// USD per token of its usual model.
    pub price: f64,
    pub models: Vec<String>,
    pub addresses: Vec<IpAddr>,
    /// Today's level (day-to-day variation) and this hour's (bursty sessions).
    day_level: f64,
    hour_level: f64,
}

impl KeyProfile {
    pub fn random(rng: &mut Rng, index: usize) -> Self {
        let machines = 1 + rng.below(3) as usize;
        let addresses = (0..machines)
            .map(|_| {
                IpAddr::V4(Ipv4Addr::new(
                    10,
                    (index % 250) as u8,
                    rng.below(4) as u8,
                    1 + rng.below(250) as u8,
                ))
            })
            .collect();
        let models = (0..1 + rng.below(2))
            .map(|m| format!("model-{}", (index as u64 + m) % 5))
            .collect();
        KeyProfile {
            id: format!("key-{index:03}"),
            peak_rate: rng.range(0.3, 4.0),
            peak_hour: rng.range(9.0, 20.0),
            weekend: rng.range(0.1, 0.8),
            tokens: rng.range(300.0, 2500.0),
            price: rng.range(0.5e-6, 15e-6),
            models,
            addresses,
            day_level: 1.0,
            hour_level: 1.0,
        }
    }

    /// Expected requests per minute at `minute` since [`START`].
    pub fn rate(&self, minute: u64) -> f64 {
        let hour = (minute % DAY_MINUTES) as f64 / 60.0;
        let day = minute / DAY_MINUTES;
        let mut d = (hour - self.peak_hour).abs();
        d = d.min(24.0 - d);
        let shape = 0.03 + 0.97 * (-(d * d) / (2.0 * 3.5 * 3.5)).exp();
        let weekend = if day % 7 >= 5 { self.weekend } else { 1.0 };
        self.peak_rate * shape * weekend * self.day_level * self.hour_level
    }
}

/// One call to feed the counters.
pub struct Call {
    pub key: String,
    pub model: String,
    pub client: IpAddr,
    pub tokens: u64,
    pub cost_usd: f64,
    pub error: bool,
    pub refused: bool,
    pub findings: u32,
}

/// The simulated gateway: the real counters and detector, a population of keys, a clock.
pub struct Sim {
    pub rng: Rng,
    pub counters: Counters,
    pub detector: Detector,
    pub keys: Vec<KeyProfile>,
    /// Minutes since [`START`].
    pub minute: u64,
    /// Every anomaly raised, with the minute it was raised at.
    pub anomalies: Vec<(u64, Anomaly)>,
}

impl Sim {
    pub fn new(seed: u64, keys: usize, config: AnomalyConfig) -> Self {
        let mut rng = Rng::new(seed);
        let keys = (0..keys).map(|i| KeyProfile::random(&mut rng, i)).collect();
        Sim {
            rng,
            counters: Counters::new(config.max_entities),
            detector: Detector::new(config),
            keys,
            minute: 0,
            anomalies: Vec::new(),
        }
    }

    pub fn now(&self) -> u64 {
        START + self.minute * MINUTE
    }

    pub fn call(&self, c: &Call) {
        self.counters.observe_call(&CallObservation {
            tenant: TENANT,
            key: &c.key,
            model: &c.model,
            client: Some(c.client),
            tokens: c.tokens,
            cost_usd: c.cost_usd,
            error: c.error,
            refused: c.refused,
            findings: c.findings,
        });
    }

    /// One minute of normal traffic from every key, and the background failed logins.
    pub fn normal_minute(&mut self) {
        self.normal_minute_with(|_, _| {});
    }

    /// [`Sim::normal_minute`], with each call passed through `change` (key index, call).
    pub fn normal_minute_with(&mut self, mut change: impl FnMut(usize, &mut Call)) {
        let minute = self.minute;
        for k in 0..self.keys.len() {
            if minute.is_multiple_of(DAY_MINUTES) {
                self.keys[k].day_level = self.rng.lognormal(0.2);
                // Now and then a key is used from somewhere new (a laptop on the road), or
                // tries another model.
                if self.rng.f64() < 1.0 / 7.0 {
                    let ip = IpAddr::V4(Ipv4Addr::new(
                        100,
                        64 + self.rng.below(64) as u8,
                        self.rng.below(256) as u8,
                        1 + self.rng.below(250) as u8,
                    ));
                    self.keys[k].addresses.push(ip);
                }
                if self.rng.f64() < 1.0 / 14.0 {
                    let m = format!("model-{}", self.rng.below(8));
                    self.keys[k].models.push(m);
                }
            }
            if minute.is_multiple_of(60) {
                self.keys[k].hour_level = self.rng.lognormal(0.35);
            }
            let n = self.rng.poisson(self.keys[k].rate(minute));
            for _ in 0..n {
                let mut call = self.normal_call(k);
                change(k, &mut call);
                self.call(&call);
            }
        }
        // A few honest failed logins a day (typos, rotated keys) from a handful of networks.
        if self.rng.f64() < 6.0 / DAY_MINUTES as f64 {
            let ip = IpAddr::V4(Ipv4Addr::new(10, self.rng.below(50) as u8, 0, 9));
            let cred = self.rng.below(20);
            self.counters
                .observe_auth_failure(Some(ip), Some(TENANT), cred);
        }
    }

    /// A call like the key usually makes.
    pub fn normal_call(&mut self, k: usize) -> Call {
        let rng = &mut self.rng;
        let key = &self.keys[k];
        // Recent addresses are the likely ones: the newest is used as often as the first.
        let client = key.addresses[rng.below(key.addresses.len() as u64) as usize];
        let model = key.models[rng.below(key.models.len() as u64) as usize].clone();
        let tokens = (key.tokens * rng.lognormal(0.6)).round() as u64;
        Call {
            key: key.id.clone(),
            model,
            client,
            tokens,
            cost_usd: tokens as f64 * key.price,
            error: rng.f64() < 0.01,
            refused: rng.f64() < 0.005,
            findings: u32::from(rng.f64() < 0.02),
        }
    }

    /// Folds the minute's counters into the detector, records anomalies, advances the clock.
    pub fn fold(&mut self) {
        let now = self.now() + MINUTE;
        for a in self.detector.fold(&self.counters, now) {
            self.anomalies.push((self.minute, a));
        }
        self.minute += 1;
    }

    /// Runs `minutes` of normal traffic.
    pub fn run_normal(&mut self, minutes: u64) {
        for _ in 0..minutes {
            self.normal_minute();
            self.fold();
        }
    }

    /// Anomalies about `id` raised at or after `from` (minutes).
    pub fn raised_for(&self, kind: EntityKind, id: &str, from: u64) -> Vec<&(u64, Anomaly)> {
        self.anomalies
            .iter()
            .filter(|(m, a)| *m >= from && a.kind == kind && a.id == id)
            .collect()
    }
}

/// A random address in a network nobody in the simulation uses (198.18.0.0/15 and up).
pub fn attacker_address(rng: &mut Rng) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(
        198,
        18 + rng.below(2) as u8,
        rng.below(256) as u8,
        1 + rng.below(250) as u8,
    ))
}

/// The configuration the evaluation uses: the defaults, with throttling and suspension on.
pub fn eval_config() -> AnomalyConfig {
    AnomalyConfig {
        throttle_at: Some(14.0),
        suspend_at: Some(24.0),
        ..AnomalyConfig::default()
    }
}

/// Minutes of warm-up history before an evaluation starts: a week.
pub const HISTORY: u64 = 7 * DAY_MINUTES;
