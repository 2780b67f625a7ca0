//! `POST /v1/guardrails/check`: run the caller's tenant's guardrails on a text, without
//! calling a model. `{"text", "direction"?: "input" | "output"}` ->
//! `{"flagged", "action", "findings": [{"guardrail", "category", "rule", "score", "start",
//! "end", "action"}], "redacted_text"}`.
//!
//! Authenticated like every model call; the body is bounded by the server's body limit and
//! by [`MAX_TEXT_BYTES`]. It fails closed: a caller gets a verdict or an error, never an
//! `allow` it was not given. (Rate limits apply once admission covers this endpoint.)

use http::{Request, Response};
use hyper::body::Incoming;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use gateway_core::GatewayError;
use gateway_policy::Direction;

use super::body::{Body, parse_json, read_limited};
use super::inbound::Inbound;
use super::info::json_response;
use crate::state::AppState;

/// Largest text checked in one call (the scan is linear, but a check should stay cheap).
pub const MAX_TEXT_BYTES: usize = 256 * 1024;

/// The body of `POST /v1/guardrails/check`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    /// The text to check (at most 256 KiB).
    pub text: String,
    #[serde(default)]
    pub direction: CheckDirection,
}

/// Check the text as a request message (`input`) or as a model response (`output`).
#[derive(Debug, Default, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CheckDirection {
    /// As a request message (phase 5).
    #[default]
    Input,
    /// As a model response (phase 8).
    Output,
}

pub async fn check(
    state: &AppState,
    req: Request<Incoming>,
    inbound: &mut Inbound,
) -> Result<Response<Body>, GatewayError> {
    let principal = inbound.authenticate(state, req.headers()).await?;
    let body: CheckRequest = read_request(state, req.into_body()).await?;
    Ok(json_response(
        200,
        &verdict(state, principal.tenant.as_str(), &body.text, body.direction),
    ))
}

/// Reads a check request within [`MAX_TEXT_BYTES`] (and the server's body limit).
pub async fn read_request<T: CheckText>(
    state: &AppState,
    body: Incoming,
) -> Result<T, GatewayError> {
    // The JSON wrapper and escapes may take more than the text itself.
    let limit = state.max_body_bytes.min(2 * MAX_TEXT_BYTES);
    let bytes = read_limited(body, limit, state.body_timeout).await?;
    let request: T = parse_json(&bytes)?;
    if request.text().len() > MAX_TEXT_BYTES {
        return Err(GatewayError::invalid_param(
            "text",
            format!("'text' must be at most {MAX_TEXT_BYTES} bytes"),
        ));
    }
    Ok(request)
}

/// A request body with a text to check (the admin API's also names a tenant).
pub trait CheckText: serde::de::DeserializeOwned {
    fn text(&self) -> &str;
}

impl CheckText for CheckRequest {
    fn text(&self) -> &str {
        &self.text
    }
}

/// The verdict of `tenant`'s guardrails on the request's text, as the answer.
pub fn verdict(
    state: &AppState,
    tenant: &str,
    text: &str,
    direction: CheckDirection,
) -> CheckResponse {
    let direction = match direction {
        CheckDirection::Input => Direction::Input,
        CheckDirection::Output => Direction::Output,
    };
    let guards = state.guardrails.for_tenant(tenant);
    let verdict = guards.check(text, direction);
    let findings: Vec<CheckFinding> = verdict
        .findings
        .into_iter()
        .map(|f| CheckFinding {
            guardrail: f.guardrail,
            category: f.category,
            rule: f.rule,
            score: f.score,
            start: f.start,
            end: f.end,
            action: f.action.as_str(),
        })
        .collect();
    CheckResponse {
        flagged: !findings.is_empty(),
        action: verdict.action.as_str(),
        findings,
        redacted_text: verdict.redacted,
    }
}

/// The verdict of a guardrails check.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CheckResponse {
    /// Whether any guardrail found something.
    pub flagged: bool,
    /// What the gateway would do with the text: `allow`, `flag`, `redact` or `block`.
    pub action: &'static str,
    pub findings: Vec<CheckFinding>,
    /// The text with redacted spans replaced, when a guardrail redacts.
    pub redacted_text: Option<String>,
}

/// One thing a guardrail found, with its byte span in the text.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CheckFinding {
    pub guardrail: &'static str,
    pub category: String,
    pub rule: String,
    pub score: f32,
    pub start: usize,
    pub end: usize,
    pub action: &'static str,
}
