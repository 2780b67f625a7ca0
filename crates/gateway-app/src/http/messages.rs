//! `POST /v1/messages` and `/v1/messages/count_tokens`: the Anthropic dialect over the same
//! pipeline, so Anthropic SDKs and agents reach any provider.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http::{HeaderValue, Request, Response};
use http_body::{Body as HttpBody, Frame};
use http_body_util::BodyExt;
use hyper::body::Incoming;

use gateway_core::{Endpoint, GatewayError, GatewayStream, StreamEvent};

use super::body::{Body, full, json_bytes, read_limited, response, within_request_timeout};
use super::chat::{cache_header, call_context, gateway_headers};
use super::extract_token;
use crate::dialects::anthropic::{self, AnthropicStreamEncoder, SseEvent, sse_frame};
use crate::state::AppState;

pub async fn messages(
    state: &AppState,
    req: Request<Incoming>,
    request_id: &str,
) -> Result<Response<Body>, GatewayError> {
    let principal = state
        .gateway
        .authenticate(extract_token(req.headers()))
        .await?;
    let cache = gateway_cache::directives_from_headers(req.headers());
    let client_ip = crate::server::client_ip(&req);
    let bytes = read_limited(req.into_body(), state.max_body_bytes, state.body_timeout).await?;
    let chat = anthropic::decode_request(&bytes)?;
    let public_model = chat.model.clone();
    let mut ctx = call_context(state, request_id, principal, Endpoint::Messages);
    ctx.cache = cache;
    ctx.client_ip = client_ip;
    if chat.stream {
        let outcome = state.gateway.chat_stream(&ctx, chat).await?;
        let body = AnthropicSseBody {
            stream: outcome.stream,
            encoder: AnthropicStreamEncoder::new(&public_model),
            done: false,
        };
        let mut resp = response(body.boxed_unsync(), "text/event-stream");
        let headers = resp.headers_mut();
        headers.insert(
            http::header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        );
        gateway_headers(headers, &outcome.served_by, &outcome.limits);
        cache_header(headers, outcome.cache);
        return Ok(resp);
    }
    let outcome = within_request_timeout(state, state.gateway.chat(&ctx, chat)).await?;
    let json = anthropic::encode_response(&outcome.response, &public_model);
    let mut resp = response(full(json_bytes(&json)?), "application/json");
    let headers = resp.headers_mut();
    gateway_headers(headers, &outcome.served_by, &outcome.limits);
    cache_header(headers, outcome.cache);
    Ok(resp)
}

pub async fn count_tokens(
    state: &AppState,
    req: Request<Incoming>,
) -> Result<Response<Body>, GatewayError> {
    let principal = state
        .gateway
        .authenticate(extract_token(req.headers()))
        .await?;
    let bytes = read_limited(req.into_body(), state.max_body_bytes, state.body_timeout).await?;
    let chat = anthropic::decode_count_tokens_request(&bytes)?;
    if !state.gateway.router().knows(&chat.model) || !principal.may_use_model(&chat.model) {
        return Err(GatewayError::ModelNotFound(chat.model));
    }
    let json = anthropic::encode_count_tokens(anthropic::count_tokens(&chat));
    Ok(response(full(json_bytes(&json)?), "application/json"))
}

/// The pipeline's stream re-encoded as Anthropic events, each written as it is produced.
struct AnthropicSseBody {
    stream: GatewayStream,
    encoder: AnthropicStreamEncoder,
    done: bool,
}

fn frames(events: &[SseEvent]) -> Bytes {
    let mut out = BytesMut::new();
    for (name, data) in events {
        out.extend_from_slice(&sse_frame(name, data));
    }
    out.freeze()
}

impl HttpBody for AnthropicSseBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        loop {
            if self.done {
                return Poll::Ready(None);
            }
            let events = match self.stream.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(StreamEvent::Chunk(chunk)))) => self.encoder.push(&chunk),
                Poll::Ready(Some(Ok(StreamEvent::KeepAlive))) => {
                    vec![AnthropicStreamEncoder::ping()]
                }
                Poll::Ready(Some(Err(err))) => {
                    self.done = true;
                    tracing::warn!(status = err.status(), error = %err, "stream ended with an error");
                    vec![AnthropicStreamEncoder::error(&err)]
                }
                Poll::Ready(None) => {
                    self.done = true;
                    self.encoder.finish()
                }
            };
            if !events.is_empty() {
                return Poll::Ready(Some(Ok(Frame::data(frames(&events)))));
            }
        }
    }
}
