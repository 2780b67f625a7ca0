//! Token counts the SDKs ask for before a call — Anthropic's `POST /v1/messages/count_tokens`,
//! Gemini's `models/{model}:countTokens` — answered by the gateway (no upstream call) for a
//! model the caller may use. Each API is a [`TokenCountApi`]: how its request decodes and its
//! answer encodes; authentication, the body limits and the model check are here, once.

use std::borrow::Cow;

use http::{HeaderMap, Request, Response};
use hyper::body::Incoming;
use serde_json::Value;

use gateway_core::{ChatRequest, GatewayError};

use super::body::{Body, full, json_bytes, read_limited, response};
use super::inbound::Inbound;
use super::routes::PathParams;
use crate::dialects::{CallTarget, anthropic};
use crate::state::AppState;

/// One API's token count.
pub trait TokenCountApi: Sync {
    /// The caller's credential; by default what every route reads from the headers.
    fn credential<'a>(
        &self,
        headers: &'a HeaderMap,
        query: Option<&'a str>,
    ) -> Option<Cow<'a, str>> {
        let _ = query;
        gateway_auth::extract_token(headers).map(Cow::Borrowed)
    }

    /// The request as the conversation whose tokens are counted (400 when malformed).
    fn decode(&self, call: &CallTarget<'_>, body: &[u8]) -> Result<ChatRequest, GatewayError>;

    /// The answer for `tokens` input tokens.
    fn encode(&self, tokens: u64) -> Value;
}

/// `POST /v1/messages/count_tokens`.
pub struct AnthropicCountTokens;

impl TokenCountApi for AnthropicCountTokens {
    fn decode(&self, _call: &CallTarget<'_>, body: &[u8]) -> Result<ChatRequest, GatewayError> {
        anthropic::decode_count_tokens_request(body)
    }

    fn encode(&self, tokens: u64) -> Value {
        anthropic::encode_count_tokens(tokens)
    }
}

pub async fn count_tokens(
    state: &AppState,
    req: Request<Incoming>,
    params: &PathParams,
    inbound: &mut Inbound,
    api: &dyn TokenCountApi,
) -> Result<Response<Body>, GatewayError> {
    let credential = api.credential(req.headers(), req.uri().query());
    let principal = inbound
        .authenticate_token(state, credential.as_deref())
        .await?;
    let (head, body) = req.into_parts();
    let bytes = read_limited(body, state.max_body_bytes, state.body_timeout).await?;
    let target = CallTarget {
        params,
        query: head.uri.query(),
        route: inbound.route,
    };
    let chat = api.decode(&target, &bytes)?;
    if !state.gateway.router().knows(&chat.model) || !principal.may_use_model(&chat.model) {
        return Err(GatewayError::ModelNotFound(chat.model));
    }
    let json = api.encode(anthropic::count_tokens(&chat));
    Ok(response(full(json_bytes(&json)?), "application/json"))
}
