//! The order in which a group's deployments are tried, per strategy, and the lock-free random
//! source behind weighted choices and backoff jitter.

use std::sync::atomic::{AtomicU64, Ordering};

use super::Slot;
use super::policy::Strategy;

/// SplitMix64 over an atomic counter: lock-free, good enough for load spreading and jitter.
#[derive(Debug)]
pub(crate) struct Rng(AtomicU64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(AtomicU64::new(seed))
    }

    pub fn from_time() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        Rng::new(nanos as u64 ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    pub fn next_u64(&self) -> u64 {
        let mut z = self
            .0
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    pub fn unit(&self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64
    }
}

/// Efraimidis–Spirakis key: sorting ascending by `-ln(u) / weight` is weighted sampling
/// without replacement. Weight 0 sorts last.
fn weighted_key(rng: &Rng, weight: u32) -> f64 {
    if weight == 0 {
        f64::INFINITY
    } else {
        -rng.unit().ln() / f64::from(weight)
    }
}

/// `eligible` (indices into `slots`) in the order to try them.
pub(crate) fn order(
    strategy: Strategy,
    slots: &[Slot],
    eligible: Vec<usize>,
    rng: &Rng,
) -> Vec<usize> {
    // A model served by one deployment (the common case) has one order: no keys to compute,
    // no random draw, no second vector.
    if eligible.len() < 2 {
        return eligible;
    }
    let mut keyed: Vec<(usize, f64, f64)> = eligible
        .iter()
        .map(|&i| {
            let slot = &slots[i];
            let random = weighted_key(rng, slot.deployment.weight);
            let primary = match strategy {
                Strategy::Priority => f64::from(slot.deployment.priority),
                Strategy::WeightedRandom => random,
                Strategy::LeastLatency => {
                    let in_flight = slot.health.in_flight() as f64;
                    slot.health
                        .latency_nanos()
                        .map_or(0.0, |rtt| rtt * (in_flight + 1.0))
                }
                Strategy::LeastOutstanding => slot.health.in_flight() as f64,
            };
            (i, primary, random)
        })
        .collect();
    keyed.sort_by(|a, b| {
        a.1.total_cmp(&b.1)
            .then_with(|| {
                slots[a.0]
                    .deployment
                    .priority
                    .cmp(&slots[b.0].deployment.priority)
            })
            .then_with(|| a.2.total_cmp(&b.2))
    });
    keyed.into_iter().map(|(i, ..)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_is_in_range_and_varies() {
        let rng = Rng::new(7);
        let xs: Vec<f64> = (0..1000).map(|_| rng.unit()).collect();
        assert!(xs.iter().all(|x| *x > 0.0 && *x <= 1.0));
        let mean = xs.iter().sum::<f64>() / 1000.0;
        assert!((0.45..0.55).contains(&mean), "{mean}");
    }
}
