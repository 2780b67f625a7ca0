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
    let regions = (strategy == Strategy::Nearest).then(|| region_latencies(slots, &eligible));
    // (index, primary, tie-break within the primary, random)
    let mut keyed: Vec<(usize, f64, f64, f64)> = eligible
        .iter()
        .map(|&i| {
            let slot = &slots[i];
            let random = weighted_key(rng, slot.deployment.weight);
            let (primary, within) = match strategy {
                Strategy::Priority => (f64::from(slot.deployment.priority), 0.0),
                Strategy::WeightedRandom => (random, 0.0),
                Strategy::LeastLatency => {
                    let in_flight = slot.health.in_flight() as f64;
                    let latency = slot
                        .health
                        .latency_nanos()
                        .map_or(0.0, |rtt| rtt * (in_flight + 1.0));
                    (latency, 0.0)
                }
                Strategy::LeastOutstanding => (slot.health.in_flight() as f64, 0.0),
                Strategy::Nearest => {
                    let region = slot.deployment.region.as_deref();
                    let region_latency = regions
                        .as_ref()
                        .and_then(|r| r.iter().find(|(name, _)| *name == region))
                        .map_or(f64::INFINITY, |(_, latency)| *latency);
                    (region_latency, slot.health.latency_nanos().unwrap_or(0.0))
                }
            };
            (i, primary, within, random)
        })
        .collect();
    keyed.sort_by(|a, b| {
        a.1.total_cmp(&b.1)
            .then_with(|| a.2.total_cmp(&b.2))
            .then_with(|| {
                slots[a.0]
                    .deployment
                    .priority
                    .cmp(&slots[b.0].deployment.priority)
            })
            .then_with(|| a.3.total_cmp(&b.3))
    });
    keyed.into_iter().map(|(i, ..)| i).collect()
}

/// Each region among `eligible` with its latency: that of its fastest deployment whose circuit
/// admits calls now (unmeasured counts as 0, so a new region is explored), infinity when every
/// deployment of the region is out of rotation. Regions are few: a vector beats a map.
fn region_latencies<'a>(slots: &'a [Slot], eligible: &[usize]) -> Vec<(Option<&'a str>, f64)> {
    let now = tokio::time::Instant::now();
    let mut regions: Vec<(Option<&str>, f64)> = Vec::with_capacity(4);
    for &i in eligible {
        let slot = &slots[i];
        let latency = if slot.health.admits(now) {
            slot.health.latency_nanos().unwrap_or(0.0)
        } else {
            f64::INFINITY
        };
        let region = slot.deployment.region.as_deref();
        match regions.iter_mut().find(|(name, _)| *name == region) {
            Some((_, best)) => *best = best.min(latency),
            None => regions.push((region, latency)),
        }
    }
    regions
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
