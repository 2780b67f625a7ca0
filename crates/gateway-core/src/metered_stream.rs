//! The stream a caller receives: the upstream stream passed through output guardrails and
//! metered for usage, time to first token and cancellation. Accounting happens exactly once,
//! when the stream ends or is dropped (a client that disconnects drops it). Each text of a
//! choice — its content, refusal and reasoning — passes its own guard chain
//! ([`crate::stream_channel`]), and its tool-call arguments theirs ([`crate::tool_call_guard`]).

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use futures_core::Stream;

use crate::cost_text::{COST_FIELD, CostText};
use crate::error::GatewayError;
use crate::phases::account::CostModel;
use crate::phases::guard::{FindingTally, GuardOutcome, StreamGuard};
use crate::provider::ChatStream;
use crate::quality::QualitySample;
use crate::stream_channel::Channel;
use crate::tool_call_guard::ToolCallGuards;
use crate::types::{ChatChunk, ChunkChoice, Delta, Extra, StreamEvent, Usage};

/// What the edge turns into server-sent events.
pub type GatewayStream = Pin<Box<dyn Stream<Item = Result<StreamEvent, GatewayError>> + Send>>;

/// Called once with the final tally when the stream ends or is dropped.
pub(crate) type OnStreamEnd = Box<dyn FnOnce(StreamTally) + Send>;

#[derive(Debug, Default)]
pub(crate) struct StreamTally {
    pub usage: Option<Usage>,
    /// The upstream price of `usage`, computed once when it arrived (`Some(None)`: unpriced);
    /// `None` when no usage came or the stream is not priced here.
    pub price: Option<Option<f64>>,
    pub first_token_at: Option<Instant>,
    pub completed: bool,
    pub error: Option<GatewayError>,
    pub blocked: Option<GuardOutcome>,
    /// Guardrail findings on the answer: what the stream guards flagged or redacted in the
    /// text they released, and the blocking outcome's.
    pub findings: FindingTally,
    /// The text delivered, kept only when the tenant's content is logged.
    pub transcript: Option<String>,
    /// A bounded sample of the first choice, kept only when answers are scored.
    pub quality: Option<QualitySample>,
}

/// Guards of one text of one streamed choice, applied in order.
struct ChoiceGuards {
    index: u32,
    channel: Channel,
    guards: Vec<Box<dyn StreamGuard>>,
    /// The choice's finish chunk went through: nothing is held back any more.
    finished: bool,
}

pub(crate) struct MeteredStream {
    inner: ChatStream,
    provider: Arc<str>,
    client_wants_usage: bool,
    make_guards: Box<dyn Fn() -> Vec<Box<dyn StreamGuard>> + Send>,
    guards: Vec<ChoiceGuards>,
    tool_guards: ToolCallGuards,
    pending: VecDeque<Result<StreamEvent, GatewayError>>,
    tally: StreamTally,
    /// Id, model and timestamps of the stream, for chunks the gateway adds itself.
    template: Option<ChatChunk>,
    done: bool,
    on_end: Option<OnStreamEnd>,
    /// The public model name the caller used, written into every chunk (upstreams name their
    /// own model).
    public_model: Option<Arc<str>>,
    pricing: Option<Pricing>,
}

/// How the usage of a stream is priced: by the upstream model that served it; a replayed
/// cache hit charges nothing.
struct Pricing {
    cost_model: Arc<dyn CostModel>,
    upstream_model: Arc<str>,
    cache_hit: bool,
}

impl MeteredStream {
    pub(crate) fn new(
        inner: ChatStream,
        provider: Arc<str>,
        client_wants_usage: bool,
        make_guards: Box<dyn Fn() -> Vec<Box<dyn StreamGuard>> + Send>,
        on_end: OnStreamEnd,
    ) -> Self {
        MeteredStream {
            inner,
            provider,
            client_wants_usage,
            make_guards,
            guards: Vec::new(),
            tool_guards: ToolCallGuards::default(),
            pending: VecDeque::new(),
            tally: StreamTally::default(),
            template: None,
            done: false,
            on_end: Some(on_end),
            public_model: None,
            pricing: None,
        }
    }

    /// Price the usage when it arrives (once: accounting takes that price) and, when the
    /// caller asked for usage, tell it the cost charged in the chunk that carries the usage.
    pub(crate) fn with_pricing(
        mut self,
        cost_model: Option<Arc<dyn CostModel>>,
        upstream_model: Arc<str>,
        cache_hit: bool,
    ) -> Self {
        self.pricing = cost_model.map(|cost_model| Pricing {
            cost_model,
            upstream_model,
            cache_hit,
        });
        self
    }

    /// Name `model` in every chunk, as the non-streamed answer does.
    pub(crate) fn with_public_model(mut self, model: &str) -> Self {
        self.public_model = Some(Arc::from(model));
        self
    }

    /// Keep the delivered text for the content log ([`crate::content_log`]).
    pub(crate) fn with_transcript(mut self) -> Self {
        self.tally.transcript = Some(String::new());
        self
    }

    /// Keep a bounded sample of the answer for quality scoring.
    pub(crate) fn with_quality_sample(mut self) -> Self {
        self.tally.quality = Some(QualitySample::default());
        self
    }

    fn transcribe(&mut self, text: &str) {
        if let Some(transcript) = &mut self.tally.transcript {
            transcript.push_str(text);
        }
    }

    /// Whether a guard chain of this choice's `channel` exists (text went through it).
    fn has_guards(&self, index: u32, channel: Channel) -> bool {
        self.guards
            .iter()
            .any(|g| g.index == index && g.channel == channel)
    }

    /// The guards of choice `index`'s `channel`, created on first use; `None` when no guard
    /// scans output.
    fn guards_for(&mut self, index: u32, channel: Channel) -> Option<&mut ChoiceGuards> {
        let found = self
            .guards
            .iter()
            .position(|g| g.index == index && g.channel == channel);
        let pos = match found {
            Some(pos) => pos,
            None => {
                let guards = (self.make_guards)();
                if guards.is_empty() {
                    return None;
                }
                self.guards.push(ChoiceGuards {
                    index,
                    channel,
                    guards,
                    finished: false,
                });
                self.guards.len() - 1
            }
        };
        Some(&mut self.guards[pos])
    }

    /// Run a choice's text through its guards. `Err` means the stream must stop.
    fn guard_text(
        &mut self,
        index: u32,
        channel: Channel,
        text: String,
        finishing: bool,
    ) -> Result<String, GuardOutcome> {
        // Without output guards the text passes through untouched (no copy per chunk).
        let Some(choice) = self.guards_for(index, channel) else {
            return Ok(text);
        };
        choice.finished |= finishing;
        let mut current = text;
        for guard in choice.guards.iter_mut() {
            let mut released = guard.push(&current)?;
            if finishing {
                released.push_str(&guard.finish()?);
            }
            current = released;
        }
        Ok(current)
    }

    /// The upstream ended without a finish chunk for some choice: release (or block) what its
    /// guards still hold back, so no text is silently lost.
    fn flush_unfinished(&mut self) {
        let pending: Vec<(u32, Channel)> = self
            .guards
            .iter()
            .filter(|g| !g.finished)
            .map(|g| (g.index, g.channel))
            .collect();
        for (index, channel) in pending {
            let Some(template) = self.template.clone() else {
                return;
            };
            match self.guard_text(index, channel, String::new(), true) {
                Ok(text) if text.is_empty() => {}
                Ok(text) => {
                    if channel == Channel::Content {
                        self.transcribe(&text);
                    }
                    let mut delta = Delta::default();
                    channel.put(&mut delta, text);
                    let chunk = ChatChunk {
                        choices: vec![ChunkChoice {
                            index,
                            delta,
                            finish_reason: None,
                            logprobs: None,
                            extra: Extra::new(),
                        }],
                        ..template
                    };
                    self.pending.push_back(Ok(StreamEvent::Chunk(chunk)));
                }
                Err(outcome) => return self.block(template, index, outcome),
            }
        }
        for index in self.tool_guards.open_choices() {
            let Some(template) = self.template.clone() else {
                return;
            };
            match self.tool_guards.release(index) {
                Ok(calls) if calls.is_empty() => {}
                Ok(calls) => {
                    let chunk = ChatChunk {
                        choices: vec![ChunkChoice {
                            index,
                            delta: Delta {
                                tool_calls: Some(calls),
                                ..Delta::default()
                            },
                            finish_reason: None,
                            logprobs: None,
                            extra: Extra::new(),
                        }],
                        ..template
                    };
                    self.pending.push_back(Ok(StreamEvent::Chunk(chunk)));
                }
                Err(outcome) => return self.block(template, index, outcome),
            }
        }
    }

    fn process_chunk(&mut self, mut chunk: ChatChunk) {
        if let Some(model) = &self.public_model
            && chunk.model != **model
        {
            // In place: the chunk's own buffer usually holds the name without reallocating.
            chunk.model.clear();
            chunk.model.push_str(model);
        }
        if self.template.is_none() {
            self.template = Some(ChatChunk {
                id: chunk.id.clone(),
                object: chunk.object.clone(),
                created: chunk.created,
                model: chunk.model.clone(),
                choices: Vec::new(),
                usage: None,
                system_fingerprint: chunk.system_fingerprint.clone(),
                extra: chunk.extra.clone(),
            });
        }
        if let Some(usage) = chunk.usage.take() {
            let charged = self.price(&usage);
            self.tally.usage = Some(usage.clone());
            if self.client_wants_usage {
                chunk.usage = Some(usage);
                // The cost charged, or nothing (an upstream gateway's own figure included).
                match charged.and_then(CostText::new) {
                    Some(text) => {
                        chunk.extra.insert(
                            COST_FIELD.to_owned(),
                            serde_json::Value::String(text.as_str().to_owned()),
                        );
                    }
                    None => {
                        chunk.extra.remove(COST_FIELD);
                    }
                }
            }
        }
        let usage_only = chunk.choices.is_empty();
        if let Some(sample) = &mut self.tally.quality {
            chunk.choices.iter().for_each(|c| sample.observe(c));
        }
        for i in 0..chunk.choices.len() {
            let index = chunk.choices[i].index;
            let finishing = chunk.choices[i].finish_reason.is_some();
            let texts = Channel::ALL.map(|channel| channel.take(&mut chunk.choices[i].delta));
            let has_tool_calls = chunk.choices[i].delta.tool_calls.is_some();
            if self.tally.first_token_at.is_none()
                && (texts.iter().flatten().any(|t| !t.is_empty()) || has_tool_calls)
            {
                self.tally.first_token_at = Some(Instant::now());
            }
            let calls = &mut chunk.choices[i].delta.tool_calls;
            if let Err(outcome) =
                self.tool_guards
                    .guard(index, calls, finishing, &*self.make_guards)
            {
                return self.block(chunk, index, outcome);
            }
            for (channel, text) in Channel::ALL.into_iter().zip(texts) {
                // A finishing choice flushes what its chains hold back; only the content
                // chain is made for that alone (refusal and reasoning ones exist only once
                // text went through them).
                let flush =
                    finishing && (channel == Channel::Content || self.has_guards(index, channel));
                if text.is_none() && !flush {
                    continue;
                }
                let had_text = text.is_some();
                match self.guard_text(index, channel, text.unwrap_or_default(), finishing) {
                    Ok(released) => {
                        if channel == Channel::Content {
                            self.transcribe(&released);
                        }
                        if !released.is_empty() || had_text {
                            channel.put(&mut chunk.choices[i].delta, released);
                        }
                    }
                    Err(outcome) => return self.block(chunk, index, outcome),
                }
            }
        }
        if usage_only && chunk.usage.is_none() {
            return; // the usage chunk the gateway asked for on its own behalf
        }
        self.pending.push_back(Ok(StreamEvent::Chunk(chunk)));
    }

    /// Records the upstream price of `usage` in the tally; returns the cost charged to the
    /// caller (zero for a cache hit), when priced.
    fn price(&mut self, usage: &Usage) -> Option<f64> {
        let pricing = self.pricing.as_ref()?;
        let price = pricing
            .cost_model
            .cost_usd(&self.provider, &pricing.upstream_model, usage);
        self.tally.price = Some(price);
        if pricing.cache_hit {
            return price.map(|_| 0.0);
        }
        price
    }

    /// End the stream cleanly after a guardrail block: a final `content_filter` chunk, then
    /// an error event naming the guardrail.
    fn block(&mut self, template: ChatChunk, index: u32, outcome: GuardOutcome) {
        let last = ChatChunk {
            choices: vec![ChunkChoice {
                index,
                delta: Delta::default(),
                finish_reason: Some("content_filter".to_owned()),
                logprobs: None,
                extra: Extra::new(),
            }],
            usage: None,
            ..template
        };
        self.pending.push_back(Ok(StreamEvent::Chunk(last)));
        if let Some(err) = outcome.block_error() {
            self.pending.push_back(Err(err));
        }
        self.tally.blocked = Some(outcome);
        self.done = true;
    }

    /// What every guard of the stream found (the text guards', the tool-call guards' and a
    /// blocking outcome's).
    fn count_findings(&mut self) {
        let mut found = self.tool_guards.findings();
        for choice in &self.guards {
            for guard in &choice.guards {
                found.merge(guard.findings());
            }
        }
        if let Some(blocked) = &self.tally.blocked {
            found.add_outcome(blocked);
        }
        self.tally.findings = found;
    }

    fn finish(&mut self) {
        if let Some(on_end) = self.on_end.take() {
            self.count_findings();
            on_end(std::mem::take(&mut self.tally));
        }
    }
}

impl Stream for MeteredStream {
    type Item = Result<StreamEvent, GatewayError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(item) = this.pending.pop_front() {
                return Poll::Ready(Some(item));
            }
            if this.done {
                this.finish();
                return Poll::Ready(None);
            }
            match this.inner.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    this.tally.completed = true;
                    this.done = true;
                    this.flush_unfinished();
                }
                Poll::Ready(Some(Ok(StreamEvent::Chunk(chunk)))) => this.process_chunk(chunk),
                Poll::Ready(Some(Ok(StreamEvent::KeepAlive))) => {
                    return Poll::Ready(Some(Ok(StreamEvent::KeepAlive)));
                }
                Poll::Ready(Some(Err(err))) => {
                    let err = err.into_gateway_error(&this.provider);
                    this.tally.error = Some(err.clone());
                    this.pending.push_back(Err(err));
                    this.done = true;
                }
            }
        }
    }
}

impl Drop for MeteredStream {
    fn drop(&mut self) {
        // Dropped before the end: the client went away. Account for what was used.
        self.finish();
    }
}
