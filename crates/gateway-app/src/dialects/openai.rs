//! The OpenAI dialects: chat completions (JSON and server-sent events) and embeddings. The
//! canonical types are OpenAI-shaped, so decoding is deserialisation and encoding is
//! serialisation.

use http::Response;
use http_body_util::BodyExt;

use gateway_core::types::EmbeddingsRequest;
use gateway_core::{ChatOutcome, ChatRequest, EmbeddingsOutcome, Endpoint, GatewayError};
use gateway_core::{GatewayStream, RequestContext};

use super::{Call, CallTarget, Dialect};
use crate::http::body::{Body, full, json_bytes, parse_json, response};
use crate::http::error::ErrorShape;
use crate::http::sse::SseBody;
use crate::state::AppState;

/// `POST /v1/chat/completions`.
pub struct OpenAiChat;

/// `POST /v1/embeddings`.
pub struct OpenAiEmbeddings;

impl Dialect for OpenAiChat {
    fn endpoint(&self) -> Endpoint {
        Endpoint::ChatCompletions
    }

    fn error_shape(&self) -> ErrorShape {
        ErrorShape::OpenAi
    }

    fn decode(
        &self,
        _state: &AppState,
        _call: &CallTarget<'_>,
        body: &[u8],
    ) -> Result<Call, GatewayError> {
        match parse_json::<ChatRequest>(body) {
            Ok(chat) => Ok(Call::Chat(chat)),
            // A call naming a template may leave `messages` out.
            Err(e) => match crate::templates::with_empty_messages(body) {
                Some(body) => parse_json::<ChatRequest>(&body).map(Call::Chat),
                None => Err(e),
            },
        }
    }

    fn encode_chat(
        &self,
        outcome: &ChatOutcome,
        _requested: &str,
        _ctx: &RequestContext,
    ) -> Result<Response<Body>, GatewayError> {
        Ok(response(
            full(json_bytes(&outcome.response)?),
            "application/json",
        ))
    }

    fn encode_stream(&self, stream: GatewayStream, _requested: &str) -> Body {
        SseBody::new(stream).boxed_unsync()
    }
}

impl Dialect for OpenAiEmbeddings {
    fn endpoint(&self) -> Endpoint {
        Endpoint::Embeddings
    }

    fn error_shape(&self) -> ErrorShape {
        ErrorShape::OpenAi
    }

    fn decode(
        &self,
        _state: &AppState,
        _call: &CallTarget<'_>,
        body: &[u8],
    ) -> Result<Call, GatewayError> {
        parse_json::<EmbeddingsRequest>(body).map(Call::Embeddings)
    }

    /// Never asked: this dialect decodes embeddings only.
    fn encode_chat(
        &self,
        outcome: &ChatOutcome,
        requested: &str,
        ctx: &RequestContext,
    ) -> Result<Response<Body>, GatewayError> {
        OpenAiChat.encode_chat(outcome, requested, ctx)
    }

    /// Never asked: this dialect decodes embeddings only.
    fn encode_stream(&self, stream: GatewayStream, requested: &str) -> Body {
        OpenAiChat.encode_stream(stream, requested)
    }

    fn encode_embeddings(
        &self,
        outcome: &EmbeddingsOutcome,
    ) -> Result<Response<Body>, GatewayError> {
        Ok(response(
            full(json_bytes(&outcome.response)?),
            "application/json",
        ))
    }
}
