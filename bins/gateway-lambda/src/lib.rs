//! `gateway-lambda`: LLM Secure Gateway as an AWS Lambda function. Each invocation (API
//! Gateway REST or HTTP API, a Function URL, an ALB target) becomes one HTTP request served
//! by `gateway-app`'s own handler ([`gateway_app::http::in_memory`]): the same route table,
//! pipeline, limits, guardrails and accounting as the server, with the answer buffered
//! (Lambda's buffered invoke cannot stream, so `stream: true` answers the whole event stream
//! at once).
//!
//! Configuration comes from the environment ([`gateway_app::Config::from_environment`]:
//! `GATEWAY__*` variables, provider keys), or from the file named by `GATEWAY_CONFIG`. The
//! store must outlive the function instance: PostgreSQL (`GATEWAY__STORE__DATABASE_URL`) or
//! the edge profile's signed tenants file (`[store.signed_file]`); the SQLite default is
//! refused, since a function's disk is thrown away with it.
//!
//! Entry points: [`load_config`], [`Function::new`], [`Function::handle`]; `main.rs` only
//! hands [`Function::handle`] to `lambda_http::run`. This crate is a leaf: no gateway crate
//! depends on it.

use std::net::IpAddr;
use std::sync::Arc;

use bytes::Bytes;
use gateway_app::{AppState, Config};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};

/// Largest answer returned: Lambda's own limit for a buffered response is 6 MB.
pub const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024;

/// Why the function cannot start.
#[derive(Debug)]
pub struct StartError(pub String);

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartError {}

/// The configuration: the file named by `GATEWAY_CONFIG` if set, else the environment; a
/// store that lives beyond the instance is required.
pub fn load_config() -> Result<Config, StartError> {
    let config = match std::env::var_os("GATEWAY_CONFIG") {
        Some(path) => Config::load(std::path::Path::new(&path)),
        None => Config::from_environment(),
    }
    .map_err(|e| StartError(e.to_string()))?;
    check_store(&config)?;
    Ok(config)
}

/// Refuses the embedded SQLite default (and SQLite files): a function instance's disk is
/// discarded with it, and instances do not share one.
pub fn check_store(config: &Config) -> Result<(), StartError> {
    let external =
        config.store.signed_file.is_some()
            || config.store.database_url.as_deref().is_some_and(|url| {
                url.starts_with("postgres://") || url.starts_with("postgresql://")
            });
    if external {
        Ok(())
    } else {
        Err(StartError(
            "store: a Lambda function needs PostgreSQL (GATEWAY__STORE__DATABASE_URL=postgres://...) \
             or the edge profile's signed tenants file ([store.signed_file]); SQLite would be \
             lost with the instance"
                .to_owned(),
        ))
    }
}

/// The function: the gateway's state, built once per instance (the cold start).
#[derive(Clone)]
pub struct Function {
    state: Arc<AppState>,
}

impl std::fmt::Debug for Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Function").finish_non_exhaustive()
    }
}

impl Function {
    /// Builds the pipeline (connects the store, loads the signed file, builds providers).
    pub async fn new(config: &Config) -> Result<Function, StartError> {
        check_store(config)?;
        let state = AppState::build(config)
            .await
            .map_err(|e| StartError(gateway_app::error::chain(&e)))?;
        Ok(Function { state })
    }

    /// The state requests are served from (flush its telemetry before the instance ends).
    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// One invocation: the event's request through the gateway, the whole answer back.
    pub async fn handle(&self, event: Request) -> Result<Response<Body>, std::convert::Infallible> {
        let client = source_ip(&event);
        let stage = stage(&event);
        let (mut parts, body) = event.into_parts();
        if let Some(stage) = stage {
            strip_stage(&mut parts.uri, &stage);
        }
        let body = match body {
            Body::Empty => Bytes::new(),
            Body::Text(text) => Bytes::from(text),
            Body::Binary(bytes) => Bytes::from(bytes),
            _ => Bytes::new(),
        };
        let req = http::Request::from_parts(parts, body);
        let resp = gateway_app::http::in_memory::handle_buffered(
            self.state.clone(),
            req,
            client,
            MAX_RESPONSE_BYTES,
        )
        .await;
        // Usage and audit are written in the background: within an invocation, before the
        // instance may be frozen, not at some later thaw.
        self.state.telemetry.flush().await;
        let (parts, body) = resp.into_parts();
        let body = match String::from_utf8(body.to_vec()) {
            Ok(text) if text.is_empty() => Body::Empty,
            Ok(text) => Body::Text(text),
            Err(e) => Body::Binary(e.into_bytes()),
        };
        Ok(Response::from_parts(parts, body))
    }
}

/// The caller's address as API Gateway saw it (ALB and Function URLs behind it say it in
/// their own fields or in `x-forwarded-for`, which the gateway does not trust by default).
fn source_ip(event: &Request) -> Option<IpAddr> {
    let ip = match event.request_context_ref()? {
        RequestContext::ApiGatewayV2(ctx) => ctx.http.source_ip.clone(),
        RequestContext::ApiGatewayV1(ctx) => ctx.identity.source_ip.clone(),
        _ => None,
    };
    ip?.parse().ok()
}

/// A named API Gateway stage, which lambda_http puts in front of the path.
fn stage(event: &Request) -> Option<String> {
    let stage = match event.request_context_ref()? {
        RequestContext::ApiGatewayV2(ctx) => ctx.stage.clone(),
        RequestContext::ApiGatewayV1(ctx) => ctx.stage.clone(),
        _ => None,
    }?;
    (stage != "$default" && !stage.is_empty()).then_some(stage)
}

/// `/prod/v1/models` -> `/v1/models` for stage `prod`: the gateway's routes have no stage.
fn strip_stage(uri: &mut http::Uri, stage: &str) {
    let Some(rest) = uri
        .path()
        .strip_prefix('/')
        .and_then(|p| p.strip_prefix(stage))
        .filter(|rest| rest.is_empty() || rest.starts_with('/'))
    else {
        return;
    };
    let path = if rest.is_empty() { "/" } else { rest };
    let path_and_query = match uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path.to_owned(),
    };
    let mut parts = uri.clone().into_parts();
    if let Ok(pq) = path_and_query.parse() {
        parts.path_and_query = Some(pq);
        if let Ok(next) = http::Uri::from_parts(parts) {
            *uri = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_are_stripped_from_the_front_only() {
        let mut uri: http::Uri = "https://h/prod/v1/models?x=1".parse().unwrap_or_default();
        strip_stage(&mut uri, "prod");
        assert_eq!(
            uri.path_and_query().map(|p| p.as_str()),
            Some("/v1/models?x=1")
        );
        let mut uri: http::Uri = "https://h/production/v1".parse().unwrap_or_default();
        strip_stage(&mut uri, "prod");
        assert_eq!(uri.path(), "/production/v1");
    }
}
