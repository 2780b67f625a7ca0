//! Gemini `GenerateContentRequest` -> canonical [`ChatRequest`].
//!
//! `systemInstruction` becomes a leading system message; a `model` turn an assistant message
//! (`functionCall` parts its tool calls, thought parts its `reasoning_content`); a `user` turn's
//! `functionResponse` parts become `tool` messages answering the call they name (by `id`, else
//! the oldest unanswered call of that name), before the turn's other parts; `inlineData`
//! becomes an image (a `data:` URL), audio or file part, `fileData` an image URL;
//! `generationConfig` maps onto the sampling fields, `responseMimeType` + schema onto
//! `response_format`; `thinkingConfig` travels in `extra` for Gemini upstreams and as a
//! `reasoning_effort` for the others; `topK` and `safetySettings` travel in `extra`, where the
//! provider adapters that know them find them (the OpenAI one leaves them out).

use gateway_core::types::{ContentPart, Extra, FunctionDef, ImageUrl, Role, Stop, StreamOptions};
use gateway_core::types::{Tool, ToolCall};
use gateway_core::{ChatRequest, GatewayError, Message};
use gateway_providers::gemini::response::call_id;
use gateway_providers::reasoning::effort_for_budget;
use serde_json::{Value, json};

use super::schema::to_json_schema;
use super::wire::{
    FunctionCallingConfig, GenerateContentRequest, GenerationConfig, WireContent, WirePart,
    WireTool,
};

pub(super) fn invalid(message: impl Into<String>) -> GatewayError {
    GatewayError::invalid(message)
}

/// Parse a JSON body into a Gemini wire type, with Google's wording for what is wrong.
pub(super) fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, GatewayError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(invalid("Invalid JSON payload received: the body is empty."));
    }
    gateway_core::types::from_json_bytes(body)
        .map_err(|e| invalid(format!("Invalid JSON payload received. {e}.")))
}

/// Decode a `generateContent` / `streamGenerateContent` body for `model` (from the path).
pub fn decode(model: &str, body: &[u8], stream: bool) -> Result<ChatRequest, GatewayError> {
    let req: GenerateContentRequest = parse(body)?;
    to_chat(model, req, stream)
}

/// The canonical request of a Gemini request for `model`.
pub fn to_chat(
    model: &str,
    req: GenerateContentRequest,
    stream: bool,
) -> Result<ChatRequest, GatewayError> {
    if req.contents.is_empty() {
        return Err(invalid(
            "* GenerateContentRequest.contents: contents is not specified",
        ));
    }
    if let Some(named) = &req.model
        && named.strip_prefix("models/").unwrap_or(named) != model
    {
        return Err(invalid(format!(
            "model: '{named}' differs from the model of the URL, '{model}'"
        )));
    }
    if req.cached_content.is_some() {
        return Err(invalid(
            "cachedContent names a cache of one Google project and is not supported through the gateway; send the contents instead.",
        ));
    }
    let mut messages = Vec::with_capacity(req.contents.len() + 1);
    if let Some(system) = req.system_instruction {
        messages.push(system_message(system)?);
    }
    turns(req.contents, &mut messages)?;
    let mut chat = ChatRequest {
        model: model.to_owned(),
        messages,
        stream,
        stream_options: stream.then(|| StreamOptions {
            include_usage: Some(true),
            extra: Extra::new(),
        }),
        ..ChatRequest::default()
    };
    tools(req.tools, &mut chat)?;
    if let Some(config) = req.tool_config.and_then(|c| c.function_calling_config) {
        tool_choice(config, &mut chat)?;
    }
    if let Some(config) = req.generation_config {
        generation_config(config, &mut chat)?;
    }
    if let Some(settings) = req.safety_settings {
        chat.extra
            .insert("safety_settings".into(), Value::Array(settings));
    }
    Ok(chat)
}

fn system_message(system: WireContent) -> Result<Message, GatewayError> {
    let mut texts = Vec::with_capacity(system.parts.len());
    for part in system.parts {
        match part.text {
            Some(text) => texts.push(text),
            None => {
                return Err(invalid("systemInstruction: only text parts are supported"));
            }
        }
    }
    Ok(Message::text(Role::System, texts.join("\n")))
}

/// A call of an earlier `model` turn that no `functionResponse` answered yet.
struct OpenCall {
    /// The `id` the client knows the call by, when it had one.
    client_id: Option<String>,
    name: String,
    id: String,
}

fn turns(contents: Vec<WireContent>, out: &mut Vec<Message>) -> Result<(), GatewayError> {
    let mut open: Vec<OpenCall> = Vec::new();
    for (i, content) in contents.into_iter().enumerate() {
        if content.parts.is_empty() {
            return Err(invalid(format!(
                "* GenerateContentRequest.contents[{i}].parts: contents.parts must not be empty."
            )));
        }
        match content.role.as_deref().unwrap_or("user") {
            "model" => out.push(model_turn(content.parts, i, &mut open)?),
            // `function` is the role older clients give function responses.
            "user" | "function" => user_turn(content.parts, i, &mut open, out)?,
            other => {
                return Err(invalid(format!(
                    "contents[{i}].role: '{other}' is not a valid role; use user or model."
                )));
            }
        }
    }
    Ok(())
}

fn model_turn(
    parts: Vec<WirePart>,
    turn: usize,
    open: &mut Vec<OpenCall>,
) -> Result<Message, GatewayError> {
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut calls = Vec::new();
    for (j, part) in parts.into_iter().enumerate() {
        if let Some(call) = part.function_call {
            let id = call_id(call.id.as_deref(), part.thought_signature.as_deref());
            let args = call.args.unwrap_or_else(|| json!({}));
            open.push(OpenCall {
                client_id: call.id,
                name: call.name.clone(),
                id: id.clone(),
            });
            calls.push(ToolCall {
                id,
                kind: "function".into(),
                function: gateway_core::types::FunctionCall {
                    name: call.name,
                    arguments: args.to_string(),
                },
            });
        } else if let Some(t) = part.text {
            if part.thought == Some(true) {
                reasoning.push_str(&t);
            } else {
                text.push_str(&t);
            }
        } else {
            return Err(unsupported_part(&part, turn, j));
        }
    }
    let mut message = Message::text(Role::Assistant, text);
    if !calls.is_empty() {
        if matches!(&message.content, Some(gateway_core::types::Content::Text(t)) if t.is_empty()) {
            message.content = None;
        }
        message.tool_calls = Some(calls);
    }
    if !reasoning.is_empty() {
        message
            .extra
            .insert("reasoning_content".into(), Value::String(reasoning));
    }
    Ok(message)
}

fn user_turn(
    parts: Vec<WirePart>,
    turn: usize,
    open: &mut Vec<OpenCall>,
    out: &mut Vec<Message>,
) -> Result<(), GatewayError> {
    let mut content = Vec::new();
    for (j, part) in parts.into_iter().enumerate() {
        if let Some(response) = part.function_response {
            let position = match &response.id {
                Some(id) => open
                    .iter()
                    .position(|c| c.client_id.as_deref() == Some(id.as_str())),
                None => open.iter().position(|c| c.name == response.name),
            };
            let Some(position) = position else {
                return Err(invalid(format!(
                    "contents[{turn}].parts[{j}].functionResponse: no earlier functionCall named '{}' is waiting for a response",
                    response.name
                )));
            };
            let call = open.remove(position);
            let mut message = Message::text(Role::Tool, response.response.to_string());
            message.tool_call_id = Some(call.id);
            message.name = Some(response.name);
            out.push(message);
        } else if part.thought == Some(true) {
            // A client's own reasoning is not part of the prompt.
        } else if let Some(text) = part.text {
            content.push(ContentPart::text(text));
        } else if let Some(blob) = part.inline_data {
            content.push(inline_part(&blob.mime_type, &blob.data));
        } else if let Some(file) = part.file_data {
            match file.mime_type.as_deref() {
                None => {}
                Some(mime) if mime.starts_with("image/") => {}
                Some(mime) => {
                    return Err(invalid(format!(
                        "contents[{turn}].parts[{j}].fileData: only images can be referenced by URI through the gateway, not '{mime}'; send the data inline"
                    )));
                }
            }
            content.push(image(file.file_uri));
        } else {
            return Err(unsupported_part(&part, turn, j));
        }
    }
    if !content.is_empty() {
        let content = match <[ContentPart; 1]>::try_from(content) {
            Ok([only]) if only.kind == "text" => {
                gateway_core::types::Content::Text(only.text.unwrap_or_default())
            }
            Ok([only]) => gateway_core::types::Content::Parts(vec![only]),
            Err(many) => gateway_core::types::Content::Parts(many),
        };
        let mut message = Message::text(Role::User, String::new());
        message.content = Some(content);
        out.push(message);
    }
    Ok(())
}

fn image(url: String) -> ContentPart {
    ContentPart {
        kind: "image_url".into(),
        text: None,
        image_url: Some(ImageUrl { url, detail: None }),
        extra: Extra::new(),
    }
}

/// Inline data in the canonical part its media type calls for.
fn inline_part(mime: &str, data: &str) -> ContentPart {
    let url = format!("data:{mime};base64,{data}");
    if mime.starts_with("image/") {
        return image(url);
    }
    let (kind, value) = match mime.strip_prefix("audio/") {
        Some(format) => (
            "input_audio",
            json!({ "data": data, "format": format.trim_start_matches("x-") }),
        ),
        None => ("file", json!({ "file_data": url })),
    };
    let mut extra = Extra::new();
    extra.insert(kind.into(), value);
    ContentPart {
        kind: kind.into(),
        text: None,
        image_url: None,
        extra,
    }
}

fn unsupported_part(part: &WirePart, turn: usize, j: usize) -> GatewayError {
    let kind = if part.executable_code.is_some() || part.code_execution_result.is_some() {
        "code execution parts are"
    } else if part.function_call.is_some() {
        "functionCall parts are only valid in model turns and"
    } else if part.function_response.is_some() || part.inline_data.is_some() {
        "this part is only valid in user turns and"
    } else {
        "a part without text, data or a function call is"
    };
    invalid(format!(
        "contents[{turn}].parts[{j}]: {kind} not supported through the gateway"
    ))
}

fn tools(tools: Vec<WireTool>, chat: &mut ChatRequest) -> Result<(), GatewayError> {
    let mut out = Vec::new();
    for (i, tool) in tools.into_iter().enumerate() {
        if let Some(name) = tool.other.keys().next() {
            return Err(invalid(format!(
                "tools[{i}].{name}: Google's built-in tools are not supported through the gateway; declare functions instead"
            )));
        }
        for declaration in tool.function_declarations.into_iter().flatten() {
            let parameters = match (declaration.parameters_json_schema, declaration.parameters) {
                (Some(schema), _) => Some(schema),
                (None, Some(schema)) => Some(to_json_schema(schema)),
                (None, None) => None,
            };
            out.push(Tool {
                kind: "function".into(),
                function: Some(FunctionDef {
                    name: declaration.name,
                    description: declaration.description,
                    parameters,
                    strict: None,
                }),
                extra: Extra::new(),
            });
        }
    }
    if !out.is_empty() {
        chat.tools = Some(out);
    }
    Ok(())
}

/// `functionCallingConfig` -> `tool_choice`. `ANY` with a list of names restricts the tools to
/// those names (one name forces that function).
fn tool_choice(config: FunctionCallingConfig, chat: &mut ChatRequest) -> Result<(), GatewayError> {
    let choice = match config.mode.as_deref().unwrap_or("AUTO") {
        "AUTO" | "VALIDATED" | "MODE_UNSPECIFIED" => "auto",
        "NONE" => "none",
        "ANY" => "required",
        other => {
            return Err(invalid(format!(
                "toolConfig.functionCallingConfig.mode: unknown mode '{other}'"
            )));
        }
    };
    let allowed = config.allowed_function_names.unwrap_or_default();
    if choice == "required" && !allowed.is_empty() {
        if let Some(tools) = &mut chat.tools {
            tools.retain(|t| {
                t.function
                    .as_ref()
                    .is_some_and(|f| allowed.contains(&f.name))
            });
        }
        if let [only] = allowed.as_slice() {
            chat.tool_choice = Some(json!({ "type": "function", "function": { "name": only } }));
            return Ok(());
        }
    }
    chat.tool_choice = Some(Value::String(choice.to_owned()));
    Ok(())
}

fn generation_config(c: GenerationConfig, chat: &mut ChatRequest) -> Result<(), GatewayError> {
    if c.candidate_count.is_some_and(|n| n != 1) {
        return Err(invalid(
            "generationConfig.candidateCount: the gateway answers one candidate; use 1",
        ));
    }
    let text_only = c
        .response_modalities
        .iter()
        .flatten()
        .all(|m| m.eq_ignore_ascii_case("text"));
    if !text_only || c.speech_config.is_some() || c.image_config.is_some() {
        return Err(invalid(
            "generationConfig: only text answers are supported through the gateway (responseModalities TEXT, no speechConfig or imageConfig)",
        ));
    }
    chat.temperature = c.temperature;
    chat.top_p = c.top_p;
    chat.max_tokens = c.max_output_tokens;
    chat.stop = c.stop_sequences.map(Stop::Many);
    chat.seed = c.seed;
    chat.presence_penalty = c.presence_penalty;
    chat.frequency_penalty = c.frequency_penalty;
    chat.logprobs = c.response_logprobs;
    chat.top_logprobs = c.logprobs;
    if let Some(k) = c.top_k {
        chat.extra.insert("top_k".into(), json!(k));
    }
    if let Some(thinking) = c.thinking_config {
        if let Some(effort) = reasoning_effort(&thinking) {
            chat.extra
                .insert("reasoning_effort".into(), Value::String(effort.to_owned()));
        }
        chat.extra.insert("thinking_config".into(), thinking);
    }
    chat.response_format = response_format(
        c.response_mime_type.as_deref(),
        c.response_json_schema,
        c.response_schema,
    )?;
    Ok(())
}

/// The `reasoning_effort` other providers get for a `thinkingConfig` (Gemini upstreams get the
/// config itself): a level as it is, a positive budget on the shared scale
/// ([`gateway_providers::reasoning`]), the dynamic budget (-1) as `medium`; no thinking (0) asks
/// for nothing, since models that do not reason refuse the parameter.
fn reasoning_effort(thinking: &Value) -> Option<&'static str> {
    let field = |camel: &str, snake: &str| thinking.get(camel).or_else(|| thinking.get(snake));
    if let Some(level) = field("thinkingLevel", "thinking_level").and_then(Value::as_str) {
        return match level.to_ascii_lowercase().as_str() {
            "minimal" => Some("minimal"),
            "low" => Some("low"),
            "medium" => Some("medium"),
            "high" => Some("high"),
            _ => None,
        };
    }
    match field("thinkingBudget", "thinking_budget").and_then(Value::as_i64)? {
        ..0 => Some("medium"),
        0 => None,
        budget => Some(effort_for_budget(budget.unsigned_abs())),
    }
}

/// `responseMimeType` and its schema -> OpenAI's `response_format`.
fn response_format(
    mime: Option<&str>,
    json_schema: Option<Value>,
    schema: Option<Value>,
) -> Result<Option<Value>, GatewayError> {
    let schema = json_schema.or_else(|| schema.map(to_json_schema));
    match (mime.unwrap_or("text/plain"), schema) {
        ("text/plain", None) => Ok(None),
        ("application/json", None) => Ok(Some(json!({ "type": "json_object" }))),
        ("application/json", Some(schema)) => Ok(Some(json!({
            "type": "json_schema",
            "json_schema": { "name": "response", "schema": schema },
        }))),
        ("text/plain", Some(_)) => Err(invalid(
            "generationConfig.responseSchema needs responseMimeType 'application/json'",
        )),
        (other, _) => Err(invalid(format!(
            "generationConfig.responseMimeType: '{other}' is not supported through the gateway; use text/plain or application/json"
        ))),
    }
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
