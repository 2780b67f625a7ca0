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
pub fn choose(candidates: &[Scored], margin: f64) -> Option<(usize, f64)> {
    let best = candidates
        .iter()
        .map(|c| c.quality)
        .fold(f64::NEG_INFINITY, f64::max);
    let mut chosen: Option<usize> = None;
    for (i, c) in candidates.iter().enumerate() {
        if c.quality + 1e-12 < best - margin {
            continue;
        }
        let better = match chosen {
            None => true,
            Some(j) => {
                let o = &candidates[j];
                c.cost < o.cost
                    || (c.cost == o.cost
                        && c.latency_ms.unwrap_or(f64::MAX) < o.latency_ms.unwrap_or(f64::MAX))
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
        assert_eq!(choose(&cands, 0.05), Some((1, 0.90)));
        assert_eq!(choose(&cands, 0.0), Some((0, 0.90)));
        assert_eq!(choose(&cands, 0.25).map(|x| x.0), Some(2));
        assert_eq!(choose(&[], 0.1), None);
    }

    #[test]
    fn equal_cost_goes_to_the_faster() {
        let cands = [
            c("a", 1.0, 0.8, Some(900.0)),
            c("b", 1.0, 0.8, Some(300.0)),
            c("c", 1.0, 0.8, None),
        ];
        assert_eq!(choose(&cands, 0.0).map(|x| x.0), Some(1));
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
