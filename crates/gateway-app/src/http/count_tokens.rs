//! `POST /v1/messages/count_tokens`: the Anthropic SDK's token count, answered by the gateway
//! (no upstream call) for a model the caller may use.

use http::{Request, Response};
use hyper::body::Incoming;

use gateway_core::GatewayError;

use super::body::{Body, full, json_bytes, read_limited, response};
use super::inbound::Inbound;
use crate::dialects::anthropic;
use crate::state::AppState;

pub async fn count_tokens(
    state: &AppState,
    req: Request<Incoming>,
    inbound: &mut Inbound,
) -> Result<Response<Body>, GatewayError> {
    let principal = inbound.authenticate(state, req.headers()).await?;
    let bytes = read_limited(req.into_body(), state.max_body_bytes, state.body_timeout).await?;
    let chat = anthropic::decode_count_tokens_request(&bytes)?;
    if !state.gateway.router().knows(&chat.model) || !principal.may_use_model(&chat.model) {
        return Err(GatewayError::ModelNotFound(chat.model));
    }
    let json = anthropic::encode_count_tokens(anthropic::count_tokens(&chat));
    Ok(response(full(json_bytes(&json)?), "application/json"))
}
