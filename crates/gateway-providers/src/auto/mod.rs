//! Prompt-type routing: a virtual model (`auto` by default) whose calls are classified
//! ([`gateway_core::features::PromptClassifier`]), matched against CEL rules over the
//! features ([`rules`]), and sent to the model group chosen among the matching rule's
//! candidates by cost and quality ([`choose`]). The reason of each choice travels back in
//! [`ServedBy::route_reason`](gateway_core::phases::route::ServedBy) (the edge's
//! `x-gateway-route-reason` header). Every other model name passes straight to the
//! [`ModelRouter`].
//!
//! Configured by [`AutoRoutingConfig`] (the `[prompt_routing]` section), compiled once by
//! [`AutoRoutingConfig::compile`]: a bad expression is a configuration error with its path.

pub mod choose;
pub mod rules;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use gateway_core::features::{PromptClassifier, TaskType};
use gateway_core::phases::route::{Routed, Router};
use gateway_core::types::{EmbeddingsRequest, EmbeddingsResponse, ModelInfo};
use gateway_core::{ChatRequest, ChatResponse, ChatStream, GatewayError, RequestContext};
use serde::Deserialize;

use crate::router::ModelRouter;
pub use choose::CandidateConfig;
use choose::Scored;
use rules::{Rule, RuleSet};

fn default_model() -> String {
    "auto".to_owned()
}

fn default_margin() -> f64 {
    0.05
}

/// The `[prompt_routing]` section.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AutoRoutingConfig {
    /// The virtual model name callers use.
    #[serde(default = "default_model")]
    pub model: String,
    /// The model group used when no rule holds.
    pub default: String,
    /// Candidates whose quality for the task is within this of the best are equally good;
    /// the cheapest of them is used.
    #[serde(default = "default_margin")]
    pub quality_margin: f64,
    /// Evaluated in order; the first that holds decides.
    #[serde(default)]
    pub rules: Vec<RuleConfig>,
    /// Cost and quality per model group (groups not listed: cost 0, quality 0.5).
    #[serde(default)]
    pub candidates: BTreeMap<String, CandidateConfig>,
}

/// One rule: `when` (CEL over the features) sends to the best of `to`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// Named in the route reason: letters, digits, `-` and `_`.
    pub name: String,
    pub when: String,
    pub to: Vec<String>,
}

/// A compiled [`AutoRoutingConfig`].
#[derive(Debug)]
pub struct AutoRouting {
    model: String,
    default: Arc<str>,
    margin: f64,
    rules: RuleSet,
    candidates: BTreeMap<String, CandidateConfig>,
}

impl AutoRoutingConfig {
    /// Compile the rules. `section` prefixes the paths of the problems (`prompt_routing`);
    /// `is_model` tells whether a model group exists. Every problem is reported.
    pub fn compile(
        &self,
        section: &str,
        is_model: &dyn Fn(&str) -> bool,
    ) -> Result<AutoRouting, Vec<(String, String)>> {
        let mut problems = Vec::new();
        if is_model(&self.model) {
            problems.push((
                format!("{section}.model"),
                format!(
                    "'{}' is a configured model; the virtual model needs a name of its own",
                    self.model
                ),
            ));
        }
        if !is_model(&self.default) {
            problems.push((
                format!("{section}.default"),
                format!("unknown model '{}'", self.default),
            ));
        }
        if !(0.0..=1.0).contains(&self.quality_margin) {
            problems.push((
                format!("{section}.quality_margin"),
                "must be within 0..=1".to_owned(),
            ));
        }
        let mut compiled = Vec::with_capacity(self.rules.len());
        for (i, r) in self.rules.iter().enumerate() {
            let path = format!("{section}.rules[{i}]");
            let name_ok = !r.name.is_empty()
                && r.name.len() <= 64
                && r.name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !name_ok {
                problems.push((
                    format!("{path}.name"),
                    "1-64 letters, digits, '-' or '_'".to_owned(),
                ));
            }
            if r.to.is_empty() {
                problems.push((format!("{path}.to"), "name at least one model".to_owned()));
            }
            for m in r.to.iter().filter(|m| !is_model(m)) {
                problems.push((format!("{path}.to"), format!("unknown model '{m}'")));
            }
            match rules::compile(&r.when) {
                Ok(program) => compiled.push(Rule {
                    name: Arc::from(r.name.as_str()),
                    program,
                    candidates: r.to.iter().map(|m| Arc::from(m.as_str())).collect(),
                }),
                Err(e) => problems.push((format!("{path}.when"), e)),
            }
        }
        for (model, c) in &self.candidates {
            let path = format!("{section}.candidates.{model}");
            if !is_model(model) {
                problems.push((path.clone(), format!("unknown model '{model}'")));
            }
            if !(c.cost.is_finite() && c.cost >= 0.0) {
                problems.push((format!("{path}.cost"), "must be a number >= 0".to_owned()));
            }
            for (task, q) in &c.quality {
                if task != "default" && TaskType::from_name(task).is_none() {
                    problems.push((
                        format!("{path}.quality.{task}"),
                        "unknown task type".to_owned(),
                    ));
                } else if !(0.0..=1.0).contains(q) {
                    problems.push((
                        format!("{path}.quality.{task}"),
                        "must be within 0..=1".to_owned(),
                    ));
                }
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(AutoRouting {
            model: self.model.clone(),
            default: Arc::from(self.default.as_str()),
            margin: self.quality_margin,
            rules: RuleSet::new(compiled),
            candidates: self.candidates.clone(),
        })
    }
}

/// The router with the virtual model in front of a [`ModelRouter`].
pub struct AutoRouter {
    inner: Arc<ModelRouter>,
    classifier: Arc<dyn PromptClassifier>,
    routing: AutoRouting,
}

impl std::fmt::Debug for AutoRouter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AutoRouter")
            .field("routing", &self.routing)
            .finish()
    }
}

/// Where a call to the virtual model goes, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub model: Arc<str>,
    /// `rule=<name> task=<task> lang=<code> tokens=<n> -> <model> (...)`: ASCII, for a header.
    pub reason: Arc<str>,
    /// The task the classifier saw (recorded with the usage, for quality per task).
    pub task: TaskType,
}

impl AutoRouter {
    pub fn new(
        inner: Arc<ModelRouter>,
        classifier: Arc<dyn PromptClassifier>,
        routing: AutoRouting,
    ) -> Self {
        AutoRouter {
            inner,
            classifier,
            routing,
        }
    }

    /// The virtual model's name.
    pub fn model(&self) -> &str {
        &self.routing.model
    }

    /// Classify `req`, find the rule, choose among its candidates.
    pub fn decide(&self, req: &ChatRequest, ctx: &RequestContext) -> Decision {
        let features = self.classifier.classify(req);
        let rule = self
            .routing
            .rules
            .first_match(&features, ctx.principal.tenant.as_str());
        let (rule_name, candidates): (&str, &[Arc<str>]) = match rule {
            Some(r) => (&r.name, &r.candidates),
            None => ("default", std::slice::from_ref(&self.routing.default)),
        };
        let scored: Vec<Scored> = candidates
            .iter()
            .map(|m| {
                let c = self.routing.candidates.get(&**m);
                Scored {
                    model: m.clone(),
                    cost: c.map_or(0.0, |c| c.cost),
                    quality: c.map_or(0.5, |c| c.quality_for(features.task)),
                    latency_ms: self.inner.latency_ms(m),
                }
            })
            .collect();
        let (i, best) = choose::choose(&scored, self.routing.margin).unwrap_or((0, 0.5));
        let pick = scored
            .get(i)
            .map_or(self.routing.default.clone(), |s| s.model.clone());
        let why = if scored.len() > 1 {
            format!(
                " (cheapest of {} within {} of best quality {best:.2})",
                scored.len(),
                self.routing.margin
            )
        } else {
            String::new()
        };
        let reason = format!(
            "rule={rule_name} task={} lang={} tokens={} difficulty={:.2} -> {pick}{why}",
            features.task,
            features.language.unwrap_or("?"),
            features.tokens,
            features.difficulty,
        );
        Decision {
            model: pick,
            reason: Arc::from(reason),
            task: features.task,
        }
    }

    fn route(&self, mut req: ChatRequest, ctx: &RequestContext) -> (ChatRequest, Option<Decision>) {
        if req.model != self.routing.model {
            return (req, None);
        }
        let d = self.decide(&req, ctx);
        req.model.clear();
        req.model.push_str(&d.model);
        (req, Some(d))
    }
}

fn explained<T>(mut routed: Routed<T>, decision: Option<Decision>) -> Routed<T> {
    if let Some(d) = decision {
        routed.served_by.route_reason = Some(d.reason);
        routed.served_by.task = Some(d.task);
    }
    routed
}

#[async_trait]
impl Router for AutoRouter {
    fn models(&self) -> Vec<ModelInfo> {
        let mut models = self.inner.models();
        models.push(ModelInfo::new(self.routing.model.clone(), "gateway"));
        models.sort_by(|a, b| a.id.cmp(&b.id));
        models
    }

    fn knows(&self, model: &str) -> bool {
        model == self.routing.model || self.inner.knows(model)
    }

    async fn chat(
        &self,
        req: ChatRequest,
        ctx: &RequestContext,
    ) -> Result<Routed<ChatResponse>, GatewayError> {
        let (req, reason) = self.route(req, ctx);
        Ok(explained(self.inner.chat(req, ctx).await?, reason))
    }

    async fn chat_stream(
        &self,
        req: ChatRequest,
        ctx: &RequestContext,
    ) -> Result<Routed<ChatStream>, GatewayError> {
        let (req, reason) = self.route(req, ctx);
        Ok(explained(self.inner.chat_stream(req, ctx).await?, reason))
    }

    async fn embeddings(
        &self,
        req: EmbeddingsRequest,
        ctx: &RequestContext,
    ) -> Result<Routed<EmbeddingsResponse>, GatewayError> {
        self.inner.embeddings(req, ctx).await
    }
}
