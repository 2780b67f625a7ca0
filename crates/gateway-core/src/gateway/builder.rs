//! Assembling a [`Gateway`] from its phases.

use std::sync::Arc;

use crate::content_log::ContentLogSink;
use crate::phases::account::{CostModel, UsageSink};
use crate::phases::admission::Admission;
use crate::phases::auth::Authenticator;
use crate::phases::cache::ResponseCache;
use crate::phases::guard::{AsyncGuardrail, Guardrail, RequestPolicy};
use crate::phases::route::Router;
use crate::quality::{QualityJudge, QualityScorer};

/// The assembled pipeline. Cheap to share (`Arc<Gateway>`); every phase but routing is optional.
pub struct Gateway {
    pub(super) router: Arc<dyn Router>,
    pub(super) authenticator: Option<Arc<dyn Authenticator>>,
    pub(super) admission: Option<Arc<dyn Admission>>,
    pub(super) guardrails: Arc<[Arc<dyn Guardrail>]>,
    pub(super) async_guardrails: Vec<Arc<dyn AsyncGuardrail>>,
    pub(super) policy: Option<Arc<dyn RequestPolicy>>,
    pub(super) usage_sink: Option<Arc<dyn UsageSink>>,
    pub(super) cost_model: Option<Arc<dyn CostModel>>,
    pub(super) cache: Option<Arc<dyn ResponseCache>>,
    pub(super) content_log: Option<Arc<dyn ContentLogSink>>,
    pub(super) quality_scorer: Option<Arc<dyn QualityScorer>>,
    pub(super) quality_judge: Option<Arc<dyn QualityJudge>>,
}

/// Builds a [`Gateway`] from its phases.
pub struct GatewayBuilder {
    router: Arc<dyn Router>,
    authenticator: Option<Arc<dyn Authenticator>>,
    admission: Option<Arc<dyn Admission>>,
    guardrails: Vec<Arc<dyn Guardrail>>,
    async_guardrails: Vec<Arc<dyn AsyncGuardrail>>,
    policy: Option<Arc<dyn RequestPolicy>>,
    usage_sink: Option<Arc<dyn UsageSink>>,
    cost_model: Option<Arc<dyn CostModel>>,
    cache: Option<Arc<dyn ResponseCache>>,
    content_log: Option<Arc<dyn ContentLogSink>>,
    quality_scorer: Option<Arc<dyn QualityScorer>>,
    quality_judge: Option<Arc<dyn QualityJudge>>,
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
    /// An input check with I/O (external moderation), run after the guardrails.
    pub fn async_guardrail(mut self, g: Arc<dyn AsyncGuardrail>) -> Self {
        self.async_guardrails.push(g);
        self
    }
    /// The custom request policy, run right after the model is authorised.
    pub fn policy(mut self, p: Arc<dyn RequestPolicy>) -> Self {
        self.policy = Some(p);
        self
    }
    pub fn usage_sink(mut self, s: Arc<dyn UsageSink>) -> Self {
        self.usage_sink = Some(s);
        self
    }
    pub fn cache(mut self, c: Arc<dyn ResponseCache>) -> Self {
        self.cache = Some(c);
        self
    }
    pub fn cost_model(mut self, c: Arc<dyn CostModel>) -> Self {
        self.cost_model = Some(c);
        self
    }
    /// Where logged prompts and completions go instead of the log in clear (a sealing sink;
    /// see [`crate::content_log`]).
    pub fn content_log(mut self, sink: Arc<dyn ContentLogSink>) -> Self {
        self.content_log = Some(sink);
        self
    }
    /// Scores every chat answer where it is accounted (the record's `quality`).
    pub fn quality_scorer(mut self, s: Arc<dyn QualityScorer>) -> Self {
        self.quality_scorer = Some(s);
        self
    }
    /// Hands a sampled share of answered chat calls to an LLM judge (with a scorer set).
    pub fn quality_judge(mut self, j: Arc<dyn QualityJudge>) -> Self {
        self.quality_judge = Some(j);
        self
    }
    pub fn build(self) -> Gateway {
        Gateway {
            router: self.router,
            authenticator: self.authenticator,
            admission: self.admission,
            guardrails: self.guardrails.into(),
            async_guardrails: self.async_guardrails,
            policy: self.policy,
            usage_sink: self.usage_sink,
            cost_model: self.cost_model,
            cache: self.cache,
            content_log: self.content_log,
            quality_scorer: self.quality_scorer,
            quality_judge: self.quality_judge,
        }
    }
}

impl Gateway {
    pub fn builder(router: Arc<dyn Router>) -> GatewayBuilder {
        GatewayBuilder {
            router,
            authenticator: None,
            admission: None,
            guardrails: Vec::new(),
            async_guardrails: Vec::new(),
            policy: None,
            usage_sink: None,
            cost_model: None,
            cache: None,
            content_log: None,
            quality_scorer: None,
            quality_judge: None,
        }
    }
}
