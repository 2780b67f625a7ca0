//! Robust rolling statistics with hour-of-day seasonality, and the windowed scores read
//! against them.
//!
//! A [`Seasonal`] baseline keeps, for each hour of the day (UTC), an exponentially weighted
//! mean and variance of the per-interval value of one signal. Once an hour has seen enough
//! samples, each new sample is winsorised to `mean + WINSOR * sd` before it is learned, so
//! an attack teaches the baseline little. Day-of-week seasonality is not modelled: a week
//! holds too few samples per (day, hour) cell to learn within the warm-up, and the level
//! term of the score (`LEVEL`) absorbs weekday/weekend differences instead.
//!
//! A [`Window`] accumulates, with exponential decay of time constant `tau` intervals, the
//! observed values, what the baseline expected, and the variance of that expectation; its
//! score is `(observed - expected) / sqrt(variance + (LEVEL * expected)^2)` — a z-like score
//! that only rises for increases, and tolerates a whole day running `LEVEL` above its usual
//! level without alarm.

use serde::{Deserialize, Serialize};

/// Samples of an hour are clipped to `mean + WINSOR * sd` once warm.
const WINSOR: f32 = 3.0;
/// How many samples an hour keeps its memory over (EWMA weight floor `1 / MEMORY`).
const MEMORY: f32 = 1200.0;
/// Relative level deviation the score tolerates (day-to-day variation of honest traffic).
pub const LEVEL: f64 = 0.5;

/// One hour of the day: EWMA mean and variance, and how many samples it has learned from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Hour {
    #[serde(rename = "m")]
    pub mean: f32,
    #[serde(rename = "v")]
    pub var: f32,
    #[serde(rename = "n")]
    pub n: u32,
}

/// A baseline with hour-of-day seasonality.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Seasonal {
    pub hours: [Hour; 24],
}

impl Seasonal {
    /// Learns `x` for `hour`, winsorised once the hour has `warm` samples.
    pub fn learn(&mut self, hour: usize, x: f64, warm: u32) {
        let h = &mut self.hours[hour % 24];
        let mut x = x as f32;
        if h.n >= warm {
            let cap = h.mean + WINSOR * h.var.max(0.0).sqrt().max(h.mean.max(1e-3));
            x = x.min(cap);
        }
        h.n = h.n.saturating_add(1);
        let w = (1.0 / h.n as f32).max(1.0 / MEMORY);
        let delta = x - h.mean;
        h.mean += w * delta;
        h.var = (1.0 - w) * (h.var + w * delta * delta);
    }

    /// Mean and variance expected for `hour`, if it has `warm` samples.
    pub fn expect(&self, hour: usize, warm: u32) -> Option<(f64, f64)> {
        let h = &self.hours[hour % 24];
        (h.n >= warm).then(|| (f64::from(h.mean), f64::from(h.var)))
    }
}

/// An exponentially decaying window of observed against expected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Window {
    #[serde(rename = "o")]
    pub observed: f64,
    #[serde(rename = "e")]
    pub expected: f64,
    #[serde(rename = "v")]
    pub var: f64,
}

impl Window {
    /// Adds one interval: value `x` where `mean` with variance `var` was expected.
    pub fn push(&mut self, tau: f64, x: f64, mean: f64, var: f64) {
        let a = 1.0 - 1.0 / tau;
        self.observed = a * self.observed + x;
        self.expected = a * self.expected + mean;
        self.var = a * a * self.var + var;
    }

    /// The z-like score of the window; `min_excess` is the smallest excess worth a score.
    pub fn score(&self, min_excess: f64) -> f64 {
        let excess = self.observed - self.expected;
        if excess <= min_excess.max(0.0) {
            return 0.0;
        }
        let level = LEVEL * self.expected;
        excess / (self.var + level * level).max(1e-9).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_each_hour_separately() {
        let mut s = Seasonal::default();
        for i in 0..200 {
            s.learn(3, 10.0 + f64::from(i % 3), 30);
            s.learn(15, 100.0, 30);
        }
        let (m3, v3) = s.expect(3, 30).unwrap();
        assert!((m3 - 11.0).abs() < 0.2, "{m3}");
        assert!(v3 > 0.3 && v3 < 1.0, "{v3}");
        let (m15, _) = s.expect(15, 30).unwrap();
        assert!((m15 - 100.0).abs() < 1e-3);
        assert!(
            s.expect(4, 30).is_none(),
            "an hour without samples is not warm"
        );
    }

    #[test]
    fn winsorising_limits_what_an_outlier_teaches() {
        let mut s = Seasonal::default();
        for _ in 0..100 {
            s.learn(0, 5.0, 30);
        }
        s.learn(0, 10_000.0, 30);
        let (m, _) = s.expect(0, 30).unwrap();
        assert!(m < 5.5, "one huge sample barely moves the mean: {m}");
    }

    #[test]
    fn window_scores_only_excess() {
        let mut w = Window::default();
        for _ in 0..100 {
            w.push(5.0, 1.0, 1.0, 1.0);
        }
        assert_eq!(w.score(0.0), 0.0);
        for _ in 0..5 {
            w.push(5.0, 10.0, 1.0, 1.0);
        }
        assert!(w.score(0.0) > 5.0, "{}", w.score(0.0));
        assert_eq!(w.score(1e9), 0.0, "below the minimum excess");
    }
}
