//! Anthropic Messages request -> canonical [`ChatRequest`].
//!
//! `system` (string or text blocks) becomes a leading system message; `tool_result` blocks of a
//! user turn become `tool` messages (before the turn's other content); images become `image_url`
//! parts (base64 sources as `data:` URLs); `tool_use` blocks become tool calls; thinking blocks
//! are kept in the assistant message's `extra`; tools, `tool_choice`, `stop_sequences` and
//! `metadata.user_id` map to their OpenAI forms. A streamed request asks for usage, which the
//! Anthropic stream reports at its end.

use gateway_core::types::{Content, Extra, FunctionDef, Role, Stop, StreamOptions, Tool};
use gateway_core::{ChatRequest, GatewayError};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::content::{InContent, assistant_turn, content, message, user_turn};

/// An Anthropic Messages request (`max_tokens` is required by `/v1/messages`, not by
/// `/v1/messages/count_tokens`).
#[derive(schemars::JsonSchema)]
#[schemars(rename = "AnthropicMessagesRequest")]
pub(crate) struct MessagesRequest {
    model: String,
    max_tokens: Option<u32>,
    messages: Vec<InMessage>,
    system: Option<InContent>,
    stop_sequences: Option<Vec<String>>,
    stream: Option<bool>,
    temperature: Option<f64>,
    top_p: Option<f64>,
    tools: Option<Vec<Map<String, Value>>>,
    tool_choice: Option<Value>,
    metadata: Option<Value>,
    /// `top_k`, `thinking`, `service_tier`... passed on to providers that understand them.
    #[schemars(flatten)]
    extra: Extra,
}

gateway_core::deserialize_with_extra!(MessagesRequest, "a Messages request" {
    model: required,
    max_tokens: default,
    messages: required,
    system: default,
    stop_sequences: default,
    stream: default,
    temperature: default,
    top_p: default,
    tools: default,
    tool_choice: default,
    metadata: default,
});

#[derive(Deserialize, schemars::JsonSchema)]
#[schemars(rename = "AnthropicInputMessage")]
struct InMessage {
    role: String,
    content: InContent,
}

pub(super) fn invalid(param: &str, message: impl Into<String>) -> GatewayError {
    GatewayError::invalid_param(param, message)
}

/// Decode a `POST /v1/messages` body (`max_tokens` is required, as Anthropic requires it).
pub fn decode_request(body: &[u8]) -> Result<ChatRequest, GatewayError> {
    decode(body, true)
}

/// Decode a `POST /v1/messages/count_tokens` body (no `max_tokens`).
pub fn decode_count_tokens_request(body: &[u8]) -> Result<ChatRequest, GatewayError> {
    decode(body, false)
}

fn decode(body: &[u8], needs_max_tokens: bool) -> Result<ChatRequest, GatewayError> {
    let req: MessagesRequest = gateway_core::types::from_json_bytes(body)
        .map_err(|e| GatewayError::invalid(format!("Invalid request body: {e}")))?;
    if needs_max_tokens && req.max_tokens.is_none() {
        return Err(invalid("max_tokens", "max_tokens: Field required"));
    }
    let mut messages = Vec::with_capacity(req.messages.len() + 1);
    if let Some(system) = req.system {
        messages.push(message(Role::System, content(system, "system")?));
    }
    for (i, m) in req.messages.into_iter().enumerate() {
        let path = format!("messages.{i}");
        match m.role.as_str() {
            "user" => user_turn(m.content, &path, &mut messages)?,
            "assistant" => messages.push(assistant_turn(m.content, &path)?),
            other => {
                return Err(invalid(
                    &format!("{path}.role"),
                    format!(
                        "{path}.role: Unexpected role \"{other}\"; use \"user\" or \"assistant\" (system goes in `system`)"
                    ),
                ));
            }
        }
    }
    let (tool_choice, parallel) = match req.tool_choice {
        Some(choice) => tool_choice(&choice)?,
        None => (None, None),
    };
    let stream = req.stream.unwrap_or(false);
    let user = req
        .metadata
        .as_ref()
        .and_then(|m| m["user_id"].as_str())
        .map(str::to_owned);
    let mut extra = req.extra;
    let response_format = output_config(&mut extra)?;
    Ok(ChatRequest {
        model: req.model,
        messages,
        stream,
        stream_options: stream.then(|| StreamOptions {
            include_usage: Some(true),
            extra: Extra::new(),
        }),
        temperature: req.temperature,
        top_p: req.top_p,
        stop: req.stop_sequences.map(Stop::Many),
        max_tokens: req.max_tokens,
        user,
        tools: req.tools.map(|t| t.into_iter().map(tool).collect()),
        tool_choice,
        parallel_tool_calls: parallel,
        response_format,
        extra,
        ..ChatRequest::default()
    })
}

/// `output_config` in canonical terms, for upstreams of other vendors: its `format` as
/// `response_format` (returned) and its `effort` as `reasoning_effort`. The object itself stays
/// in `extra`, sent verbatim to Anthropic upstreams and never to others.
fn output_config(extra: &mut Extra) -> Result<Option<Value>, GatewayError> {
    let Some(config) = extra.get("output_config") else {
        return Ok(None);
    };
    let effort = match config.get("effort").and_then(Value::as_str) {
        Some("max") => Some("high"),
        Some(e @ ("low" | "medium" | "high")) => Some(e),
        Some(_) => {
            return Err(invalid(
                "output_config.effort",
                "output_config.effort must be low, medium, high or max",
            ));
        }
        None => None,
    };
    let format = match config.get("format") {
        None | Some(Value::Null) => None,
        Some(f) if f["type"] == "json_schema" && f["schema"].is_object() => Some(json!({
            "type": "json_schema",
            "json_schema": { "name": "output", "schema": f["schema"], "strict": true },
        })),
        Some(_) => {
            return Err(invalid(
                "output_config.format",
                "output_config.format must be {\"type\": \"json_schema\", \"schema\": {...}}",
            ));
        }
    };
    if let Some(effort) = effort
        && !extra.contains_key("reasoning_effort")
    {
        extra.insert("reasoning_effort".into(), Value::String(effort.to_owned()));
    }
    Ok(format)
}

/// A custom tool (`name`, `input_schema`) as a function; a server tool (`type`:
/// `web_search_20250305`, `bash_20250124`...) passed on whole.
fn tool(mut t: Map<String, Value>) -> Tool {
    let kind = t
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("custom")
        .to_owned();
    if kind != "custom" {
        t.remove("type");
        return Tool {
            kind,
            function: None,
            extra: t,
        };
    }
    let mut extra = Extra::new();
    if let Some(cc) = t.remove("cache_control") {
        extra.insert("cache_control".into(), cc);
    }
    let function = FunctionDef {
        name: t
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        description: t
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_owned),
        parameters: t.remove("input_schema"),
        strict: None,
    };
    Tool {
        kind: "function".into(),
        function: Some(function),
        extra,
    }
}

/// Anthropic `tool_choice` -> (OpenAI `tool_choice`, `parallel_tool_calls`).
fn tool_choice(choice: &Value) -> Result<(Option<Value>, Option<bool>), GatewayError> {
    let parallel = (choice["disable_parallel_tool_use"] == true).then_some(false);
    let mapped = match choice["type"].as_str() {
        Some("auto") => json!("auto"),
        Some("any") => json!("required"),
        Some("none") => json!("none"),
        Some("tool") => match choice["name"].as_str() {
            Some(name) => json!({ "type": "function", "function": { "name": name } }),
            None => {
                return Err(invalid(
                    "tool_choice.name",
                    "tool_choice of type 'tool' needs a 'name'",
                ));
            }
        },
        _ => {
            return Err(invalid(
                "tool_choice.type",
                "tool_choice.type must be auto, any, tool or none",
            ));
        }
    };
    Ok((Some(mapped), parallel))
}

/// Estimated input tokens (about four characters a token, plus per-message and per-image
/// overheads), for `/v1/messages/count_tokens`.
pub fn count_tokens(req: &ChatRequest) -> u64 {
    let chars = |s: &str| s.chars().count() as u64;
    let mut total_chars = 0u64;
    let mut fixed = 0u64;
    for m in &req.messages {
        fixed += 3;
        if let Some(c) = &m.content {
            total_chars += c.texts().map(chars).sum::<u64>();
            if let Content::Parts(parts) = c {
                fixed += 1600 * parts.iter().filter(|p| p.image_url.is_some()).count() as u64;
            }
        }
        for call in m.tool_calls.iter().flatten() {
            total_chars += chars(&call.function.name) + chars(&call.function.arguments);
        }
    }
    if let Some(tools) = &req.tools {
        total_chars += serde_json::to_string(tools).map_or(0, |s| chars(&s));
    }
    total_chars.div_ceil(4) + fixed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_json(v: Value) -> ChatRequest {
        decode_request(v.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn full_request_with_system_images_tools_results_and_choice() {
        let r = decode_json(json!({
            "model": "claude-sonnet-4-5", "max_tokens": 1024, "stream": true,
            "system": [{"type": "text", "text": "You are terse.", "cache_control": {"type": "ephemeral"}}],
            "messages": [
                {"role": "user", "content": [
                    {"type": "text", "text": "What's in this image?"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9j/4AAQ"}},
                    {"type": "image", "source": {"type": "url", "url": "https://x/ant.jpg"}}]},
                {"role": "assistant", "content": [
                    {"type": "thinking", "thinking": "hmm", "signature": "sig"},
                    {"type": "text", "text": "Checking."},
                    {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"location": "SF"}}]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": "15 degrees", "is_error": false},
                    {"type": "text", "text": "Jacket?"}]}],
            "tools": [{"name": "get_weather", "description": "Weather", "input_schema": {"type": "object"}},
                      {"type": "web_search_20250305", "name": "web_search", "max_uses": 5}],
            "tool_choice": {"type": "any", "disable_parallel_tool_use": true},
            "stop_sequences": ["END"], "temperature": 0.2, "top_k": 10,
            "metadata": {"user_id": "u-1"}, "thinking": {"type": "enabled", "budget_tokens": 2000}
        }));
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(
            v["messages"][0],
            json!({"role": "system", "content": [
            {"type": "text", "text": "You are terse.", "cache_control": {"type": "ephemeral"}}]})
        );
        assert_eq!(
            v["messages"][1]["content"][1]["image_url"]["url"],
            "data:image/jpeg;base64,/9j/4AAQ"
        );
        assert_eq!(
            v["messages"][1]["content"][2]["image_url"]["url"],
            "https://x/ant.jpg"
        );
        let a = &v["messages"][2];
        assert_eq!(a["content"], "Checking.");
        assert_eq!(
            a["tool_calls"][0],
            json!({"id": "toolu_1", "type": "function",
            "function": {"name": "get_weather", "arguments": "{\"location\":\"SF\"}"}})
        );
        assert_eq!(a["thinking_blocks"][0]["signature"], "sig");
        assert_eq!(
            v["messages"][3],
            json!({"role": "tool", "tool_call_id": "toolu_1", "content": "15 degrees", "is_error": false})
        );
        assert_eq!(
            v["messages"][4],
            json!({"role": "user", "content": "Jacket?"})
        );
        assert_eq!(
            v["tools"][0]["function"]["parameters"],
            json!({"type": "object"})
        );
        assert_eq!(
            v["tools"][1],
            json!({"type": "web_search_20250305", "name": "web_search", "max_uses": 5})
        );
        assert_eq!(
            (v["tool_choice"].clone(), v["parallel_tool_calls"].clone()),
            (json!("required"), json!(false))
        );
        assert_eq!(
            (v["stop"].clone(), v["user"].clone(), v["top_k"].clone()),
            (json!(["END"]), json!("u-1"), json!(10))
        );
        assert_eq!(v["thinking"]["budget_tokens"], 2000);
        assert_eq!(
            (r.stream, r.wants_stream_usage(), r.max_tokens),
            (true, true, Some(1024))
        );
        assert!(r.validate().is_ok());
    }

    #[test]
    fn output_config_becomes_response_format_and_stays_for_anthropic() {
        let schema = json!({"type": "object", "properties": {"a": {"type": "string"}}});
        let r = decode_json(
            json!({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}],
            "output_config": {"format": {"type": "json_schema", "schema": schema}, "effort": "max"}}),
        );
        assert_eq!(
            r.response_format,
            Some(
                json!({"type": "json_schema", "json_schema": {"name": "output", "schema": schema, "strict": true}})
            )
        );
        assert_eq!(r.extra["reasoning_effort"], "high");
        assert_eq!(r.extra["output_config"]["effort"], "max");
        let bad = decode_request(
            br#"{"model":"m","max_tokens":5,"messages":[],"output_config":{"format":{"type":"xml"}}}"#,
        );
        assert!(
            matches!(bad, Err(GatewayError::InvalidRequest { param: Some(p), .. }) if p == "output_config.format")
        );
    }

    #[test]
    fn tool_choice_forms() {
        assert_eq!(
            tool_choice(&json!({"type": "auto"})).unwrap(),
            (Some(json!("auto")), None)
        );
        assert_eq!(
            tool_choice(&json!({"type": "none"})).unwrap().0,
            Some(json!("none"))
        );
        assert_eq!(
            tool_choice(&json!({"type": "tool", "name": "f"}))
                .unwrap()
                .0,
            Some(json!({"type": "function", "function": {"name": "f"}}))
        );
        assert!(tool_choice(&json!({"type": "tool"})).is_err());
        assert!(tool_choice(&json!({"type": "sometimes"})).is_err());
    }

    #[test]
    fn errors_name_what_to_fix() {
        let no_max =
            decode_request(br#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#);
        assert!(
            matches!(no_max, Err(GatewayError::InvalidRequest { param: Some(p), .. }) if p == "max_tokens")
        );
        let system_role = decode_request(
            br#"{"model":"m","max_tokens":5,"messages":[{"role":"system","content":"x"}]}"#,
        );
        assert!(
            matches!(system_role, Err(GatewayError::InvalidRequest { param: Some(p), .. }) if p == "messages.0.role")
        );
        assert!(decode_request(b"{not json").is_err());
        let counted = decode_count_tokens_request(
            br#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#,
        );
        assert!(counted.is_ok());
    }

    #[test]
    fn token_estimate() {
        let r = decode_json(json!({"model": "m", "max_tokens": 5, "system": "abcd",
            "messages": [{"role": "user", "content": "abcdefgh"}]}));
        assert_eq!(count_tokens(&r), 3 + 3 + 3);
    }
}
