//! Canonical answers -> Gemini `GenerateContentResponse`, `countTokens` and embeddings answers.
//!
//! A choice becomes a candidate whose `model` content holds its reasoning (a `thought` part),
//! its text and its tool calls (`functionCall` parts, with the thought signature a Gemini
//! upstream gave the call); finish reasons map back (`length` -> `MAX_TOKENS`,
//! `content_filter` -> `SAFETY`, a tool call -> `STOP` as Gemini reports it); usage becomes
//! `usageMetadata`; `modelVersion` is the public model name the caller used.

use base64::Engine as _;
use serde_json::{Map, Value, json};

use gateway_core::types::{Choice, Content, EmbeddingsResponse, ToolCall};
use gateway_core::{ChatResponse, GatewayError, Usage};
use gateway_providers::gemini::response::{UsageMetadata, split_call_id};

/// OpenAI `finish_reason` -> Gemini `finishReason`.
pub fn finish_reason(reason: &str) -> &'static str {
    match reason {
        "stop" | "tool_calls" | "function_call" => "STOP",
        "length" => "MAX_TOKENS",
        "content_filter" => "SAFETY",
        _ => "OTHER",
    }
}

/// The whole answer, naming `requested` as its model.
pub fn encode_response(resp: &ChatResponse, requested: &str) -> Value {
    let candidates: Vec<Value> = resp.choices.iter().map(candidate).collect();
    let mut out = Map::new();
    out.insert("candidates".into(), Value::Array(candidates));
    if let Some(usage) = &resp.usage {
        out.insert("usageMetadata".into(), usage_metadata(usage));
    }
    out.insert("modelVersion".into(), Value::String(requested.to_owned()));
    out.insert("responseId".into(), Value::String(resp.id.clone()));
    Value::Object(out)
}

fn candidate(choice: &Choice) -> Value {
    let m = &choice.message;
    let mut parts = Vec::new();
    if let Some(Value::String(reasoning)) = m.extra.get("reasoning_content")
        && !reasoning.is_empty()
    {
        parts.push(json!({ "text": reasoning, "thought": true }));
    }
    match &m.content {
        Some(Content::Text(text)) if !text.is_empty() => parts.push(json!({ "text": text })),
        Some(content @ Content::Parts(_)) => {
            parts.extend(content.texts().map(|text| json!({ "text": text })));
        }
        _ => {}
    }
    if let Some(refusal) = &m.refusal {
        parts.push(json!({ "text": refusal }));
    }
    parts.extend(m.tool_calls.iter().flatten().map(function_call));
    let mut out = json!({ "content": { "parts": parts, "role": "model" }, "index": choice.index });
    if let Some(reason) = &choice.finish_reason {
        out["finishReason"] = Value::String(finish_reason(reason).to_owned());
    }
    out
}

/// A tool call as a `functionCall` part; its arguments as an object (Gemini's `args` is one).
pub fn function_call(call: &ToolCall) -> Value {
    function_call_part(&call.id, &call.function.name, &call.function.arguments)
}

pub fn function_call_part(id: &str, name: &str, arguments: &str) -> Value {
    let args = match serde_json::from_str::<Value>(arguments) {
        Ok(args @ Value::Object(_)) => args,
        Ok(Value::Null) | Err(_) if arguments.trim().is_empty() => json!({}),
        // Not an object: kept whole rather than lost.
        _ => json!({ "value": arguments }),
    };
    let (id, signature) = split_call_id(id);
    let mut part = json!({ "functionCall": { "name": name, "args": args, "id": id } });
    if let (Some(sig), Some(obj)) = (signature, part.as_object_mut()) {
        obj.insert("thoughtSignature".into(), Value::String(sig));
    }
    part
}

/// `usageMetadata` of canonical usage.
pub fn usage_metadata(usage: &Usage) -> Value {
    serde_json::to_value(UsageMetadata::from_usage(usage)).unwrap_or(Value::Null)
}

/// `{"totalTokens": n}`.
pub fn encode_count_tokens(tokens: u64) -> Value {
    json!({ "totalTokens": tokens })
}

/// An `embedContent` answer (`batch` false) or a `batchEmbedContents` one.
pub fn encode_embeddings(resp: &EmbeddingsResponse, batch: bool) -> Result<Value, GatewayError> {
    let mut vectors = Vec::with_capacity(resp.data.len());
    let mut data: Vec<_> = resp.data.iter().collect();
    data.sort_by_key(|e| e.index);
    for e in data {
        vectors.push(json!({ "values": floats(&e.embedding)? }));
    }
    if batch {
        return Ok(json!({ "embeddings": vectors }));
    }
    match <[Value; 1]>::try_from(vectors) {
        Ok([one]) => Ok(json!({ "embedding": one })),
        Err(v) => Err(GatewayError::Internal(format!(
            "the upstream answered {} embeddings for one content",
            v.len()
        ))),
    }
}

/// An embedding as floats: an array already, or OpenAI's base64 of little-endian f32s.
fn floats(embedding: &Value) -> Result<Value, GatewayError> {
    match embedding {
        Value::Array(_) => Ok(embedding.clone()),
        Value::String(b64) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|e| GatewayError::Internal(format!("bad base64 embedding: {e}")))?;
            let values: Vec<f32> = bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            Ok(json!(values))
        }
        _ => Err(GatewayError::Internal(
            "the upstream answered an embedding that is neither floats nor base64".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gateway_core::types::{FunctionCall, Role};
    use gateway_core::{Message, types::Extra};

    fn response(message: Message, finish: &str, usage: Option<Usage>) -> ChatResponse {
        ChatResponse {
            id: "chatcmpl-1".into(),
            object: "chat.completion".into(),
            created: 1,
            model: "upstream-model".into(),
            choices: vec![Choice {
                index: 0,
                message,
                finish_reason: Some(finish.into()),
                logprobs: None,
                extra: Extra::new(),
            }],
            usage,
            system_fingerprint: None,
            extra: Extra::new(),
        }
    }

    #[test]
    fn text_answer_names_the_public_model_and_counts_tokens() {
        let out = encode_response(
            &response(
                Message::text(Role::Assistant, "Hi!"),
                "length",
                Some(Usage::new(7, 3)),
            ),
            "public",
        );
        assert_eq!(out["modelVersion"], "public");
        assert_eq!(out["responseId"], "chatcmpl-1");
        let c = &out["candidates"][0];
        assert_eq!(
            c["content"],
            json!({"parts": [{"text": "Hi!"}], "role": "model"})
        );
        assert_eq!(c["finishReason"], "MAX_TOKENS");
        assert_eq!(out["usageMetadata"]["promptTokenCount"], 7);
        assert_eq!(out["usageMetadata"]["candidatesTokenCount"], 3);
        assert_eq!(out["usageMetadata"]["totalTokenCount"], 10);
    }

    #[test]
    fn tool_calls_become_function_calls_with_their_signature() {
        let mut m = Message::text(Role::Assistant, "");
        m.content = None;
        m.tool_calls = Some(vec![ToolCall {
            id: "call_1__ts_AbC-_9".into(),
            kind: "function".into(),
            function: FunctionCall {
                name: "weather".into(),
                arguments: "{\"city\":\"Paris\"}".into(),
            },
        }]);
        let out = encode_response(&response(m, "tool_calls", None), "m");
        let c = &out["candidates"][0];
        assert_eq!(c["finishReason"], "STOP");
        let part = &c["content"]["parts"][0];
        assert_eq!(
            part["functionCall"],
            json!({"name": "weather", "args": {"city": "Paris"}, "id": "call_1"})
        );
        assert_eq!(part["thoughtSignature"], "AbC+/9==");
    }

    #[test]
    fn base64_embeddings_are_decoded() {
        let resp: EmbeddingsResponse = serde_json::from_value(json!({
            "object": "list", "model": "e", "usage": {"prompt_tokens": 1, "total_tokens": 1},
            "data": [{"object": "embedding", "index": 0, "embedding": "AACAPw=="}]
        }))
        .unwrap();
        assert_eq!(
            encode_embeddings(&resp, false).unwrap(),
            json!({"embedding": {"values": [1.0]}})
        );
        assert_eq!(
            encode_embeddings(&resp, true).unwrap(),
            json!({"embeddings": [{"values": [1.0]}]})
        );
    }
}
