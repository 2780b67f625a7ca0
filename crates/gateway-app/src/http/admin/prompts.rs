//! `POST /admin/v1/prompts/lint`: the prompt linter of `gateway-policy` over a template
//! definition (the body of a template create, `id` and all) or a plain prompt or messages
//! (a chat request's `messages`, `max_tokens`, `response_format`). Local and stateless: it
//! reads nothing stored and records nothing. Any caller with `call_models` or `read_keys`
//! on its tenant may lint.

use http::Response;
use hyper::body::Incoming;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use gateway_auth::{Permission, authorize};
use gateway_core::GatewayError;
use gateway_policy::templates::lint::{self, LintFinding, LintInput, Severity};
use gateway_policy::templates::{self as engine, VariableSpec};

use super::auth::is_admin;
use super::{Admin, ok};
use crate::http::body::Body;

/// Most messages one lint looks at.
const MAX_MESSAGES: usize = 256;

#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct LintMessage {
    role: String,
    /// A string, or content parts whose `text` is read.
    content: Value,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LintRequest {
    /// Messages (a template's or a chat request's); give these or `prompt`.
    #[serde(default)]
    messages: Vec<LintMessage>,
    #[serde(default)]
    prompt: Option<String>,
    /// A template's declared variables; left out, those its sources use (`{{ name }}`).
    #[serde(default)]
    variables: Vec<VariableSpec>,
    /// The call's `max_tokens`, if it sets one.
    #[serde(default)]
    max_tokens: Option<u32>,
    /// The call's `response_format`, if it sets one.
    #[serde(default)]
    response_format: Option<Value>,
    /// Accepted (and ignored) so that a template file lints as it is.
    #[serde(default)]
    #[allow(dead_code)]
    id: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    tenant: Option<String>,
}

/// How many findings of each severity.
#[derive(Debug, Default, Serialize, JsonSchema)]
pub struct LintSummary {
    pub errors: usize,
    pub warnings: usize,
    pub info: usize,
}

/// What the linter found.
#[derive(Debug, Serialize, JsonSchema)]
pub struct LintReport {
    #[schemars(extend("const" = "prompt_lint"))]
    pub object: &'static str,
    pub findings: Vec<LintFinding>,
    pub summary: LintSummary,
}

/// The parts of a request to lint, as `(part, role, text)`.
fn parts(req: &LintRequest) -> Result<Vec<(String, String, String)>, GatewayError> {
    match (&req.prompt, req.messages.is_empty()) {
        (Some(p), true) => Ok(vec![("prompt".to_owned(), "user".to_owned(), p.clone())]),
        (None, false) if req.messages.len() <= MAX_MESSAGES => Ok(req
            .messages
            .iter()
            .enumerate()
            .map(|(i, m)| {
                (
                    format!("messages.{i}.content"),
                    m.role.clone(),
                    crate::templates::content_text(&m.content),
                )
            })
            .collect()),
        (None, false) => Err(GatewayError::invalid_param(
            "messages",
            format!("At most {MAX_MESSAGES} messages are linted at once."),
        )),
        _ => Err(GatewayError::invalid_param(
            "messages",
            "Give either 'messages' or 'prompt'.",
        )),
    }
}

/// Lints `req`: the pure part of the endpoint (and of `gatewayctl prompts lint`'s answer).
pub(crate) fn report(req: &LintRequest) -> Result<LintReport, GatewayError> {
    let parts = parts(req)?;
    let variables = if req.variables.is_empty() {
        let mut used: Vec<String> = Vec::new();
        for (_, _, text) in &parts {
            for name in engine::used_variables(text) {
                if !used.contains(&name) {
                    used.push(name);
                }
            }
        }
        used
    } else {
        req.variables.iter().map(|v| v.name.clone()).collect()
    };
    let input = LintInput {
        parts: parts
            .iter()
            .map(|(part, role, text)| (part.clone(), role.as_str(), text.as_str()))
            .collect(),
        variables,
        max_tokens: req.max_tokens,
        response_format: req.response_format.as_ref().is_some_and(|v| !v.is_null()),
    };
    let findings = lint::lint(&input);
    let mut summary = LintSummary::default();
    for f in &findings {
        match f.severity {
            Severity::Error => summary.errors += 1,
            Severity::Warning => summary.warnings += 1,
            Severity::Info => summary.info += 1,
        }
    }
    Ok(LintReport {
        object: "prompt_lint",
        findings,
        summary,
    })
}

pub async fn lint(ctx: &Admin<'_>, body: Incoming) -> Result<Response<Body>, GatewayError> {
    let own = Some(&ctx.principal.tenant);
    if !is_admin(&ctx.principal) && authorize(&ctx.principal, Permission::CallModels, own).is_err()
    {
        authorize(&ctx.principal, Permission::ReadKeys, own)?;
    }
    let req: LintRequest = ctx.json(body).await?;
    ok(200, &report(&req)?)
}
