//! The choice among a rule's candidates: the cheapest whose quality for the task is within
//! the margin of the best candidate's; among equally cheap ones, the fastest lately (the
//! router's smoothed latency), then the first listed.

use std::collections::BTreeMap;
use std::sync::Arc;

use gateway_core::features::TaskType;
use serde::Deserialize;

/// What routing knows of a model group it may choose: its price and its quality per task.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CandidateConfig {
    /// USD per million tokens, in and out alike. Unset: the price table's input and output
    /// prices of the group's first deployment (0 when it has none).
    #[serde(default)]
    pub cost: Option<f64>,
    /// Quality 0..=1 per task type name, and `default` for the others (default 0.5).
    #[serde(default)]
    pub quality: BTreeMap<String, f64>,
}

impl CandidateConfig {
    pub fn quality_for(&self, task: TaskType) -> f64 {
        self.quality
            .get(task.as_str())
            .or_else(|| self.quality.get("default"))
            .copied()
            .unwrap_or(0.5)
    }
}

/// One candidate as the choice sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub model: Arc<str>,
    /// Expected cost of the call (USD), or any measure whose order is the cost's.
    pub cost: f64,
    pub quality: f64,
    /// Smoothed latency of the model's fastest deployment, when the router has seen calls.
    pub latency_ms: Option<f64>,
}

/// The index of the candidate to use (`None` only for an empty list), and the best quality.
/// Among the candidates within `margin` of the best quality, those whose cost is within
/// `cost_tolerance` (a fraction: 0.1 = 10 %) of the cheapest count as equally cheap, and the
/// one with the lowest smoothed latency of them wins (no latency known: last); then the
/// cheaper, then the first listed.
pub fn choose(candidates: &[Scored], margin: f64, cost_tolerance: f64) -> Option<(usize, f64)> {
    let best = candidates
        .iter()
        .map(|c| c.quality)
        .fold(f64::NEG_INFINITY, f64::max);
    let good = |c: &Scored| c.quality + 1e-12 >= best - margin;
    let cheapest = candidates
        .iter()
        .filter(|c| good(c))
        .map(|c| c.cost)
        .fold(f64::INFINITY, f64::min);
    let limit = cheapest * (1.0 + cost_tolerance) + 1e-15;
    let mut chosen: Option<usize> = None;
    for (i, c) in candidates.iter().enumerate() {
        if !good(c) || c.cost > limit {
            continue;
        }
        let better = match chosen {
            None => true,
            Some(j) => {
                let o = &candidates[j];
                let (l, ol) = (
                    c.latency_ms.unwrap_or(f64::MAX),
                    o.latency_ms.unwrap_or(f64::MAX),
                );
                l < ol || (l == ol && c.cost < o.cost)
            }
        };
        if better {
            chosen = Some(i);
        }
    }
    chosen.map(|i| (i, best))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(model: &str, cost: f64, quality: f64, latency_ms: Option<f64>) -> Scored {
        Scored {
            model: model.into(),
            cost,
            quality,
            latency_ms,
        }
    }

    #[test]
    fn cheapest_within_the_margin_of_the_best() {
        let cands = [
            c("smart", 10.0, 0.90, None),
            c("medium", 3.0, 0.86, None),
            c("fast", 0.5, 0.70, None),
        ];
        assert_eq!(choose(&cands, 0.05, 0.0), Some((1, 0.90)));
        assert_eq!(choose(&cands, 0.0, 0.0), Some((0, 0.90)));
        assert_eq!(choose(&cands, 0.25, 0.0).map(|x| x.0), Some(2));
        assert_eq!(choose(&[], 0.1, 0.0), None);
    }

    #[test]
    fn equal_cost_goes_to_the_faster() {
        let cands = [
            c("a", 1.0, 0.8, Some(900.0)),
            c("b", 1.0, 0.8, Some(300.0)),
            c("c", 1.0, 0.8, None),
        ];
        assert_eq!(choose(&cands, 0.0, 0.0).map(|x| x.0), Some(1));
    }

    #[test]
    fn within_the_cost_tolerance_the_faster_wins() {
        let cands = [
            c("cheap-slow", 1.00, 0.8, Some(2_000.0)),
            c("near-fast", 1.08, 0.8, Some(300.0)),
            c("dear-faster", 2.00, 0.8, Some(100.0)),
            c("near-unknown", 1.05, 0.8, None),
        ];
        // Exact cost only: the cheapest.
        assert_eq!(choose(&cands, 0.0, 0.0).map(|x| x.0), Some(0));
        // Within 10 %: the faster of the first, second and fourth.
        assert_eq!(choose(&cands, 0.0, 0.10).map(|x| x.0), Some(1));
        // Within 5 %: the second is out; a known latency beats an unknown one.
        assert_eq!(choose(&cands, 0.0, 0.05).map(|x| x.0), Some(0));
        // Doubling allowed: the fastest.
        assert_eq!(choose(&cands, 0.0, 1.0).map(|x| x.0), Some(2));
        // Only the quality-eligible count, for the cheapest too.
        let mixed = [
            c("bad-cheap", 0.1, 0.2, Some(1.0)),
            c("good", 1.0, 0.9, Some(900.0)),
        ];
        assert_eq!(choose(&mixed, 0.05, 0.5).map(|x| x.0), Some(1));
    }

    #[test]
    fn quality_falls_back_to_default_then_half() {
        let mut q = CandidateConfig::default();
        assert_eq!(q.quality_for(TaskType::Code), 0.5);
        q.quality.insert("default".into(), 0.7);
        q.quality.insert("code".into(), 0.9);
        assert_eq!(q.quality_for(TaskType::Code), 0.9);
        assert_eq!(q.quality_for(TaskType::Math), 0.7);
    }
}
