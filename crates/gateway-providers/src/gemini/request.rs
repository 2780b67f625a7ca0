//! Canonical (OpenAI-shaped) request -> Gemini `GenerateContentRequest`.
//!
//! System and developer messages become `systemInstruction`; `assistant` is role `model`; tool
//! results become `functionResponse` parts of a user turn (named after the call they answer);
//! images become `inlineData` (data URLs) or `fileData` (remote URLs); sampling settings go in
//! `generationConfig`; tools become `functionDeclarations` and `tool_choice` a
//! `functionCallingConfig`. The model is not part of the body: it is in the URL.

use bytes::Bytes;
use serde_json::{Map, Value, json};

use gateway_core::types::{Content, ContentPart, Message, Role, Tool};
use gateway_core::{ChatRequest, ProviderError};

use super::response::split_call_id;
use crate::media::{MediaRef, guess_mime};
use crate::reasoning::{budget_for_effort, requested_effort, requested_thinking};

fn unsupported(message: impl Into<String>) -> ProviderError {
    ProviderError::Unsupported(message.into())
}

/// Serialise the Gemini body for `req`.
pub fn encode(req: &ChatRequest) -> Result<Bytes, ProviderError> {
    let body = build(req)?;
    serde_json::to_vec(&body)
        .map(Bytes::from)
        .map_err(|e| unsupported(format!("cannot encode request: {e}")))
}

/// The Gemini body for `req`, as JSON.
pub fn build(req: &ChatRequest) -> Result<Value, ProviderError> {
    let mut body = Map::new();
    let (system, contents) = contents(&req.messages)?;
    body.insert("contents".into(), Value::Array(contents));
    if !system.is_empty() {
        body.insert("systemInstruction".into(), json!({ "parts": system }));
    }
    if let Some(tools) = &req.tools {
        let declarations: Vec<Value> = tools.iter().filter_map(declaration).collect();
        if !declarations.is_empty() {
            body.insert(
                "tools".into(),
                json!([{ "functionDeclarations": declarations }]),
            );
        }
    }
    if let Some(choice) = &req.tool_choice {
        body.insert(
            "toolConfig".into(),
            json!({ "functionCallingConfig": calling_config(choice)? }),
        );
    }
    let config = generation_config(req);
    if !config.is_empty() {
        body.insert("generationConfig".into(), Value::Object(config));
    }
    for (key, wire) in [
        ("safety_settings", "safetySettings"),
        ("cached_content", "cachedContent"),
    ] {
        if let Some(v) = req.extra.get(key).or_else(|| req.extra.get(wire)) {
            body.insert(wire.into(), v.clone());
        }
    }
    Ok(Value::Object(body))
}

fn generation_config(req: &ChatRequest) -> Map<String, Value> {
    let mut c = Map::new();
    let mut put = |key: &str, v: Option<Value>| {
        if let Some(v) = v {
            c.insert(key.into(), v);
        }
    };
    put("temperature", req.temperature.map(|v| json!(v)));
    put("topP", req.top_p.map(|v| json!(v)));
    put("topK", req.extra.get("top_k").cloned());
    put("candidateCount", req.n.map(|v| json!(v)));
    put("maxOutputTokens", req.max_output_tokens().map(|v| json!(v)));
    put(
        "stopSequences",
        req.stop.as_ref().map(|s| json!(s.as_slice())),
    );
    put("presencePenalty", req.presence_penalty.map(|v| json!(v)));
    put("frequencyPenalty", req.frequency_penalty.map(|v| json!(v)));
    put("seed", req.seed.map(|v| json!(v)));
    put("responseLogprobs", req.logprobs.map(|v| json!(v)));
    put("logprobs", req.top_logprobs.map(|v| json!(v)));
    put(
        "thinkingConfig",
        req.extra
            .get("thinking_config")
            .or_else(|| req.extra.get("thinkingConfig"))
            .cloned()
            .or_else(|| thinking_config(req)),
    );
    if let Some(format) = &req.response_format {
        match format["type"].as_str() {
            Some("json_object") => put("responseMimeType", Some(json!("application/json"))),
            Some("json_schema") => {
                put("responseMimeType", Some(json!("application/json")));
                put(
                    "responseJsonSchema",
                    format["json_schema"].get("schema").cloned(),
                );
            }
            _ => {}
        }
    }
    c
}

/// `thinkingConfig` from an Anthropic `thinking` budget (adaptive: Gemini's dynamic budget,
/// -1) or an OpenAI `reasoning_effort` (`none`: no thinking), with the thoughts returned so
/// that they surface as `reasoning_content`.
fn thinking_config(req: &ChatRequest) -> Option<Value> {
    let budget = match (req.extra.get("thinking"), requested_effort(req)) {
        (Some(_), _) => requested_thinking(req)?.map_or(-1, |b| i64::try_from(b).unwrap_or(-1)),
        (None, Some("none")) => return Some(json!({ "thinkingBudget": 0 })),
        (None, Some(effort)) => i64::from(budget_for_effort(effort)?),
        (None, None) => return None,
    };
    Some(json!({ "thinkingBudget": budget, "includeThoughts": true }))
}

/// What Gemini has no form for and is left out (for the unsupported-parameter policy).
pub fn unsupported_params(req: &ChatRequest) -> Vec<&'static str> {
    if req.logit_bias.is_some() {
        vec!["logit_bias"]
    } else {
        Vec::new()
    }
}

/// (`systemInstruction` parts, `contents`).
fn contents(messages: &[Message]) -> Result<(Vec<Value>, Vec<Value>), ProviderError> {
    let mut system = Vec::new();
    let mut turns: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let (role, parts) = match m.role {
            Role::System | Role::Developer => {
                if let Some(c) = &m.content {
                    system.extend(c.texts().map(|t| json!({ "text": t })));
                }
                continue;
            }
            Role::User => (
                "user",
                m.content
                    .as_ref()
                    .map(content_parts)
                    .transpose()?
                    .unwrap_or_default(),
            ),
            Role::Assistant => ("model", model_parts(m, i)?),
            Role::Tool | Role::Function => ("user", vec![function_response(m, &messages[..i])]),
        };
        if parts.is_empty() {
            continue;
        }
        match turns.last_mut() {
            Some((last, existing)) if *last == role => existing.extend(parts),
            _ => turns.push((role, parts)),
        }
    }
    let turns = turns
        .into_iter()
        .map(|(role, parts)| json!({ "role": role, "parts": parts }))
        .collect();
    Ok((system, turns))
}

fn content_parts(content: &Content) -> Result<Vec<Value>, ProviderError> {
    match content {
        Content::Text(t) if t.is_empty() => Ok(Vec::new()),
        Content::Text(t) => Ok(vec![json!({ "text": t })]),
        Content::Parts(parts) => parts.iter().map(part).collect(),
    }
}

fn media(url: &str) -> Value {
    match MediaRef::parse(url) {
        MediaRef::Inline { mime, data } => {
            json!({ "inlineData": { "mimeType": mime, "data": data } })
        }
        MediaRef::Remote { url } => {
            json!({ "fileData": { "mimeType": guess_mime(url), "fileUri": url } })
        }
    }
}

fn part(p: &ContentPart) -> Result<Value, ProviderError> {
    match p.kind.as_str() {
        "text" => Ok(json!({ "text": p.text.as_deref().unwrap_or_default() })),
        "image_url" => p
            .image_url
            .as_ref()
            .map(|i| media(&i.url))
            .ok_or_else(|| unsupported("image_url part without 'image_url'")),
        "input_audio" => {
            let audio = p
                .extra
                .get("input_audio")
                .ok_or_else(|| unsupported("input_audio part without data"))?;
            let format = audio["format"].as_str().unwrap_or("wav");
            Ok(
                json!({ "inlineData": { "mimeType": format!("audio/{format}"), "data": audio["data"] } }),
            )
        }
        "file" => match p.extra.get("file").and_then(|f| f["file_data"].as_str()) {
            Some(url) => Ok(media(url)),
            None => Err(unsupported(
                "file parts need 'file_data' (a data: URL) for Gemini",
            )),
        },
        other => Err(unsupported(format!(
            "content part type '{other}' is not supported by Gemini"
        ))),
    }
}

fn model_parts(m: &Message, index: usize) -> Result<Vec<Value>, ProviderError> {
    let mut parts = m
        .content
        .as_ref()
        .map(content_parts)
        .transpose()?
        .unwrap_or_default();
    for call in m.tool_calls.iter().flatten() {
        let args = call.function.arguments.trim();
        let args: Value = if args.is_empty() {
            json!({})
        } else {
            serde_json::from_str(args).map_err(|_| {
                unsupported(format!(
                    "messages[{index}]: tool call '{}' has arguments that are not JSON",
                    call.id
                ))
            })?
        };
        let mut part = json!({ "functionCall": { "name": call.function.name, "args": args } });
        if let (Some(sig), Some(obj)) = (split_call_id(&call.id).1, part.as_object_mut()) {
            obj.insert("thoughtSignature".into(), Value::String(sig));
        }
        parts.push(part);
    }
    Ok(parts)
}

/// A tool message as a `functionResponse`, named after the assistant call it answers.
fn function_response(m: &Message, earlier: &[Message]) -> Value {
    let id = m.tool_call_id.as_deref().unwrap_or_default();
    let name = earlier
        .iter()
        .rev()
        .filter_map(|e| e.tool_calls.as_ref())
        .flatten()
        .find(|c| c.id == id)
        .map(|c| c.function.name.clone())
        .or_else(|| m.name.clone())
        .unwrap_or_else(|| id.to_owned());
    let text = m
        .content
        .as_ref()
        .map(Content::joined_text)
        .unwrap_or_default();
    let response = match serde_json::from_str::<Value>(&text) {
        Ok(obj @ Value::Object(_)) => obj,
        _ => json!({ "content": text }),
    };
    json!({ "functionResponse": { "name": name, "response": response } })
}

/// Drop JSON-Schema keywords Gemini's OpenAPI subset rejects.
fn clean_schema(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            map.remove("$schema");
            map.remove("additionalProperties");
            map.remove("strict");
            map.values_mut().for_each(clean_schema);
        }
        Value::Array(items) => items.iter_mut().for_each(clean_schema),
        _ => {}
    }
}

fn declaration(t: &Tool) -> Option<Value> {
    let f = t.function.as_ref()?;
    let mut out = Map::new();
    out.insert("name".into(), Value::String(f.name.clone()));
    if let Some(d) = &f.description {
        out.insert("description".into(), Value::String(d.clone()));
    }
    if let Some(mut params) = f.parameters.clone() {
        clean_schema(&mut params);
        // An object without properties is rejected; a function without parameters is not.
        let empty = params
            .get("properties")
            .is_none_or(|p| p.as_object().is_some_and(Map::is_empty));
        if !(params["type"] == "object" && empty) {
            out.insert("parameters".into(), params);
        }
    }
    Some(Value::Object(out))
}

fn calling_config(choice: &Value) -> Result<Value, ProviderError> {
    match choice {
        Value::String(s) => match s.as_str() {
            "auto" => Ok(json!({ "mode": "AUTO" })),
            "none" => Ok(json!({ "mode": "NONE" })),
            "required" => Ok(json!({ "mode": "ANY" })),
            other => Err(unsupported(format!("unknown tool_choice '{other}'"))),
        },
        Value::Object(o) => match o
            .get("function")
            .and_then(|f| f.get("name"))
            .and_then(Value::as_str)
        {
            Some(name) => Ok(json!({ "mode": "ANY", "allowedFunctionNames": [name] })),
            None => Err(unsupported("tool_choice object must name a function")),
        },
        _ => Err(unsupported("tool_choice must be a string or an object")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(body: Value) -> ChatRequest {
        serde_json::from_value(body).unwrap()
    }

    #[test]
    fn tool_result_is_named_after_its_call_and_signature_returns() {
        let r = req(json!({"model":"m","messages":[
            {"role":"user","content":"hi"},
            {"role":"assistant","tool_calls":[{"id":"call_x__ts_AbC-_9","type":"function","function":{"name":"find","arguments":"{\"q\":1}"}}]},
            {"role":"tool","tool_call_id":"call_x__ts_AbC-_9","content":"not json"}]}));
        let body = build(&r).unwrap();
        let turns = body["contents"].as_array().unwrap();
        assert_eq!(turns[1]["role"], "model");
        assert_eq!(turns[1]["parts"][0]["thoughtSignature"], "AbC+/9==");
        assert_eq!(
            turns[2]["parts"][0]["functionResponse"],
            json!({"name":"find","response":{"content":"not json"}})
        );
    }

    #[test]
    fn schema_cleaning_and_empty_parameters() {
        let t: Tool = serde_json::from_value(
            json!({"type":"function","function":{"name":"f","parameters":
            {"type":"object","properties":{},"additionalProperties":false}}}),
        )
        .unwrap();
        assert_eq!(declaration(&t), Some(json!({"name":"f"})));
        assert_eq!(
            calling_config(&json!({"type":"function","function":{"name":"f"}})).unwrap()["mode"],
            "ANY"
        );
    }

    #[test]
    fn reasoning_becomes_a_thinking_budget() {
        let config = |extra: Value| {
            let mut v = json!({"model": "m", "messages": [{"role": "user", "content": "x"}]});
            if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
                o.extend(e.clone());
            }
            build(&req(v)).unwrap()["generationConfig"]["thinkingConfig"].clone()
        };
        assert_eq!(
            config(json!({"reasoning_effort": "low"})),
            json!({"thinkingBudget": 1024, "includeThoughts": true})
        );
        assert_eq!(
            config(json!({"reasoning_effort": "none"})),
            json!({"thinkingBudget": 0})
        );
        assert_eq!(
            config(
                json!({"thinking": {"type": "enabled", "budget_tokens": 3000}, "reasoning_effort": "high"})
            ),
            json!({"thinkingBudget": 3000, "includeThoughts": true})
        );
        assert_eq!(
            config(json!({"thinking": {"type": "adaptive"}}))["thinkingBudget"],
            -1
        );
        assert_eq!(
            config(json!({"thinking_config": {"thinkingBudget": 5}, "reasoning_effort": "high"})),
            json!({"thinkingBudget": 5})
        );
        assert_eq!(
            config(json!({"thinking": {"type": "disabled"}})),
            Value::Null
        );
        let r = req(json!({"model": "m", "messages": [], "logit_bias": {"1": 1}, "seed": 1}));
        assert_eq!(unsupported_params(&r), ["logit_bias"]);
    }

    #[test]
    fn unsupported_parts_are_rejected() {
        let r = req(
            json!({"model":"m","messages":[{"role":"user","content":[{"type":"refusal","refusal":"x"}]}]}),
        );
        assert!(matches!(build(&r), Err(ProviderError::Unsupported(_))));
    }
}
