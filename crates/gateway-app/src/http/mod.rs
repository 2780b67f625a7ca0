//! The HTTP edge: request ids, the route table ([`routes`]), one handler for every model call
//! ([`model_call`], over the dialects of [`crate::dialects`]) and the few handlers that are not
//! model calls (health, readiness, metrics, models, token counts, guardrail checks, stored
//! responses, files, batches, async jobs, admin, the web console).

pub(crate) mod admin;
pub mod async_jobs;
pub mod batches;
pub mod body;
pub mod count_tokens;
pub mod error;
pub(crate) mod feedback;
pub mod files;
pub(crate) mod guardrails_check;
pub mod in_memory;
pub mod inbound;
pub mod info;
mod metrics;
pub(crate) mod model_call;
mod names;
pub mod routes;
pub mod sse;
mod stored_responses;
pub mod ui;

use std::sync::Arc;

use http::{HeaderValue, Request, Response};
use hyper::body::Incoming;
use tracing::Instrument;

use gateway_core::GatewayError;

use crate::dialects::gemini::models as gemini_models;
use crate::state::AppState;
use body::Body;
use inbound::Inbound;
use routes::{Found, Handler};

/// Where callers put their credential: `Authorization: Bearer`, `x-api-key` (Anthropic SDKs)
/// or `api-key` (Azure SDKs). One rule for every route, the admin API's included.
pub use gateway_auth::extract_token;

/// Longest caller-supplied `x-request-id` we keep (longer or odd ones are replaced).
const MAX_REQUEST_ID: usize = 128;

/// Handle one request. Never fails: every error becomes a response here or in a handler.
pub async fn handle(state: Arc<AppState>, req: Request<Incoming>) -> Response<Body> {
    let lookup = routes::lookup(req.method(), req.uri().path());
    let anthropic = lookup.errors == error::ErrorShape::Anthropic;
    let console = ui::is_ui_path(req.uri().path());
    let mut inbound = Inbound::new(
        &state,
        &req,
        request_id(&req),
        lookup.label,
        lookup.permission(),
    );
    let edge = metrics::Edge::start(&state, &req, &inbound);
    let span = edge.span().clone();
    let mut resp = dispatch(&state, req, lookup, &mut inbound, &edge)
        .instrument(span)
        .await;
    if let Ok(value) = HeaderValue::from_str(&inbound.request_id) {
        // Anthropic's SDKs read the id from `request-id` (their `_request_id`).
        if anthropic {
            resp.headers_mut().insert(names::REQUEST_ID, value.clone());
        }
        resp.headers_mut().insert(names::X_REQUEST_ID, value);
    }
    if console {
        ui::secure(resp.headers_mut());
    }
    edge.finish(&state, resp)
}

/// Dispatch through the route table; a refusal is counted and audited before it is rendered.
async fn dispatch(
    state: &Arc<AppState>,
    req: Request<Incoming>,
    lookup: routes::Lookup,
    inbound: &mut Inbound,
    edge: &metrics::Edge,
) -> Response<Body> {
    let errors = lookup.errors;
    // Each handler's future is boxed: unboxed, this future would be as large as the largest
    // handler's (tens of KiB), and it is moved, so copied, by every layer above it.
    let result = match lookup.found {
        Found::Route(route, params) => match route.handler {
            Handler::Health => Ok(info::health()),
            Handler::Ready => Ok(Box::pin(info::ready(state)).await),
            Handler::Metrics => metrics::metrics(state),
            Handler::OpenApi => Ok(body::response(
                body::full(crate::openapi::served()),
                "application/json",
            )),
            Handler::Models => Box::pin(info::models(state, &req, inbound)).await,
            Handler::Model => Box::pin(info::model(state, &req, &params, inbound)).await,
            Handler::ModelCall(dialect) => {
                Box::pin(model_call::model_call(
                    state, req, &params, inbound, dialect,
                ))
                .await
            }
            Handler::CountTokens(api) => {
                Box::pin(count_tokens::count_tokens(
                    state, req, &params, inbound, api,
                ))
                .await
            }
            Handler::GuardrailsCheck => {
                Box::pin(guardrails_check::check(state, req, inbound)).await
            }
            Handler::Feedback => Box::pin(feedback::give(state, req, inbound)).await,
            Handler::UiRedirect => ui::redirect(state),
            Handler::UiPage => ui::page(state, &req),
            Handler::UiAsset => ui::asset(state, &req, &params),
            Handler::ResponseRetrieve => {
                Box::pin(stored_responses::retrieve(state, req, &params, inbound)).await
            }
            Handler::ResponseDelete => {
                Box::pin(stored_responses::delete(state, req, &params, inbound)).await
            }
            Handler::ResponseInputItems => {
                Box::pin(stored_responses::input_items(state, req, &params, inbound)).await
            }
            Handler::Files(op) => Box::pin(files::handle(state, req, &params, inbound, op)).await,
            Handler::Batches(op) => {
                Box::pin(batches::handle(state, req, &params, inbound, op)).await
            }
            Handler::AsyncJob(op) => {
                // Errors in the job's dialect (or the credential's), refused like any other.
                match Box::pin(async_jobs::handle(state, req, &params, inbound, op)).await {
                    Ok(resp) => Ok(resp),
                    Err((err, shape)) => {
                        edge.refused(state, &err, inbound);
                        Ok(error::error_response_in(&err, &inbound.request_id, shape))
                    }
                }
            }
            Handler::GeminiModels => Box::pin(gemini_models::list(state, &req, inbound)).await,
            Handler::GeminiModel => {
                Box::pin(gemini_models::get(state, &req, &params, inbound)).await
            }
        },
        Found::WrongMethod => Err(GatewayError::MethodNotAllowed(format!(
            "Method {} is not allowed on {}.",
            req.method(),
            req.uri().path()
        ))),
        Found::Admin => Box::pin(admin::handle(state, req, inbound)).await,
        Found::Unknown => Err(GatewayError::NotFound(format!(
            "Unknown path '{}'.",
            req.uri().path()
        ))),
    };
    result.unwrap_or_else(|err| {
        edge.refused(state, &err, inbound);
        error::error_response_in(&err, &inbound.request_id, errors)
    })
}

/// The caller's `x-request-id` when it is short printable ASCII, else a new UUIDv7.
fn request_id<B>(req: &Request<B>) -> String {
    req.headers()
        .get(names::X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty() && v.len() <= MAX_REQUEST_ID && v.bytes().all(|b| b.is_ascii_graphic())
        })
        .map_or_else(new_request_id, str::to_owned)
}

/// A UUIDv7 whose random bits come from the thread-local generator: `Uuid::now_v7` reads the
/// OS entropy source (a system call) for every id, and a request id is not a secret.
fn new_request_id() -> String {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let random: [u8; 10] = rand::random();
    uuid::Builder::from_unix_timestamp_millis(millis, &random)
        .into_uuid()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_request_ids_are_distinct_current_uuid_v7s() {
        let (a, b) = (new_request_id(), new_request_id());
        assert_ne!(a, b);
        let parsed = uuid::Uuid::parse_str(&a).expect("a UUID");
        assert_eq!(parsed.get_version_num(), 7);
        let (secs, _) = parsed.get_timestamp().expect("v7 has a time").to_unix();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs();
        assert!(now.abs_diff(secs) <= 5, "{a} is not from now");
    }
}
