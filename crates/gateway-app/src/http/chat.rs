//! `POST /v1/chat/completions` (JSON and SSE) and `POST /v1/embeddings`.

use http::{HeaderMap, HeaderValue, Request, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;

use gateway_core::phases::admission::LimitSnapshot;
use gateway_core::phases::route::ServedBy;
use gateway_core::types::EmbeddingsRequest;
use gateway_core::{ChatRequest, Endpoint, GatewayError, Principal, RequestContext};

use super::body::{
    Body, full, json_bytes, parse_json, read_limited, response, within_request_timeout,
};
use super::extract_token;
use super::names;
use super::sse::SseBody;
use crate::state::AppState;

/// The context of one model call, with what the operator set per tenant: whether its prompts
/// and completions are logged (`telemetry.log_prompts_for_tenants`).
pub(super) fn call_context(
    state: &AppState,
    request_id: &str,
    principal: Principal,
    endpoint: Endpoint,
) -> RequestContext {
    let mut ctx = RequestContext::new(request_id, principal, endpoint);
    ctx.log_content = state.telemetry.logs_prompts_for(&ctx.principal.tenant);
    ctx
}

/// Authenticate, then read and decode the body: a caller without credentials never gets its
/// body read.
async fn prepare<T: serde::de::DeserializeOwned>(
    state: &AppState,
    req: Request<Incoming>,
    request_id: &str,
    endpoint: Endpoint,
) -> Result<(RequestContext, T), GatewayError> {
    let principal = state
        .gateway
        .authenticate(extract_token(req.headers()))
        .await?;
    let cache = gateway_cache::directives_from_headers(req.headers());
    let client_ip = crate::server::client_ip(&req);
    let bytes = read_limited(req.into_body(), state.max_body_bytes, state.body_timeout).await?;
    let decoded = parse_json(&bytes)?;
    let mut ctx = call_context(state, request_id, principal, endpoint);
    ctx.cache = cache;
    ctx.client_ip = client_ip;
    Ok((ctx, decoded))
}

pub async fn chat_completions(
    state: &AppState,
    req: Request<Incoming>,
    request_id: &str,
) -> Result<Response<Body>, GatewayError> {
    let (ctx, chat): (RequestContext, ChatRequest) =
        prepare(state, req, request_id, Endpoint::ChatCompletions).await?;
    if chat.stream {
        let outcome = state.gateway.chat_stream(&ctx, chat).await?;
        let mut resp = response(
            SseBody::new(outcome.stream).boxed_unsync(),
            "text/event-stream",
        );
        let headers = resp.headers_mut();
        headers.insert(
            http::header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        );
        headers.insert(names::X_ACCEL_BUFFERING, HeaderValue::from_static("no"));
        gateway_headers(headers, &outcome.served_by, &outcome.limits);
        cache_header(headers, outcome.cache);
        return Ok(resp);
    }
    let outcome = within_request_timeout(state, state.gateway.chat(&ctx, chat)).await?;
    let mut resp = response(full(json_bytes(&outcome.response)?), "application/json");
    let headers = resp.headers_mut();
    gateway_headers(headers, &outcome.served_by, &outcome.limits);
    cache_header(headers, outcome.cache);
    Ok(resp)
}

/// `x-gateway-cache: hit|miss|bypass` when the cache applies to the request.
pub(super) fn cache_header(
    headers: &mut HeaderMap,
    status: Option<gateway_core::phases::cache::CacheStatus>,
) {
    if let Some(status) = status {
        headers.insert(
            gateway_cache::CACHE_STATUS_HEADER,
            gateway_cache::cache_header_value(status),
        );
    }
}

pub async fn embeddings(
    state: &AppState,
    req: Request<Incoming>,
    request_id: &str,
) -> Result<Response<Body>, GatewayError> {
    let (ctx, emb): (RequestContext, EmbeddingsRequest) =
        prepare(state, req, request_id, Endpoint::Embeddings).await?;
    let outcome = match tokio::time::timeout(
        state.request_timeout,
        state.gateway.embeddings(&ctx, emb),
    )
    .await
    {
        Ok(result) => result?,
        Err(_) => {
            return Err(GatewayError::UpstreamTimeout {
                provider: "the upstream".to_owned(),
            });
        }
    };
    let mut resp = response(full(json_bytes(&outcome.response)?), "application/json");
    gateway_headers(
        resp.headers_mut(),
        &outcome.served_by,
        &LimitSnapshot::default(),
    );
    Ok(resp)
}

/// `x-gateway-*` routing headers and OpenAI-named `x-ratelimit-*` headers.
pub(super) fn gateway_headers(
    headers: &mut HeaderMap,
    served_by: &ServedBy,
    limits: &LimitSnapshot,
) {
    // Up to twelve headers follow: a no-op for maps made by `body::response`.
    headers.reserve(12);
    for (name, value) in [
        (names::X_GATEWAY_PROVIDER, &*served_by.provider),
        (names::X_GATEWAY_MODEL, &*served_by.upstream_model),
    ] {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    }
    headers.insert(
        names::X_GATEWAY_ATTEMPTS,
        names::number(u64::from(served_by.attempts)),
    );
    if let Some(region) = served_by
        .region
        .as_deref()
        .and_then(|r| HeaderValue::from_str(r).ok())
    {
        headers.insert(names::X_GATEWAY_REGION, region);
    }
    let numbers = [
        (names::LIMIT_REQUESTS, limits.limit_requests),
        (names::REMAINING_REQUESTS, limits.remaining_requests),
        (names::LIMIT_TOKENS, limits.limit_tokens),
        (names::REMAINING_TOKENS, limits.remaining_tokens),
    ];
    for (name, value) in numbers {
        if let Some(v) = value {
            headers.insert(name, names::number(v));
        }
    }
    for (name, secs) in [
        (names::RESET_REQUESTS, limits.reset_requests_secs),
        (names::RESET_TOKENS, limits.reset_tokens_secs),
    ] {
        if let Some(secs) = secs {
            headers.insert(name, names::reset_seconds(secs));
        }
    }
}
