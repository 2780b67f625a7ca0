//! `[quality]`: the optional LLM judge of answers (`docs/routing.md`, "Quality scoring").
//!
//! ```toml
//! [quality.judge]
//! model = "judge"                 # a public model of [models], routed like any call
//! tenant = "quality-judge"        # the judge's calls are made, limited and billed as it
//! sample_rate = 0.02              # share of each tenant's answered chat calls judged
//! tenant_sample_rates = { acme = 0.10, internal = 0.0 }
//! daily_budget_usd = 5.0          # the judge stops for the UTC day once it spent this
//! max_concurrent = 2              # judgments in flight at once
//! queue = 256                     # cases waiting; more are dropped (and counted)
//! # seed = 42                     # fixes which calls are sampled (tests, replays)
//! [quality.judge.rubrics]         # per task type; `default` for the others
//! code = "Is the code correct, complete and idiomatic for what was asked?"
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;

use super::Problem;

/// `[quality]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QualityConfig {
    /// The LLM judge; off when absent.
    pub judge: Option<JudgeConfig>,
}

/// `[quality.judge]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JudgeConfig {
    /// The public model that judges (a name of `[models]`).
    pub model: String,
    /// The tenant the judge's calls are made as (limits, usage and cost are its); its own
    /// calls are never judged.
    #[serde(default = "default_tenant")]
    pub tenant: String,
    /// Share of answered chat calls judged, for tenants without their own rate.
    #[serde(default = "default_sample_rate")]
    pub sample_rate: f64,
    /// Per tenant share, overriding `sample_rate`.
    #[serde(default)]
    pub tenant_sample_rates: BTreeMap<String, f64>,
    /// What the judge may spend per UTC day (USD, as the gateway prices its calls); once it
    /// is spent, cases are skipped (and counted) until the next day.
    #[serde(default = "default_budget")]
    pub daily_budget_usd: f64,
    /// Judgments in flight at once.
    #[serde(default = "default_concurrent")]
    pub max_concurrent: u32,
    /// Cases waiting for a judgment; when full, new cases are dropped and counted.
    #[serde(default = "default_queue")]
    pub queue: u32,
    /// Seed of the sampling (which calls are judged is a hash of the request id and it).
    #[serde(default)]
    pub seed: u64,
    /// Rubric per task type (`code`, `math`, ...), and `default`; a built-in one otherwise.
    #[serde(default)]
    pub rubrics: BTreeMap<String, String>,
}

fn default_tenant() -> String {
    "quality-judge".to_owned()
}
fn default_sample_rate() -> f64 {
    0.01
}
fn default_budget() -> f64 {
    1.0
}
fn default_concurrent() -> u32 {
    2
}
fn default_queue() -> u32 {
    256
}

/// Longest rubric, in bytes.
const MAX_RUBRIC: usize = 4096;

impl QualityConfig {
    pub(crate) fn validate(&self, models: &dyn Fn(&str) -> bool, problems: &mut Vec<Problem>) {
        let Some(judge) = &self.judge else {
            return;
        };
        if !models(&judge.model) {
            problems.push(Problem::new(
                "quality.judge.model",
                format!("unknown model '{}' (define it under [models])", judge.model),
            ));
        }
        if judge.tenant.trim().is_empty() {
            problems.push(Problem::new("quality.judge.tenant", "must not be empty"));
        }
        let rate_ok = |r: f64| (0.0..=1.0).contains(&r);
        if !rate_ok(judge.sample_rate) {
            problems.push(Problem::new(
                "quality.judge.sample_rate",
                "must be between 0 and 1",
            ));
        }
        for (tenant, rate) in &judge.tenant_sample_rates {
            if !rate_ok(*rate) {
                problems.push(Problem::new(
                    &format!("quality.judge.tenant_sample_rates.{tenant}"),
                    "must be between 0 and 1",
                ));
            }
        }
        if !(judge.daily_budget_usd.is_finite() && judge.daily_budget_usd >= 0.0) {
            problems.push(Problem::new(
                "quality.judge.daily_budget_usd",
                "must be a number of at least 0",
            ));
        }
        if !(1..=64).contains(&judge.max_concurrent) {
            problems.push(Problem::new(
                "quality.judge.max_concurrent",
                "must be between 1 and 64",
            ));
        }
        if !(1..=65_536).contains(&judge.queue) {
            problems.push(Problem::new(
                "quality.judge.queue",
                "must be between 1 and 65536",
            ));
        }
        for (task, rubric) in &judge.rubrics {
            let known =
                task == "default" || gateway_core::features::TaskType::from_name(task).is_some();
            if !known {
                problems.push(Problem::new(
                    &format!("quality.judge.rubrics.{task}"),
                    "unknown task type (code, math, reasoning, creative_writing, conversation, \
                     extraction, translation, summarisation or default)",
                ));
            }
            if rubric.trim().is_empty() || rubric.len() > MAX_RUBRIC {
                problems.push(Problem::new(
                    &format!("quality.judge.rubrics.{task}"),
                    "must be 1 to 4096 bytes",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_judge_section_parses_and_bad_values_are_named() {
        let config: QualityConfig = toml::from_str(
            r#"
            [judge]
            model = "judge"
            tenant_sample_rates = { acme = 0.5 }
            [judge.rubrics]
            code = "Correct code?"
            "#,
        )
        .unwrap();
        let judge = config.judge.clone().unwrap();
        assert_eq!(
            (judge.tenant.as_str(), judge.sample_rate),
            ("quality-judge", 0.01)
        );
        let mut problems = Vec::new();
        config.validate(&|m| m == "judge", &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        let bad = QualityConfig {
            judge: Some(JudgeConfig {
                model: "nope".into(),
                tenant: " ".into(),
                sample_rate: 1.5,
                tenant_sample_rates: [("acme".to_owned(), -0.1)].into(),
                daily_budget_usd: f64::NAN,
                max_concurrent: 0,
                queue: 0,
                seed: 0,
                rubrics: [("poetry".to_owned(), String::new())].into(),
            }),
        };
        bad.validate(&|m| m == "judge", &mut problems);
        let text = format!("{problems:?}");
        for key in [
            "quality.judge.model",
            "quality.judge.tenant",
            "quality.judge.sample_rate",
            "quality.judge.tenant_sample_rates.acme",
            "quality.judge.daily_budget_usd",
            "quality.judge.max_concurrent",
            "quality.judge.queue",
            "quality.judge.rubrics.poetry",
        ] {
            assert!(text.contains(key), "{key} in {text}");
        }
    }
}
