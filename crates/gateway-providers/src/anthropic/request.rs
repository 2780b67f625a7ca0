//! Canonical (OpenAI-shaped) request -> Anthropic Messages request body.
//!
//! System and developer messages become `system` blocks; consecutive turns of one role are
//! merged (tool results travel as `tool_result` blocks of a user turn, first in it); images
//! become base64 or URL image sources; tool calls become `tool_use` blocks; `tool_choice`,
//! `stop`, `user` and `parallel_tool_calls` map to their Anthropic forms; `max_tokens`, which
//! Anthropic requires, defaults to the provider's `default_max_tokens`; structured output and
//! reasoning effort are translated in [`super::features`].

use bytes::Bytes;
use serde_json::{Map, Value, json};

use gateway_core::types::{Content, ContentPart, Message, Role, Tool};
use gateway_core::{ChatRequest, ProviderError};

use super::features;
use crate::media::MediaRef;

/// Request fields without an OpenAI equivalent that callers may set and are passed through.
const PASSTHROUGH: [&str; 8] = [
    "top_k",
    "thinking",
    "service_tier",
    "container",
    "mcp_servers",
    "output_config",
    "cache_control",
    "context_management",
];

fn unsupported(message: impl Into<String>) -> ProviderError {
    ProviderError::Unsupported(message.into())
}

/// Serialise the Anthropic body for `req` (`stream` decides the `stream` flag).
pub fn encode(
    req: &ChatRequest,
    default_max_tokens: u32,
    stream: bool,
) -> Result<Bytes, ProviderError> {
    let body = build(req, default_max_tokens, stream)?;
    serde_json::to_vec(&body)
        .map(Bytes::from)
        .map_err(|e| unsupported(format!("cannot encode request: {e}")))
}

/// The Anthropic body for `req`, as JSON.
pub fn build(
    req: &ChatRequest,
    default_max_tokens: u32,
    stream: bool,
) -> Result<Value, ProviderError> {
    if req.n.is_some_and(|n| n > 1) {
        return Err(unsupported(
            "Anthropic models return one choice per request; 'n' must be 1",
        ));
    }
    let mut body = Map::new();
    body.insert("model".into(), Value::String(req.model.clone()));
    let max_tokens = req.max_output_tokens().unwrap_or(default_max_tokens);
    body.insert("max_tokens".into(), json!(max_tokens));
    let (system, messages) = messages(&req.messages)?;
    if let Some(system) = system {
        body.insert("system".into(), system);
    }
    body.insert("messages".into(), Value::Array(messages));
    if let Some(stop) = &req.stop {
        body.insert("stop_sequences".into(), json!(stop.as_slice()));
    }
    if let Some(t) = req.temperature {
        // OpenAI's range is 0..=2, Anthropic's 0..=1.
        body.insert("temperature".into(), json!(t.clamp(0.0, 1.0)));
    }
    if let Some(p) = req.top_p {
        body.insert("top_p".into(), json!(p));
    }
    if let Some(tools) = &req.tools {
        body.insert(
            "tools".into(),
            Value::Array(tools.iter().map(tool).collect()),
        );
    }
    if let Some(choice) = tool_choice(req.tool_choice.as_ref(), req.parallel_tool_calls)? {
        body.insert("tool_choice".into(), choice);
    }
    for key in PASSTHROUGH {
        if let Some(v) = req.extra.get(key) {
            body.insert(key.into(), v.clone());
        }
    }
    features::apply_structured(req, &mut body);
    features::apply_effort(req, &mut body);
    // Anthropic's metadata holds only `user_id` (OpenAI's is a free-form map).
    let user = req
        .user
        .as_deref()
        .or_else(|| req.extra.get("metadata")?.get("user_id")?.as_str());
    if let Some(user) = user {
        body.insert("metadata".into(), json!({ "user_id": user }));
    }
    if stream {
        body.insert("stream".into(), Value::Bool(true));
    }
    Ok(Value::Object(body))
}

/// `system` (string when it is one plain text, else text blocks) and the merged turns.
fn messages(input: &[Message]) -> Result<(Option<Value>, Vec<Value>), ProviderError> {
    let mut system: Vec<Value> = Vec::new();
    let mut system_plain = true;
    let mut turns: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for (i, m) in input.iter().enumerate() {
        let (role, blocks) = match m.role {
            Role::System | Role::Developer => {
                if let Some(content) = &m.content {
                    system_plain &= matches!(content, Content::Text(_));
                    system.extend(content_blocks(content)?);
                }
                continue;
            }
            Role::User => (
                "user",
                m.content
                    .as_ref()
                    .map(content_blocks)
                    .transpose()?
                    .unwrap_or_default(),
            ),
            Role::Assistant => ("assistant", assistant_blocks(m, i)?),
            Role::Tool | Role::Function => ("user", vec![tool_result(m)?]),
        };
        if blocks.is_empty() {
            continue;
        }
        match turns.last_mut() {
            Some((last, existing)) if *last == role => {
                // tool results must lead their user turn
                if m.role == Role::Tool || m.role == Role::Function {
                    let at = existing
                        .iter()
                        .take_while(|b| b["type"] == "tool_result")
                        .count();
                    existing.splice(at..at, blocks);
                } else {
                    existing.extend(blocks);
                }
            }
            _ => turns.push((role, blocks)),
        }
    }
    let system = match system.len() {
        0 => None,
        1 if system_plain => system.pop().and_then(|b| b.get("text").cloned()),
        _ if system_plain => {
            let texts: Vec<&str> = system.iter().filter_map(|b| b["text"].as_str()).collect();
            Some(Value::String(texts.join("\n\n")))
        }
        _ => Some(Value::Array(system)),
    };
    let turns = turns
        .into_iter()
        .map(|(role, content)| json!({ "role": role, "content": content }))
        .collect();
    Ok((system, turns))
}

fn content_blocks(content: &Content) -> Result<Vec<Value>, ProviderError> {
    match content {
        Content::Text(t) if t.is_empty() => Ok(Vec::new()),
        Content::Text(t) => Ok(vec![json!({ "type": "text", "text": t })]),
        Content::Parts(parts) => parts.iter().map(part).collect(),
    }
}

fn part(p: &ContentPart) -> Result<Value, ProviderError> {
    let mut block = match (p.kind.as_str(), &p.text, &p.image_url) {
        ("text", Some(text), _) => json!({ "type": "text", "text": text }),
        ("image_url", _, Some(image)) => {
            let source = match MediaRef::parse(&image.url) {
                MediaRef::Inline { mime, data } => {
                    json!({ "type": "base64", "media_type": mime, "data": data })
                }
                MediaRef::Remote { url } => json!({ "type": "url", "url": url }),
            };
            json!({ "type": "image", "source": source })
        }
        ("text" | "image_url", ..) => {
            return Err(unsupported(format!(
                "content part '{}' is incomplete",
                p.kind
            )));
        }
        // Anthropic-native blocks (image, document, search_result...) pass through as sent.
        _ => {
            return serde_json::to_value(p)
                .map_err(|e| unsupported(format!("bad content part: {e}")));
        }
    };
    if let (Some(cc), Some(obj)) = (p.extra.get("cache_control"), block.as_object_mut()) {
        obj.insert("cache_control".into(), cc.clone());
    }
    Ok(block)
}

fn assistant_blocks(m: &Message, index: usize) -> Result<Vec<Value>, ProviderError> {
    let mut blocks = Vec::new();
    // Thinking blocks of an earlier turn must be sent back unchanged (with their signature).
    if let Some(Value::Array(thinking)) = m.extra.get("thinking_blocks") {
        blocks.extend(thinking.iter().cloned());
    }
    if let Some(content) = &m.content {
        blocks.extend(content_blocks(content)?);
    }
    for call in m.tool_calls.iter().flatten() {
        let args = call.function.arguments.trim();
        let input: Value = if args.is_empty() {
            json!({})
        } else {
            serde_json::from_str(args).map_err(|_| {
                unsupported(format!(
                    "messages[{index}]: tool call '{}' has arguments that are not JSON",
                    call.id
                ))
            })?
        };
        blocks.push(json!({ "type": "tool_use", "id": call.id, "name": call.function.name, "input": input }));
    }
    Ok(blocks)
}

fn tool_result(m: &Message) -> Result<Value, ProviderError> {
    let id = m
        .tool_call_id
        .as_deref()
        .or(m.name.as_deref())
        .unwrap_or_default();
    let mut block = json!({ "type": "tool_result", "tool_use_id": id });
    if let Some(obj) = block.as_object_mut() {
        match &m.content {
            Some(Content::Text(t)) => {
                obj.insert("content".into(), Value::String(t.clone()));
            }
            Some(content @ Content::Parts(_)) => {
                obj.insert("content".into(), Value::Array(content_blocks(content)?));
            }
            None => {}
        }
        if let Some(is_error) = m.extra.get("is_error") {
            obj.insert("is_error".into(), is_error.clone());
        }
    }
    Ok(block)
}

fn tool(t: &Tool) -> Value {
    let Some(f) = t.function.as_ref().filter(|_| t.kind == "function") else {
        // Anthropic server tools ({"type": "web_search_20250305", ...}) pass through.
        let mut raw = t.extra.clone();
        raw.insert("type".into(), Value::String(t.kind.clone()));
        return Value::Object(raw);
    };
    let mut out = Map::new();
    out.insert("name".into(), Value::String(f.name.clone()));
    if let Some(d) = &f.description {
        out.insert("description".into(), Value::String(d.clone()));
    }
    let schema = f
        .parameters
        .clone()
        .unwrap_or_else(|| json!({ "type": "object", "properties": {} }));
    out.insert("input_schema".into(), schema);
    if let Some(cc) = t.extra.get("cache_control") {
        out.insert("cache_control".into(), cc.clone());
    }
    Value::Object(out)
}

/// OpenAI `tool_choice` (+ `parallel_tool_calls`) -> Anthropic `tool_choice`.
fn tool_choice(
    choice: Option<&Value>,
    parallel: Option<bool>,
) -> Result<Option<Value>, ProviderError> {
    let mut out = match choice {
        None => None,
        Some(Value::String(s)) => match s.as_str() {
            "auto" => Some(json!({ "type": "auto" })),
            "none" => Some(json!({ "type": "none" })),
            "required" | "any" => Some(json!({ "type": "any" })),
            other => return Err(unsupported(format!("unknown tool_choice '{other}'"))),
        },
        Some(Value::Object(o)) => {
            let name = o
                .get("function")
                .and_then(|f| f.get("name"))
                .or_else(|| o.get("name"))
                .and_then(Value::as_str);
            match name {
                Some(name) => Some(json!({ "type": "tool", "name": name })),
                None => return Err(unsupported("tool_choice object must name a function")),
            }
        }
        Some(_) => return Err(unsupported("tool_choice must be a string or an object")),
    };
    if parallel == Some(false) {
        let choice = out.get_or_insert_with(|| json!({ "type": "auto" }));
        if choice["type"] != "none"
            && let Some(obj) = choice.as_object_mut()
        {
            obj.insert("disable_parallel_tool_use".into(), Value::Bool(true));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(body: Value) -> ChatRequest {
        serde_json::from_value(body).unwrap()
    }

    #[test]
    fn tool_results_merge_into_one_user_turn_before_text() {
        let r = req(json!({"model":"m","messages":[
            {"role":"user","content":"weather in Paris and Rome?"},
            {"role":"assistant","content":null,"tool_calls":[
                {"id":"a","type":"function","function":{"name":"w","arguments":"{\"city\":\"Paris\"}"}},
                {"id":"b","type":"function","function":{"name":"w","arguments":""}}]},
            {"role":"tool","tool_call_id":"a","content":"sunny"},
            {"role":"tool","tool_call_id":"b","content":"rain"},
            {"role":"user","content":"thanks"}]}));
        let body = build(&r, 100, false).unwrap();
        let turns = body["messages"].as_array().unwrap();
        assert_eq!(turns.len(), 3);
        assert_eq!(turns[1]["content"][1]["input"], json!({}));
        let last = turns[2]["content"].as_array().unwrap();
        assert_eq!(
            last.iter()
                .map(|b| b["type"].as_str().unwrap())
                .collect::<Vec<_>>(),
            ["tool_result", "tool_result", "text"]
        );
        assert_eq!(body["max_tokens"], 100);
    }

    #[test]
    fn tool_choice_forms() {
        assert_eq!(
            tool_choice(Some(&json!("required")), None).unwrap(),
            Some(json!({"type":"any"}))
        );
        assert_eq!(
            tool_choice(
                Some(&json!({"type":"function","function":{"name":"f"}})),
                Some(false)
            )
            .unwrap(),
            Some(json!({"type":"tool","name":"f","disable_parallel_tool_use":true}))
        );
        assert_eq!(
            tool_choice(None, Some(false)).unwrap(),
            Some(json!({"type":"auto","disable_parallel_tool_use":true}))
        );
        assert!(tool_choice(Some(&json!("sometimes")), None).is_err());
    }

    #[test]
    fn bad_arguments_and_n_are_rejected() {
        let r = req(
            json!({"model":"m","messages":[{"role":"assistant","tool_calls":[
            {"id":"a","type":"function","function":{"name":"w","arguments":"{oops"}}]}]}),
        );
        assert!(matches!(
            build(&r, 1, false),
            Err(ProviderError::Unsupported(_))
        ));
        let r = req(json!({"model":"m","n":2,"messages":[{"role":"user","content":"x"}]}));
        assert!(build(&r, 1, false).is_err());
    }

    #[test]
    fn system_with_cache_control_stays_blocks() {
        let r = req(json!({"model":"m","messages":[
            {"role":"system","content":[{"type":"text","text":"long","cache_control":{"type":"ephemeral"}}]},
            {"role":"user","content":"hi"}],"temperature":1.7,"user":"u1","top_k":5,"cache_control":{"type":"ephemeral"}}));
        let body = build(&r, 1, true).unwrap();
        assert_eq!(
            body["system"],
            json!([{"type":"text","text":"long","cache_control":{"type":"ephemeral"}}])
        );
        assert_eq!(body["temperature"], 1.0);
        assert_eq!(body["metadata"]["user_id"], "u1");
        assert_eq!(body["top_k"], 5);
        assert_eq!(body["stream"], true);
        assert_eq!(body["cache_control"], json!({"type":"ephemeral"}));
        let thinking = req(
            json!({"model":"m","messages":[{"role":"user","content":"hi"}],
            "temperature":0.5,"top_k":5,"reasoning_effort":"low","max_tokens":100}),
        );
        let body = build(&thinking, 1, false).unwrap();
        assert!(body.get("reasoning_effort").is_none());
        assert_eq!(body["thinking"]["budget_tokens"], 1024);
        assert_eq!(body["max_tokens"], 1124);
        assert!(body.get("temperature").is_none() && body.get("top_k").is_none());
    }

    #[test]
    fn structured_output_is_a_forced_tool_and_output_config_goes_verbatim() {
        let r = req(
            json!({"model":"m","messages":[{"role":"user","content":"hi"}],
            "response_format":{"type":"json_schema","json_schema":{"name":"City","schema":{"type":"object"}}}}),
        );
        let body = build(&r, 10, false).unwrap();
        assert_eq!(body["tool_choice"]["name"], "City");
        assert_eq!(body["tools"][0]["input_schema"], json!({"type":"object"}));
        let own =
            json!({"format":{"type":"json_schema","schema":{"type":"object"}},"effort":"low"});
        let r = req(
            json!({"model":"m","messages":[{"role":"user","content":"hi"}],"output_config": own.clone(),
            "response_format":{"type":"json_schema","json_schema":{"name":"output","schema":{"type":"object"}}}}),
        );
        let body = build(&r, 10, false).unwrap();
        assert_eq!(body["output_config"], own);
        assert!(body.get("tools").is_none() && body.get("tool_choice").is_none());
    }
}
