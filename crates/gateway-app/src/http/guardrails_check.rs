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
use serde::Deserialize;
use serde_json::json;

use gateway_core::GatewayError;
use gateway_policy::Direction;

use super::body::{Body, parse_json, read_limited};
use super::inbound::Inbound;
use super::info::json_response;
use crate::state::AppState;

/// Largest text checked in one call (the scan is linear, but a check should stay cheap).
pub const MAX_TEXT_BYTES: usize = 256 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckRequest {
    text: String,
    #[serde(default)]
    direction: CheckDirection,
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum CheckDirection {
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
    // The JSON wrapper and escapes may take more than the text itself.
    let limit = state.max_body_bytes.min(2 * MAX_TEXT_BYTES);
    let bytes = read_limited(req.into_body(), limit, state.body_timeout).await?;
    let body: CheckRequest = parse_json(&bytes)?;
    if body.text.len() > MAX_TEXT_BYTES {
        return Err(GatewayError::invalid_param(
            "text",
            format!("'text' must be at most {MAX_TEXT_BYTES} bytes"),
        ));
    }
    let direction = match body.direction {
        CheckDirection::Input => Direction::Input,
        CheckDirection::Output => Direction::Output,
    };
    let guards = state.guardrails.for_tenant(principal.tenant.as_str());
    let verdict = guards.check(&body.text, direction);
    let findings: Vec<serde_json::Value> = verdict
        .findings
        .iter()
        .map(|f| {
            json!({
                "guardrail": f.guardrail,
                "category": f.category,
                "rule": f.rule,
                "score": f.score,
                "start": f.start,
                "end": f.end,
                "action": f.action.as_str(),
            })
        })
        .collect();
    let body = json!({
        "flagged": !findings.is_empty(),
        "action": verdict.action.as_str(),
        "findings": findings,
        "redacted_text": verdict.redacted,
    });
    Ok(json_response(200, &body))
}
