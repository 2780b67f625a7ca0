//! One tracked entity's learned state: a seasonal baseline and decaying windows per rate
//! signal, the networks and models it is known to use, and its last anomaly. Serialisable,
//! so the baselines outlive a restart.

use serde::{Deserialize, Serialize};

use super::counters::{EntityKind, Sample};
use super::signals::Signal;
use super::stats::{Seasonal, Window};

/// Window time constants, in minutes: a burst, an hour, an afternoon.
pub const WINDOW_MINUTES: [f64; 3] = [5.0, 60.0, 360.0];
/// Networks remembered per key (least recently seen forgotten first).
const KNOWN_NETWORKS: usize = 64;
/// Models remembered per key.
const KNOWN_MODELS: usize = 16;
/// Score of one new network within the novelty window (decays over an hour).
pub const NEW_NETWORK_WEIGHT: f64 = 2.0;
/// Score of one new model within the novelty window.
pub const NEW_MODEL_WEIGHT: f64 = 3.0;
/// The novelty window, in minutes.
const NOVELTY_MINUTES: f64 = 60.0;

/// A rate signal's baseline and windows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rate {
    pub signal: Signal,
    pub baseline: Seasonal,
    #[serde(default)]
    pub windows: [Window; 3],
}

/// A bounded set of hashes with the time each was last seen.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Known(pub Vec<(u32, u64)>);

impl Known {
    /// Marks `hash` seen at `now`; true when it was not known.
    fn see(&mut self, hash: u32, now: u64, cap: usize) -> bool {
        if let Some(entry) = self.0.iter_mut().find(|(h, _)| *h == hash) {
            entry.1 = now;
            return false;
        }
        if self.0.len() >= cap
            && let Some(oldest) = self
                .0
                .iter()
                .enumerate()
                .min_by_key(|(_, (_, seen))| *seen)
                .map(|(i, _)| i)
        {
            self.0.swap_remove(oldest);
        }
        self.0.push((hash, now));
        true
    }
}

/// A signal's score in one interval, with what was observed and expected over the window
/// that scored highest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalScore {
    pub signal: Signal,
    pub score: f64,
    pub observed: f64,
    pub expected: f64,
}

/// Everything the detector knows about one entity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityState {
    pub kind: EntityKind,
    pub id: String,
    pub tenant: Option<String>,
    /// When it was first seen (unix seconds).
    pub first_seen: u64,
    /// When it last had activity.
    pub last_active: u64,
    pub rates: Vec<Rate>,
    /// Usual tokens and cost per request (long EWMA), for the size signals' variance floor.
    pub tokens_per_request: f64,
    pub cost_per_request: f64,
    pub size_samples: u32,
    pub networks: Known,
    pub models: Known,
    pub new_networks: f64,
    pub new_models: f64,
    /// The last anomaly raised (unix seconds, action level).
    pub last_event: Option<(u64, u8)>,
}

/// What a fold needs to score.
pub struct Scoring {
    pub now: u64,
    pub interval_secs: u64,
    pub warm: bool,
    pub warm_hour: u32,
    pub learn: bool,
}

impl EntityState {
    pub fn new(kind: EntityKind, id: String, tenant: Option<String>, now: u64) -> Self {
        EntityState {
            kind,
            id,
            tenant,
            first_seen: now,
            last_active: now,
            rates: Signal::rates_of(kind)
                .iter()
                .map(|&signal| Rate {
                    signal,
                    baseline: Seasonal::default(),
                    windows: Default::default(),
                })
                .collect(),
            tokens_per_request: 0.0,
            cost_per_request: 0.0,
            size_samples: 0,
            networks: Known::default(),
            models: Known::default(),
            new_networks: 0.0,
            new_models: 0.0,
            last_event: None,
        }
    }

    /// Scores one interval's sample, then learns it (unless `learn` is false).
    pub fn step(&mut self, sample: &Sample, s: &Scoring) -> Vec<SignalScore> {
        let hour = ((s.now / 3600) % 24) as usize;
        let mut scores = Vec::new();
        let prior = self.kind == EntityKind::Network;
        let requests_mean = self
            .rates
            .iter()
            .find(|r| r.signal == Signal::Requests)
            .and_then(|r| r.baseline.expect(hour, s.warm_hour))
            .map_or(0.0, |(m, _)| m);
        let minutes = s.interval_secs as f64 / 60.0;
        for rate in &mut self.rates {
            let x = rate.signal.value(sample);
            let expected = if prior {
                Some((0.0, prior_variance(rate.signal)))
            } else if s.warm {
                rate.baseline.expect(hour, s.warm_hour)
            } else {
                None
            };
            let size = match rate.signal {
                Signal::Tokens => self.tokens_per_request,
                Signal::CostUsd => self.cost_per_request,
                _ => 1.0,
            };
            match expected {
                Some((mean, var)) => {
                    let floor = if rate.signal.is_size() {
                        requests_mean.max(0.2) * 2.0 * size * size
                    } else {
                        mean.max(0.2)
                    };
                    let var = var.max(floor);
                    let mut best: Option<SignalScore> = None;
                    for (w, tau) in rate.windows.iter_mut().zip(WINDOW_MINUTES) {
                        w.push((tau / minutes).max(1.5), x, mean, var);
                        let score = w.score(rate.signal.min_excess_events() * size);
                        if score > best.as_ref().map_or(0.0, |b| b.score) {
                            best = Some(SignalScore {
                                signal: rate.signal,
                                score,
                                observed: w.observed,
                                expected: w.expected,
                            });
                        }
                    }
                    scores.extend(best);
                }
                None => rate.windows = Default::default(),
            }
            if s.learn && !prior {
                rate.baseline.learn(hour, x, s.warm_hour);
            }
        }
        if self.kind == EntityKind::Key {
            self.novelty(sample, s, &mut scores);
        }
        if s.learn && sample.requests > 0 {
            self.size_samples = self.size_samples.saturating_add(1);
            let w = (1.0 / f64::from(self.size_samples)).max(1.0 / 5000.0);
            let n = sample.requests as f64;
            self.tokens_per_request += w * (sample.tokens as f64 / n - self.tokens_per_request);
            self.cost_per_request += w * (sample.cost_usd / n - self.cost_per_request);
        }
        if !sample.is_empty() {
            self.last_active = s.now;
        }
        scores
    }

    fn novelty(&mut self, sample: &Sample, s: &Scoring, scores: &mut Vec<SignalScore>) {
        let decay = 1.0 - s.interval_secs as f64 / 60.0 / NOVELTY_MINUTES;
        let decay = decay.max(0.0);
        let mut new_networks = 0.0;
        for &net in &sample.networks {
            if self.networks.see(net, s.now, KNOWN_NETWORKS) && s.warm {
                new_networks += 1.0;
            }
        }
        let mut new_models = 0.0;
        for &model in &sample.models {
            if self.models.see(model, s.now, KNOWN_MODELS) && s.warm {
                new_models += 1.0;
            }
        }
        self.new_networks = self.new_networks * decay + new_networks;
        self.new_models = self.new_models * decay + new_models;
        for (signal, count, weight) in [
            (Signal::NewNetworks, self.new_networks, NEW_NETWORK_WEIGHT),
            (Signal::NewModels, self.new_models, NEW_MODEL_WEIGHT),
        ] {
            if count > 0.05 {
                scores.push(SignalScore {
                    signal,
                    score: count * weight,
                    observed: count,
                    expected: 0.0,
                });
            }
        }
    }
}

/// The fixed per-interval variance a client network is scored against (networks come and
/// go too fast to learn a baseline each).
fn prior_variance(signal: Signal) -> f64 {
    match signal {
        Signal::AuthFailures => 4.0,
        _ => 1.0,
    }
}
