//! [`Gateway`]: the pipeline of DESIGN.md over the phase traits, usable in-process.
//!
//! authenticate -> authorize -> admit -> inspect input -> route and call -> inspect output ->
//! account. The HTTP edge in `gateway-app` decodes requests and calls these methods; an
//! embedding service calls them directly. [`builder`] assembles it; [`outcome`] holds what the
//! calls return.

use std::sync::Arc;

use tracing::Instrument;

use crate::accounting::{CallEnd, CallRecord, complete_admission};
use crate::content_log;
use crate::context::RequestContext;
use crate::error::{AuthFailure, GatewayError};
use crate::metered_stream::MeteredStream;
use crate::phases::account::{call_span, in_span};
use crate::phases::admission::{Admission, Admitted, UsageEstimate};
use crate::phases::cache::{CacheFill, CacheLookup, CacheStatus, CachedAnswer};
use crate::phases::guard::{FindingTally, GuardAction, StreamGuard};
use crate::phases::route::{Router, ServedBy};
use crate::principal::Principal;
use crate::quality::AnswerView;
use crate::types::{ChatRequest, ChatResponse, EmbeddingsRequest, ModelInfo, StreamOptions, Usage};

mod builder;
mod opening;
mod outcome;

use opening::Opened;

pub use builder::{Gateway, GatewayBuilder};
pub use outcome::{ChatOutcome, EmbeddingsOutcome, StreamOutcome};

impl Gateway {
    pub fn router(&self) -> &Arc<dyn Router> {
        &self.router
    }

    /// Whether callers must present a credential.
    pub fn requires_auth(&self) -> bool {
        self.authenticator.is_some()
    }

    /// Phase 2. With no authenticator configured every caller is [`Principal::anonymous`].
    #[tracing::instrument(name = "gateway.authenticate", skip_all)]
    pub async fn authenticate(&self, token: Option<&str>) -> Result<Principal, GatewayError> {
        match (&self.authenticator, token) {
            (None, _) => Ok(Principal::anonymous()),
            (Some(_), None) => Err(GatewayError::unauthenticated(
                AuthFailure::Missing,
                "Missing API key. Pass it as 'Authorization: Bearer <key>' or in the 'x-api-key' header.",
            )),
            (Some(auth), Some(token)) => auth.authenticate(token).await,
        }
    }

    /// The public models this caller may use.
    pub fn models_for(&self, principal: &Principal) -> Vec<ModelInfo> {
        let mut models = self.router.models();
        models.retain(|m| principal.may_use_model(&m.id));
        models
    }

    /// Phase 3: the model must exist and be allowed; unknown and forbidden look the same so
    /// that a caller cannot probe which models exist.
    #[tracing::instrument(name = "gateway.authorize", skip_all)]
    fn authorize_model(&self, ctx: &RequestContext, model: &str) -> Result<(), GatewayError> {
        if self.router.knows(model) && ctx.principal.may_use_model(model) {
            Ok(())
        } else {
            Err(GatewayError::ModelNotFound(model.to_owned()))
        }
    }

    /// Phase 3, custom policy: may deny, narrow the regions (on a copy of the context, which
    /// the rest of the call uses) or move the request to another model, authorised again.
    fn apply_policy(
        &self,
        ctx: &RequestContext,
        req: &mut ChatRequest,
    ) -> Result<Option<RequestContext>, GatewayError> {
        let Some(policy) = &self.policy else {
            return Ok(None);
        };
        let mut policed = ctx.clone();
        let model = req.model.clone();
        policy.decide(&mut policed, req)?;
        if req.model != model {
            self.authorize_model(&policed, &req.model)?;
        }
        Ok(Some(policed))
    }

    #[tracing::instrument(name = "gateway.admit", skip_all)]
    async fn admit(
        &self,
        ctx: &RequestContext,
        admission: &dyn Admission,
        estimate: &UsageEstimate,
    ) -> Result<Admitted, GatewayError> {
        admission.admit(ctx, estimate).await
    }

    #[tracing::instrument(name = "gateway.inspect_input", skip_all)]
    fn inspect_input(
        &self,
        ctx: &RequestContext,
        call: &CallRecord,
        req: &mut ChatRequest,
    ) -> Result<(), GatewayError> {
        // Redactions are already applied to `req`; flags and redactions are only counted.
        for guard in self.guardrails.iter() {
            let outcome = guard.check_request(req, ctx);
            if outcome.action != GuardAction::Allow {
                call.add_findings(FindingTally::of(&outcome));
            }
            if let Some(err) = outcome.block_error() {
                return Err(err);
            }
        }
        Ok(())
    }

    /// Phase 5, checks with I/O, on the text the guardrails let through.
    async fn inspect_input_async(
        &self,
        ctx: &RequestContext,
        call: &CallRecord,
        req: &ChatRequest,
    ) -> Result<(), GatewayError> {
        for guard in &self.async_guardrails {
            let outcome = guard.check_request(req, ctx).await?;
            if outcome.action != GuardAction::Allow {
                call.add_findings(FindingTally::of(&outcome));
            }
            if let Some(err) = outcome.block_error() {
                return Err(err);
            }
        }
        Ok(())
    }

    fn call_record(&self, ctx: &RequestContext, model: &str, stream: bool) -> CallRecord {
        CallRecord::new(
            ctx,
            model,
            stream,
            self.usage_sink.clone(),
            self.cost_model.clone(),
        )
    }

    #[tracing::instrument(name = "gateway.cache", skip_all)]
    async fn cache_lookup(&self, ctx: &RequestContext, req: &ChatRequest) -> CacheLookup {
        match &self.cache {
            // Pass-through tenants are neither served from nor written to the cache.
            Some(_) if ctx.passthrough => CacheLookup::Skip,
            Some(cache) => cache.lookup(ctx, req).await,
            None => CacheLookup::Skip,
        }
    }

    /// Phase 8 on a whole response; a block is accounted and returned.
    #[tracing::instrument(name = "gateway.inspect_output", skip_all)]
    fn inspect_output(
        &self,
        ctx: &RequestContext,
        call: &CallRecord,
        response: &mut ChatResponse,
        served_by: &ServedBy,
    ) -> Result<(), GatewayError> {
        for guard in self.guardrails.iter() {
            let outcome = guard.check_response(response, ctx);
            if outcome.action != GuardAction::Allow {
                call.add_findings(FindingTally::of(&outcome));
            }
            if let Some(err) = outcome.block_error() {
                let usage = response.usage.clone();
                call.finish(CallEnd {
                    served_by: Some(served_by),
                    usage,
                    status: err.status(),
                    ..CallEnd::default()
                });
                return Err(err);
            }
        }
        Ok(())
    }

    /// A non-streamed chat completion through the whole pipeline.
    pub async fn chat(
        &self,
        ctx: &RequestContext,
        req: ChatRequest,
    ) -> Result<ChatOutcome, GatewayError> {
        let span = call_span(ctx, &req.model, false);
        // Boxed: the pipeline's state machine is kilobytes large, and every layer above that
        // moves an unboxed future (timeouts, spans, hyper's dispatcher) would copy all of it.
        Box::pin(self.chat_call(ctx, req).instrument(span)).await
    }

    async fn chat_call(
        &self,
        ctx: &RequestContext,
        mut req: ChatRequest,
    ) -> Result<ChatOutcome, GatewayError> {
        req.stream = false;
        let Opened {
            policed,
            mut call,
            admitted,
        } = self.open(ctx, &mut req, false).await?;
        if let Some(scorer) = &self.quality_scorer {
            call.expect_quality(scorer, &req);
            if let Some(judge) = &self.quality_judge
                && judge.samples(ctx)
            {
                call.judge_with(judge, &req);
            }
        }
        let ctx = policed.as_ref().unwrap_or(ctx);
        let lookup = self.cache_lookup(ctx, &req).await;
        let cache = lookup.status();
        let (mut response, served_by, fill) = match lookup {
            CacheLookup::Hit(answer) => {
                let served_by = cached_served_by(&answer);
                (answer.response, served_by, None)
            }
            CacheLookup::Miss(fill) => self.route_chat(ctx, &call, req, Some(fill)).await?,
            CacheLookup::Bypass(fill) => self.route_chat(ctx, &call, req, fill).await?,
            CacheLookup::Skip => self.route_chat(ctx, &call, req, None).await?,
        };
        let fresh = fill.map(|fill| (fill, response.clone()));
        self.inspect_output(ctx, &call, &mut response, &served_by)?;
        if ctx.log_content && !ctx.passthrough {
            content_log::completion(self.content_log.as_ref(), ctx, &response);
        }
        if let Some((fill, answer)) = fresh {
            fill.store(answer, &served_by);
        }
        let cache_hit = cache == Some(CacheStatus::Hit);
        let cost = call.finish(CallEnd {
            served_by: Some(&served_by),
            usage: response.usage.clone(),
            status: 200,
            cache_hit,
            answer: Some(AnswerView::of_response(&response)),
            ..CallEnd::default()
        });
        // A cache hit consumed nothing upstream: it settles its reservation at zero.
        let consumed = if cache_hit {
            Some(Usage::default())
        } else {
            response.usage.clone()
        };
        let limits = complete_admission(admitted, consumed.as_ref(), cost);

        response.model = call.model().to_owned();
        Ok(ChatOutcome {
            response,
            served_by,
            limits,
            cost_usd: cost,
            cache,
        })
    }

    #[tracing::instrument(name = "gateway.route", skip_all)]
    async fn route_chat(
        &self,
        ctx: &RequestContext,
        call: &CallRecord,
        req: ChatRequest,
        fill: Option<Box<dyn CacheFill>>,
    ) -> Result<RoutedAnswer, GatewayError> {
        call.upstream_started();
        let result = self.router.chat(req, ctx).await;
        call.upstream_ended();
        let routed = result.map_err(|err| call.failed(err))?;
        Ok((routed.value, routed.served_by, fill))
    }

    /// A streamed chat completion. Usage is always requested upstream (and removed from what
    /// the caller sees unless it asked), so streamed calls are accounted like any other. A
    /// cache hit is replayed as a stream through the same output guardrails and metering.
    pub async fn chat_stream(
        &self,
        ctx: &RequestContext,
        req: ChatRequest,
    ) -> Result<StreamOutcome, GatewayError> {
        let span = call_span(ctx, &req.model, true);
        // Boxed for the same reason as in `chat`.
        Box::pin(self.chat_stream_call(ctx, req).instrument(span)).await
    }

    async fn chat_stream_call(
        &self,
        ctx: &RequestContext,
        mut req: ChatRequest,
    ) -> Result<StreamOutcome, GatewayError> {
        req.stream = true;
        let client_wants_usage = req.wants_stream_usage();
        req.stream_options
            .get_or_insert_with(StreamOptions::default)
            .include_usage = Some(true);
        let Opened {
            policed,
            mut call,
            mut admitted,
        } = self.open(ctx, &mut req, true).await?;
        if let Some(scorer) = &self.quality_scorer {
            call.expect_quality(scorer, &req);
            if let Some(judge) = &self.quality_judge
                && judge.samples(ctx)
            {
                call.judge_with(judge, &req);
            }
        }
        let ctx = policed.as_ref().unwrap_or(ctx);
        let lookup = self.cache_lookup(ctx, &req).await;
        let cache = lookup.status();
        let (stream, served_by) = match (lookup, &self.cache) {
            (CacheLookup::Hit(answer), Some(c)) => {
                (c.replay(&answer.response), cached_served_by(&answer))
            }
            (lookup, _) => {
                let fill = match lookup {
                    CacheLookup::Miss(fill) => Some(fill),
                    CacheLookup::Bypass(fill) => fill,
                    _ => None,
                };
                call.upstream_started();
                let routed = self
                    .router
                    .chat_stream(req, ctx)
                    .instrument(tracing::info_span!("gateway.route"))
                    .await
                    .map_err(|err| call.failed(err))?;
                // Held to its reservation under hard token or spend limits.
                let allowance = admitted.as_mut().and_then(|a| a.permit.output_allowance());
                let upstream = crate::phases::output_cap::cap_output(routed.value, allowance);
                let stream = match fill {
                    Some(fill) => fill.wrap_stream(upstream, &routed.served_by),
                    None => upstream,
                };
                (stream, routed.served_by)
            }
        };
        let limits = admitted
            .as_ref()
            .map(|a| a.snapshot.clone())
            .unwrap_or_default();
        let guardrails = self.guardrails.clone();
        let guard_ctx = ctx.clone();
        let make_guards = Box::new(move || -> Vec<Box<dyn StreamGuard>> {
            guardrails
                .iter()
                .filter_map(|g| g.stream_guard(&guard_ctx))
                .collect()
        });
        let cache_hit = cache == Some(CacheStatus::Hit);
        let public_model = call.model().to_owned();
        let logged = ctx.log_content && !ctx.passthrough;
        // Only a logged call's stream carries the sink (no reference count touched otherwise).
        let content_log = if logged {
            self.content_log.clone()
        } else {
            None
        };
        let scored = call.scores_quality();
        let on_end = in_span(
            tracing::Span::current(),
            call.on_stream_end(served_by.clone(), admitted, cache_hit, content_log),
        );
        let mut metered = MeteredStream::new(
            stream,
            served_by.provider.clone(),
            client_wants_usage,
            make_guards,
            on_end,
        )
        .with_public_model(&public_model)
        .with_pricing(
            self.cost_model.clone(),
            served_by.upstream_model.clone(),
            cache_hit,
        );
        if logged {
            metered = metered.with_transcript();
        }
        if scored {
            metered = metered.with_quality_sample();
        }
        Ok(StreamOutcome {
            stream: Box::pin(metered),
            served_by,
            limits,
            cache,
        })
    }

    /// Embeddings through the same opening as every model call (policy, limits, input
    /// guardrails on each text input), then routing and accounting: one usage record with the
    /// input tokens and their cost.
    pub async fn embeddings(
        &self,
        ctx: &RequestContext,
        req: EmbeddingsRequest,
    ) -> Result<EmbeddingsOutcome, GatewayError> {
        let span = call_span(ctx, &req.model, false);
        Box::pin(self.embeddings_call(ctx, req).instrument(span)).await
    }

    async fn embeddings_call(
        &self,
        ctx: &RequestContext,
        mut req: EmbeddingsRequest,
    ) -> Result<EmbeddingsOutcome, GatewayError> {
        let Opened {
            policed,
            call,
            admitted,
        } = self.open(ctx, &mut req, false).await?;
        let ctx = policed.as_ref().unwrap_or(ctx);
        call.upstream_started();
        let result = self
            .router
            .embeddings(req, ctx)
            .instrument(tracing::info_span!("gateway.route"))
            .await;
        call.upstream_ended();
        let mut routed = result.map_err(|err| call.failed(err))?;
        let usage = Usage::new(routed.value.usage.prompt_tokens, 0);
        let cost = call.finish(CallEnd {
            served_by: Some(&routed.served_by),
            usage: Some(usage.clone()),
            status: 200,
            ..CallEnd::default()
        });
        let limits = complete_admission(admitted, Some(&usage), cost);
        routed.value.model = call.model().to_owned();
        Ok(EmbeddingsOutcome {
            response: routed.value,
            served_by: routed.served_by,
            limits,
            cost_usd: cost,
        })
    }
}

/// A fresh upstream answer, who served it, and where to cache it.
type RoutedAnswer = (ChatResponse, ServedBy, Option<Box<dyn CacheFill>>);

/// A cache hit names the deployment that produced the answer; no upstream was attempted.
fn cached_served_by(answer: &CachedAnswer) -> ServedBy {
    ServedBy {
        route_reason: None,
        task: None,
        dropped_params: Vec::new(),
        provider: answer
            .provider
            .clone()
            .unwrap_or_else(|| Arc::from("cache")),
        upstream_model: answer
            .upstream_model
            .clone()
            .unwrap_or_else(|| Arc::from("")),
        region: None,
        attempts: 0,
        path: Vec::new(),
    }
}

/// A cheap prompt-size estimate (about four bytes a token) used when no tokenizer applies.
pub fn estimate_prompt_tokens(req: &ChatRequest) -> u64 {
    let bytes: usize = req
        .messages
        .iter()
        .filter_map(|m| m.content.as_ref())
        .flat_map(|c| c.texts())
        .map(str::len)
        .sum();
    (bytes as u64).div_ceil(4) + 3 * req.messages.len() as u64
}
