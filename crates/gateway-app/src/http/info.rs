//! Liveness, readiness and the model list.

use http::{Request, Response};
use hyper::body::Incoming;
use serde_json::json;

use gateway_core::GatewayError;
use gateway_core::phases::route::Router;

use super::body::{Body, full, json_bytes, response};
use super::inbound::Inbound;
use super::routes::PathParams;
use crate::state::AppState;

pub fn json_response(status: u16, value: &impl serde::Serialize) -> Response<Body> {
    let bytes = json_bytes(value).unwrap_or_default();
    let mut resp = response(full(bytes), "application/json");
    *resp.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::OK);
    resp
}

/// Liveness: the process answers. Deliberately cheap.
pub fn health() -> Response<Body> {
    response(full(&b"{\"status\":\"ok\"}"[..]), "application/json")
}

/// How long `/ready` waits for the store to answer.
const STORE_PING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Readiness, with the state of each dependency: the store (pinged, bounded), the shared
/// limits backend (Redis, when configured), the response cache, and every provider deployment
/// with its circuit. Not ready (503) when the store does not answer or no model is routable;
/// open circuits and a cache whose Redis is down only degrade (other instances would see the
/// same upstream; without its cache the gateway still answers, from upstream).
pub async fn ready(state: &AppState) -> Response<Body> {
    let models = state.router.models().len();
    let store = match tokio::time::timeout(STORE_PING_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => json!({ "state": "ok", "backend": state.store.backend() }),
        Ok(Err(e)) => {
            json!({ "state": "down", "backend": state.store.backend(), "error": e.to_string() })
        }
        Err(_) => {
            json!({ "state": "down", "backend": state.store.backend(), "error": "no answer within 2s" })
        }
    };
    let store_ok = store["state"] == "ok";
    let deployments = state.router.deployment_states();
    let available = deployments.iter().filter(|d| d.available()).count();
    let providers_state = match (deployments.is_empty(), available) {
        (true, _) => "none",
        (false, 0) => "down",
        (false, n) if n < deployments.len() => "degraded",
        _ => "ok",
    };
    let deployments: Vec<_> = deployments
        .iter()
        .map(|d| {
            json!({
                "model": d.model,
                "provider": &*d.provider,
                "upstream_model": &*d.upstream_model,
                "circuit": super::metrics::circuit_name(d.circuit),
                "available": d.available(),
                "in_flight": d.in_flight,
            })
        })
        .collect();
    let limits = state.limiter.stats();
    // The shared limits backend (Redis with `limits.backend = "redis"`; always up in memory).
    let limits_backend = json!({ "state": if limits.backend_down { "down" } else { "ok" } });
    // A cache whose Redis is down is off (every lookup a miss): degraded, still ready.
    let cache = match &state.cache {
        Some(cache) if cache.stats().backend_down => {
            json!({ "state": "down", "backend": cache.backend().name() })
        }
        Some(cache) => json!({ "state": "ok", "backend": cache.backend().name() }),
        None => json!({ "state": "disabled" }),
    };
    let ready = models > 0 && store_ok;
    let body = json!({
        "status": if ready { "ready" } else { "not_ready" },
        "checks": {
            "config": "ok",
            "store": store,
            "limits_backend": limits_backend,
            "cache": cache,
            "providers": { "state": providers_state, "names": state.providers, "deployments": deployments },
            "models": { "state": if models > 0 { "ok" } else { "none" }, "count": models },
        }
    });
    json_response(if ready { 200 } else { 503 }, &body)
}

/// `GET /v1/models`: the models this caller may use.
pub async fn models(
    state: &AppState,
    req: &Request<Incoming>,
    inbound: &mut Inbound,
) -> Result<Response<Body>, GatewayError> {
    let principal = inbound.authenticate(state, req.headers()).await?;
    let data = state.gateway.models_for(&principal);
    Ok(json_response(
        200,
        &json!({ "object": "list", "data": data }),
    ))
}

/// `GET /v1/models/{id}`: one model, when this caller may use it; any other id is a 404, so
/// that a caller cannot probe which models exist.
pub async fn model(
    state: &AppState,
    req: &Request<Incoming>,
    params: &PathParams,
    inbound: &mut Inbound,
) -> Result<Response<Body>, GatewayError> {
    let principal = inbound.authenticate(state, req.headers()).await?;
    let id = params.get(0).unwrap_or_default();
    let model = state
        .gateway
        .models_for(&principal)
        .into_iter()
        .find(|m| m.id == id)
        .ok_or_else(|| GatewayError::ModelNotFound(id.to_owned()))?;
    Ok(json_response(200, &model))
}
