//! [`Gateway`]: the pipeline of DESIGN.md over the phase traits, usable in-process.
//!
//! authenticate -> authorize -> admit -> inspect input -> route and call -> inspect output ->
//! account. The HTTP edge in `gateway-app` decodes requests and calls these methods; an
//! embedding service calls them directly.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use crate::context::RequestContext;
use crate::error::GatewayError;
use crate::metered_stream::{GatewayStream, MeteredStream, StreamTally};
use crate::phases::account::{CostModel, UsageRecord, UsageSink};
use crate::phases::admission::{Admission, Admitted, LimitSnapshot, Permit, UsageEstimate};
use crate::phases::auth::Authenticator;
use crate::phases::guard::{GuardOutcome, Guardrail, StreamGuard};
use crate::phases::route::{Router, ServedBy};
use crate::principal::Principal;
use crate::types::{
    ChatRequest, ChatResponse, EmbeddingsRequest, EmbeddingsResponse, ModelInfo, StreamOptions,
    Usage,
};

/// A completed non-streamed call.
#[derive(Debug)]
pub struct ChatOutcome {
    pub response: ChatResponse,
    pub served_by: ServedBy,
    pub limits: LimitSnapshot,
}

/// A started streamed call; the stream is already guarded and metered.
pub struct StreamOutcome {
    pub stream: GatewayStream,
    pub served_by: ServedBy,
    pub limits: LimitSnapshot,
}

impl std::fmt::Debug for StreamOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamOutcome")
            .field("served_by", &self.served_by)
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
pub struct EmbeddingsOutcome {
    pub response: EmbeddingsResponse,
    pub served_by: ServedBy,
}

/// The assembled pipeline. Cheap to share (`Arc<Gateway>`); every phase but routing is optional.
pub struct Gateway {
    router: Arc<dyn Router>,
    authenticator: Option<Arc<dyn Authenticator>>,
    admission: Option<Arc<dyn Admission>>,
    guardrails: Arc<[Arc<dyn Guardrail>]>,
    usage_sink: Option<Arc<dyn UsageSink>>,
    cost_model: Option<Arc<dyn CostModel>>,
}

/// Builds a [`Gateway`] from its phases.
pub struct GatewayBuilder {
    router: Arc<dyn Router>,
    authenticator: Option<Arc<dyn Authenticator>>,
    admission: Option<Arc<dyn Admission>>,
    guardrails: Vec<Arc<dyn Guardrail>>,
    usage_sink: Option<Arc<dyn UsageSink>>,
    cost_model: Option<Arc<dyn CostModel>>,
}

impl GatewayBuilder {
    pub fn authenticator(mut self, a: Arc<dyn Authenticator>) -> Self {
        self.authenticator = Some(a);
        self
    }
    pub fn admission(mut self, a: Arc<dyn Admission>) -> Self {
        self.admission = Some(a);
        self
    }
    pub fn guardrail(mut self, g: Arc<dyn Guardrail>) -> Self {
        self.guardrails.push(g);
        self
    }
    pub fn usage_sink(mut self, s: Arc<dyn UsageSink>) -> Self {
        self.usage_sink = Some(s);
        self
    }
    pub fn cost_model(mut self, c: Arc<dyn CostModel>) -> Self {
        self.cost_model = Some(c);
        self
    }
    pub fn build(self) -> Gateway {
        Gateway {
            router: self.router,
            authenticator: self.authenticator,
            admission: self.admission,
            guardrails: self.guardrails.into(),
            usage_sink: self.usage_sink,
            cost_model: self.cost_model,
        }
    }
}

/// The parts of a call known before routing, carried into accounting.
struct CallRecord<'a> {
    ctx: &'a RequestContext,
    model: String,
    stream: bool,
}

impl Gateway {
    pub fn builder(router: Arc<dyn Router>) -> GatewayBuilder {
        GatewayBuilder {
            router,
            authenticator: None,
            admission: None,
            guardrails: Vec::new(),
            usage_sink: None,
            cost_model: None,
        }
    }

    pub fn router(&self) -> &Arc<dyn Router> {
        &self.router
    }

    /// Whether callers must present a credential.
    pub fn requires_auth(&self) -> bool {
        self.authenticator.is_some()
    }

    /// Phase 2. With no authenticator configured every caller is [`Principal::anonymous`].
    pub async fn authenticate(&self, token: Option<&str>) -> Result<Principal, GatewayError> {
        match (&self.authenticator, token) {
            (None, _) => Ok(Principal::anonymous()),
            (Some(_), None) => Err(GatewayError::Unauthenticated(
                "Missing API key. Pass it as 'Authorization: Bearer <key>' or in the 'x-api-key' header.".to_owned(),
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
    fn authorize_model(&self, ctx: &RequestContext, model: &str) -> Result<(), GatewayError> {
        if self.router.knows(model) && ctx.principal.may_use_model(model) {
            Ok(())
        } else {
            Err(GatewayError::ModelNotFound(model.to_owned()))
        }
    }

    async fn admit(
        &self,
        ctx: &RequestContext,
        req: &ChatRequest,
    ) -> Result<Option<Admitted>, GatewayError> {
        let Some(admission) = &self.admission else {
            return Ok(None);
        };
        let estimate = UsageEstimate {
            model: req.model.clone(),
            prompt_tokens: estimate_prompt_tokens(req),
            max_output_tokens: u64::from(req.max_output_tokens().unwrap_or(1024))
                * u64::from(req.n.unwrap_or(1)),
        };
        admission.admit(ctx, &estimate).await.map(Some)
    }

    fn inspect_input(
        &self,
        ctx: &RequestContext,
        req: &mut ChatRequest,
    ) -> Result<Vec<GuardOutcome>, GatewayError> {
        let mut outcomes = Vec::new();
        for guard in self.guardrails.iter() {
            let outcome = guard.check_request(req, ctx);
            if let Some(err) = outcome.block_error() {
                return Err(err);
            }
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }

    /// A non-streamed chat completion through the whole pipeline.
    pub async fn chat(
        &self,
        ctx: &RequestContext,
        mut req: ChatRequest,
    ) -> Result<ChatOutcome, GatewayError> {
        req.validate()?;
        req.stream = false;
        self.authorize_model(ctx, &req.model)?;
        let call = CallRecord {
            ctx,
            model: req.model.clone(),
            stream: false,
        };
        let admitted = self.admit(ctx, &req).await?;
        self.inspect_input(ctx, &mut req)?;
        let routed = match self.router.chat(req, ctx).await {
            Ok(routed) => routed,
            Err(err) => {
                self.account(&call, None, None, err.status(), None, false);
                return Err(err);
            }
        };
        let mut response = routed.value;
        for guard in self.guardrails.iter() {
            let outcome = guard.check_response(&mut response, ctx);
            if let Some(err) = outcome.block_error() {
                self.account(
                    &call,
                    Some(&routed.served_by),
                    response.usage.clone(),
                    err.status(),
                    None,
                    false,
                );
                return Err(err);
            }
        }
        let cost = self.cost(&routed.served_by, response.usage.as_ref());
        let limits = complete_admission(admitted, response.usage.as_ref(), cost);
        self.account(
            &call,
            Some(&routed.served_by),
            response.usage.clone(),
            200,
            None,
            false,
        );
        response.model = call.model.clone();
        Ok(ChatOutcome {
            response,
            served_by: routed.served_by,
            limits,
        })
    }

    /// A streamed chat completion. Usage is always requested upstream (and removed from what
    /// the caller sees unless it asked), so streamed calls are accounted like any other.
    pub async fn chat_stream(
        &self,
        ctx: &RequestContext,
        mut req: ChatRequest,
    ) -> Result<StreamOutcome, GatewayError> {
        req.stream = true;
        req.validate()?;
        self.authorize_model(ctx, &req.model)?;
        let client_wants_usage = req.wants_stream_usage();
        req.stream_options
            .get_or_insert_with(StreamOptions::default)
            .include_usage = Some(true);
        let call = CallRecord {
            ctx,
            model: req.model.clone(),
            stream: true,
        };
        let admitted = self.admit(ctx, &req).await?;
        self.inspect_input(ctx, &mut req)?;
        let routed = match self.router.chat_stream(req, ctx).await {
            Ok(routed) => routed,
            Err(err) => {
                self.account(&call, None, None, err.status(), None, false);
                return Err(err);
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
        let on_end = self.stream_accounting(&call, routed.served_by.clone(), admitted);
        let metered = MeteredStream::new(
            routed.value,
            routed.served_by.provider.clone(),
            client_wants_usage,
            make_guards,
            on_end,
        );
        Ok(StreamOutcome {
            stream: Box::pin(metered),
            served_by: routed.served_by,
            limits,
        })
    }

    fn stream_accounting(
        &self,
        call: &CallRecord<'_>,
        served_by: ServedBy,
        admitted: Option<Admitted>,
    ) -> Box<dyn FnOnce(StreamTally) + Send> {
        let sink = self.usage_sink.clone();
        let cost_model = self.cost_model.clone();
        let base = base_record(call);
        Box::new(move |tally: StreamTally| {
            let cost = match (&cost_model, &tally.usage) {
                (Some(m), Some(u)) => m.cost_usd(&served_by.provider, &served_by.upstream_model, u),
                _ => None,
            };
            complete_admission(admitted, tally.usage.as_ref(), cost);
            let Some(sink) = sink else { return };
            let status = match (&tally.error, &tally.blocked) {
                (Some(err), _) => err.status(),
                (None, Some(_)) => 422,
                _ => 200,
            };
            sink.record(UsageRecord {
                provider: Some(served_by.provider.clone()),
                upstream_model: Some(served_by.upstream_model.clone()),
                usage: tally.usage,
                cost_usd: cost,
                status,
                latency: base.latency_from.elapsed(),
                time_to_first_token: tally
                    .first_token_at
                    .map(|t| t.duration_since(base.latency_from)),
                cancelled: !tally.completed && tally.error.is_none() && tally.blocked.is_none(),
                ..base.record
            });
        })
    }

    /// Embeddings through authentication, authorisation and routing.
    pub async fn embeddings(
        &self,
        ctx: &RequestContext,
        req: EmbeddingsRequest,
    ) -> Result<EmbeddingsOutcome, GatewayError> {
        req.validate()?;
        self.authorize_model(ctx, &req.model)?;
        let model = req.model.clone();
        let mut routed = self.router.embeddings(req, ctx).await?;
        routed.value.model = model;
        Ok(EmbeddingsOutcome {
            response: routed.value,
            served_by: routed.served_by,
        })
    }

    fn cost(&self, served_by: &ServedBy, usage: Option<&Usage>) -> Option<f64> {
        let (model, usage) = (self.cost_model.as_ref()?, usage?);
        model.cost_usd(&served_by.provider, &served_by.upstream_model, usage)
    }

    fn account(
        &self,
        call: &CallRecord<'_>,
        served_by: Option<&ServedBy>,
        usage: Option<Usage>,
        status: u16,
        ttft: Option<std::time::Duration>,
        cancelled: bool,
    ) {
        let Some(sink) = &self.usage_sink else { return };
        let base = base_record(call);
        let cost = served_by.and_then(|s| self.cost(s, usage.as_ref()));
        sink.record(UsageRecord {
            provider: served_by.map(|s| s.provider.clone()),
            upstream_model: served_by.map(|s| s.upstream_model.clone()),
            usage,
            cost_usd: cost,
            status,
            latency: base.latency_from.elapsed(),
            time_to_first_token: ttft,
            cancelled,
            ..base.record
        });
    }
}

struct BaseRecord {
    record: UsageRecord,
    latency_from: Instant,
}

fn base_record(call: &CallRecord<'_>) -> BaseRecord {
    let ctx = call.ctx;
    BaseRecord {
        latency_from: ctx.received_at,
        record: UsageRecord {
            request_id: ctx.request_id.clone(),
            at: SystemTime::now(),
            tenant: ctx.principal.tenant.clone(),
            subject: ctx.principal.subject.clone(),
            endpoint: ctx.endpoint.as_str(),
            model: call.model.clone(),
            provider: None,
            upstream_model: None,
            usage: None,
            cost_usd: None,
            status: 0,
            latency: std::time::Duration::ZERO,
            time_to_first_token: None,
            stream: call.stream,
            cache_hit: false,
            cancelled: false,
        },
    }
}

fn complete_admission(
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
