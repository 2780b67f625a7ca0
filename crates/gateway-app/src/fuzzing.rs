//! Entry points over the edge's decoders that are not public otherwise, for the fuzz targets
//! in `fuzz/` (`cargo xtask fuzz`). Not a stable API (hidden from the docs).

use gateway_core::GatewayError;

/// A `POST /query` body, parsed and checked as the handler does.
pub fn decode_query(body: &[u8]) -> Result<(), GatewayError> {
    crate::dialects::query::decode(body).map(|_| ())
}

/// Where the edge routes `method path`: the route's pattern and its first path parameter
/// (for the Gemini routes, the model: what precedes the path's last colon, decoded).
pub fn route(method: &http::Method, path: &str) -> Option<(&'static str, String)> {
    match crate::http::routes::lookup(method, path).found {
        crate::http::routes::Found::Route(route, params) => {
            Some((route.path, params.get(0).unwrap_or("").to_owned()))
        }
        _ => None,
    }
}

/// The Gemini methods a model path may name.
pub const GEMINI_METHODS: [&str; 5] = [
    "generateContent",
    "streamGenerateContent",
    "countTokens",
    "embedContent",
    "batchEmbedContents",
];

/// A Gemini body for `model` through the decoder of `method` (one of [`GEMINI_METHODS`]), as
/// the edge decodes it: the canonical chat (generate, stream, count) or embeddings request.
pub fn decode_gemini(method: &str, model: &str, body: &[u8]) -> Result<GeminiCall, GatewayError> {
    use crate::dialects::gemini;
    match method {
        "generateContent" => gemini::request::decode(model, body, false).map(GeminiCall::chat),
        "streamGenerateContent" => gemini::request::decode(model, body, true).map(GeminiCall::chat),
        "countTokens" => gemini::decode_count_tokens(model, body).map(GeminiCall::chat),
        "embedContent" => gemini::embed::decode_one(model, body).map(GeminiCall::Embeddings),
        "batchEmbedContents" => {
            gemini::embed::decode_batch(model, body).map(GeminiCall::Embeddings)
        }
        other => Err(GatewayError::NotFound(format!("no Gemini method {other}"))),
    }
}

/// What a Gemini body decodes to.
#[derive(Debug)]
pub enum GeminiCall {
    Chat(Box<gateway_core::ChatRequest>),
    Embeddings(gateway_core::types::EmbeddingsRequest),
}

impl GeminiCall {
    fn chat(req: gateway_core::ChatRequest) -> Self {
        GeminiCall::Chat(Box::new(req))
    }
}

/// A decoded `POST /v1/responses` body, without a previous response to join.
#[derive(Debug)]
pub struct ResponsesTurn {
    /// The chat to run (its messages: the instructions, then the input).
    pub chat: gateway_core::ChatRequest,
    /// The input alone, as messages (what a stored response keeps of it).
    pub input: Vec<gateway_core::Message>,
    /// The input as `GET /v1/responses/{id}/input_items` lists it.
    pub input_items: Vec<serde_json::Value>,
}

/// A `POST /v1/responses` body, decoded as the edge decodes it.
pub fn decode_responses(body: &[u8]) -> Result<ResponsesTurn, GatewayError> {
    let turn = crate::dialects::responses::decode_request(body)?;
    let (chat, instructions, input, input_items) = turn.parts();
    let mut chat = chat.clone();
    let mut messages = Vec::with_capacity(input.len() + 1);
    if let Some(instructions) = instructions.filter(|i| !i.is_empty()) {
        messages.push(gateway_core::Message::text(
            gateway_core::types::Role::System,
            instructions,
        ));
    }
    messages.extend(input.iter().cloned());
    chat.messages = messages;
    Ok(ResponsesTurn {
        chat,
        input: input.to_vec(),
        input_items: input_items.to_vec(),
    })
}
