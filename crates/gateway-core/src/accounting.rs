//! Phase 9 inside the pipeline: one [`UsageRecord`] per call, completed admissions, and the
//! cost of what was used (or saved, for cache hits).

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use crate::content_log;
use crate::context::RequestContext;
use crate::error::GatewayError;
use crate::metered_stream::StreamTally;
use crate::phases::account::{CostModel, UsageRecord, UsageSink};
use crate::phases::admission::{Admitted, LimitSnapshot, Permit};
use crate::phases::guard::{FindingTally, GuardKinds};
use crate::phases::route::ServedBy;
use crate::quality::{
    AnswerView, JUDGE_CASE_BYTES, JudgeCase, QualityExpectation, QualityJudge, QualityScorer, cut,
};
use crate::types::Usage;

/// What is known of a call before it is routed, carried into accounting.
pub(crate) struct CallRecord {
    base: UsageRecord,
    /// The client address the edge recorded (for sinks that watch behaviour per address).
    client_ip: Option<std::net::IpAddr>,
    started: Instant,
    sink: Option<Arc<dyn UsageSink>>,
    cost_model: Option<Arc<dyn CostModel>>,
    /// When the upstream was called and (non-streamed) answered: `latency` minus this span
    /// is the gateway's own overhead.
    upstream_started: OnceLock<Instant>,
    upstream_ended: OnceLock<Instant>,
    /// Set once the record is written, so that a call dropped mid-flight is written on drop.
    recorded: AtomicBool,
    /// The scorer and what the request expects of its answer (chat calls with a scorer).
    quality: Option<(Arc<dyn QualityScorer>, QualityExpectation)>,
    /// Guardrail findings so far (input, then output): a count and the kinds' bits. Atomics
    /// only because phases hold the record by shared reference; one call touches them.
    findings: AtomicU32,
    finding_kinds: AtomicU8,
    /// The LLM judge and the prompt it will read, when this call was sampled for it.
    judge: Option<(Arc<dyn QualityJudge>, String)>,
}

/// How a call ended.
#[derive(Default)]
pub(crate) struct CallEnd<'a> {
    pub served_by: Option<&'a ServedBy>,
    pub usage: Option<Usage>,
    /// The upstream price of `usage` when it was already computed (`Some(None)`: unpriced).
    pub price: Option<Option<f64>>,
    pub status: u16,
    pub cache_hit: bool,
    pub time_to_first_token: Option<Duration>,
    pub cancelled: bool,
    /// The answer, scored when the call succeeded and a scorer is set.
    pub answer: Option<AnswerView<'a>>,
}

impl CallRecord {
    pub(crate) fn new(
        ctx: &RequestContext,
        model: &str,
        stream: bool,
        sink: Option<Arc<dyn UsageSink>>,
        cost_model: Option<Arc<dyn CostModel>>,
    ) -> Self {
        CallRecord {
            client_ip: ctx.client_ip,
            started: ctx.received_at,
            sink,
            cost_model,
            upstream_started: OnceLock::new(),
            upstream_ended: OnceLock::new(),
            recorded: AtomicBool::new(false),
            quality: None,
            findings: AtomicU32::new(0),
            finding_kinds: AtomicU8::new(0),
            judge: None,
            base: UsageRecord {
                request_id: ctx.request_id.clone(),
                at: SystemTime::now(),
                tenant: ctx.principal.tenant.clone(),
                subject: ctx.principal.subject.clone(),
                endpoint: ctx.endpoint.as_str(),
                model: model.to_owned(),
                provider: None,
                upstream_model: None,
                usage: None,
                cost_usd: None,
                saved_cost_usd: None,
                status: 0,
                latency: Duration::ZERO,
                upstream_latency: None,
                time_to_first_token: None,
                stream,
                cache_hit: false,
                cancelled: false,
                batch_id: ctx.batch.as_ref().map(|b| b.id.clone()),
                quality: None,
                task: None,
                route_reason: None,
                guardrail_findings: FindingTally::default(),
            },
        }
    }

    /// Score the answer of this call with `scorer` (before routing: the request moves on).
    pub(crate) fn expect_quality(
        &mut self,
        scorer: &Arc<dyn QualityScorer>,
        req: &crate::types::ChatRequest,
    ) {
        self.quality = Some((scorer.clone(), scorer.expect(req)));
    }

    /// Hand this call's answer to `judge` once it is answered (a bounded copy of the last
    /// user turn is kept meanwhile: the request moves on to routing).
    pub(crate) fn judge_with(
        &mut self,
        judge: &Arc<dyn QualityJudge>,
        req: &crate::types::ChatRequest,
    ) {
        let prompt = req
            .messages
            .iter()
            .rev()
            .find(|m| m.role == crate::types::Role::User)
            .and_then(|m| m.content.as_ref())
            .and_then(|c| c.texts().max_by_key(|t| t.len()))
            .unwrap_or("");
        self.judge = Some((judge.clone(), cut(prompt, JUDGE_CASE_BYTES).to_owned()));
    }

    /// Whether the answer of this call is scored (streams keep a sample only then).
    pub(crate) fn scores_quality(&self) -> bool {
        self.quality.is_some()
    }

    /// Counts guardrail findings of this call (nothing to do, and nothing touched, when empty).
    pub(crate) fn add_findings(&self, tally: FindingTally) {
        if tally.is_empty() {
            return;
        }
        self.findings.fetch_add(tally.count, Ordering::Relaxed);
        self.finding_kinds
            .fetch_or(tally.kinds.bits(), Ordering::Relaxed);
    }

    /// The guardrail findings counted so far.
    pub(crate) fn findings(&self) -> FindingTally {
        FindingTally {
            count: self.findings.load(Ordering::Relaxed),
            kinds: GuardKinds::from_bits(self.finding_kinds.load(Ordering::Relaxed)),
        }
    }

    /// The upstream is being called now.
    pub(crate) fn upstream_started(&self) {
        let _ = self.upstream_started.set(Instant::now());
    }

    /// The upstream answered (a stream's upstream time runs until the stream ends).
    pub(crate) fn upstream_ended(&self) {
        let _ = self.upstream_ended.set(Instant::now());
    }

    fn upstream_latency(&self) -> Option<Duration> {
        let start = *self.upstream_started.get()?;
        Some(
            self.upstream_ended
                .get()
                .map_or_else(|| start.elapsed(), |end| end.duration_since(start)),
        )
    }

    /// The public model name the caller asked for.
    pub(crate) fn model(&self) -> &str {
        &self.base.model
    }

    /// Upstream cost of `usage` on `served_by`; `None` when unpriced.
    pub(crate) fn price(&self, served_by: &ServedBy, usage: Option<&Usage>) -> Option<f64> {
        self.cost_model
            .as_ref()?
            .cost_usd(&served_by.provider, &served_by.upstream_model, usage?)
    }

    /// Record the call. Returns the cost charged (zero for a cache hit).
    pub(crate) fn finish(&self, end: CallEnd<'_>) -> Option<f64> {
        self.recorded.store(true, Ordering::Relaxed);
        let priced = match end.price {
            Some(price) => price,
            None => end
                .served_by
                .and_then(|s| self.price(s, end.usage.as_ref())),
        };
        let (cost, saved) = if end.cache_hit {
            (Some(0.0), priced)
        } else {
            (priced, None)
        };
        if let Some(sink) = &self.sink {
            let task = end.served_by.and_then(|s| s.task);
            // Only answers that reached the caller whole are scored.
            let quality = match (&self.quality, &end.answer) {
                (Some((scorer, expected)), Some(answer)) if end.status == 200 && !end.cancelled => {
                    Some(scorer.score(expected, task, answer))
                }
                _ => None,
            };
            // A fresh whole answer goes to the judge when the call was sampled (a cached
            // answer was judged, if at all, when it was first given).
            if let (Some((judge, prompt)), Some(answer)) = (&self.judge, &end.answer)
                && quality.is_some()
                && !end.cache_hit
            {
                judge.submit(JudgeCase {
                    request_id: self.base.request_id.clone(),
                    tenant: self.base.tenant.clone(),
                    model: self.base.model.clone(),
                    task,
                    prompt: prompt.clone(),
                    answer: cut(answer.text, JUDGE_CASE_BYTES).to_owned(),
                });
            }
            sink.record_call(
                UsageRecord {
                    at: SystemTime::now(),
                    provider: end.served_by.map(|s| s.provider.clone()),
                    upstream_model: end.served_by.map(|s| s.upstream_model.clone()),
                    usage: end.usage,
                    cost_usd: cost,
                    saved_cost_usd: saved,
                    status: end.status,
                    latency: self.started.elapsed(),
                    upstream_latency: self.upstream_latency(),
                    time_to_first_token: end.time_to_first_token,
                    cache_hit: end.cache_hit,
                    cancelled: end.cancelled,
                    quality,
                    task,
                    route_reason: end.served_by.and_then(|s| s.route_reason.clone()),
                    guardrail_findings: self.findings(),
                    ..self.base.clone()
                },
                self.client_ip,
            );
        }
        cost
    }

    /// Record a call that failed with `err` before any answer; returns `err`.
    pub(crate) fn failed(&self, err: GatewayError) -> GatewayError {
        self.finish(CallEnd {
            status: err.status(),
            ..CallEnd::default()
        });
        err
    }

    /// Accounting for a stream, run once when it ends or is dropped.
    pub(crate) fn on_stream_end(
        self,
        served_by: ServedBy,
        admitted: Option<Admitted>,
        cache_hit: bool,
        content_log: Option<Arc<dyn content_log::ContentLogSink>>,
    ) -> Box<dyn FnOnce(StreamTally) + Send> {
        Box::new(move |mut tally: StreamTally| {
            if let Some(text) = tally.transcript.take() {
                content_log::streamed_completion(
                    content_log.as_ref(),
                    &self.base.request_id,
                    &self.base.tenant,
                    text,
                );
            }
            self.add_findings(tally.findings);
            let status = match (&tally.error, &tally.blocked) {
                (Some(err), _) => err.status(),
                (None, Some(_)) => 422,
                _ => 200,
            };
            let cost = self.finish(CallEnd {
                served_by: Some(&served_by),
                usage: tally.usage.clone(),
                price: tally.price,
                status,
                cache_hit,
                time_to_first_token: tally.first_token_at.map(|t| t.duration_since(self.started)),
                cancelled: !tally.completed && tally.error.is_none() && tally.blocked.is_none(),
                answer: tally.quality.as_ref().map(|q| q.view()),
            });
            // A replayed cache hit consumed nothing upstream.
            let consumed = if cache_hit {
                Some(Usage::default())
            } else {
                tally.usage
            };
            complete_admission(admitted, consumed.as_ref(), cost);
        })
    }
}

/// Reconcile a held admission with what was really used.
pub(crate) fn complete_admission(
    admitted: Option<Admitted>,
    usage: Option<&Usage>,
    cost: Option<f64>,
) -> LimitSnapshot {
    match admitted {
        Some(Admitted { permit, snapshot }) => {
            Permit::complete(permit, usage, cost);
            snapshot
        }
        None => LimitSnapshot::default(),
    }
}

impl Drop for CallRecord {
    /// The caller went away while the upstream was working on a non-streamed call (or before a
    /// stream started): what was asked is still accounted, as cancelled (status 499, the
    /// de-facto code for "client closed request").
    fn drop(&mut self) {
        if !self.recorded.load(Ordering::Relaxed) && self.upstream_started.get().is_some() {
            self.finish(CallEnd {
                status: 499,
                cancelled: true,
                ..CallEnd::default()
            });
        }
    }
}
