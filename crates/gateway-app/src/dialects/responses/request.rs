//! `POST /v1/responses` request -> a [`Turn`]: the canonical chat to run (instructions and
//! this request's input; the stored history joins it once the caller is known) and what the
//! answer echoes. Every parameter is either translated, accepted with a documented meaning, or
//! refused with a 400 that names it; nothing is dropped silently.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use gateway_core::types::{FunctionDef, StreamOptions, Tool};
use gateway_core::{ChatRequest, GatewayError};

use super::input::{Input, decode_input};
use super::turn::Turn;

/// The request body. Unknown parameters are refused by name (`deny_unknown_fields`).
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "CreateResponse")]
pub(crate) struct CreateResponse {
    model: String,
    input: Option<Input>,
    instructions: Option<String>,
    tools: Option<Vec<Value>>,
    tool_choice: Option<Value>,
    text: Option<TextConfig>,
    reasoning: Option<Reasoning>,
    max_output_tokens: Option<u32>,
    temperature: Option<f64>,
    top_p: Option<f64>,
    metadata: Option<Map<String, Value>>,
    parallel_tool_calls: Option<bool>,
    store: Option<bool>,
    previous_response_id: Option<String>,
    stream: Option<bool>,
    /// Only `include_obfuscation`, which has no meaning here (events are not padded).
    stream_options: Option<Value>,
    user: Option<String>,
    safety_identifier: Option<String>,
    prompt_cache_key: Option<String>,
    service_tier: Option<String>,
    truncation: Option<String>,
    include: Option<Vec<String>>,
    background: Option<bool>,
    // Known, and refused when set (see `refuse_unsupported`).
    conversation: Option<Value>,
    prompt: Option<Value>,
    max_tool_calls: Option<Value>,
    top_logprobs: Option<Value>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ResponseTextConfig")]
struct TextConfig {
    format: Option<Value>,
    verbosity: Option<String>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ResponseReasoning")]
struct Reasoning {
    effort: Option<String>,
    /// Accepted; no reasoning summaries are produced.
    summary: Option<String>,
    generate_summary: Option<String>,
}

/// `include` values that ask for nothing this gateway would leave out.
const HARMLESS_INCLUDES: [&str; 2] = [
    "reasoning.encrypted_content",
    "message.input_image.image_url",
];

fn unsupported(param: &str, message: impl Into<String>) -> GatewayError {
    GatewayError::InvalidRequest {
        message: message.into(),
        param: Some(param.to_owned()),
        code: Some("unsupported_parameter"),
    }
}

/// Decodes a `POST /v1/responses` body.
pub fn decode_request(body: &[u8]) -> Result<Turn, GatewayError> {
    let req: CreateResponse = crate::http::body::parse_json(body)?;
    refuse_unsupported(&req)?;
    let (input_messages, input_items) = match req.input {
        Some(input) => decode_input(input)?,
        None => (Vec::new(), Vec::new()),
    };
    if input_messages.is_empty() {
        return Err(GatewayError::invalid_param(
            "input",
            "'input' must hold at least one message or tool output.",
        ));
    }
    let tools = req
        .tools
        .as_deref()
        .map(decode_tools)
        .transpose()?
        .filter(|t| !t.is_empty());
    let tool_choice = req
        .tool_choice
        .as_ref()
        .map(decode_tool_choice)
        .transpose()?;
    let text = req.text.unwrap_or_default();
    let response_format = text
        .format
        .as_ref()
        .map(decode_format)
        .transpose()?
        .flatten();
    let reasoning = req.reasoning.unwrap_or_default();
    let stream = req.stream.unwrap_or(false);

    let mut extra = Map::new();
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(value) = value {
            extra.insert(key.to_owned(), value);
        }
    };
    put(
        "reasoning_effort",
        reasoning.effort.clone().map(Value::String),
    );
    put("verbosity", text.verbosity.clone().map(Value::String));
    put(
        "prompt_cache_key",
        req.prompt_cache_key.clone().map(Value::String),
    );
    put(
        "safety_identifier",
        req.safety_identifier.clone().map(Value::String),
    );
    put("service_tier", req.service_tier.clone().map(Value::String));

    let chat = ChatRequest {
        model: req.model.clone(),
        messages: Vec::new(),
        stream,
        // The final event carries usage, so the stream must report it.
        stream_options: stream.then(|| StreamOptions {
            include_usage: Some(true),
            extra: Map::new(),
        }),
        temperature: req.temperature,
        top_p: req.top_p,
        max_completion_tokens: req.max_output_tokens,
        user: req.user.clone(),
        tools,
        tool_choice,
        parallel_tool_calls: req.parallel_tool_calls,
        response_format,
        extra,
        ..ChatRequest::default()
    };

    // What the response object repeats of the request, whatever the upstream.
    let mut format = text
        .format
        .clone()
        .unwrap_or_else(|| json!({"type": "text"}));
    if let Some(f) = format.as_object_mut()
        && f.get("type").and_then(Value::as_str) == Some("json_schema")
    {
        f.entry("strict").or_insert(Value::Bool(false));
    }
    let mut text_echo = Map::new();
    text_echo.insert("format".into(), format);
    if let Some(v) = &text.verbosity {
        text_echo.insert("verbosity".into(), json!(v));
    }
    let echo = json!({
        "background": false,
        "instructions": req.instructions,
        "max_output_tokens": req.max_output_tokens,
        "max_tool_calls": null,
        "metadata": req.metadata.unwrap_or_default(),
        "model": req.model,
        "parallel_tool_calls": req.parallel_tool_calls.unwrap_or(true),
        "previous_response_id": req.previous_response_id,
        "prompt_cache_key": req.prompt_cache_key,
        "reasoning": {
            "effort": reasoning.effort,
            "summary": reasoning.summary.or(reasoning.generate_summary),
        },
        "safety_identifier": req.safety_identifier,
        "service_tier": req.service_tier.unwrap_or_else(|| "default".to_owned()),
        "store": req.store.unwrap_or(true),
        "temperature": req.temperature.unwrap_or(1.0),
        "text": text_echo,
        "tool_choice": req.tool_choice.unwrap_or_else(|| json!("auto")),
        "tools": req.tools.unwrap_or_default(),
        "top_logprobs": 0,
        "top_p": req.top_p.unwrap_or(1.0),
        "truncation": req.truncation.unwrap_or_else(|| "disabled".to_owned()),
        "user": req.user,
    });
    // A JSON object literal is always an object.
    let Value::Object(echo) = echo else {
        return Err(GatewayError::Internal(
            "response echo is not an object".into(),
        ));
    };
    Ok(Turn::new(
        chat,
        req.instructions,
        input_messages,
        input_items,
        echo,
        req.store.unwrap_or(true),
        req.previous_response_id,
    ))
}

/// 400 for every parameter this gateway cannot honour, naming it.
fn refuse_unsupported(req: &CreateResponse) -> Result<(), GatewayError> {
    if req.background == Some(true) {
        return Err(unsupported(
            "background",
            "Background responses are not supported by this gateway; send the request without 'background'.",
        ));
    }
    let set = |v: &Option<Value>| v.as_ref().is_some_and(|v| !v.is_null());
    for (param, value, what) in [
        (
            "conversation",
            &req.conversation,
            "Conversation objects are not supported; continue a conversation with 'previous_response_id'.",
        ),
        (
            "prompt",
            &req.prompt,
            "Stored prompt templates are not supported; send 'instructions' and 'input'.",
        ),
        (
            "max_tool_calls",
            &req.max_tool_calls,
            "'max_tool_calls' applies to built-in tools, which this gateway does not run.",
        ),
        (
            "top_logprobs",
            &req.top_logprobs,
            "Log probabilities are not supported on /v1/responses; use /v1/chat/completions.",
        ),
    ] {
        if set(value) {
            return Err(unsupported(param, what));
        }
    }
    if req
        .stream_options
        .as_ref()
        .is_some_and(|o| !o.is_object() && !o.is_null())
    {
        return Err(GatewayError::invalid_param(
            "stream_options",
            "'stream_options' must be an object.",
        ));
    }
    if let Some(truncation) = req.truncation.as_deref()
        && !matches!(truncation, "auto" | "disabled")
    {
        return Err(GatewayError::invalid_param(
            "truncation",
            format!("'truncation' must be 'auto' or 'disabled', not '{truncation}'."),
        ));
    }
    for value in req.include.iter().flatten() {
        if !HARMLESS_INCLUDES.contains(&value.as_str()) {
            return Err(unsupported(
                "include",
                format!("'include' value '{value}' is not supported by this gateway."),
            ));
        }
    }
    Ok(())
}

/// Function tools -> canonical tools; any built-in tool is refused by name.
fn decode_tools(tools: &[Value]) -> Result<Vec<Tool>, GatewayError> {
    tools
        .iter()
        .enumerate()
        .map(|(i, tool)| {
            let kind = tool.get("type").and_then(Value::as_str).unwrap_or_default();
            if kind != "function" {
                return Err(unsupported(
                    &format!("tools[{i}].type"),
                    format!(
                        "Tool type '{kind}' is not supported by this gateway: built-in tools (web search, file search, computer use, code interpreter, image generation, MCP...) are not run here; only 'function' tools are."
                    ),
                ));
            }
            let name = tool
                .get("name")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
                .ok_or_else(|| {
                    GatewayError::invalid_param(
                        &format!("tools[{i}].name"),
                        "A function tool needs a 'name'.",
                    )
                })?;
            Ok(Tool {
                kind: "function".to_owned(),
                function: Some(FunctionDef {
                    name: name.to_owned(),
                    description: tool
                        .get("description")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    parameters: tool.get("parameters").filter(|p| !p.is_null()).cloned(),
                    strict: tool.get("strict").and_then(Value::as_bool),
                }),
                extra: Map::new(),
            })
        })
        .collect()
}

/// `"auto" | "none" | "required" | {"type": "function", "name"}` -> chat's `tool_choice`.
fn decode_tool_choice(choice: &Value) -> Result<Value, GatewayError> {
    match choice {
        Value::String(s) if matches!(s.as_str(), "auto" | "none" | "required") => {
            Ok(choice.clone())
        }
        Value::Object(o) if o.get("type").and_then(Value::as_str) == Some("function") => {
            let name = o.get("name").and_then(Value::as_str).ok_or_else(|| {
                GatewayError::invalid_param(
                    "tool_choice.name",
                    "A function 'tool_choice' needs a 'name'.",
                )
            })?;
            Ok(json!({"type": "function", "function": {"name": name}}))
        }
        _ => Err(unsupported(
            "tool_choice",
            "'tool_choice' must be 'auto', 'none', 'required' or {\"type\": \"function\", \"name\": ...}.",
        )),
    }
}

/// `text.format` -> chat's `response_format` (`None` for plain text).
fn decode_format(format: &Value) -> Result<Option<Value>, GatewayError> {
    match format.get("type").and_then(Value::as_str) {
        Some("text") => Ok(None),
        Some("json_object") => Ok(Some(json!({"type": "json_object"}))),
        Some("json_schema") => {
            let name = format.get("name").and_then(Value::as_str).ok_or_else(|| {
                GatewayError::invalid_param(
                    "text.format.name",
                    "A 'json_schema' format needs a 'name'.",
                )
            })?;
            let schema = format
                .get("schema")
                .filter(|s| s.is_object())
                .ok_or_else(|| {
                    GatewayError::invalid_param(
                        "text.format.schema",
                        "A 'json_schema' format needs a 'schema' object.",
                    )
                })?;
            let mut json_schema = json!({"name": name, "schema": schema});
            for key in ["description", "strict"] {
                if let Some(v) = format.get(key).filter(|v| !v.is_null()) {
                    json_schema[key] = v.clone();
                }
            }
            Ok(Some(
                json!({"type": "json_schema", "json_schema": json_schema}),
            ))
        }
        _ => Err(unsupported(
            "text.format.type",
            "'text.format.type' must be 'text', 'json_object' or 'json_schema'.",
        )),
    }
}
