//! The Gemini dialect (Google's Generative Language API, `v1beta` and `v1`), so that the
//! google-genai SDKs and tools built on them work through the gateway against any provider:
//!
//! - [`GeminiMethod`]: `models/{model}:generateContent`, `:streamGenerateContent` (as
//!   server-sent events with `alt=sse`, or as one JSON array without it), `:embedContent`
//!   and `:batchEmbedContents`;
//! - [`GeminiCountTokens`] (`:countTokens`, answered by the gateway like Anthropic's
//!   `count_tokens`);
//! - the model list and model ([`models`]: `GET /v1beta/models`, `GET /v1beta/models/{model}`).
//!
//! The model is the path's (a resource name: `models/ollama/llama3:8b:generateContent` names
//! `ollama/llama3:8b`, see [`crate::http::routes`]); the caller's key comes in `x-goog-api-key` (read by every route),
//! or in the `key` query parameter, which only these routes read ([`credential`]) and which is
//! authenticated like any key and never logged. Errors take Google's shape ([`encode_error`]).

pub(crate) mod embed;
mod error;
pub mod models;
pub(crate) mod request;
mod response;
mod schema;
mod stream;
mod wire;

use std::borrow::Cow;

use http::{HeaderMap, Response};
use http_body_util::BodyExt;
use serde_json::Value;

use gateway_core::{ChatOutcome, ChatRequest, EmbeddingsOutcome, Endpoint, GatewayError};
use gateway_core::{GatewayStream, RequestContext};

use super::{Call, CallTarget, Dialect};
use crate::http::body::{Body, full, json_bytes, response};
use crate::http::count_tokens::TokenCountApi;
use crate::http::error::ErrorShape;
use crate::state::AppState;

pub use error::{encode_error, status_name};
#[cfg(test)]
pub(crate) use response::{encode_count_tokens, encode_embeddings, encode_response};
pub use stream::{Framing, GeminiStreamEncoder};
/// The request bodies, for the OpenAPI document.
pub use wire::{
    BatchEmbedContentsRequest, CountTokensRequest, EmbedContentRequest, GenerateContentRequest,
};

/// One of Google's model methods (`POST /v1beta/models/{model}:METHOD`), as a dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeminiMethod {
    GenerateContent,
    /// Streamed as `alt` asks ([`Framing`]).
    StreamGenerateContent,
    EmbedContent,
    BatchEmbedContents,
}

/// `POST /v1beta/models/{model}:countTokens`.
pub struct GeminiCountTokens;

/// The raw value of query parameter `name`.
fn query_param<'a>(query: Option<&'a str>, name: &str) -> Option<&'a str> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .find_map(|(k, v)| (k == name).then_some(v))
}

/// The caller's key: the headers every route reads (`x-goog-api-key` among them), else the
/// `key` query parameter Google's API also takes.
pub fn credential<'a>(headers: &'a HeaderMap, query: Option<&'a str>) -> Option<Cow<'a, str>> {
    if let Some(token) = gateway_auth::extract_token(headers) {
        return Some(Cow::Borrowed(token));
    }
    let raw = query_param(query, "key")?;
    let key = percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .ok()?;
    (!key.trim().is_empty()).then_some(key)
}

/// The model of the path (`{model}`).
fn model<'a>(call: &CallTarget<'a>) -> Result<&'a str, GatewayError> {
    match call.params.get(0) {
        Some("") => Err(no_model()),
        Some(model) => Ok(model),
        None => Err(GatewayError::Internal(
            "the Gemini route names no model".into(),
        )),
    }
}

/// The answer to a path with an empty model name (`models/:generateContent`).
fn no_model() -> GatewayError {
    GatewayError::invalid(
        "the path names no model: use models/{model}:method, e.g. models/gpt-4o-mini:generateContent",
    )
}

fn json_response(value: &Value) -> Result<Response<Body>, GatewayError> {
    Ok(response(full(json_bytes(value)?), "application/json"))
}

/// The framing a `streamGenerateContent` call asked for with `alt`.
fn framing(call: &CallTarget<'_>) -> Result<Framing, GatewayError> {
    match query_param(call.query, "alt") {
        Some("sse") => Ok(Framing::Sse),
        None | Some("json") => Ok(Framing::JsonArray),
        Some(other) => Err(GatewayError::invalid(format!(
            "alt={other} is not supported; use alt=sse (server-sent events) or alt=json"
        ))),
    }
}

impl Dialect for GeminiMethod {
    fn endpoint(&self) -> Endpoint {
        match self {
            GeminiMethod::GenerateContent | GeminiMethod::StreamGenerateContent => {
                Endpoint::GenerateContent
            }
            GeminiMethod::EmbedContent | GeminiMethod::BatchEmbedContents => Endpoint::EmbedContent,
        }
    }

    fn error_shape(&self) -> ErrorShape {
        ErrorShape::Gemini
    }

    fn credential<'a>(
        &self,
        headers: &'a HeaderMap,
        query: Option<&'a str>,
    ) -> Option<Cow<'a, str>> {
        credential(headers, query)
    }

    fn decode(
        &self,
        _state: &AppState,
        call: &CallTarget<'_>,
        body: &[u8],
    ) -> Result<Call, GatewayError> {
        let model = model(call)?;
        match self {
            GeminiMethod::GenerateContent => request::decode(model, body, false).map(Call::Chat),
            GeminiMethod::StreamGenerateContent => {
                framing(call)?;
                request::decode(model, body, true).map(Call::Chat)
            }
            GeminiMethod::EmbedContent => embed::decode_one(model, body).map(Call::Embeddings),
            GeminiMethod::BatchEmbedContents => {
                embed::decode_batch(model, body).map(Call::Embeddings)
            }
        }
    }

    fn encode_chat(
        &self,
        outcome: &ChatOutcome,
        requested: &str,
        _ctx: &RequestContext,
    ) -> Result<Response<Body>, GatewayError> {
        json_response(&response::encode_response(&outcome.response, requested))
    }

    fn encode_stream(&self, stream: GatewayStream, requested: &str) -> Body {
        stream::GeminiStreamBody::new(stream, requested, Framing::Sse).boxed_unsync()
    }

    fn encode_stream_for(
        &self,
        stream: GatewayStream,
        requested: &str,
        call: &CallTarget<'_>,
    ) -> (Body, &'static str) {
        let framing = framing(call).unwrap_or(Framing::Sse);
        let body = stream::GeminiStreamBody::new(stream, requested, framing).boxed_unsync();
        (body, framing.content_type())
    }

    fn encode_embeddings(
        &self,
        outcome: &EmbeddingsOutcome,
    ) -> Result<Response<Body>, GatewayError> {
        let batch = *self == GeminiMethod::BatchEmbedContents;
        json_response(&response::encode_embeddings(&outcome.response, batch)?)
    }
}

impl TokenCountApi for GeminiCountTokens {
    fn credential<'a>(
        &self,
        headers: &'a HeaderMap,
        query: Option<&'a str>,
    ) -> Option<Cow<'a, str>> {
        credential(headers, query)
    }

    fn decode(&self, call: &CallTarget<'_>, body: &[u8]) -> Result<ChatRequest, GatewayError> {
        decode_count_tokens(model(call)?, body)
    }

    fn encode(&self, tokens: u64) -> Value {
        response::encode_count_tokens(tokens)
    }
}

/// Decodes a `countTokens` body for `model`: its `contents`, or its `generateContentRequest`.
pub(crate) fn decode_count_tokens(model: &str, body: &[u8]) -> Result<ChatRequest, GatewayError> {
    let req: wire::CountTokensRequest = request::parse(body)?;
    let inner = match req.generate_content_request {
        Some(inner) if req.contents.is_empty() => inner,
        Some(_) => {
            return Err(GatewayError::invalid(
                "countTokens takes either contents or generateContentRequest, not both",
            ));
        }
        None => wire::GenerateContentRequest::of_contents(req.contents),
    };
    request::to_chat(model, inner, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn the_key_comes_from_a_header_before_the_query() {
        let mut headers = HeaderMap::new();
        assert_eq!(
            credential(&headers, Some("alt=sse&key=sk-gw%2Dabc")).as_deref(),
            Some("sk-gw-abc")
        );
        assert_eq!(credential(&headers, Some("alt=sse")), None);
        assert_eq!(credential(&headers, Some("key=")), None);
        assert_eq!(credential(&headers, None), None);
        headers.insert("x-goog-api-key", HeaderValue::from_static("sk-gw-header"));
        assert_eq!(
            credential(&headers, Some("key=sk-gw-query")).as_deref(),
            Some("sk-gw-header")
        );
    }

    #[test]
    fn alt_chooses_the_framing() {
        let params = crate::http::routes::PathParams::default();
        let target = |query| CallTarget {
            params: &params,
            query,
            route: "test",
        };
        assert_eq!(framing(&target(Some("alt=sse"))).unwrap(), Framing::Sse);
        assert_eq!(framing(&target(None)).unwrap(), Framing::JsonArray);
        assert_eq!(
            framing(&target(Some("key=k&alt=json"))).unwrap(),
            Framing::JsonArray
        );
        assert!(framing(&target(Some("alt=proto"))).is_err());
    }
}
