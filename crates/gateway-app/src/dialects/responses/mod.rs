//! The OpenAI Responses API (`POST /v1/responses`), so that the OpenAI SDKs' `responses`
//! client and the agent frameworks built on it (the OpenAI Agents SDK uses it by default) work
//! through the gateway against any provider kind.
//!
//! A call decodes into a [`Turn`] (`request.rs`, `input.rs`): instructions, input items,
//! function tools, `text.format`, reasoning effort and sampling settings become a canonical
//! chat. The one model-call handler joins the stored conversation of `previous_response_id`
//! (`turn.rs`), runs the pipeline like any chat, and answers with a response object
//! (`output.rs`, `response.rs`) or its typed event stream (`stream.rs`, `body.rs`), storing the
//! response first unless `store` is false. Retrieving, deleting and listing the input items of
//! stored responses are plain handlers of the edge (`http::stored_responses`).
//!
//! Stored responses belong to the caller's tenant: another tenant's id is a 404, whatever the
//! route.

mod body;
pub mod ids;
mod input;
pub mod output;
mod request;
pub mod response;
pub mod stream;
mod turn;

use http::Response;

use gateway_core::{ChatOutcome, Endpoint, GatewayError, GatewayStream, RequestContext};

use super::{Call, CallTarget, Dialect};
use crate::http::body::{Body, full};
use crate::http::error::ErrorShape;
use crate::state::AppState;

pub use body::ResponsesSseBody;
pub(crate) use request::CreateResponse;
pub use request::decode_request;
pub use stream::ResponsesStreamEncoder;
pub use turn::{Pending, Turn};

/// `POST /v1/responses`.
pub struct ResponsesApi;

impl Dialect for ResponsesApi {
    fn endpoint(&self) -> Endpoint {
        Endpoint::Responses
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
        decode_request(body).map(|turn| Call::Response(Box::new(turn)))
    }

    /// Never asked: a response call is answered through its [`Pending`].
    fn encode_chat(
        &self,
        _outcome: &ChatOutcome,
        _requested: &str,
        _ctx: &RequestContext,
    ) -> Result<Response<Body>, GatewayError> {
        Err(GatewayError::Internal(
            "a Responses API call is answered through its pending response".to_owned(),
        ))
    }

    /// Never asked: a response call is streamed through its [`Pending`].
    fn encode_stream(&self, _stream: GatewayStream, _requested: &str) -> Body {
        full(&b"event: error\ndata: {\"type\":\"error\",\"message\":\"internal error\"}\n\n"[..])
    }
}
