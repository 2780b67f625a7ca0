//! Mock of the Anthropic Messages API: `POST /v1/messages` (JSON, or SSE with `stream: true`),
//! `POST /v1/messages/count_tokens`, `GET /v1/models`. It checks `x-api-key` and
//! `anthropic-version`, validates the request as Anthropic does (required `max_tokens`, no
//! `system` role in `messages`, `tool_result` ids answering the previous `tool_use` blocks)
//! and answers in Anthropic's shapes, errors included (`{"type":"error","error":{...}}`).

use bytes::Bytes;
use http::{Response, StatusCode};
use serde_json::{Value, json};

use super::{
    Behaviour, VendorRequest, VendorState, behaviour, content_text, echo, sse, sse_event, words,
};
use crate::body::MockBody;

pub const TOOL_USE_ID: &str = "toolu_01A09q90qw90lq917835lq9";
pub const TOOL_INPUT_PIECES: [&str; 3] = [
    "{\"location\":",
    " \"San Francisco, CA\",",
    " \"unit\": \"celsius\"}",
];
pub const THINKING: &str = "Let me think about this step by step.";
pub const SIGNATURE: &str = "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds";

fn error(status: u16, kind: &str, message: &str) -> Response<MockBody> {
    let body = json!({"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_mock"});
    super::json(
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        &body,
    )
}

pub(crate) async fn handle(state: &VendorState, req: &VendorRequest) -> Response<MockBody> {
    if req.header("x-api-key").is_none_or(str::is_empty) {
        return error(401, "authentication_error", "x-api-key header is required");
    }
    if req.header("anthropic-version").is_none() {
        return error(
            400,
            "invalid_request_error",
            "anthropic-version: header is required",
        );
    }
    match (req.method.as_str(), req.path.as_str()) {
        ("POST", "/v1/messages") => messages(state, &req.json()).await,
        ("POST", "/v1/messages/count_tokens") => super::json(
            StatusCode::OK,
            &json!({"input_tokens": prompt_tokens(&req.json())}),
        ),
        ("GET", "/v1/models") => super::json(
            StatusCode::OK,
            &json!({"data": [{"type": "model", "id": "claude-sonnet-4-5", "display_name": "Claude Sonnet 4.5",
                "created_at": "2025-09-29T00:00:00Z"}], "has_more": false, "first_id": "claude-sonnet-4-5", "last_id": "claude-sonnet-4-5"}),
        ),
        _ => error(404, "not_found_error", "Not found"),
    }
}

/// The first problem Anthropic would report for this body.
fn validate(body: &Value) -> Option<String> {
    if !body["model"].is_string() {
        return Some("model: Field required".into());
    }
    if !body["max_tokens"].is_u64() {
        return Some("max_tokens: Field required".into());
    }
    let Some(messages) = body["messages"].as_array().filter(|m| !m.is_empty()) else {
        return Some("messages: Field required".into());
    };
    let mut previous_tool_uses: Vec<&str> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let role = m["role"].as_str().unwrap_or_default();
        if role != "user" && role != "assistant" {
            return Some(format!(
                "messages.{i}.role: Unexpected role \"{role}\". The Messages API accepts a top-level `system` parameter, not \"system\" as an input message role."
            ));
        }
        let blocks = m["content"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        for b in blocks {
            if b["type"] == "tool_result"
                && !previous_tool_uses.contains(&b["tool_use_id"].as_str().unwrap_or_default())
            {
                return Some(format!(
                    "messages.{i}: unexpected `tool_use_id` found in `tool_result` blocks"
                ));
            }
            if b["type"] == "image"
                && !matches!(b["source"]["type"].as_str(), Some("base64" | "url"))
            {
                return Some(format!(
                    "messages.{i}: image source type must be base64 or url"
                ));
            }
        }
        previous_tool_uses = blocks
            .iter()
            .filter(|b| b["type"] == "tool_use")
            .filter_map(|b| b["id"].as_str())
            .collect();
    }
    None
}

fn prompt_tokens(body: &Value) -> u64 {
    let system = match &body["system"] {
        Value::String(s) => words(s),
        Value::Array(blocks) => blocks
            .iter()
            .filter_map(|b| b["text"].as_str())
            .map(words)
            .sum(),
        _ => 0,
    };
    let messages = body["messages"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    system
        + messages
            .iter()
            .map(|m| words(&content_text(&m["content"])) + 3)
            .sum::<u64>()
}

enum Reply {
    Text(String),
    Tool(String),
}

async fn messages(state: &VendorState, body: &Value) -> Response<MockBody> {
    if body.is_null() {
        return error(
            400,
            "invalid_request_error",
            "messages: request body is not valid JSON",
        );
    }
    if let Some(problem) = validate(body) {
        return error(400, "invalid_request_error", &problem);
    }
    let model = body["model"].as_str().unwrap_or_default();
    let streaming = body["stream"].as_bool() == Some(true);
    let behaviour = behaviour(state, model).await;
    match behaviour {
        Behaviour::RateLimited => {
            return super::with_retry_after(error(
                429,
                "rate_limit_error",
                "Number of request tokens has exceeded your per-minute rate limit",
            ));
        }
        Behaviour::ServerError => return error(500, "api_error", "Internal server error"),
        Behaviour::Overloaded => return error(529, "overloaded_error", "Overloaded"),
        Behaviour::StreamError if !streaming => {
            return error(529, "overloaded_error", "Overloaded");
        }
        Behaviour::BadRequest => {
            return error(400, "invalid_request_error", "temperature: range: 0..1");
        }
        Behaviour::Unauthorized => return error(401, "authentication_error", "invalid x-api-key"),
        Behaviour::Malformed => return super::malformed(),
        _ => {}
    }
    let messages = body["messages"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let last_user = messages
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .map(|m| content_text(&m["content"]));
    let last_user = last_user.unwrap_or_default();
    let tool = body["tools"]
        .as_array()
        .and_then(|t| t.first())
        .and_then(|t| t["name"].as_str());
    let reply = match tool {
        Some(name) if last_user.contains("call tool") => Reply::Tool(name.to_owned()),
        _ => Reply::Text(echo(&last_user)),
    };
    let output = match &reply {
        Reply::Text(t) => words(t),
        Reply::Tool(name) => words(name) + 6,
    } + if behaviour == Behaviour::Thinking {
        words(THINKING)
    } else {
        0
    };
    let mut usage = json!({"input_tokens": prompt_tokens(body), "output_tokens": output,
        "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0});
    if behaviour == Behaviour::Cache {
        usage["cache_creation_input_tokens"] = json!(1000);
        usage["cache_read_input_tokens"] = json!(2000);
    }
    let id = format!("msg_mock_{:04}", state.next_id());
    // `mock-stop-sequence`: the answer stopped at the request's first stop sequence.
    let stop_sequence = (behaviour == Behaviour::StopSequence).then(|| {
        body["stop_sequences"][0]
            .as_str()
            .unwrap_or("END")
            .to_owned()
    });
    if streaming {
        return stream(
            &id,
            model,
            &reply,
            &usage,
            behaviour,
            stop_sequence.as_deref(),
        );
    }
    let mut content = Vec::new();
    if behaviour == Behaviour::Thinking {
        content.push(json!({"type": "thinking", "thinking": THINKING, "signature": SIGNATURE}));
    }
    let stop_reason = match &reply {
        Reply::Text(text) => {
            content.push(json!({"type": "text", "text": text}));
            "end_turn"
        }
        Reply::Tool(name) => {
            let input: Value =
                serde_json::from_str(&TOOL_INPUT_PIECES.concat()).unwrap_or_default();
            content
                .push(json!({"type": "tool_use", "id": TOOL_USE_ID, "name": name, "input": input}));
            "tool_use"
        }
    };
    let stop_reason = if stop_sequence.is_some() {
        "stop_sequence"
    } else {
        stop_reason
    };
    super::json(
        StatusCode::OK,
        &json!({"id": id, "type": "message", "role": "assistant", "model": model, "content": content,
            "stop_reason": stop_reason, "stop_sequence": stop_sequence, "usage": usage}),
    )
}

fn stream(
    id: &str,
    model: &str,
    reply: &Reply,
    usage: &Value,
    behaviour: Behaviour,
    stop_sequence: Option<&str>,
) -> Response<MockBody> {
    let mut start_usage = usage.clone();
    start_usage["output_tokens"] = json!(1);
    let mut events: Vec<Bytes> = vec![sse_event(
        Some("message_start"),
        &json!({"type": "message_start", "message": {"id": id, "type": "message", "role": "assistant", "content": [],
            "model": model, "stop_reason": null, "stop_sequence": null, "usage": start_usage}}),
    )];
    let block_start = |index: usize, block: Value| {
        sse_event(
            Some("content_block_start"),
            &json!({"type": "content_block_start", "index": index, "content_block": block}),
        )
    };
    let delta = |index: usize, delta: Value| {
        sse_event(
            Some("content_block_delta"),
            &json!({"type": "content_block_delta", "index": index, "delta": delta}),
        )
    };
    let block_stop = |index: usize| {
        sse_event(
            Some("content_block_stop"),
            &json!({"type": "content_block_stop", "index": index}),
        )
    };
    let mut index = 0;
    if behaviour == Behaviour::Thinking {
        events.push(block_start(0, json!({"type": "thinking", "thinking": ""})));
        events.push(delta(
            0,
            json!({"type": "thinking_delta", "thinking": THINKING}),
        ));
        events.push(delta(
            0,
            json!({"type": "signature_delta", "signature": SIGNATURE}),
        ));
        events.push(block_stop(0));
        index = 1;
    }
    let mut deltas = Vec::new();
    let stop_reason = match reply {
        Reply::Text(text) => {
            events.push(block_start(index, json!({"type": "text", "text": ""})));
            events.push(sse_event(Some("ping"), &json!({"type": "ping"})));
            deltas.extend(
                super::word_chunks(text)
                    .into_iter()
                    .map(|w| delta(index, json!({"type": "text_delta", "text": w}))),
            );
            "end_turn"
        }
        Reply::Tool(name) => {
            events.push(block_start(
                index,
                json!({"type": "tool_use", "id": TOOL_USE_ID, "name": name, "input": {}}),
            ));
            deltas.extend(TOOL_INPUT_PIECES.iter().map(|p| {
                delta(
                    index,
                    json!({"type": "input_json_delta", "partial_json": p}),
                )
            }));
            "tool_use"
        }
    };
    match behaviour {
        Behaviour::StreamStop(n) => {
            events.extend(
                deltas
                    .into_iter()
                    .take(usize::try_from(n).unwrap_or(usize::MAX)),
            );
            return sse(events, true);
        }
        Behaviour::StreamError => {
            events.extend(deltas.into_iter().take(1));
            events.push(sse_event(
                Some("error"),
                &json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
            ));
            return sse(events, false);
        }
        _ => events.extend(deltas),
    }
    events.push(block_stop(index));
    events.push(sse_event(
        Some("message_delta"),
        &json!({"type": "message_delta", "delta": {"stop_reason": if stop_sequence.is_some() { "stop_sequence" } else { stop_reason }, "stop_sequence": stop_sequence},
            "usage": {"output_tokens": usage["output_tokens"]}}),
    ));
    events.push(sse_event(
        Some("message_stop"),
        &json!({"type": "message_stop"}),
    ));
    sse(events, false)
}
