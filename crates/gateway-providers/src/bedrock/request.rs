//! Canonical (OpenAI-shaped) request -> Bedrock `Converse` / `ConverseStream` body.
//!
//! System and developer messages become `system` text blocks (folded into the first user turn
//! for Titan text models, which take no system prompt); turns alternate `user`/`assistant`
//! (consecutive ones of one role are merged, as Converse requires); assistant tool calls are
//! `toolUse` blocks, tool results `toolResult` blocks of a user turn; images from data URLs are
//! `image` blocks (Converse takes no remote URLs); sampling settings go in `inferenceConfig`,
//! tools in `toolConfig`; `top_k` and Anthropic's `thinking` go in
//! `additionalModelRequestFields`. The model is not part of the body: it is in the URL.

use bytes::Bytes;
use serde_json::{Map, Value, json};

use gateway_core::types::{Content, ContentPart, Message, Role, Tool};
use gateway_core::{ChatRequest, ProviderError};

use crate::media::MediaRef;

fn unsupported(message: impl Into<String>) -> ProviderError {
    ProviderError::Unsupported(message.into())
}

/// The model families Converse serves here, told apart by the model id (with or without a
/// cross-region inference prefix such as `us.`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Anthropic,
    Llama,
    Mistral,
    Titan,
    Other,
}

impl Family {
    pub fn of(model: &str) -> Family {
        let id = model.rsplit('/').next().unwrap_or(model);
        let has = |vendor: &str| {
            id.starts_with(vendor)
                || id
                    .split_once('.')
                    .is_some_and(|(_, r)| r.starts_with(vendor))
        };
        if has("anthropic.") {
            Family::Anthropic
        } else if has("meta.") {
            Family::Llama
        } else if has("mistral.") {
            Family::Mistral
        } else if has("amazon.titan") {
            Family::Titan
        } else {
            Family::Other
        }
    }
}

/// Serialise the Converse body for `req`.
pub fn encode(req: &ChatRequest) -> Result<Bytes, ProviderError> {
    let body = build(req)?;
    serde_json::to_vec(&body)
        .map(Bytes::from)
        .map_err(|e| unsupported(format!("cannot encode request: {e}")))
}

/// The Converse body for `req`, as JSON.
pub fn build(req: &ChatRequest) -> Result<Value, ProviderError> {
    let family = Family::of(&req.model);
    let mut body = Map::new();
    let (system, mut messages) = messages(&req.messages)?;
    if !system.is_empty() {
        if family == Family::Titan {
            fold_system_into_first_turn(&system, &mut messages);
        } else {
            body.insert("system".into(), Value::Array(system));
        }
    }
    body.insert("messages".into(), Value::Array(messages));
    let config = inference_config(req);
    if !config.is_empty() {
        body.insert("inferenceConfig".into(), Value::Object(config));
    }
    if let Some(tools) = tool_config(req)? {
        body.insert("toolConfig".into(), tools);
    }
    let mut additional = Map::new();
    if let Some(top_k) = req.extra.get("top_k") {
        additional.insert("top_k".into(), top_k.clone());
    }
    if family == Family::Anthropic
        && let Some(thinking) = req.extra.get("thinking")
    {
        additional.insert("thinking".into(), thinking.clone());
    }
    if let Some(Value::Object(fields)) = req.extra.get("additionalModelRequestFields") {
        additional.extend(fields.clone());
    }
    if !additional.is_empty() {
        body.insert(
            "additionalModelRequestFields".into(),
            Value::Object(additional),
        );
    }
    if let Some(guardrail) = req.extra.get("guardrailConfig") {
        body.insert("guardrailConfig".into(), guardrail.clone());
    }
    Ok(Value::Object(body))
}

/// What Converse has no form for and is left out (for the unsupported-parameter policy).
pub fn unsupported_params(req: &ChatRequest) -> Vec<&'static str> {
    let mut out = Vec::new();
    let mut note = |set: bool, name: &'static str| {
        if set {
            out.push(name);
        }
    };
    note(req.logit_bias.is_some(), "logit_bias");
    note(req.presence_penalty.is_some(), "presence_penalty");
    note(req.frequency_penalty.is_some(), "frequency_penalty");
    note(req.seed.is_some(), "seed");
    note(req.logprobs.is_some(), "logprobs");
    note(req.n.is_some_and(|n| n > 1), "n");
    note(req.response_format.is_some(), "response_format");
    out
}

fn inference_config(req: &ChatRequest) -> Map<String, Value> {
    let mut c = Map::new();
    if let Some(v) = req.max_output_tokens() {
        c.insert("maxTokens".into(), json!(v));
    }
    if let Some(v) = req.temperature {
        c.insert("temperature".into(), json!(v));
    }
    if let Some(v) = req.top_p {
        c.insert("topP".into(), json!(v));
    }
    if let Some(stop) = &req.stop {
        c.insert("stopSequences".into(), json!(stop.as_slice()));
    }
    c
}

fn tool_config(req: &ChatRequest) -> Result<Option<Value>, ProviderError> {
    let tools: Vec<Value> = req.tools.iter().flatten().filter_map(tool_spec).collect();
    if tools.is_empty() {
        return Ok(None);
    }
    let mut config = json!({ "tools": tools });
    // `none` has no Converse form: the tools stay declared (earlier turns may use them).
    let choice = match &req.tool_choice {
        None => None,
        Some(Value::String(s)) => match s.as_str() {
            "auto" | "none" => None,
            "required" => Some(json!({ "any": {} })),
            other => return Err(unsupported(format!("unknown tool_choice '{other}'"))),
        },
        Some(Value::Object(o)) => match o
            .get("function")
            .and_then(|f| f.get("name"))
            .and_then(Value::as_str)
        {
            Some(name) => Some(json!({ "tool": { "name": name } })),
            None => return Err(unsupported("tool_choice object must name a function")),
        },
        Some(_) => return Err(unsupported("tool_choice must be a string or an object")),
    };
    if let (Some(choice), Some(obj)) = (choice, config.as_object_mut()) {
        obj.insert("toolChoice".into(), choice);
    }
    Ok(Some(config))
}

fn tool_spec(t: &Tool) -> Option<Value> {
    let f = t.function.as_ref()?;
    let schema = f
        .parameters
        .clone()
        .unwrap_or_else(|| json!({ "type": "object", "properties": {} }));
    let mut spec = json!({ "name": f.name, "inputSchema": { "json": schema } });
    if let (Some(d), Some(obj)) = (&f.description, spec.as_object_mut()) {
        obj.insert("description".into(), Value::String(d.clone()));
    }
    Some(json!({ "toolSpec": spec }))
}

/// (`system` blocks, `messages`).
fn messages(messages: &[Message]) -> Result<(Vec<Value>, Vec<Value>), ProviderError> {
    let mut system = Vec::new();
    let mut turns: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let (role, blocks) = match m.role {
            Role::System | Role::Developer => {
                if let Some(c) = &m.content {
                    system.extend(
                        c.texts()
                            .filter(|t| !t.is_empty())
                            .map(|t| json!({ "text": t })),
                    );
                }
                continue;
            }
            Role::User => ("user", content_blocks(m.content.as_ref())?),
            Role::Assistant => ("assistant", assistant_blocks(m, i)?),
            Role::Tool | Role::Function => ("user", vec![tool_result(m)]),
        };
        if blocks.is_empty() {
            continue;
        }
        match turns.last_mut() {
            Some((last, existing)) if *last == role => existing.extend(blocks),
            _ => turns.push((role, blocks)),
        }
    }
    let turns = turns
        .into_iter()
        .map(|(role, content)| json!({ "role": role, "content": content }))
        .collect();
    Ok((system, turns))
}

fn fold_system_into_first_turn(system: &[Value], messages: &mut [Value]) {
    let text: Vec<&str> = system.iter().filter_map(|b| b["text"].as_str()).collect();
    let preamble = json!({ "text": text.join("\n") });
    if let Some(Value::Array(content)) = messages
        .iter_mut()
        .find(|m| m["role"] == "user")
        .and_then(|m| m.get_mut("content"))
    {
        content.insert(0, preamble);
    }
}

fn content_blocks(content: Option<&Content>) -> Result<Vec<Value>, ProviderError> {
    match content {
        None => Ok(Vec::new()),
        Some(Content::Text(t)) if t.is_empty() => Ok(Vec::new()),
        Some(Content::Text(t)) => Ok(vec![json!({ "text": t })]),
        Some(Content::Parts(parts)) => parts.iter().filter_map(|p| part(p).transpose()).collect(),
    }
}

/// A data URL as Converse's `{format, source: {bytes}}` (base64 in JSON).
fn inline(url: &str, what: &str) -> Result<(String, String), ProviderError> {
    match MediaRef::parse(url) {
        MediaRef::Inline { mime, data } => {
            let format = mime.rsplit('/').next().unwrap_or_default();
            let format = if format == "jpg" { "jpeg" } else { format };
            Ok((format.to_owned(), data.to_owned()))
        }
        MediaRef::Remote { .. } => Err(unsupported(format!(
            "Bedrock takes {what} as data: URLs only, not remote URLs"
        ))),
    }
}

fn part(p: &ContentPart) -> Result<Option<Value>, ProviderError> {
    match p.kind.as_str() {
        "text" => Ok(p
            .text
            .as_deref()
            .filter(|t| !t.is_empty())
            .map(|t| json!({ "text": t }))),
        "image_url" => {
            let url = p
                .image_url
                .as_ref()
                .ok_or_else(|| unsupported("image_url part without 'image_url'"))?;
            let (format, data) = inline(&url.url, "images")?;
            Ok(Some(
                json!({ "image": { "format": format, "source": { "bytes": data } } }),
            ))
        }
        "file" => {
            let file = p.extra.get("file");
            let url = file.and_then(|f| f["file_data"].as_str()).ok_or_else(|| {
                unsupported("file parts need 'file_data' (a data: URL) for Bedrock")
            })?;
            let (format, data) = inline(url, "documents")?;
            let name = file
                .and_then(|f| f["filename"].as_str())
                .and_then(|n| n.split('.').next())
                .filter(|n| !n.is_empty())
                .unwrap_or("document");
            Ok(Some(
                json!({ "document": { "format": format, "name": name, "source": { "bytes": data } } }),
            ))
        }
        other => Err(unsupported(format!(
            "content part type '{other}' is not supported by Bedrock"
        ))),
    }
}

fn assistant_blocks(m: &Message, index: usize) -> Result<Vec<Value>, ProviderError> {
    let mut blocks = content_blocks(m.content.as_ref())?;
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
        blocks.push(json!({ "toolUse": {
            "toolUseId": call.id, "name": call.function.name, "input": input
        } }));
    }
    Ok(blocks)
}

/// A tool message as a `toolResult` block: JSON objects as `json` content, the rest as text.
fn tool_result(m: &Message) -> Value {
    let id = m.tool_call_id.as_deref().unwrap_or_default();
    let text = m
        .content
        .as_ref()
        .map(Content::joined_text)
        .unwrap_or_default();
    let content = match serde_json::from_str::<Value>(&text) {
        Ok(obj @ Value::Object(_)) => json!([{ "json": obj }]),
        _ => json!([{ "text": text }]),
    };
    json!({ "toolResult": { "toolUseId": id, "content": content, "status": "success" } })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(body: Value) -> ChatRequest {
        serde_json::from_value(body).unwrap()
    }

    #[test]
    fn families_by_model_id() {
        for (id, family) in [
            (
                "anthropic.claude-3-5-sonnet-20240620-v1:0",
                Family::Anthropic,
            ),
            (
                "us.anthropic.claude-sonnet-4-20250514-v1:0",
                Family::Anthropic,
            ),
            ("meta.llama3-1-70b-instruct-v1:0", Family::Llama),
            ("mistral.mistral-large-2402-v1:0", Family::Mistral),
            ("amazon.titan-text-express-v1", Family::Titan),
            ("amazon.nova-pro-v1:0", Family::Other),
        ] {
            assert_eq!(Family::of(id), family, "{id}");
        }
    }

    #[test]
    fn titan_gets_the_system_prompt_in_the_first_user_turn() {
        let r = req(json!({"model":"amazon.titan-text-express-v1","messages":[
            {"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}]}));
        let body = build(&r).unwrap();
        assert!(body.get("system").is_none());
        assert_eq!(
            body["messages"][0]["content"],
            json!([{"text":"Be brief."},{"text":"Hi"}])
        );
        let claude = req(
            json!({"model":"anthropic.claude-3-haiku-20240307-v1:0","messages":[
            {"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}]}),
        );
        assert_eq!(
            build(&claude).unwrap()["system"],
            json!([{"text":"Be brief."}])
        );
    }

    #[test]
    fn tool_results_merge_into_one_user_turn() {
        let r = req(json!({"model":"m","messages":[
            {"role":"user","content":"weather?"},
            {"role":"assistant","tool_calls":[
                {"id":"t1","type":"function","function":{"name":"w","arguments":"{\"c\":\"Paris\"}"}},
                {"id":"t2","type":"function","function":{"name":"w","arguments":""}}]},
            {"role":"tool","tool_call_id":"t1","content":"{\"temp\":20}"},
            {"role":"tool","tool_call_id":"t2","content":"sunny"}]}));
        let body = build(&r).unwrap();
        let turns = body["messages"].as_array().unwrap();
        assert_eq!(turns.len(), 3);
        assert_eq!(turns[1]["content"][1]["toolUse"]["input"], json!({}));
        assert_eq!(
            turns[2]["content"],
            json!([
                {"toolResult":{"toolUseId":"t1","content":[{"json":{"temp":20}}],"status":"success"}},
                {"toolResult":{"toolUseId":"t2","content":[{"text":"sunny"}],"status":"success"}}
            ])
        );
    }

    #[test]
    fn remote_images_and_bad_tool_choice_are_refused() {
        let remote = req(json!({"model":"m","messages":[{"role":"user","content":[
            {"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]}));
        assert!(matches!(build(&remote), Err(ProviderError::Unsupported(_))));
        let bad = req(json!({"model":"m","messages":[],"tool_choice":"sometimes",
            "tools":[{"type":"function","function":{"name":"f"}}]}));
        assert!(build(&bad).is_err());
        let r = req(json!({"model":"m","messages":[],"seed":1,"logit_bias":{}}));
        assert_eq!(unsupported_params(&r), ["logit_bias", "seed"]);
    }
}
