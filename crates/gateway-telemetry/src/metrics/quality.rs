//! The quality series: the distribution of heuristic scores per public model and task
//! (`gateway_quality_score`) and the flags raised (`gateway_quality_flags`). Handles are kept
//! in the call's [`CallSeries`], so a scored call adds no lookup in a family.

use std::sync::{Arc, OnceLock};

use gateway_core::features::{QualityFlag, QualityRecord, TaskType};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::labels::{ModelFlag, ModelTask};
use super::series::CallSeries;

/// Task slots per series: each task, then unclassified.
pub(super) const TASK_SLOTS: usize = TaskType::ALL.len() + 1;

fn score_histogram() -> Histogram {
    Histogram::new([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
}

/// The quality families.
#[derive(Debug)]
pub(super) struct QualityMetrics {
    scores: Family<ModelTask, Histogram, fn() -> Histogram>,
    flags: Family<ModelFlag, Counter>,
}

impl Default for QualityMetrics {
    fn default() -> Self {
        QualityMetrics {
            scores: Family::new_with_constructor(score_histogram),
            flags: Family::default(),
        }
    }
}

/// The cached handles of one call series.
#[derive(Default)]
pub(super) struct QualitySeries {
    scores: [OnceLock<Histogram>; TASK_SLOTS],
    flags: [OnceLock<Counter>; QualityFlag::ALL.len()],
}

impl QualityMetrics {
    pub(super) fn register(&self, r: &mut Registry) {
        r.register(
            "gateway_quality_score",
            "Heuristic quality score (0..1) of answered chat calls, by public model and task",
            self.scores.clone(),
        );
        r.register(
            "gateway_quality_flags",
            "Quality flags raised by the heuristic scorers, by public model and flag",
            self.flags.clone(),
        );
    }

    pub(super) fn observe(
        &self,
        series: &CallSeries,
        model: &Arc<str>,
        task: Option<TaskType>,
        q: &QualityRecord,
    ) {
        let slot = task.map_or(TASK_SLOTS - 1, |t| t as usize);
        let task_name = task.map_or("none", TaskType::as_str);
        series.quality.scores[slot]
            .get_or_init(|| {
                self.scores
                    .get_or_create(&ModelTask {
                        model: model.clone(),
                        task: task_name,
                    })
                    .clone()
            })
            // Rounded: an f32 0.3 widened is 0.30000001, which would miss the 0.3 bucket.
            .observe((f64::from(q.score) * 1e4).round() / 1e4);
        for flag in &q.flags {
            let i = QualityFlag::ALL
                .iter()
                .position(|f| f == flag)
                .unwrap_or_default();
            series.quality.flags[i]
                .get_or_init(|| {
                    self.flags
                        .get_or_create(&ModelFlag {
                            model: model.clone(),
                            flag: flag.as_str(),
                        })
                        .clone()
                })
                .inc();
        }
    }
}
