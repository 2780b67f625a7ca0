//! The one handler of every model call, whatever its dialect: authenticate (before the body is
//! read), read the body within its limits, decode it in the route's [`Dialect`], run the
//! pipeline (`Gateway::chat`, `chat_stream` or `embeddings`), and encode the answer with the
//! gateway's headers. A dialect only translates; everything else is here, once. A call sent
//! with `Prefer: respond-async` stops after decoding: it is stored as a job and answered 202
//! (`crate::async_calls`), and its job later runs through [`serve`] like this call would. A Responses
//! API turn is a chat with its stored conversation joined first and its answer stored. A chat
//! naming a prompt template has it rendered into its messages first (`crate::templates`).

use http::{HeaderMap, HeaderValue, Request, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;

use futures_util::StreamExt;
use gateway_core::phases::admission::LimitSnapshot;
use gateway_core::phases::cache::CacheStatus;
use gateway_core::phases::route::ServedBy;
use gateway_core::{ChatRequest, GatewayError, GatewayStream, RequestContext};

use super::body::{Body, full, json_bytes, read_limited, response, within_request_timeout};
use super::inbound::Inbound;
use super::names;
use super::routes::PathParams;
use crate::async_calls::prefers_async;
use crate::async_calls::submit::{Submission, submit};
use crate::dialects::responses::output::Output;
use crate::dialects::responses::{ResponsesSseBody, Turn};
use crate::dialects::{Call, CallTarget, Dialect};
use crate::state::AppState;

pub async fn model_call(
    state: &AppState,
    req: Request<Incoming>,
    params: &PathParams,
    inbound: &mut Inbound,
    dialect: &dyn Dialect,
) -> Result<Response<Body>, GatewayError> {
    let credential = dialect.credential(req.headers(), req.uri().query());
    let principal = inbound
        .authenticate_token(state, credential.as_deref())
        .await?;
    let cache = gateway_cache::directives_from_headers(req.headers());
    let wants_async = prefers_async(req.headers());
    let (head, body) = req.into_parts();
    let bytes = read_limited(body, state.max_body_bytes, state.body_timeout).await?;
    let target = CallTarget {
        params,
        query: head.uri.query(),
        route: inbound.route,
    };
    let call = dialect.decode(state, &target, &bytes)?;
    // `Prefer: respond-async` (ignored where the gateway has no store for jobs).
    if let Some(calls) = state.async_calls.as_ref().filter(|_| wants_async) {
        let submission = Submission {
            principal,
            headers: &head.headers,
            target,
            body: &bytes,
            cache,
        };
        return submit(state, calls, inbound, &call, submission).await;
    }
    let mut ctx = inbound.context(state, principal, dialect.endpoint());
    ctx.cache = cache;
    serve(state, &ctx, call, dialect, &target).await
}

/// Runs a decoded call through the pipeline as `ctx`'s caller and encodes its answer: what
/// every model call does once its caller is known and its body decoded. The batch worker
/// runs each line of a batch through here too (`crate::batches::line`).
pub(crate) async fn serve(
    state: &AppState,
    ctx: &RequestContext,
    call: Call,
    dialect: &dyn Dialect,
    target: &CallTarget<'_>,
) -> Result<Response<Body>, GatewayError> {
    let call = match call {
        // `{"template": ...}` becomes messages first, so every phase sees the rendered prompt.
        Call::Chat(mut chat) if chat.extra.contains_key(crate::templates::TEMPLATE_FIELD) => {
            Box::pin(crate::templates::expand(state, ctx, &mut chat)).await?;
            Call::Chat(chat)
        }
        other => other,
    };
    match call {
        Call::Chat(chat) if chat.stream => stream(state, ctx, chat, dialect, target).await,
        Call::Chat(chat) => {
            let requested = chat.model.clone();
            let outcome = within_request_timeout(state, state.gateway.chat(ctx, chat)).await?;
            let mut resp = dialect.encode_chat(&outcome, &requested, ctx)?;
            let headers = resp.headers_mut();
            gateway_headers(headers, &outcome.served_by, &outcome.limits);
            cost_header(headers, outcome.cost_usd);
            cache_header(headers, outcome.cache);
            Ok(resp)
        }
        Call::Embeddings(embeddings) => {
            let outcome =
                within_request_timeout(state, state.gateway.embeddings(ctx, embeddings)).await?;
            let mut resp = dialect.encode_embeddings(&outcome)?;
            let headers = resp.headers_mut();
            gateway_headers(headers, &outcome.served_by, &outcome.limits);
            cost_header(headers, outcome.cost_usd);
            Ok(resp)
        }
        Call::Response(turn) => Box::pin(response_turn(state, ctx, *turn, target.route)).await,
    }
}

/// A Responses API turn: the stored conversation joined (the caller's tenant only), the chat
/// run like any other, the answer stored and encoded as a response object or its events.
async fn response_turn(
    state: &AppState,
    ctx: &RequestContext,
    turn: Turn,
    route: &'static str,
) -> Result<Response<Body>, GatewayError> {
    let (chat, pending) = turn.prepare(state, &ctx.principal.tenant).await?;
    if chat.stream {
        let outcome = state.gateway.chat_stream(ctx, chat).await?;
        let events = reported(state, ctx, outcome.stream, route);
        let body = ResponsesSseBody::new(events, pending).boxed_unsync();
        let mut resp = event_stream(body, "text/event-stream");
        let headers = resp.headers_mut();
        gateway_headers(headers, &outcome.served_by, &outcome.limits);
        cache_header(headers, outcome.cache);
        return Ok(resp);
    }
    let outcome = within_request_timeout(state, state.gateway.chat(ctx, chat)).await?;
    let output = Output::from_chat(&outcome.response);
    let object = pending.finish(&output).await;
    let mut resp = response(full(json_bytes(&object)?), "application/json");
    let headers = resp.headers_mut();
    gateway_headers(headers, &outcome.served_by, &outcome.limits);
    cost_header(headers, outcome.cost_usd);
    cache_header(headers, outcome.cache);
    Ok(resp)
}

/// `stream`, with a guardrail's block of its output reported as `guardrail.blocked` (sampled
/// like the edge's refusals): a stream's block arrives as its last event, after the edge
/// answered 200, so the edge's refusal path never sees it.
fn reported(
    state: &AppState,
    ctx: &RequestContext,
    stream: GatewayStream,
    route: &'static str,
) -> GatewayStream {
    let Some(hooks) = &state.webhooks else {
        return stream;
    };
    let events = hooks.events.clone();
    let tenant = ctx.principal.tenant.clone();
    let subject = ctx.principal.subject.clone();
    Box::pin(stream.inspect(move |item| {
        if let Err(err @ GatewayError::PolicyBlocked { .. }) = item {
            events.refused(err, &tenant, &subject, route);
        }
    }))
}

/// A streamed answer of `body` (`text/event-stream`, or Gemini's JSON array), not to be
/// cached or buffered on the way.
fn event_stream(body: Body, content_type: &'static str) -> Response<Body> {
    let mut resp = response(body, content_type);
    let headers = resp.headers_mut();
    headers.insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    );
    headers.insert(names::X_ACCEL_BUFFERING, HeaderValue::from_static("no"));
    resp
}

/// A streamed chat: the headers go out with the first event, each event as it is produced.
async fn stream(
    state: &AppState,
    ctx: &RequestContext,
    chat: ChatRequest,
    dialect: &dyn Dialect,
    target: &CallTarget<'_>,
) -> Result<Response<Body>, GatewayError> {
    let requested = chat.model.clone();
    let outcome = state.gateway.chat_stream(ctx, chat).await?;
    let events = reported(state, ctx, outcome.stream, target.route);
    let (body, content_type) = dialect.encode_stream_for(events, &requested, target);
    let mut resp = event_stream(body, content_type);
    let headers = resp.headers_mut();
    gateway_headers(headers, &outcome.served_by, &outcome.limits);
    cache_header(headers, outcome.cache);
    Ok(resp)
}

/// `x-gateway-cost-usd` on a priced answer that is not streamed (a stream's cost is known only
/// at its end: it comes in the chunk that carries the usage, `gateway_core::cost_text`).
fn cost_header(headers: &mut HeaderMap, cost: Option<f64>) {
    if let Some(value) = cost.and_then(names::cost_usd) {
        headers.insert(names::X_GATEWAY_COST_USD, value);
    }
}

/// `x-gateway-cache: hit|miss|bypass` when the cache applies to the request.
fn cache_header(headers: &mut HeaderMap, status: Option<CacheStatus>) {
    if let Some(status) = status {
        headers.insert(
            gateway_cache::CACHE_STATUS_HEADER,
            gateway_cache::cache_header_value(status),
        );
    }
}

/// `x-gateway-*` routing headers and OpenAI-named `x-ratelimit-*` headers.
fn gateway_headers(headers: &mut HeaderMap, served_by: &ServedBy, limits: &LimitSnapshot) {
    // Up to fourteen headers follow, the cost and cache status after these: a no-op for maps
    // made by `body::response`.
    headers.reserve(14);
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
    if !served_by.dropped_params.is_empty()
        && let Ok(v) = HeaderValue::from_str(&served_by.dropped_params.join(", "))
    {
        headers.insert(names::X_GATEWAY_DROPPED_PARAMS, v);
    }
    if let Some(reason) = served_by
        .route_reason
        .as_deref()
        .and_then(|r| HeaderValue::from_str(r).ok())
    {
        headers.insert(names::X_GATEWAY_ROUTE_REASON, reason);
    }
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
