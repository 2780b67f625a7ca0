//! The optional LLM judge of quality scoring (`[quality.judge]`, docs/routing.md): a sampled
//! share of each tenant's answered chat calls is graded by a configured model, called through
//! the gateway's own pipeline (the same guarded path as any call: policy, limits,
//! guardrails, routing, accounting) as the judge tenant, off the request path.
//!
//! On the request path there is only [`Sampler::samples`] (a hash of the request id: no lock,
//! no I/O) and, for a sampled call once it is answered, [`Sampler::submit`]: a bounded copy of
//! the prompt and the answer into a bounded queue, dropped and counted when it is full.
//! The [`worker`] takes cases from the queue, at most `max_concurrent` at once, within the
//! judge's daily budget; it asks for a strict JSON verdict ([`verdict`]), stores the score
//! on the judged call's usage record (`judge_score`, by request id) and counts everything for
//! `/metrics` (`gateway_quality_judge_*`). The judge tenant's own calls are never sampled,
//! so the judge never judges itself. No prompt or answer text is logged.

pub mod verdict;
mod worker;

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, Weak};

use arc_swap::ArcSwap;
use tokio::sync::mpsc;

use gateway_core::quality::{JudgeCase, QualityJudge};
use gateway_core::store::Store;
use gateway_core::{Gateway, RequestContext, TenantId};
use gateway_telemetry::metrics::Sample;

use crate::config::JudgeConfig;

/// The judge's settings as the sampler reads them (swapped whole on a reload).
struct Settings {
    config: JudgeConfig,
    tenant: TenantId,
    rates: HashMap<String, f64>,
    /// The sampling hash's seed: the configured one, or one drawn at start.
    seed: u64,
}

/// What the judge did, for `/metrics`.
#[derive(Default)]
struct Counters {
    pub sampled: AtomicU64,
    pub dropped: AtomicU64,
    pub scored: AtomicU64,
    pub malformed: AtomicU64,
    pub failed: AtomicU64,
    pub over_budget: AtomicU64,
    pub unstored: AtomicU64,
    /// Sum of the scores, in millionths (a counter of whole units).
    pub score_micros: AtomicU64,
    /// What the judge's calls cost, in micro-dollars.
    pub cost_micro_usd: AtomicU64,
}

struct Shared {
    settings: ArcSwap<Settings>,
    queue: mpsc::Sender<JudgeCase>,
    counters: Counters,
    /// The gateway the judge calls through (the current state's; replaced on reload).
    gateway: RwLock<Weak<Gateway>>,
}

/// The judge: kept across configuration reloads (its queue, counters and spend), with its
/// settings swapped by [`Judge::reconfigure`].
#[derive(Clone)]
pub struct Judge {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Judge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Judge").finish_non_exhaustive()
    }
}

/// The request path's side of the judge (what the pipeline holds).
pub struct Sampler {
    shared: Arc<Shared>,
}

fn settings(config: &JudgeConfig, seed: u64) -> Settings {
    Settings {
        tenant: TenantId::new(&config.tenant),
        rates: config
            .tenant_sample_rates
            .iter()
            .map(|(t, r)| (t.clone(), *r))
            .collect(),
        seed: if config.seed != 0 { config.seed } else { seed },
        config: config.clone(),
    }
}

impl Judge {
    /// Starts the judge's worker (needs a Tokio runtime); `None` when it is not configured.
    pub fn start(config: Option<&JudgeConfig>, store: Arc<dyn Store>) -> Option<Judge> {
        let config = config?;
        let drawn = std::collections::hash_map::RandomState::new().hash_one(0u8);
        let (tx, rx) = mpsc::channel(config.queue.max(1) as usize);
        let shared = Arc::new(Shared {
            settings: ArcSwap::from_pointee(settings(config, drawn)),
            queue: tx,
            counters: Counters::default(),
            gateway: RwLock::new(Weak::new()),
        });
        tokio::spawn(worker::run(Arc::downgrade(&shared), rx, store));
        Some(Judge { shared })
    }

    /// New settings from a reloaded configuration (the queue's size stays as started; a
    /// removed `[quality.judge]` stops the sampling: the rate becomes 0).
    pub fn reconfigure(&self, config: Option<&JudgeConfig>) {
        let current = self.shared.settings.load();
        let next = match config {
            Some(c) => settings(c, current.seed),
            None => Settings {
                rates: HashMap::new(),
                config: JudgeConfig {
                    sample_rate: 0.0,
                    ..current.config.clone()
                },
                tenant: current.tenant.clone(),
                seed: current.seed,
            },
        };
        self.shared.settings.store(Arc::new(next));
    }

    /// The pipeline's side, for the gateway builder.
    pub fn sampler(&self) -> Arc<dyn QualityJudge> {
        Arc::new(Sampler {
            shared: self.shared.clone(),
        })
    }

    /// The gateway the judge's calls go through (set for each assembled state).
    pub fn attach(&self, gateway: &Arc<Gateway>) {
        if let Ok(mut slot) = self.shared.gateway.write() {
            *slot = Arc::downgrade(gateway);
        }
    }

    /// The judge's counters under the gateway's metric names.
    pub fn samples(&self) -> Vec<Sample> {
        let c = &self.shared.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let cases = "Calls handed to the quality judge, by what became of them";
        let mut out: Vec<Sample> = [
            ("sampled", get(&c.sampled)),
            ("dropped", get(&c.dropped)),
            ("scored", get(&c.scored)),
            ("malformed", get(&c.malformed)),
            ("failed", get(&c.failed)),
            ("over_budget", get(&c.over_budget)),
            ("unstored", get(&c.unstored)),
        ]
        .into_iter()
        .map(|(result, n)| {
            Sample::counter("gateway_quality_judge_cases", cases, n).with_label("result", result)
        })
        .collect();
        out.push(Sample::gauge(
            "gateway_quality_judge_score_sum",
            "Sum of the judge's scores (0..1 each; divide by the scored cases for the mean)",
            get(&c.score_micros) as f64 / 1e6,
        ));
        out.push(Sample::gauge(
            "gateway_quality_judge_cost_usd",
            "What the judge's calls cost since start (USD, as priced by the gateway)",
            get(&c.cost_micro_usd) as f64 / 1e6,
        ));
        out.push(Sample::gauge(
            "gateway_quality_judge_queue",
            "Cases waiting for the judge",
            (self.shared.queue.max_capacity() - self.shared.queue.capacity()) as f64,
        ));
        out
    }
}

/// Whether `request_id` falls in the sampled share `rate` (a hash of it and the seed).
fn sampled(seed: u64, request_id: &str, rate: f64) -> bool {
    if rate <= 0.0 {
        return false;
    }
    if rate >= 1.0 {
        return true;
    }
    let mut h = foldhash::fast::FixedState::with_seed(seed).build_hasher();
    h.write(request_id.as_bytes());
    // The top 53 bits as a fraction in [0, 1).
    ((h.finish() >> 11) as f64 / (1u64 << 53) as f64) < rate
}

impl QualityJudge for Sampler {
    fn samples(&self, ctx: &RequestContext) -> bool {
        let s = self.shared.settings.load();
        let tenant = &ctx.principal.tenant;
        if *tenant == s.tenant {
            return false; // the judge's own calls
        }
        let rate = s.rates.get(tenant.0.as_ref()).copied();
        sampled(
            s.seed,
            &ctx.request_id,
            rate.unwrap_or(s.config.sample_rate),
        )
    }

    fn submit(&self, case: JudgeCase) {
        let c = &self.shared.counters;
        c.sampled.fetch_add(1, Ordering::Relaxed);
        if self.shared.queue.try_send(case).is_err() {
            c.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sampled_share_follows_the_rate_and_the_seed() {
        let count = |seed, rate| {
            (0..10_000)
                .filter(|i| sampled(seed, &format!("req-{i}"), rate))
                .count()
        };
        for rate in [0.01, 0.1, 0.5] {
            let n = count(7, rate) as f64 / 10_000.0;
            assert!((n - rate).abs() < rate * 0.2 + 0.005, "{rate}: {n}");
        }
        assert_eq!(count(7, 0.0), 0);
        assert_eq!(count(7, 1.0), 10_000);
        // The same seed samples the same calls; another seed others.
        let pick = |seed| {
            (0..200)
                .filter(|i| sampled(seed, &format!("req-{i}"), 0.3))
                .collect::<Vec<_>>()
        };
        assert_eq!(pick(7), pick(7));
        assert_ne!(pick(7), pick(8));
    }
}
