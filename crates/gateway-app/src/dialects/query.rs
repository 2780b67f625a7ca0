//! `POST /query`: the simple API of the original project, over the same pipeline.
//! `{prompt, max_tokens?, temperature?}` -> `{response, provider, model, latency_ms,
//! cascade_path, usage, cost_estimate_usd}`. It does not stream.

use http::Response;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use gateway_core::{ChatOutcome, ChatRequest, Endpoint, GatewayError, GatewayStream};
use gateway_core::{Message, RequestContext, Role, Usage};

use super::openai::OpenAiChat;
use super::{Call, CallTarget, Dialect};
use crate::http::body::{Body, parse_json};
use crate::http::error::ErrorShape;
use crate::http::info::json_response;
use crate::state::AppState;

/// `POST /query`.
pub struct QueryApi;

/// The body of `POST /query`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Query {
    /// The question, sent to the model `[query] model` names as one user message.
    #[schemars(length(min = 1, max = 4000))]
    prompt: String,
    #[serde(default = "default_max_tokens")]
    #[schemars(range(min = 1, max = 2048))]
    max_tokens: u32,
    #[serde(default = "default_temperature")]
    #[schemars(range(min = 0.0, max = 2.0))]
    temperature: f64,
}

/// The answer of `POST /query`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct QueryResponse<'a> {
    /// The model's text.
    pub response: String,
    /// The provider that answered.
    pub provider: &'a str,
    /// The upstream model that answered.
    pub model: &'a str,
    pub latency_ms: f64,
    /// The deployments tried, in order, the last one answering.
    pub cascade_path: Vec<&'a str>,
    pub usage: Option<&'a Usage>,
    /// The price of the call in USD, when the model's price is known.
    pub cost_estimate_usd: Option<f64>,
}

fn default_max_tokens() -> u32 {
    256
}
fn default_temperature() -> f64 {
    0.7
}

impl Query {
    fn validate(&self) -> Result<(), GatewayError> {
        let chars = self.prompt.chars().count();
        if !(1..=4000).contains(&chars) {
            return Err(GatewayError::invalid_param(
                "prompt",
                format!("'prompt' must be 1 to 4000 characters, got {chars}"),
            ));
        }
        if !(1..=2048).contains(&self.max_tokens) {
            return Err(GatewayError::invalid_param(
                "max_tokens",
                "'max_tokens' must be between 1 and 2048",
            ));
        }
        if !(0.0..=2.0).contains(&self.temperature) {
            return Err(GatewayError::invalid_param(
                "temperature",
                "'temperature' must be between 0 and 2",
            ));
        }
        Ok(())
    }
}

/// A `/query` body, parsed and checked.
pub(crate) fn decode(body: &[u8]) -> Result<Query, GatewayError> {
    let query: Query = parse_json(body)?;
    query.validate()?;
    Ok(query)
}

impl Dialect for QueryApi {
    fn endpoint(&self) -> Endpoint {
        Endpoint::Query
    }

    fn error_shape(&self) -> ErrorShape {
        ErrorShape::OpenAi
    }

    /// The prompt becomes one user message to the model `[query] model` names.
    fn decode(
        &self,
        state: &AppState,
        _call: &CallTarget<'_>,
        body: &[u8],
    ) -> Result<Call, GatewayError> {
        let query = decode(body)?;
        let model = state.query_model.clone().ok_or_else(|| {
            GatewayError::Unavailable(
                "No model is configured for /query (set [query] model).".to_owned(),
            )
        })?;
        Ok(Call::Chat(ChatRequest {
            model,
            messages: vec![Message::text(Role::User, query.prompt)],
            max_tokens: Some(query.max_tokens),
            temperature: Some(query.temperature),
            ..ChatRequest::default()
        }))
    }

    fn encode_chat(
        &self,
        outcome: &ChatOutcome,
        _requested: &str,
        ctx: &RequestContext,
    ) -> Result<Response<Body>, GatewayError> {
        let text = outcome
            .response
            .choices
            .first()
            .and_then(|c| c.message.content.as_ref())
            .map(|c| c.joined_text());
        let body = QueryResponse {
            response: text.unwrap_or_default(),
            provider: &outcome.served_by.provider,
            model: &outcome.served_by.upstream_model,
            latency_ms: ctx.received_at.elapsed().as_secs_f64() * 1000.0,
            cascade_path: outcome.served_by.path.iter().map(|p| &**p).collect(),
            usage: outcome.response.usage.as_ref(),
            cost_estimate_usd: outcome.cost_usd,
        };
        Ok(json_response(200, &body))
    }

    /// Never asked: a query never sets `stream`.
    fn encode_stream(&self, stream: GatewayStream, requested: &str) -> Body {
        OpenAiChat.encode_stream(stream, requested)
    }
}
