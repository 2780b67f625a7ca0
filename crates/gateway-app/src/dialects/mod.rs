//! Inbound API dialects: each translates between its wire format and the canonical types, and
//! is served by the one model-call handler of the edge (`http::model_call`). A new ingress is a
//! new [`Dialect`], not a new handler: authentication, body limits, the pipeline, gateway
//! headers and error rendering come with it.
//!
//! - [`openai::OpenAiChat`] (`/v1/chat/completions`) and [`openai::OpenAiEmbeddings`]
//!   (`/v1/embeddings`);
//! - [`anthropic::AnthropicMessages`] (`/v1/messages`, with its stream events and errors);
//! - [`gemini`]: Google's `models/{model}:generateContent`, `:streamGenerateContent`,
//!   `:embedContent` and `:batchEmbedContents` (with `countTokens` beside them);
//! - [`query::QueryApi`] (`/query`, the simple API);
//! - [`responses::ResponsesApi`] (`/v1/responses`, the OpenAI Responses API, whose answers
//!   are stored for `previous_response_id`).

pub mod anthropic;
pub mod gemini;
pub mod openai;
pub mod query;
pub mod responses;

use std::borrow::Cow;

use http::{HeaderMap, Response};

use gateway_core::types::EmbeddingsRequest;
use gateway_core::{ChatOutcome, ChatRequest, Endpoint, GatewayError, GatewayStream};
use gateway_core::{EmbeddingsOutcome, RequestContext};

use crate::http::body::Body;
use crate::http::error::ErrorShape;
use crate::http::routes::PathParams;
use crate::state::AppState;

/// A decoded model call, in canonical form.
// Not boxed: a call is decoded once and moved once into the pipeline; a box would be one
// more allocation per call on the hot path.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Call {
    /// A chat completion, streamed when `stream` is set.
    Chat(ChatRequest),
    Embeddings(EmbeddingsRequest),
    /// A Responses API turn: a chat once its stored conversation is joined, whose answer is
    /// stored (boxed: it is much larger than the others and rarer).
    Response(Box<responses::Turn>),
}

/// What the request line says of a call besides its body: the route's path parameters (a
/// model named in the path) and the query string.
#[derive(Debug, Clone, Copy)]
pub struct CallTarget<'a> {
    pub params: &'a PathParams,
    pub query: Option<&'a str>,
    /// The route the call came in on (`/v1/chat/completions`), or `batch` for a batch line:
    /// what refusals reported as events name.
    pub route: &'static str,
}

/// One inbound API: how its requests decode and its answers, streams and errors encode.
pub trait Dialect: Sync {
    /// The inbound API, for metrics, usage records and audit.
    fn endpoint(&self) -> Endpoint;

    /// The shape of its error bodies.
    fn error_shape(&self) -> ErrorShape;

    /// The caller's credential: by default what every route reads from the headers
    /// ([`gateway_auth::extract_token`]). It is authenticated like any key, through the
    /// pipeline.
    fn credential<'a>(
        &self,
        headers: &'a HeaderMap,
        query: Option<&'a str>,
    ) -> Option<Cow<'a, str>> {
        let _ = query;
        gateway_auth::extract_token(headers).map(Cow::Borrowed)
    }

    /// The request as a canonical call (400 with the decoder's message when malformed).
    fn decode(
        &self,
        state: &AppState,
        call: &CallTarget<'_>,
        body: &[u8],
    ) -> Result<Call, GatewayError>;

    /// A whole chat answer. `requested` is the model name the caller sent.
    fn encode_chat(
        &self,
        outcome: &ChatOutcome,
        requested: &str,
        ctx: &RequestContext,
    ) -> Result<Response<Body>, GatewayError>;

    /// The body of a streamed chat answer (`text/event-stream`).
    fn encode_stream(&self, stream: GatewayStream, requested: &str) -> Body;

    /// The body of a streamed chat answer and its content type, for a dialect whose stream
    /// framing depends on the request line; by default [`Dialect::encode_stream`] as
    /// `text/event-stream`.
    fn encode_stream_for(
        &self,
        stream: GatewayStream,
        requested: &str,
        call: &CallTarget<'_>,
    ) -> (Body, &'static str) {
        let _ = call;
        (self.encode_stream(stream, requested), "text/event-stream")
    }

    /// A whole embeddings answer; only dialects that decode embeddings are asked.
    fn encode_embeddings(
        &self,
        outcome: &EmbeddingsOutcome,
    ) -> Result<Response<Body>, GatewayError> {
        let _ = outcome;
        Err(GatewayError::Internal(format!(
            "the {} API has no embeddings answer",
            self.endpoint().as_str()
        )))
    }
}
