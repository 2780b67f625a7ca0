//! Liveness, readiness and the model list.

use http::{Request, Response};
use hyper::body::Incoming;
use schemars::JsonSchema;
use serde::Serialize;

use gateway_core::types::ModelInfo;

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

/// The answer of `GET /health`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Health {
    #[schemars(extend("const" = "ok"))]
    pub status: &'static str,
}

/// The bytes of [`Health`] `{status: "ok"}`, written once.
const HEALTHY: &[u8] = b"{\"status\":\"ok\"}";

/// Liveness: the process answers. Deliberately cheap.
pub fn health() -> Response<Body> {
    response(full(HEALTHY), "application/json")
}

/// How long `/ready` waits for the store to answer.
const STORE_PING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// The answer of `GET /ready` (200 when ready, 503 when not).
#[derive(Debug, Serialize, JsonSchema)]
pub struct Readiness {
    pub status: ReadyStatus,
    pub checks: ReadyChecks,
}

#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReadyStatus {
    Ready,
    NotReady,
}

/// The state of each dependency.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ReadyChecks {
    /// The configuration loaded (always `ok` on a running gateway).
    pub config: &'static str,
    pub store: DependencyCheck,
    /// The shared limits backend (Redis with `limits.backend = "redis"`; always up in memory).
    pub limits_backend: DependencyCheck,
    pub cache: DependencyCheck,
    pub providers: ProvidersCheck,
    pub models: ModelsCheck,
}

/// One dependency: `ok`, `down` or `disabled`, with its backend and what failed.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DependencyCheck {
    pub state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl DependencyCheck {
    fn state(state: &'static str, backend: Option<&'static str>) -> Self {
        DependencyCheck {
            state,
            backend,
            error: None,
        }
    }
}

/// The provider deployments: `ok`, `degraded` (some circuits open), `down` or `none`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ProvidersCheck {
    pub state: &'static str,
    pub names: Vec<String>,
    pub deployments: Vec<DeploymentReadiness>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct DeploymentReadiness {
    pub model: String,
    pub provider: String,
    pub upstream_model: String,
    /// `closed`, `open` or `half_open`.
    pub circuit: &'static str,
    pub available: bool,
    pub in_flight: u64,
}

/// The routable models: `ok` or `none`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ModelsCheck {
    pub state: &'static str,
    pub count: usize,
}

/// Readiness, with the state of each dependency: the store (pinged, bounded), the shared
/// limits backend (Redis, when configured), the response cache, and every provider deployment
/// with its circuit. Not ready (503) when the store does not answer or no model is routable;
/// open circuits and a cache whose Redis is down only degrade (other instances would see the
/// same upstream; without its cache the gateway still answers, from upstream).
pub async fn ready(state: &AppState) -> Response<Body> {
    let models = state.router.models().len();
    let backend = state.store.backend();
    let store = match tokio::time::timeout(STORE_PING_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => DependencyCheck::state("ok", Some(backend)),
        Ok(Err(e)) => DependencyCheck {
            error: Some(e.to_string()),
            ..DependencyCheck::state("down", Some(backend))
        },
        Err(_) => DependencyCheck {
            error: Some("no answer within 2s".to_owned()),
            ..DependencyCheck::state("down", Some(backend))
        },
    };
    let store_ok = store.state == "ok";
    let deployments = state.router.deployment_states();
    let available = deployments.iter().filter(|d| d.available()).count();
    let providers_state = match (deployments.is_empty(), available) {
        (true, _) => "none",
        (false, 0) => "down",
        (false, n) if n < deployments.len() => "degraded",
        _ => "ok",
    };
    let deployments = deployments
        .iter()
        .map(|d| DeploymentReadiness {
            model: d.model.clone(),
            provider: d.provider.to_string(),
            upstream_model: d.upstream_model.to_string(),
            circuit: super::metrics::circuit_name(d.circuit),
            available: d.available(),
            in_flight: d.in_flight,
        })
        .collect();
    let limits = state.limiter.stats();
    let limits_backend =
        DependencyCheck::state(if limits.backend_down { "down" } else { "ok" }, None);
    // A cache whose Redis is down is off (every lookup a miss): degraded, still ready.
    let cache = match &state.cache {
        Some(cache) if cache.stats().backend_down => {
            DependencyCheck::state("down", Some(cache.backend().name()))
        }
        Some(cache) => DependencyCheck::state("ok", Some(cache.backend().name())),
        None => DependencyCheck::state("disabled", None),
    };
    let ready = models > 0 && store_ok;
    let body = Readiness {
        status: if ready {
            ReadyStatus::Ready
        } else {
            ReadyStatus::NotReady
        },
        checks: ReadyChecks {
            config: "ok",
            store,
            limits_backend,
            cache,
            providers: ProvidersCheck {
                state: providers_state,
                names: state.providers.clone(),
                deployments,
            },
            models: ModelsCheck {
                state: if models > 0 { "ok" } else { "none" },
                count: models,
            },
        },
    };
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
    Ok(json_response(200, &ModelList::new(data)))
}

/// The answer of `GET /v1/models`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ModelList {
    #[schemars(extend("const" = "list"))]
    pub object: &'static str,
    pub data: Vec<ModelInfo>,
}

impl ModelList {
    pub fn new(data: Vec<ModelInfo>) -> Self {
        ModelList {
            object: "list",
            data,
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_health_bytes_are_the_health_type() {
        let typed = serde_json::to_vec(&Health { status: "ok" }).expect("serialises");
        assert_eq!(typed, HEALTHY);
    }
}
