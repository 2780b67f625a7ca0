//! The bandit's random source and its Beta draws, from `rand` and `rand_distr`. Per request
//! the router draws from the calling thread's own `SmallRng` (seeded from the system; no
//! state shared between threads); a seeded bandit (tests, simulations) draws from one seeded
//! generator behind a mutex instead: reproducible on one thread, not meant for throughput.

use std::cell::RefCell;
use std::sync::{Mutex, PoisonError};

use rand::rngs::SmallRng;
use rand::{Rng, RngExt, SeedableRng};
use rand_distr::{Beta, Distribution};

thread_local! {
    static LOCAL: RefCell<SmallRng> = RefCell::new(rand::make_rng());
}

/// Where draws come from.
#[derive(Debug)]
pub enum Source {
    /// The calling thread's own generator.
    Thread,
    /// One seeded generator (for reproducible runs).
    Seeded(Mutex<SmallRng>),
}

impl Source {
    pub fn new(seed: Option<u64>) -> Self {
        match seed {
            Some(s) => Source::Seeded(Mutex::new(SmallRng::seed_from_u64(s))),
            None => Source::Thread,
        }
    }

    fn with<T>(&self, draw: impl FnOnce(&mut SmallRng) -> T) -> T {
        match self {
            Source::Thread => LOCAL.with(|rng| draw(&mut rng.borrow_mut())),
            Source::Seeded(rng) => draw(&mut rng.lock().unwrap_or_else(PoisonError::into_inner)),
        }
    }

    pub fn next_u64(&self) -> u64 {
        self.with(|rng| rng.next_u64())
    }

    /// Uniform in (0, 1].
    pub fn unit(&self) -> f64 {
        1.0 - self.with(|rng| rng.random::<f64>())
    }

    /// A draw from Beta(alpha, beta); both must be > 0 (0.5 otherwise).
    pub fn beta(&self, alpha: f64, beta: f64) -> f64 {
        match Beta::new(alpha, beta) {
            Ok(dist) => self.with(|rng| dist.sample(rng)),
            Err(_) => 0.5,
        }
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
