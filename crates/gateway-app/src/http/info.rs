//! Liveness, readiness and the model list.

use http::{HeaderValue, Request, Response};
use hyper::body::Incoming;
use serde_json::json;

use gateway_core::GatewayError;
use gateway_core::phases::route::Router;

use super::body::{Body, full};
use super::extract_token;
use crate::state::AppState;

pub fn json_response(status: u16, value: &impl serde::Serialize) -> Response<Body> {
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    let mut resp = Response::new(full(bytes));
    *resp.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::OK);
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// Liveness: the process answers. Deliberately cheap.
pub fn health() -> Response<Body> {
    let mut resp = Response::new(full(&b"{\"status\":\"ok\"}"[..]));
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// Readiness: configuration loaded and at least one model routable.
pub fn ready(state: &AppState) -> Response<Body> {
    let models = state.router.models().len();
    let ready = models > 0;
    let body = json!({
        "status": if ready { "ready" } else { "not_ready" },
        "checks": {
            "config": "ok",
            "providers": { "state": if state.providers.is_empty() { "none" } else { "ok" }, "names": state.providers },
            "models": { "state": if ready { "ok" } else { "none" }, "count": models },
        }
    });
    json_response(if ready { 200 } else { 503 }, &body)
}

/// `GET /v1/models`: the models this caller may use.
pub async fn models(
    state: &AppState,
    req: &Request<Incoming>,
) -> Result<Response<Body>, GatewayError> {
    let principal = state
        .gateway
        .authenticate(extract_token(req.headers()))
        .await?;
    let data = state.gateway.models_for(&principal);
    Ok(json_response(
        200,
        &json!({ "object": "list", "data": data }),
    ))
}
