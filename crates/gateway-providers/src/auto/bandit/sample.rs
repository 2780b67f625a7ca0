//! The bandit's random source and its Beta draws. Per request the router draws from a
//! thread's own SplitMix64 (no state shared between threads); a seeded bandit (tests,
//! simulations) draws from one seeded sequence instead, reproducible on one thread.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

thread_local! {
    static LOCAL: Cell<u64> = Cell::new(seed_for_thread());
}

fn seed_for_thread() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    // The address of a thread-local differs per thread: two threads started in the same
    // nanosecond still get different sequences.
    let marker = 0u8;
    mix(nanos ^ (&raw const marker as u64).rotate_left(32))
}

/// Where draws come from.
#[derive(Debug)]
pub enum Source {
    /// The calling thread's own generator.
    Thread,
    /// One seeded sequence (an atomic counter; for reproducible runs, not for throughput).
    Seeded(AtomicU64),
}

impl Source {
    pub fn new(seed: Option<u64>) -> Self {
        match seed {
            Some(s) => Source::Seeded(AtomicU64::new(s)),
            None => Source::Thread,
        }
    }

    pub fn next_u64(&self) -> u64 {
        match self {
            Source::Thread => LOCAL.with(|c| {
                let s = c.get().wrapping_add(GOLDEN);
                c.set(s);
                mix(s)
            }),
            Source::Seeded(a) => mix(a.fetch_add(GOLDEN, Ordering::Relaxed).wrapping_add(GOLDEN)),
        }
    }

    /// Uniform in (0, 1].
    pub fn unit(&self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64
    }

    /// Standard normal (Box-Muller, one of the pair).
    fn normal(&self) -> f64 {
        let (u, v) = (self.unit(), self.unit());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    /// Gamma(shape, 1) by Marsaglia and Tsang; shapes below 1 by the boost
    /// Gamma(a) = Gamma(a + 1) * U^(1/a).
    fn gamma(&self, shape: f64) -> f64 {
        if shape < 1.0 {
            return self.gamma(shape + 1.0) * self.unit().powf(1.0 / shape);
        }
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.normal();
            let v = 1.0 + c * x;
            if v <= 0.0 {
                continue;
            }
            let v = v * v * v;
            let u = self.unit();
            if u < 1.0 - 0.0331 * x * x * x * x || u.ln() < 0.5 * x * x + d * (1.0 - v + v.ln()) {
                return d * v;
            }
        }
    }

    /// A draw from Beta(alpha, beta); both must be > 0.
    pub fn beta(&self, alpha: f64, beta: f64) -> f64 {
        let x = self.gamma(alpha);
        let y = self.gamma(beta);
        if x + y > 0.0 { x / (x + y) } else { 0.5 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beta_draws_have_the_right_mean_and_spread() {
        let s = Source::new(Some(7));
        for (a, b) in [(2.0, 8.0), (30.0, 10.0), (0.5, 0.5), (1.0, 1.0)] {
            let n = 20_000;
            let draws: Vec<f64> = (0..n).map(|_| s.beta(a, b)).collect();
            assert!(draws.iter().all(|x| (0.0..=1.0).contains(x)));
            let mean = draws.iter().sum::<f64>() / n as f64;
            let var = draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
            let want_mean = a / (a + b);
            let want_var = a * b / ((a + b).powi(2) * (a + b + 1.0));
            assert!((mean - want_mean).abs() < 0.01, "{a},{b}: mean {mean}");
            assert!(
                (var - want_var).abs() < 0.1 * want_var + 1e-4,
                "{a},{b}: var {var}"
            );
        }
    }

    #[test]
    fn a_seeded_source_repeats_and_threads_differ() {
        let (a, b) = (Source::new(Some(3)), Source::new(Some(3)));
        assert_eq!(
            (0..5).map(|_| a.next_u64()).collect::<Vec<_>>(),
            (0..5).map(|_| b.next_u64()).collect::<Vec<_>>()
        );
        let here = Source::Thread.next_u64();
        let there = std::thread::spawn(|| Source::Thread.next_u64())
            .join()
            .unwrap();
        assert_ne!(here, there);
    }
}
