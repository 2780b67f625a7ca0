//! [`AnthropicMessages`]: the Anthropic Messages API (`POST /v1/messages`) as a [`Dialect`]
//! of the one model-call handler, with its stream re-encoded as Anthropic events.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http::Response;
use http_body::{Body as HttpBody, Frame};
use http_body_util::BodyExt;

use gateway_core::StreamEvent;
use gateway_core::{ChatOutcome, Endpoint, GatewayError, GatewayStream, RequestContext};

use super::{AnthropicStreamEncoder, SseEvent, decode_request, encode_response, sse_frame};
use crate::dialects::{Call, CallTarget, Dialect};
use crate::http::body::{Body, full, json_bytes, response};
use crate::http::error::ErrorShape;
use crate::state::AppState;

/// `POST /v1/messages`.
pub struct AnthropicMessages;

impl Dialect for AnthropicMessages {
    fn endpoint(&self) -> Endpoint {
        Endpoint::Messages
    }

    fn error_shape(&self) -> ErrorShape {
        ErrorShape::Anthropic
    }

    fn decode(
        &self,
        _state: &AppState,
        _call: &CallTarget<'_>,
        body: &[u8],
    ) -> Result<Call, GatewayError> {
        match decode_request(body) {
            Ok(chat) => Ok(Call::Chat(chat)),
            // A call naming a template may leave `messages` out.
            Err(e) => match crate::templates::with_empty_messages(body) {
                Some(body) => decode_request(&body).map(Call::Chat),
                None => Err(e),
            },
        }
    }

    /// A `message` object naming the model the caller asked for.
    fn encode_chat(
        &self,
        outcome: &ChatOutcome,
        requested: &str,
        _ctx: &RequestContext,
    ) -> Result<Response<Body>, GatewayError> {
        let json = encode_response(&outcome.response, requested);
        Ok(response(full(json_bytes(&json)?), "application/json"))
    }

    fn encode_stream(&self, stream: GatewayStream, requested: &str) -> Body {
        AnthropicSseBody {
            stream,
            encoder: AnthropicStreamEncoder::new(requested),
            done: false,
        }
        .boxed_unsync()
    }
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
