//! Mock of the Gemini API (`v1beta`): `models/{model}:generateContent`,
//! `:streamGenerateContent?alt=sse`, `:embedContent`, `:batchEmbedContents` and `GET models`.
//! The key must come in `x-goog-api-key` (a missing key is Google's 403; the key `invalid` is
//! its 400 `API_KEY_INVALID`). Unlike Google, the mock refuses a `key=` query parameter, so a
//! key leaking into a URL fails loudly. Unknown top-level fields (e.g. `temperature` outside
//! `generationConfig`) are rejected as Google does. Errors use Google's
//! `{"error":{"code","message","status"}}` shape.

use bytes::Bytes;
use http::{Response, StatusCode};
use serde_json::{Value, json};

use super::{
    Behaviour, VendorRequest, VendorState, behaviour, content_text, echo, sse, sse_event, words,
};
use crate::body::MockBody;

pub const EMBEDDING_DIMENSIONS: usize = 8;
const TOP_LEVEL: [&str; 7] = [
    "contents",
    "tools",
    "toolConfig",
    "safetySettings",
    "systemInstruction",
    "generationConfig",
    "cachedContent",
];

fn error(code: u16, status: &str, message: &str) -> Response<MockBody> {
    let body = json!({"error": {"code": code, "message": message, "status": status}});
    super::json(
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        &body,
    )
}

fn key_invalid() -> Response<MockBody> {
    let body = json!({"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",
        "status": "INVALID_ARGUMENT", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "API_KEY_INVALID", "domain": "googleapis.com", "metadata": {"service": "generativelanguage.googleapis.com"}}]}});
    super::json(StatusCode::BAD_REQUEST, &body)
}

pub(crate) async fn handle(state: &VendorState, req: &VendorRequest) -> Response<MockBody> {
    if req.query_param("key").is_some() {
        return error(
            400,
            "INVALID_ARGUMENT",
            "mock: send the API key in the x-goog-api-key header, not in the URL",
        );
    }
    match req.header("x-goog-api-key") {
        None | Some("") => {
            return error(
                403,
                "PERMISSION_DENIED",
                "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
            );
        }
        Some("invalid") => return key_invalid(),
        Some(_) => {}
    }
    if req.method == "GET" && req.path == "/v1beta/models" {
        return super::json(
            StatusCode::OK,
            &json!({"models": [{"name": "models/gemini-2.5-flash", "displayName": "Gemini 2.5 Flash"},
                {"name": "models/text-embedding-004", "displayName": "Text Embedding 004"}]}),
        );
    }
    let target = req
        .path
        .strip_prefix("/v1beta/models/")
        .and_then(|t| t.split_once(':'));
    let (model, method) = match target {
        Some(target) if req.method == "POST" => target,
        _ => {
            return error(
                404,
                "NOT_FOUND",
                &format!("Requested entity was not found: {}", req.path),
            );
        }
    };
    let body = req.json();
    if !body.is_object() {
        return error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
    }
    match method {
        "generateContent" => generate(state, model, &body, false).await,
        "streamGenerateContent" if req.query_param("alt") == Some("sse") => {
            generate(state, model, &body, true).await
        }
        "streamGenerateContent" => error(
            400,
            "INVALID_ARGUMENT",
            "mock: only alt=sse streaming is supported",
        ),
        "embedContent" | "batchEmbedContents" => embed(model, method, &body),
        _ => error(404, "NOT_FOUND", &format!("Method not found: {method}")),
    }
}

fn validate(body: &Value) -> Option<String> {
    if let Some(unknown) = body
        .as_object()?
        .keys()
        .find(|k| !TOP_LEVEL.contains(&k.as_str()))
    {
        return Some(format!(
            "Invalid JSON payload received. Unknown name \"{unknown}\": Cannot find field."
        ));
    }
    let contents = body["contents"].as_array().filter(|c| !c.is_empty());
    let Some(contents) = contents else {
        return Some("* GenerateContentRequest.contents: contents is not specified".into());
    };
    for c in contents {
        if !matches!(c["role"].as_str(), None | Some("user" | "model")) {
            return Some("Please use a valid role: user, model.".into());
        }
        if c["parts"].as_array().is_none_or(Vec::is_empty) {
            return Some(
                "* GenerateContentRequest.contents: contents.parts must not be empty.".into(),
            );
        }
    }
    None
}

fn prompt_tokens(body: &Value) -> u64 {
    let texts = |c: &Value| words(&content_text(&c["parts"])) + 3;
    let system = if body["systemInstruction"].is_object() {
        texts(&body["systemInstruction"])
    } else {
        0
    };
    system
        + body["contents"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(texts)
            .sum::<u64>()
}

async fn generate(
    state: &VendorState,
    model: &str,
    body: &Value,
    streaming: bool,
) -> Response<MockBody> {
    if let Some(problem) = validate(body) {
        return error(400, "INVALID_ARGUMENT", &problem);
    }
    let behaviour = behaviour(state, model).await;
    match behaviour {
        Behaviour::RateLimited => {
            return super::with_retry_after(error(
                429,
                "RESOURCE_EXHAUSTED",
                "Resource has been exhausted (e.g. check quota).",
            ));
        }
        Behaviour::ServerError => return error(500, "INTERNAL", "An internal error has occurred."),
        Behaviour::Overloaded => {
            return error(
                503,
                "UNAVAILABLE",
                "The model is overloaded. Please try again later.",
            );
        }
        Behaviour::StreamError if !streaming => {
            return error(503, "UNAVAILABLE", "The model is overloaded.");
        }
        Behaviour::BadRequest => {
            return error(
                400,
                "INVALID_ARGUMENT",
                "Invalid value at 'generation_config.temperature'",
            );
        }
        Behaviour::Unauthorized => return key_invalid(),
        Behaviour::Malformed => return super::malformed(),
        _ => {}
    }
    let prompt = prompt_tokens(body);
    let id = format!("mock-response-{}", state.next_id());
    if behaviour == Behaviour::SafetyPrompt {
        let blocked = json!({"promptFeedback": {"blockReason": "SAFETY", "safetyRatings": [
            {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": true}]},
            "usageMetadata": {"promptTokenCount": prompt, "totalTokenCount": prompt}, "modelVersion": model, "responseId": id});
        return if streaming {
            sse(vec![sse_event(None, &blocked)], false)
        } else {
            super::json(StatusCode::OK, &blocked)
        };
    }
    let contents = body["contents"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let last_user = contents
        .iter()
        .rev()
        .find(|c| c["role"] != "model")
        .map(|c| content_text(&c["parts"]));
    let last_user = last_user.unwrap_or_default();
    let tool = body["tools"][0]["functionDeclarations"][0]["name"].as_str();
    let mut parts: Vec<Value> = Vec::new();
    let thinking = behaviour == Behaviour::Thinking;
    if thinking && body["generationConfig"]["thinkingConfig"]["includeThoughts"] == true {
        parts.push(json!({"text": "Thinking about the answer.", "thought": true}));
    }
    let (text, finish) = match (tool, behaviour) {
        (_, Behaviour::SafetyCandidate) => ("I can describe the general".to_owned(), "SAFETY"),
        (Some(name), _) if last_user.contains("call tool") => {
            parts.push(
                json!({"functionCall": {"name": name, "args": {"location": "San Francisco, CA"}}}),
            );
            (String::new(), "STOP")
        }
        _ => (echo(&last_user), "STOP"),
    };
    let called = parts.iter().any(|p| p.get("functionCall").is_some());
    let output = words(&text) + if called { 4 } else { 0 };
    let mut usage = json!({"promptTokenCount": prompt, "candidatesTokenCount": output, "totalTokenCount": prompt + output});
    if thinking {
        usage["thoughtsTokenCount"] = json!(7);
        usage["totalTokenCount"] = json!(prompt + output + 7);
    }
    let ratings = json!([{"category": "HARM_CATEGORY_DANGEROUS_CONTENT",
        "probability": if finish == "SAFETY" { "HIGH" } else { "NEGLIGIBLE" }}]);
    let response = |parts: Vec<Value>, finish: Option<&str>, usage: Option<&Value>| {
        let mut candidate = json!({"content": {"parts": parts, "role": "model"}, "index": 0});
        if let Some(f) = finish {
            candidate["finishReason"] = json!(f);
            candidate["safetyRatings"] = ratings.clone();
        }
        let mut r = json!({"candidates": [candidate], "modelVersion": model, "responseId": id});
        if let Some(u) = usage {
            r["usageMetadata"] = u.clone();
        }
        r
    };
    if !streaming {
        if !text.is_empty() {
            parts.push(json!({"text": text}));
        }
        return super::json(StatusCode::OK, &response(parts, Some(finish), Some(&usage)));
    }
    let mut pieces: Vec<Vec<Value>> = super::word_chunks(&text)
        .into_iter()
        .map(|w| vec![json!({"text": w})])
        .collect();
    if !parts.is_empty() {
        pieces.insert(0, parts);
    }
    let events: Vec<Bytes> = pieces
        .into_iter()
        .map(|p| sse_event(None, &response(p, None, None)))
        .collect();
    match behaviour {
        Behaviour::StreamStop(n) => sse(
            events
                .into_iter()
                .take(usize::try_from(n).unwrap_or(usize::MAX))
                .collect(),
            true,
        ),
        Behaviour::StreamError => {
            let mut events: Vec<Bytes> = events.into_iter().take(1).collect();
            events.push(sse_event(None, &json!({"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}})));
            sse(events, false)
        }
        _ => {
            let mut events = events;
            events.push(sse_event(
                None,
                &response(vec![json!({"text": ""})], Some(finish), Some(&usage)),
            ));
            sse(events, false)
        }
    }
}

/// A deterministic unit-ish vector for a text.
fn vector(text: &str, dims: usize) -> Vec<f32> {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    (0..dims.min(EMBEDDING_DIMENSIONS))
        .map(|i| ((h >> (i * 8)) & 0xff) as f32 / 255.0)
        .collect()
}

fn embed(model: &str, method: &str, body: &Value) -> Response<MockBody> {
    let one = |r: &Value| -> Value {
        let dims = r["outputDimensionality"]
            .as_u64()
            .map_or(EMBEDDING_DIMENSIONS, |d| d as usize);
        json!({"values": vector(&content_text(&r["content"]["parts"]), dims)})
    };
    if method == "embedContent" {
        if !body["content"]["parts"].is_array() {
            return error(
                400,
                "INVALID_ARGUMENT",
                "* EmbedContentRequest.content: content is not specified",
            );
        }
        return super::json(StatusCode::OK, &json!({"embedding": one(body)}));
    }
    let Some(requests) = body["requests"].as_array().filter(|r| !r.is_empty()) else {
        return error(
            400,
            "INVALID_ARGUMENT",
            "* BatchEmbedContentsRequest.requests: requests is not specified",
        );
    };
    let expected = format!("models/{model}");
    if requests
        .iter()
        .any(|r| r["model"].as_str() != Some(expected.as_str()))
    {
        return error(
            400,
            "INVALID_ARGUMENT",
            "Model names in the batch request must match the request's model.",
        );
    }
    super::json(
        StatusCode::OK,
        &json!({"embeddings": requests.iter().map(one).collect::<Vec<_>>()}),
    )
}
