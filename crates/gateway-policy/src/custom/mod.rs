//! Custom policies written in Rego and evaluated in-process with `regorus`.
//!
//! The `[policies]` files are compiled once, at load (a file that does not parse or compile is
//! rejected with its error, as a configuration problem with its dotted path). Per request, the
//! policy's query is evaluated against the documented `input` ([`input`], `docs/policies.md`):
//! principal, tenant, model and its deployments (providers, regions), estimated tokens, input
//! guardrail findings, time and selected headers. The value it returns is a [`Decision`]:
//! allow, or deny with a reason (403), optionally pinning regions or moving the request to
//! another model group. [`CustomPolicy`] is the `gateway-core` [`RequestPolicy`] phase; it
//! fails closed: an evaluation error refuses the request (500), an undefined decision denies.

mod config;
mod decision;
pub mod input;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use gateway_core::context::CapturedHeaders;
use gateway_core::phases::guard::RequestPolicy;
use gateway_core::types::ChatRequest;
use gateway_core::{GatewayError, RequestContext};

use crate::error::Error;
use crate::guardrails::engine::Direction;
use crate::guardrails::pipeline::is_untrusted;
use crate::guardrails::tenants::GuardrailSet;

pub use config::{DEFAULT_QUERY, PolicyConfig};
pub use decision::Decision;
pub use input::{DeploymentInfo, GuardrailSummary, InputParts};

/// A compiled custom policy and what it needs to build its input.
pub struct CustomPolicy {
    compiled: regorus::CompiledPolicy,
    /// Whether a source mentions `guardrails` (otherwise findings are not computed).
    reads_guardrails: bool,
    /// Lower-case names of the headers to capture.
    headers: Vec<String>,
    guardrails: Option<GuardrailSet>,
    deployments: HashMap<String, Arc<[DeploymentInfo]>>,
}

impl std::fmt::Debug for CustomPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustomPolicy")
            .field("reads_guardrails", &self.reads_guardrails)
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

impl CustomPolicy {
    /// Reads and compiles the configured files; `None` when no file is configured. Every
    /// unreadable or invalid file is reported, each under `policies.files[<i>]`.
    pub fn new(config: &PolicyConfig) -> Result<Option<CustomPolicy>, Error> {
        if config.files.is_empty() {
            return Ok(None);
        }
        let mut problems = config.shape_problems();
        let mut sources = Vec::new();
        for (i, path) in config.files.iter().enumerate() {
            match std::fs::read_to_string(path) {
                Ok(text) => sources.push((
                    format!("policies.files[{i}]"),
                    path.display().to_string(),
                    text,
                )),
                Err(e) => problems.push((
                    format!("policies.files[{i}]"),
                    format!("cannot read {}: {e}", path.display()),
                )),
            }
        }
        if !problems.is_empty() {
            return Err(Error::InvalidConfig(problems));
        }
        let mut policy = CustomPolicy::compile(sources, &config.query)?;
        policy.headers = config
            .headers
            .iter()
            .map(|h| h.to_ascii_lowercase())
            .collect();
        Ok(Some(policy))
    }

    /// Compiles Rego sources given as `(name, text)` (for embedding and tests).
    pub fn from_sources(sources: &[(&str, &str)], query: &str) -> Result<CustomPolicy, Error> {
        let sources = sources
            .iter()
            .enumerate()
            .map(|(i, (name, text))| {
                (
                    format!("policies.files[{i}]"),
                    (*name).to_owned(),
                    (*text).to_owned(),
                )
            })
            .collect();
        CustomPolicy::compile(sources, query)
    }

    /// `sources` are `(config path, file name, text)`.
    fn compile(sources: Vec<(String, String, String)>, query: &str) -> Result<CustomPolicy, Error> {
        let mut engine = regorus::Engine::new();
        let mut problems = Vec::new();
        let mut reads_guardrails = false;
        for (at, name, text) in sources {
            reads_guardrails |= text.contains("guardrails");
            if let Err(e) = engine.add_policy(name, text) {
                problems.push((at, e.to_string()));
            }
        }
        if !problems.is_empty() {
            return Err(Error::InvalidConfig(problems));
        }
        let compiled = engine.compile_with_entrypoint(&query.into()).map_err(|e| {
            let message = format!(
                "rule '{query}' cannot be evaluated: {}",
                e.to_string().trim()
            );
            Error::InvalidConfig(vec![("policies.query".to_owned(), message)])
        })?;
        let policy = CustomPolicy {
            compiled,
            reads_guardrails,
            headers: Vec::new(),
            guardrails: None,
            deployments: HashMap::new(),
        };
        policy.smoke_test()?;
        Ok(policy)
    }

    /// Calls to functions that do not exist (`time.now_ns`, `regex.match` and other builtins
    /// this build leaves out, or typos) are only found by evaluating: evaluate once on a
    /// sample request so that they are rejected at load rather than on traffic.
    fn smoke_test(&self) -> Result<(), Error> {
        let ctx = RequestContext::new(
            "load-check",
            gateway_core::Principal::anonymous(),
            gateway_core::Endpoint::ChatCompletions,
        );
        let req = ChatRequest {
            model: "sample".to_owned(),
            ..ChatRequest::default()
        };
        match self.compiled.eval_with_input(self.input(&ctx, &req)) {
            Err(e) if e.to_string().contains("could not find function") => {
                Err(Error::InvalidConfig(vec![(
                    "policies.files".to_owned(),
                    format!(
                        "evaluating the policy on a sample request failed: {}",
                        e.to_string().trim()
                    ),
                )]))
            }
            _ => Ok(()),
        }
    }

    /// The input guardrails whose findings go into `input.guardrails` (the same set the
    /// pipeline runs in phase 5). Without it, `input.guardrails` is `null`.
    pub fn with_guardrails(mut self, set: GuardrailSet) -> Self {
        self.guardrails = Some(set);
        self
    }

    /// The deployments of each public model, for `input.deployments`, `providers`, `regions`.
    pub fn with_deployments(mut self, deployments: HashMap<String, Vec<DeploymentInfo>>) -> Self {
        self.deployments = deployments
            .into_iter()
            .map(|(k, v)| (k, Arc::from(v)))
            .collect();
        self
    }

    /// Picks the configured headers out of a request's headers, for
    /// [`RequestContext::headers`] (`None`, without allocating, when none is there).
    pub fn capture_headers<'a>(
        &self,
        all: impl Iterator<Item = (&'a str, &'a [u8])>,
    ) -> Option<CapturedHeaders> {
        if self.headers.is_empty() {
            return None;
        }
        let captured: CapturedHeaders = all
            .filter(|(name, _)| self.headers.iter().any(|h| h.eq_ignore_ascii_case(name)))
            .map(|(name, value)| {
                (
                    name.to_ascii_lowercase(),
                    String::from_utf8_lossy(value).into_owned(),
                )
            })
            .collect();
        (!captured.is_empty()).then_some(captured)
    }

    /// Evaluates the policy on an input document.
    pub fn evaluate(&self, input: regorus::Value) -> Result<Decision, GatewayError> {
        let value = self
            .compiled
            .eval_with_input(input)
            .map_err(|e| failed(&e.to_string()))?;
        let value = match value {
            regorus::Value::Undefined => None,
            v => Some(serde_json::to_value(&v).map_err(|e| failed(&e.to_string()))?),
        };
        Decision::from_value(value).map_err(|e| failed(&e))
    }

    /// The `input` document of a request.
    pub fn input(&self, ctx: &RequestContext, req: &ChatRequest) -> regorus::Value {
        let summary = self
            .reads_guardrails
            .then(|| self.guardrail_summary(ctx, req))
            .flatten();
        let deployments = self.deployments.get(&req.model).map_or(&[][..], |d| &d[..]);
        input::build(&InputParts {
            ctx,
            req,
            deployments,
            guardrails: summary.as_ref(),
            headers: ctx.headers.as_deref().unwrap_or_default(),
            now: SystemTime::now(),
        })
    }

    fn guardrail_summary(
        &self,
        ctx: &RequestContext,
        req: &ChatRequest,
    ) -> Option<GuardrailSummary> {
        let guards = self
            .guardrails
            .as_ref()?
            .for_tenant(ctx.principal.tenant.as_str());
        let mut summary = GuardrailSummary::default();
        let texts = req
            .messages
            .iter()
            .filter(|m| is_untrusted(m.role))
            .filter_map(|m| m.content.as_ref())
            .flat_map(|c| c.texts());
        for text in texts {
            let verdict = guards.check(text, Direction::Input);
            summary.action = summary.action.max(verdict.action);
            summary.findings.extend(verdict.findings);
        }
        Some(summary)
    }
}

fn failed(message: &str) -> GatewayError {
    GatewayError::Internal(format!("custom policy evaluation failed: {message}"))
}

impl RequestPolicy for CustomPolicy {
    fn decide(&self, ctx: &mut RequestContext, req: &mut ChatRequest) -> Result<(), GatewayError> {
        let input = self.input(ctx, req);
        self.evaluate(input)?.apply(ctx, req)
    }
}
