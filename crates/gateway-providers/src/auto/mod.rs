//! Prompt-type routing: a virtual model (`auto` by default) whose calls are classified
//! ([`gateway_core::features::PromptClassifier`]), matched against CEL rules over the
//! features ([`rules`]), and sent to the model group chosen among the matching rule's
//! candidates by cost and quality ([`choose`]). The reason of each choice travels back in
//! [`ServedBy::route_reason`](gateway_core::phases::route::ServedBy) (the edge's
//! `x-gateway-route-reason` header). Every other model name passes straight to the
//! [`ModelRouter`].
//!
//! With `[prompt_routing.bandit]`, rules with several candidates choose by [`bandit`]
//! instead: Thompson sampling over posteriors that quality scores and feedback feed, kept
//! in the store by [`bandit::sync::BanditLoop`].
//!
//! Configured by [`AutoRoutingConfig`] (the `[prompt_routing]` section), compiled once by
//! [`AutoRoutingConfig::compile`]: a bad expression is a configuration error with its path.

pub mod bandit;
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
pub use bandit::{Bandit, BanditConfig, Evidence};
pub use choose::CandidateConfig;
use choose::Scored;
use rules::{Rule, RuleSet};

fn default_model() -> String {
    "auto".to_owned()
}

fn default_margin() -> f64 {
    0.05
}

fn default_output_tokens() -> u32 {
    256
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
    /// Among those, candidates whose expected cost is within this fraction of the cheapest's
    /// (0.1 = 10 %) count as equally cheap, and the one with the lowest smoothed latency wins.
    #[serde(default)]
    pub cost_tolerance: f64,
    /// Evaluated in order; the first that holds decides.
    #[serde(default)]
    pub rules: Vec<RuleConfig>,
    /// Cost and quality per model group (groups not listed: the price table's cost,
    /// quality 0.5).
    #[serde(default)]
    pub candidates: BTreeMap<String, CandidateConfig>,
    /// Completion tokens expected of a call that sets no `max_tokens`, for its expected cost.
    #[serde(default = "default_output_tokens")]
    pub expected_output_tokens: u32,
    /// The loop: learn the choice among a rule's candidates from quality and feedback.
    #[serde(default)]
    pub bandit: Option<BanditConfig>,
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
    cost_tolerance: f64,
    rules: RuleSet,
    candidates: BTreeMap<String, CandidateConfig>,
    expected_output_tokens: u32,
    bandit: Option<Arc<Bandit>>,
}

impl AutoRouting {
    /// The bandit, when `[prompt_routing.bandit]` is configured (for the store loop).
    pub fn bandit(&self) -> Option<&Arc<Bandit>> {
        self.bandit.as_ref()
    }
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
        if !(self.cost_tolerance.is_finite() && self.cost_tolerance >= 0.0) {
            problems.push((
                format!("{section}.cost_tolerance"),
                "must be a number >= 0".to_owned(),
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
            if c.cost.is_some_and(|c| !(c.is_finite() && c >= 0.0)) {
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
        if let Some(b) = &self.bandit {
            let widest = self.rules.iter().map(|r| r.to.len()).max().unwrap_or(0);
            problems.extend(b.problems(&format!("{section}.bandit"), widest));
            for (i, r) in self.rules.iter().enumerate() {
                if r.to.len() > bandit::MAX_CANDIDATES {
                    problems.push((
                        format!("{section}.rules[{i}].to"),
                        format!(
                            "at most {} candidates with the bandit",
                            bandit::MAX_CANDIDATES
                        ),
                    ));
                }
                if r.to.len() > 1 && r.to.iter().any(|m| m.contains(char::is_whitespace)) {
                    problems.push((
                        format!("{section}.rules[{i}].to"),
                        "the bandit's candidates need names without spaces".to_owned(),
                    ));
                }
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let bandit = self.bandit.as_ref().map(|b| {
            let rules = compiled
                .iter()
                .map(|r| (r.name.clone(), r.candidates.clone()))
                .collect();
            let quality =
                |m: &str, t: TaskType| self.candidates.get(m).map_or(0.5, |c| c.quality_for(t));
            Arc::new(Bandit::new(b.clone(), rules, &quality))
        });
        Ok(AutoRouting {
            model: self.model.clone(),
            default: Arc::from(self.default.as_str()),
            margin: self.quality_margin,
            cost_tolerance: self.cost_tolerance,
            rules: RuleSet::new(compiled),
            candidates: self.candidates.clone(),
            expected_output_tokens: self.expected_output_tokens,
            bandit,
        })
    }
}

/// The router with the virtual model in front of a [`ModelRouter`].
pub struct AutoRouter {
    inner: Arc<ModelRouter>,
    classifier: Arc<dyn PromptClassifier>,
    routing: AutoRouting,
    /// USD per million (input, output) tokens per model group.
    prices: BTreeMap<String, (f64, f64)>,
}

/// Prices of a model group's first deployment: USD per million (input, output) tokens.
pub type PriceOf<'a> = &'a dyn Fn(&str) -> Option<(f64, f64)>;

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
        let prices = routing
            .candidates
            .iter()
            .filter_map(|(m, c)| Some((m.clone(), (c.cost?, c.cost?))))
            .collect();
        AutoRouter {
            inner,
            classifier,
            routing,
            prices,
        }
    }

    /// Prices the candidates without a configured `cost` by `price_of` (the price table).
    pub fn with_prices(mut self, price_of: PriceOf<'_>) -> Self {
        let mut models: Vec<&Arc<str>> = self
            .routing
            .rules
            .rules
            .iter()
            .flat_map(|r| r.candidates.iter())
            .collect();
        models.push(&self.routing.default);
        for m in models {
            if !self.prices.contains_key(&**m)
                && let Some(p) = price_of(m)
            {
                self.prices.insert(m.to_string(), p);
            }
        }
        self
    }

    /// Expected cost (USD) of a call of `tokens` prompt and `output` completion tokens on `m`.
    fn expected_cost(&self, m: &str, tokens: u64, output: u32) -> f64 {
        self.prices.get(m).map_or(0.0, |(i, o)| {
            (i * tokens as f64 + o * f64::from(output)) / 1_000_000.0
        })
    }

    /// The compiled configuration.
    pub fn routing(&self) -> &AutoRouting {
        &self.routing
    }

    /// The virtual model's name.
    pub fn model(&self) -> &str {
        &self.routing.model
    }

    /// Classify `req`, find the rule, choose among its candidates.
    pub fn decide(&self, req: &ChatRequest, ctx: &RequestContext) -> Decision {
        let features = self.classifier.classify(req);
        let index = self
            .routing
            .rules
            .first_match_index(&features, ctx.principal.tenant.as_str());
        let output = req
            .max_completion_tokens
            .or(req.max_tokens)
            .unwrap_or(self.routing.expected_output_tokens);
        let tokens = features.tokens;
        let rest = Tail(&features);
        if let Some((bandit, rule)) = index.and_then(|i| {
            let b = self.routing.bandit.as_ref()?;
            Some((b, b.rule(i)?))
        }) {
            let mut over = 0u32;
            if let Some(ceiling) = bandit.config.cost_ceiling {
                for (i, m) in rule.candidates.iter().enumerate() {
                    if self.expected_cost(m, tokens, output) > ceiling {
                        over |= 1 << i;
                    }
                }
            }
            let pick = bandit.choose(rule, features.task, over);
            let model = rule.candidates[pick.index].clone();
            let reason = format!(
                "rule={} bandit task={} chose={model} p={:.2} {rest}",
                rule.name, features.task, pick.share
            );
            return Decision {
                model,
                reason: Arc::from(reason),
                task: features.task,
            };
        }
        let (rule_name, candidates): (&str, &[Arc<str>]) =
            match index.map(|i| &self.routing.rules.rules[i]) {
                Some(r) => (&r.name, &r.candidates),
                None => ("default", std::slice::from_ref(&self.routing.default)),
            };
        let scored: Vec<Scored> = candidates
            .iter()
            .map(|m| Scored {
                model: m.clone(),
                cost: self.expected_cost(m, tokens, output),
                quality: self
                    .routing
                    .candidates
                    .get(&**m)
                    .map_or(0.5, |c| c.quality_for(features.task)),
                latency_ms: self.inner.latency_ms(m),
            })
            .collect();
        let (i, best) = choose::choose(&scored, self.routing.margin, self.routing.cost_tolerance)
            .unwrap_or((0, 0.5));
        let pick = scored
            .get(i)
            .map_or(self.routing.default.clone(), |s| s.model.clone());
        let why = if scored.len() > 1 && self.routing.cost_tolerance > 0.0 {
            format!(
                " (cheapest of {} within {} of best quality {best:.2}, fastest within {} of its cost)",
                scored.len(),
                self.routing.margin,
                self.routing.cost_tolerance
            )
        } else if scored.len() > 1 {
            format!(
                " (cheapest of {} within {} of best quality {best:.2})",
                scored.len(),
                self.routing.margin
            )
        } else {
            String::new()
        };
        let reason = format!(
            "rule={rule_name} task={} {rest} -> {pick}{why}",
            features.task
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

/// `lang=<code> tokens=<n> difficulty=<d>` of a route reason.
struct Tail<'a>(&'a gateway_core::features::RequestFeatures);

impl std::fmt::Display for Tail<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "lang={} tokens={} difficulty={:.2}",
            self.0.language.unwrap_or("?"),
            self.0.tokens,
            self.0.difficulty
        )
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
