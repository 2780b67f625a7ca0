//! The loop: a contextual bandit over the candidates of each rule. Per (rule, task type,
//! candidate) a Beta posterior of "the answer was good", fed by the heuristic quality scores
//! and callers' feedback (a score in 0..=1 counts as that fraction of a success; feedback
//! weighs more), started from the configured quality as a prior. Each call draws one sample
//! per candidate and takes the best (Thompson sampling), within the operator's bounds:
//!
//! - `min_share`: each eligible candidate gets at least this share of the rule's calls;
//! - `exploration`: this fraction of the rest is spread evenly;
//! - `cost_ceiling`: candidates whose expected cost of the call is above it are left out,
//!   unless that leaves none;
//! - `frozen`: no more learning; calls are shared as the last computed shares say.
//!
//! The request path reads an [`ArcSwap`] snapshot and draws from the thread's own generator
//! ([`sample::Source`]); observations are added to per-arm atomic counters. A background task
//! ([`sync`]) moves those deltas to the store every `sync_secs`, reads every instance's
//! totals back and publishes a new snapshot with the shares each candidate gets.

pub mod sample;
pub mod sync;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arc_swap::ArcSwap;
use gateway_core::features::TaskType;
use gateway_core::store::ArmCounts;
use serde::Deserialize;

use sample::Source;

/// Most candidates a rule may list when the bandit is on.
pub const MAX_CANDIDATES: usize = 16;
/// Thompson draws per (rule, task) when the shares are recomputed.
const SHARE_DRAWS: usize = 2_000;
/// Fixed-point scale of the atomic delta counters.
const SCALE: f64 = 1_000_000.0;

fn d_min_share() -> f64 {
    0.05
}
fn d_exploration() -> f64 {
    0.05
}
fn d_feedback_weight() -> f64 {
    3.0
}
fn d_score_weight() -> f64 {
    1.0
}
fn d_prior_weight() -> f64 {
    2.0
}
fn d_memory() -> f64 {
    1_000.0
}
fn d_sync_secs() -> u64 {
    5
}

/// The `[prompt_routing.bandit]` section.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BanditConfig {
    /// Least share of a rule's calls each eligible candidate keeps (per task type).
    #[serde(default = "d_min_share")]
    pub min_share: f64,
    /// Fraction of the calls (beyond the minimum shares) spread evenly over the candidates.
    #[serde(default = "d_exploration")]
    pub exploration: f64,
    /// USD: candidates whose expected cost of the call is above it are not chosen, unless
    /// every candidate is.
    #[serde(default)]
    pub cost_ceiling: Option<f64>,
    /// Stop learning: calls are shared by the shares last computed.
    #[serde(default)]
    pub frozen: bool,
    /// Weight of one feedback (a quality score weighs `score_weight`).
    #[serde(default = "d_feedback_weight")]
    pub feedback_weight: f64,
    #[serde(default = "d_score_weight")]
    pub score_weight: f64,
    /// Weight of the configured quality as a prior (pseudo-observations).
    #[serde(default = "d_prior_weight")]
    pub prior_weight: f64,
    /// An arm keeps at most this many (weighted) observations: older evidence is scaled down
    /// so that a candidate that changes is noticed.
    #[serde(default = "d_memory")]
    pub memory: f64,
    /// Seconds between moving local observations to the store and reading the totals back.
    #[serde(default = "d_sync_secs")]
    pub sync_secs: u64,
    /// A fixed random seed (reproducible simulations); unset: per-thread generators.
    #[serde(default)]
    pub seed: Option<u64>,
}

impl Default for BanditConfig {
    fn default() -> Self {
        BanditConfig {
            min_share: d_min_share(),
            exploration: d_exploration(),
            cost_ceiling: None,
            frozen: false,
            feedback_weight: d_feedback_weight(),
            score_weight: d_score_weight(),
            prior_weight: d_prior_weight(),
            memory: d_memory(),
            sync_secs: d_sync_secs(),
            seed: None,
        }
    }
}

impl BanditConfig {
    /// Problems with their paths under `section`; `widest` is the most candidates of a rule.
    pub fn problems(&self, section: &str, widest: usize) -> Vec<(String, String)> {
        let mut p = Vec::new();
        let mut check = |field: &str, ok: bool, why: &str| {
            if !ok {
                p.push((format!("{section}.{field}"), why.to_owned()));
            }
        };
        check(
            "min_share",
            (0.0..=1.0).contains(&self.min_share) && self.min_share * widest as f64 <= 1.0 + 1e-9,
            "must be within 0..=1 and at most 1 / the candidates of the widest rule",
        );
        check(
            "exploration",
            (0.0..=1.0).contains(&self.exploration),
            "must be within 0..=1",
        );
        check(
            "cost_ceiling",
            self.cost_ceiling.is_none_or(|c| c.is_finite() && c >= 0.0),
            "must be a number >= 0",
        );
        for (field, w) in [
            ("feedback_weight", self.feedback_weight),
            ("score_weight", self.score_weight),
            ("prior_weight", self.prior_weight),
        ] {
            check(field, w.is_finite() && w > 0.0, "must be a number > 0");
        }
        check(
            "memory",
            self.memory.is_finite() && self.memory >= 1.0,
            "must be a number >= 1",
        );
        check(
            "sync_secs",
            (1..=3_600).contains(&self.sync_secs),
            "must be within 1..=3600",
        );
        p
    }
}

/// What an observation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evidence {
    /// The heuristic quality score of the answer.
    Score,
    /// A caller's feedback.
    Feedback,
}

/// One rule the bandit chooses for.
#[derive(Debug)]
pub struct BanditRule {
    pub name: Arc<str>,
    pub candidates: Vec<Arc<str>>,
    /// Prior quality per task (by [`TaskType`] index) and candidate.
    pub prior: Vec<[f64; 8]>,
    /// Index of the rule's first arm.
    offset: usize,
}

/// The published state: per arm (rule, task, candidate) its posterior and its share.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// (alpha, beta) per arm.
    pub posterior: Vec<(f64, f64)>,
    /// Share of the (rule, task)'s calls each arm gets (bounds applied, no cost ceiling).
    pub shares: Vec<f64>,
}

#[derive(Debug, Default)]
struct Delta {
    successes: AtomicU64,
    failures: AtomicU64,
}

/// The result of one choice.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pick {
    /// Index into the rule's candidates.
    pub index: usize,
    /// The chosen candidate's share of such calls (among the eligible ones).
    pub share: f64,
}

/// The bandit of one compiled `[prompt_routing]`.
#[derive(Debug)]
pub struct Bandit {
    pub config: BanditConfig,
    /// Rules with two candidates or more, by the rule set's index.
    rules: Vec<Option<BanditRule>>,
    by_name: HashMap<Arc<str>, usize>,
    arms: usize,
    snapshot: ArcSwap<Snapshot>,
    deltas: Vec<Delta>,
    source: Source,
}

fn task_index(task: TaskType) -> usize {
    task as usize
}

impl Bandit {
    /// `rules`: each rule's name, candidates, and prior quality of a candidate for a task.
    pub fn new(
        config: BanditConfig,
        rules: Vec<(Arc<str>, Vec<Arc<str>>)>,
        quality: &dyn Fn(&str, TaskType) -> f64,
    ) -> Self {
        let mut arms = 0;
        let mut by_name = HashMap::new();
        let rules: Vec<Option<BanditRule>> = rules
            .into_iter()
            .enumerate()
            .map(|(i, (name, candidates))| {
                if candidates.len() < 2 {
                    return None;
                }
                by_name.insert(name.clone(), i);
                let prior = candidates
                    .iter()
                    .map(|c| TaskType::ALL.map(|t| quality(c, t).clamp(0.0, 1.0)))
                    .collect();
                let offset = arms;
                arms += candidates.len() * TaskType::ALL.len();
                Some(BanditRule {
                    name,
                    candidates,
                    prior,
                    offset,
                })
            })
            .collect();
        let source = Source::new(config.seed);
        let bandit = Bandit {
            deltas: (0..arms).map(|_| Delta::default()).collect(),
            snapshot: ArcSwap::from_pointee(Snapshot {
                posterior: Vec::new(),
                shares: Vec::new(),
            }),
            config,
            rules,
            by_name,
            arms,
            source,
        };
        bandit.apply(&[]);
        bandit
    }

    fn arm(&self, rule: &BanditRule, task: TaskType, candidate: usize) -> usize {
        rule.offset + task_index(task) * rule.candidates.len() + candidate
    }

    /// The rule at `index` of the rule set, when the bandit chooses for it.
    pub fn rule(&self, index: usize) -> Option<&BanditRule> {
        self.rules.get(index)?.as_ref()
    }

    /// Rules the bandit chooses for.
    pub fn rules(&self) -> impl Iterator<Item = &BanditRule> {
        self.rules.iter().flatten()
    }

    /// The current snapshot.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }

    /// The share of `task` calls of `rule` that `candidate` gets (bounds applied, no ceiling).
    pub fn share(&self, rule: &str, task: TaskType, candidate: &str) -> Option<f64> {
        let r = self.rule(*self.by_name.get(rule)?)?;
        let c = r.candidates.iter().position(|m| &**m == candidate)?;
        self.snapshot
            .load()
            .shares
            .get(self.arm(r, task, c))
            .copied()
    }

    /// Chooses among `rule`'s candidates for a `task` call. `over_ceiling` has bit `i` set
    /// when candidate `i` is expected to cost more than the ceiling.
    pub fn choose(&self, rule: &BanditRule, task: TaskType, over_ceiling: u32) -> Pick {
        let n = rule.candidates.len();
        let all = if n >= 32 { u32::MAX } else { (1u32 << n) - 1 };
        let eligible = match all & !over_ceiling {
            0 => all,
            e => e,
        };
        let m = eligible.count_ones() as usize;
        let snapshot = self.snapshot.load();
        let first = self.arm(rule, task, 0);
        let shares = &snapshot.shares[first..first + n];
        let eligible_total: f64 = (0..n)
            .filter(|i| eligible & (1 << i) != 0)
            .map(|i| shares[i])
            .sum();
        let nth_eligible = |k: usize| {
            (0..n)
                .filter(|i| eligible & (1 << i) != 0)
                .nth(k)
                .unwrap_or(0)
        };
        let index = if self.config.frozen {
            // Weighted draw by the frozen shares.
            let mut u = self.source.unit() * eligible_total;
            let mut pick = nth_eligible(m - 1);
            for i in (0..n).filter(|i| eligible & (1 << i) != 0) {
                u -= shares[i];
                if u <= 0.0 {
                    pick = i;
                    break;
                }
            }
            pick
        } else {
            let forced = self.config.min_share * m as f64;
            let u = self.source.unit();
            if u <= forced {
                nth_eligible(((u / self.config.min_share) as usize).min(m - 1))
            } else if self.source.unit() <= self.config.exploration {
                nth_eligible(((self.source.unit() * m as f64) as usize).min(m - 1))
            } else {
                let mut best = (f64::NEG_INFINITY, 0);
                for i in (0..n).filter(|i| eligible & (1 << i) != 0) {
                    let (a, b) = snapshot.posterior[first + i];
                    let draw = self.source.beta(a, b);
                    if draw > best.0 {
                        best = (draw, i);
                    }
                }
                best.1
            }
        };
        let share = if eligible_total > 0.0 {
            shares[index] / eligible_total
        } else {
            1.0 / m as f64
        };
        Pick { index, share }
    }

    /// Records how good a `task` answer of `candidate` (chosen by `rule`) was: `score` in
    /// 0..=1. Ignored when frozen, or when the rule or candidate is not the bandit's.
    pub fn observe(
        &self,
        rule: &str,
        task: TaskType,
        candidate: &str,
        score: f64,
        evidence: Evidence,
    ) {
        if self.config.frozen || !score.is_finite() {
            return;
        }
        let Some(r) = self.by_name.get(rule).and_then(|&i| self.rule(i)) else {
            return;
        };
        let Some(c) = r.candidates.iter().position(|m| &**m == candidate) else {
            return;
        };
        let weight = match evidence {
            Evidence::Score => self.config.score_weight,
            Evidence::Feedback => self.config.feedback_weight,
        };
        let score = score.clamp(0.0, 1.0);
        let d = &self.deltas[self.arm(r, task, c)];
        d.successes
            .fetch_add((weight * score * SCALE) as u64, Ordering::Relaxed);
        d.failures
            .fetch_add((weight * (1.0 - score) * SCALE) as u64, Ordering::Relaxed);
    }

    /// [`Bandit::observe`] from a call's route reason (`rule=<r> bandit ... chose=<c>`):
    /// calls the bandit did not choose are ignored.
    pub fn observe_reason(&self, reason: &str, task: TaskType, score: f64, evidence: Evidence) {
        if let Some((rule, candidate)) = parse_reason(reason) {
            self.observe(rule, task, candidate, score, evidence);
        }
    }

    /// Takes the observations not yet stored, as deltas (zeroing them).
    pub fn take_deltas(&self) -> Vec<ArmCounts> {
        let mut out = Vec::new();
        for r in self.rules() {
            for task in TaskType::ALL {
                for (c, candidate) in r.candidates.iter().enumerate() {
                    let d = &self.deltas[self.arm(r, task, c)];
                    let s = d.successes.swap(0, Ordering::Relaxed);
                    let f = d.failures.swap(0, Ordering::Relaxed);
                    if s == 0 && f == 0 {
                        continue;
                    }
                    out.push(ArmCounts {
                        rule: r.name.to_string(),
                        task: task.as_str().to_owned(),
                        candidate: candidate.to_string(),
                        successes: s as f64 / SCALE,
                        failures: f as f64 / SCALE,
                        version: 0,
                        updated_at: std::time::SystemTime::now(),
                    });
                }
            }
        }
        out
    }

    /// Puts deltas back (the store refused them; they go with the next batch).
    pub fn restore_deltas(&self, deltas: &[ArmCounts]) {
        for d in deltas {
            let Some(task) = TaskType::from_name(&d.task) else {
                continue;
            };
            let Some(r) = self
                .by_name
                .get(d.rule.as_str())
                .and_then(|&i| self.rule(i))
            else {
                continue;
            };
            let Some(c) = r.candidates.iter().position(|m| **m == *d.candidate) else {
                continue;
            };
            let slot = &self.deltas[self.arm(r, task, c)];
            slot.successes
                .fetch_add((d.successes * SCALE) as u64, Ordering::Relaxed);
            slot.failures
                .fetch_add((d.failures * SCALE) as u64, Ordering::Relaxed);
        }
    }

    /// Publishes a snapshot from the stored totals (arms not among them: prior only).
    pub fn apply(&self, totals: &[ArmCounts]) {
        let mut posterior = vec![(1.0, 1.0); self.arms];
        let k = self.config.prior_weight;
        for r in self.rules() {
            for task in TaskType::ALL {
                for c in 0..r.candidates.len() {
                    let q = r.prior[c][task_index(task)];
                    // A prior of 0 or 1 would make a Beta parameter 0: keep both positive.
                    posterior[self.arm(r, task, c)] =
                        ((q * k).max(1e-3), ((1.0 - q) * k).max(1e-3));
                }
            }
        }
        for t in totals {
            let Some(task) = TaskType::from_name(&t.task) else {
                continue;
            };
            let Some(r) = self
                .by_name
                .get(t.rule.as_str())
                .and_then(|&i| self.rule(i))
            else {
                continue;
            };
            let Some(c) = r.candidates.iter().position(|m| **m == *t.candidate) else {
                continue;
            };
            let (mut s, mut f) = (t.successes.max(0.0), t.failures.max(0.0));
            if s + f > self.config.memory {
                let scale = self.config.memory / (s + f);
                s *= scale;
                f *= scale;
            }
            let arm = &mut posterior[self.arm(r, task, c)];
            arm.0 += s;
            arm.1 += f;
        }
        let shares = self.shares(&posterior, &self.snapshot.load());
        self.snapshot
            .store(Arc::new(Snapshot { posterior, shares }));
    }

    /// Each arm's share: the probability Thompson sampling picks it (estimated by
    /// [`SHARE_DRAWS`] draws), mixed with the exploration and raised to the minimum share.
    ///
    /// A (rule, task) whose posteriors did not change since `previous` keeps its shares (most
    /// of them, on most syncs: the draws are the costly part).
    fn shares(&self, posterior: &[(f64, f64)], previous: &Snapshot) -> Vec<f64> {
        let mut shares = vec![0.0; self.arms];
        let seed = self.config.seed.unwrap_or(0x5EED) ^ 0xA5A5;
        let (min, explore) = (self.config.min_share, self.config.exploration);
        for r in self.rules() {
            let n = r.candidates.len();
            for task in TaskType::ALL {
                let first = self.arm(r, task, 0);
                let arms = &posterior[first..first + n];
                if previous.posterior.get(first..first + n) == Some(arms)
                    && let Some(old) = previous.shares.get(first..first + n)
                {
                    shares[first..first + n].copy_from_slice(old);
                    continue;
                }
                // A sequence of its own per (rule, task): the same posteriors always give the
                // same shares, and the request path's sequence does not move.
                let source = Source::new(Some(seed ^ (first as u64).wrapping_mul(0x9E37_79B9)));
                let mut wins = [0usize; MAX_CANDIDATES];
                for _ in 0..SHARE_DRAWS {
                    let mut best = (f64::NEG_INFINITY, 0);
                    for (i, &(a, b)) in arms.iter().enumerate() {
                        let draw = source.beta(a, b);
                        if draw > best.0 {
                            best = (draw, i);
                        }
                    }
                    wins[best.1.min(MAX_CANDIDATES - 1)] += 1;
                }
                let rest = (1.0 - min * n as f64).max(0.0);
                for i in 0..n {
                    let thompson = wins[i.min(MAX_CANDIDATES - 1)] as f64 / SHARE_DRAWS as f64;
                    shares[first + i] =
                        min + rest * (explore / n as f64 + (1.0 - explore) * thompson);
                }
            }
        }
        shares
    }
}

/// What the bandit has observed of a model group, over the rules that list it: the mean of
/// its weighted scores and feedback (priors left out) and their total weight, rounded.
impl gateway_core::quality::QualityStats for Bandit {
    fn quality(
        &self,
        model: &str,
        task: Option<TaskType>,
    ) -> Option<gateway_core::quality::QualityEstimate> {
        let snapshot = self.snapshot.load();
        let (mut good, mut all) = (0.0, 0.0);
        for r in self.rules() {
            let Some(c) = r.candidates.iter().position(|m| &**m == model) else {
                continue;
            };
            for t in TaskType::ALL
                .into_iter()
                .filter(|t| task.is_none_or(|x| x == *t))
            {
                let (a, b) = snapshot.posterior[self.arm(r, t, c)];
                let q = r.prior[c][task_index(t)];
                let k = self.config.prior_weight;
                let (s, f) = (a - (q * k).max(1e-3), b - ((1.0 - q) * k).max(1e-3));
                good += s.max(0.0);
                all += (s + f).max(0.0);
            }
        }
        (all >= 0.5).then(|| gateway_core::quality::QualityEstimate {
            mean: good / all,
            samples: all.round() as u64,
        })
    }
}

/// The rule and candidate of a bandit's route reason (`rule=<r> bandit ... chose=<c> ...`).
pub fn parse_reason(reason: &str) -> Option<(&str, &str)> {
    let mut words = reason.split(' ');
    let rule = words.next()?.strip_prefix("rule=")?;
    if words.next()? != "bandit" {
        return None;
    }
    let chose = words.find_map(|w| w.strip_prefix("chose="))?;
    Some((rule, chose))
}

#[cfg(test)]
mod tests;
