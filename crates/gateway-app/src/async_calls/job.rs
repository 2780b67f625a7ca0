//! One job through the pipeline, and its `async.completed` webhook.
//!
//! [`run`] decodes the stored call in its route's dialect and hands it to
//! `http::model_call::serve` — the code path of every synchronous model call and batch line
//! (policy, limits, guardrails, cache, routing, accounting) — as the caller, whose key and
//! tenant are looked up again (a key revoked since answers 401). The usage of the call names
//! the job (like a batch line's names its batch); unlike a batch line it uses the caller's
//! whole limits, so a limit or a guardrail answers exactly as it would have synchronously, and
//! that answer (error shape included) is what is stored.
//!
//! [`notify`] queues the event for the job's callback URL and for the tenant's endpoints
//! subscribed to `async.completed`, with message ids fixed by the job (queued twice, it is
//! delivered once).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Limited};
use serde_json::{Value, json};

use gateway_core::store::{AsyncJob, AsyncResult, AsyncStatus, DeliveryStatus, WebhookDelivery};
use gateway_core::{BatchCall, GatewayError, RequestContext};

use super::job_view;
use crate::batches::owner;
use crate::dialects::{CallTarget, Dialect};
use crate::http::body::Body;
use crate::http::error::{ErrorShape, error_response_in};
use crate::http::model_call::serve;
use crate::http::routes::{Handler, PathParams, ROUTES};
use crate::state::AppState;
use crate::webhooks::events::message_id;

/// Largest answer kept for a job.
const MAX_ANSWER_BYTES: usize = 64 << 20;

/// Largest answer body a webhook payload carries whole; a larger one is left out (the
/// payload says so, and `GET /v1/async/{id}` has it).
const MAX_PAYLOAD_BODY: usize = 256 << 10;

/// The event type.
pub const EVENT: &str = "async.completed";

/// The response headers an answer keeps.
fn kept_header(name: &str) -> bool {
    name == "content-type"
        || name == "retry-after"
        || name == "retry-after-ms"
        || name.starts_with("x-gateway-")
        || name.starts_with("x-ratelimit-")
}

/// The route a job was submitted on, and its dialect.
pub fn route_of(route: &str) -> Option<(&'static str, &'static dyn Dialect)> {
    ROUTES.iter().find_map(|r| match r.handler {
        Handler::ModelCall(dialect) if r.path == route => Some((r.path, dialect)),
        _ => None,
    })
}

/// The error shape of a job's route (OpenAI's for a route no longer served).
pub fn shape_of(route: &str) -> ErrorShape {
    route_of(route).map_or(ErrorShape::OpenAi, |(_, d)| d.error_shape())
}

/// Runs `job` and returns its answer (never an `Err`: a failure is an answer, in the
/// dialect's error shape).
pub async fn run(state: &AppState, job: &AsyncJob) -> AsyncResult {
    let request: Value = serde_json::from_str(&job.request).unwrap_or(Value::Null);
    let request_id = request["request_id"]
        .as_str()
        .map_or_else(|| job.id.clone(), str::to_owned);
    let Some((route, dialect)) = route_of(&job.route) else {
        let e = GatewayError::Internal(format!("async job on unknown route {}", job.route));
        return answer(error_response_in(&e, &request_id, ErrorShape::OpenAi)).await;
    };
    match call(state, job, &request, &request_id, (route, dialect)).await {
        Ok(resp) => answer(resp).await,
        Err((e, subject)) => {
            if let (Some(webhooks), Some(subject)) = (&state.webhooks, subject) {
                webhooks.events.refused(&e, &job.tenant, &subject, route);
            }
            answer(error_response_in(&e, &request_id, dialect.error_shape())).await
        }
    }
}

type Refusal = (GatewayError, Option<Arc<str>>);

async fn call(
    state: &AppState,
    job: &AsyncJob,
    request: &Value,
    request_id: &str,
    (route, dialect): (&'static str, &dyn Dialect),
) -> Result<http::Response<Body>, Refusal> {
    let principal = owner::principal(&*state.store, &request["owner"])
        .await
        .map_err(|e| (e, None))?;
    let subject = principal.subject.clone();
    let params = PathParams::from_values(
        request["params"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned)),
    );
    let target = CallTarget {
        params: &params,
        query: request["query"].as_str(),
        route,
    };
    let body = request["body"].as_str().unwrap_or_default();
    let decoded = dialect
        .decode(state, &target, body.as_bytes())
        .map_err(|e| (e, Some(subject.clone())))?;
    let mut ctx = RequestContext::new(request_id, principal, dialect.endpoint());
    ctx.log_content = state.telemetry.logs_prompts_for(&ctx.principal.tenant);
    ctx.cache.no_cache = request["cache"]["no_cache"].as_bool().unwrap_or(false);
    ctx.cache.no_store = request["cache"]["no_store"].as_bool().unwrap_or(false);
    ctx.cache.ttl = request["cache"]["ttl_ms"]
        .as_u64()
        .map(Duration::from_millis);
    // The usage names the job; a share of 1 holds it to the caller's own limits, no less.
    ctx.batch = Some(BatchCall {
        id: Arc::from(job.id.as_str()),
        limit_share: 1.0,
    });
    Box::pin(serve(state, &ctx, decoded, dialect, &target))
        .await
        .map_err(|e| (e, Some(subject)))
}

/// The status, kept headers and body of an answer.
async fn answer(resp: http::Response<Body>) -> AsyncResult {
    let status = resp.status().as_u16();
    let headers: BTreeMap<&str, &str> = resp
        .headers()
        .iter()
        .filter(|(name, _)| kept_header(name.as_str()))
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
        .collect();
    let headers = json!(headers).to_string();
    match Limited::new(resp.into_body(), MAX_ANSWER_BYTES).collect().await {
        Ok(bytes) => AsyncResult {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes.to_bytes()).into_owned(),
        },
        Err(_) => AsyncResult {
            status: 502,
            headers: json!({"content-type": "application/json"}).to_string(),
            body: json!({"error": {"message": "The answer was larger than the gateway keeps for an asynchronous call (64 MiB).", "type": "upstream_error", "code": null, "param": null}}).to_string(),
        },
    }
}

/// The `data` of a job's `async.completed` event.
pub fn event_data(job: &AsyncJob) -> Value {
    let mut data = job_view(job);
    data["response"] = match &job.result {
        Some(r) => {
            let body = if r.body.len() > MAX_PAYLOAD_BODY {
                Value::Null
            } else {
                serde_json::from_str(&r.body).unwrap_or_else(|_| Value::String(r.body.clone()))
            };
            json!({
                "status_code": r.status,
                "body": body,
                "body_omitted": r.body.len() > MAX_PAYLOAD_BODY,
            })
        }
        None => Value::Null,
    };
    if job.status == AsyncStatus::Failed {
        data["error"] = json!({
            "code": "interrupted",
            "message": "The call was in flight when a gateway instance stopped, twice; it was not sent a third time.",
        });
    }
    data
}

/// Queues the job's `async.completed` deliveries (callback and subscribed endpoints) and
/// marks it notified.
pub async fn notify(state: &AppState, job: &AsyncJob) -> Result<(), GatewayError> {
    let Some(calls) = &state.async_calls else {
        return Ok(());
    };
    let Some(webhooks) = &state.webhooks else {
        return calls.store.mark_notified(&job.id).await;
    };
    let endpoints = webhooks.store.list_endpoints(Some(&job.tenant)).await?;
    let now = webhooks.clock.now();
    let payload = json!({
        "type": EVENT,
        "timestamp": crate::http::admin::time_format(now),
        "data": event_data(job),
    })
    .to_string();
    let identity = format!("{EVENT}:{}", job.id);
    let deliveries: Vec<WebhookDelivery> = endpoints
        .iter()
        .filter(|e| {
            e.enabled
                && (e.events.iter().any(|k| k == EVENT)
                    || job.callback_url.as_deref() == Some(e.url.as_str()))
        })
        .map(|e| WebhookDelivery {
            id: message_id(Some(&identity), &e.id),
            endpoint_id: e.id.clone(),
            tenant: e.tenant.clone(),
            event_type: EVENT.to_owned(),
            payload: payload.clone(),
            status: DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: now,
            expires_at: now + webhooks.config.retry_window,
            last_status_code: None,
            last_error: None,
            created_at: now,
            updated_at: now,
        })
        .collect();
    if !deliveries.is_empty() && webhooks.store.enqueue_deliveries(&deliveries).await? > 0 {
        webhooks.wake();
    }
    calls.store.mark_notified(&job.id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_call_route_has_a_dialect_and_other_routes_none() {
        for r in &ROUTES {
            let found = route_of(r.path).is_some();
            let is_call = ROUTES
                .iter()
                .any(|o| o.path == r.path && matches!(o.handler, Handler::ModelCall(_)));
            assert_eq!(found, is_call, "{}", r.path);
        }
        assert_eq!(
            shape_of("/v1/messages"),
            ErrorShape::Anthropic,
            "Anthropic errors"
        );
        assert_eq!(
            shape_of("/v1beta/models/{model}:generateContent"),
            ErrorShape::Gemini
        );
        assert_eq!(shape_of("/nowhere"), ErrorShape::OpenAi);
    }

    #[test]
    fn only_meaningful_headers_are_kept() {
        for keep in [
            "content-type",
            "x-gateway-provider",
            "x-ratelimit-limit-requests",
            "retry-after",
        ] {
            assert!(kept_header(keep), "{keep}");
        }
        for drop in [
            "set-cookie",
            "authorization",
            "content-length",
            "x-request-id",
        ] {
            assert!(!kept_header(drop), "{drop}");
        }
    }
}
