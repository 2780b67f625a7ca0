//! One line of a batch through the pipeline: the same code path as an HTTP model call
//! (`http::model_call::serve`: decode in the endpoint's dialect, then policy, limits,
//! guardrails, cache, routing and accounting), as the batch's owner, with the call tagged with
//! the batch (its usage names the batch; admission holds it to `[batches] limit_share`).
//! A line a limit refuses (429) is not answered but deferred, to be run again later.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Limited};
use serde_json::{Value, json};

use gateway_core::store::LeasedItem;
use gateway_core::{BatchCall, GatewayError, Principal, RequestContext};

use crate::dialects::openai::{OpenAiChat, OpenAiEmbeddings};
use crate::dialects::responses::ResponsesApi;
use crate::dialects::{CallTarget, Dialect};
use crate::http::error::{ErrorShape, error_response_in};
use crate::http::model_call::serve;
use crate::http::routes::PathParams;
use crate::state::AppState;

/// Largest answer kept for a line (the output file holds it whole).
const MAX_ANSWER_BYTES: usize = 64 << 20;

/// The shortest and longest wait before a line a limit refused runs again.
const MIN_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// What a batch line runs as.
#[derive(Clone)]
pub struct LineOwner {
    pub batch_id: Arc<str>,
    pub endpoint: String,
    pub principal: Principal,
    pub limit_share: f64,
}

/// How a line ended.
#[derive(Debug)]
pub enum LineEnd {
    /// Answered: the status and the output line (JSON text).
    Answered { status: u16, line: String },
    /// Refused by a limit: run it again after this long.
    Later(Duration),
}

/// The dialect of a batch endpoint.
pub fn dialect_of(endpoint: &str) -> Option<&'static dyn Dialect> {
    match endpoint {
        "/v1/chat/completions" => Some(&OpenAiChat),
        "/v1/embeddings" => Some(&OpenAiEmbeddings),
        "/v1/responses" => Some(&ResponsesApi),
        _ => None,
    }
}

/// Runs `item` as `owner` (or answers with `refusal`, the reason the owner cannot run it).
pub async fn run(
    state: &AppState,
    owner: Result<&LineOwner, &GatewayError>,
    item: &LeasedItem,
) -> LineEnd {
    let request_id = uuid::Uuid::now_v7().to_string();
    let outcome = match owner {
        Ok(owner) => call(state, owner, item, &request_id).await,
        Err(refusal) => Err(refusal.clone()),
    };
    let (status, body) = match outcome {
        Ok(answer) => answer,
        Err(e) if e.status() == 429 => {
            let wait = e
                .retry_after()
                .unwrap_or(Duration::ZERO)
                .clamp(MIN_BACKOFF, MAX_BACKOFF);
            return LineEnd::Later(wait);
        }
        Err(e) => {
            // A refusal of the line is reported like one at the edge (`guardrail.blocked`,
            // sampled); a limit's 429 defers the line above instead of refusing it.
            if let (Some(hooks), Ok(owner)) = (&state.webhooks, owner) {
                let p = &owner.principal;
                hooks.events.refused(&e, &p.tenant, &p.subject, "batch");
            }
            error_answer(&e, &request_id).await
        }
    };
    LineEnd::Answered {
        status,
        line: output_line(item, status, &request_id, body),
    }
}

async fn call(
    state: &AppState,
    owner: &LineOwner,
    item: &LeasedItem,
    request_id: &str,
) -> Result<(u16, Value), GatewayError> {
    let dialect = dialect_of(&owner.endpoint)
        .ok_or_else(|| GatewayError::Internal(format!("batch endpoint {}", owner.endpoint)))?;
    let params = PathParams::default();
    let target = CallTarget {
        params: &params,
        query: None,
        route: "batch",
    };
    let call = dialect.decode(state, &target, item.body.as_bytes())?;
    let mut ctx = RequestContext::new(request_id, owner.principal.clone(), dialect.endpoint());
    ctx.log_content = state.telemetry.logs_prompts_for(&ctx.principal.tenant);
    ctx.batch = Some(BatchCall {
        id: owner.batch_id.clone(),
        limit_share: owner.limit_share,
    });
    let resp = Box::pin(serve(state, &ctx, call, dialect, &target)).await?;
    Ok(read_answer(resp).await)
}

/// The status and JSON body of an answer.
async fn read_answer(resp: http::Response<crate::http::body::Body>) -> (u16, Value) {
    let status = resp.status().as_u16();
    match Limited::new(resp.into_body(), MAX_ANSWER_BYTES)
        .collect()
        .await
    {
        Ok(bytes) => {
            let bytes = bytes.to_bytes();
            let body = serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
            (status, body)
        }
        Err(_) => (
            502,
            json!({"error": {"message": "The answer was too large to keep in the output file.", "type": "upstream_error", "code": null, "param": null}}),
        ),
    }
}

/// An error as the HTTP edge would have answered it.
async fn error_answer(e: &GatewayError, request_id: &str) -> (u16, Value) {
    read_answer(error_response_in(e, request_id, ErrorShape::OpenAi)).await
}

/// A line of the output or error file, in OpenAI's format; `retried` is the gateway's own
/// mark of a line that was in flight when an instance stopped and was sent again.
pub fn output_line(item: &LeasedItem, status: u16, request_id: &str, body: Value) -> String {
    let mut line = json!({
        "id": format!("batch_req_{}", uuid::Uuid::now_v7().simple()),
        "custom_id": item.custom_id,
        "response": {"status_code": status, "request_id": request_id, "body": body},
        "error": null,
    });
    if item.retried {
        line["retried"] = Value::Bool(true);
    }
    line.to_string()
}

/// The error-file line of a line that ended without an answer.
pub fn unanswered_line(custom_id: &str, expired: bool, retried: bool) -> String {
    let (code, message) = if expired {
        (
            "batch_expired",
            "This request could not be executed before the completion window expired.",
        )
    } else {
        (
            "interrupted",
            "The gateway instance running this request stopped twice while it was in flight; it was not sent a third time.",
        )
    };
    let mut line = json!({
        "id": format!("batch_req_{}", uuid::Uuid::now_v7().simple()),
        "custom_id": custom_id,
        "response": null,
        "error": {"code": code, "message": message},
    });
    if retried {
        line["retried"] = Value::Bool(true);
    }
    line.to_string()
}
