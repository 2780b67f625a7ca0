//! Anthropic message content -> canonical messages: text and image blocks as parts, a user
//! turn's `tool_result` blocks as `tool` messages, an assistant turn's `tool_use` blocks as
//! tool calls and its thinking blocks kept in `extra`.

use gateway_core::types::{Content, ContentPart, Extra, FunctionCall, ImageUrl, Role, ToolCall};
use gateway_core::{GatewayError, Message};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::request::invalid;

/// A string, or content blocks (`text`, `image`, `tool_use`, `tool_result`, `thinking`...).
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
#[schemars(rename = "AnthropicContent")]
pub(super) enum InContent {
    Text(String),
    Blocks(Vec<Map<String, Value>>),
}

pub(super) fn message(role: Role, content: Content) -> Message {
    Message {
        content: Some(content),
        ..Message::text(role, "")
    }
}

fn text_of(block: &Map<String, Value>) -> String {
    block
        .get("text")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// A content part for a text, image or other (passed-through) block.
fn part(mut block: Map<String, Value>, path: &str) -> Result<ContentPart, GatewayError> {
    let kind = block
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let mut extra = Extra::new();
    if let Some(cc) = block.remove("cache_control") {
        extra.insert("cache_control".into(), cc);
    }
    match kind.as_str() {
        "text" => Ok(ContentPart {
            kind,
            text: Some(text_of(&block)),
            image_url: None,
            extra,
        }),
        "image" => {
            let source = block.get("source").cloned().unwrap_or_default();
            let url = match source["type"].as_str() {
                Some("base64") => format!(
                    "data:{};base64,{}",
                    source["media_type"].as_str().unwrap_or("image/png"),
                    source["data"].as_str().unwrap_or_default()
                ),
                Some("url") => source["url"].as_str().unwrap_or_default().to_owned(),
                _ => {
                    return Err(invalid(
                        &format!("{path}.source"),
                        "image source must be base64 or url",
                    ));
                }
            };
            Ok(ContentPart {
                kind: "image_url".into(),
                text: None,
                image_url: Some(ImageUrl { url, detail: None }),
                extra,
            })
        }
        "" => Err(invalid(
            &format!("{path}.type"),
            "content blocks need a 'type'",
        )),
        // document, search_result...: kept whole for providers that understand them.
        _ => {
            block.remove("type");
            extra.extend(block);
            Ok(ContentPart {
                kind,
                text: None,
                image_url: None,
                extra,
            })
        }
    }
}

/// Blocks -> content: a plain string when it is one uncached text block.
fn parts_content(parts: Vec<ContentPart>) -> Content {
    match parts.as_slice() {
        [only] if only.kind == "text" && only.extra.is_empty() => {
            Content::Text(only.text.clone().unwrap_or_default())
        }
        _ => Content::Parts(parts),
    }
}

pub(super) fn content(c: InContent, path: &str) -> Result<Content, GatewayError> {
    match c {
        InContent::Text(t) => Ok(Content::Text(t)),
        InContent::Blocks(blocks) => {
            let parts: Result<Vec<ContentPart>, GatewayError> = blocks
                .into_iter()
                .enumerate()
                .map(|(i, b)| part(b, &format!("{path}.{i}")))
                .collect();
            Ok(parts_content(parts?))
        }
    }
}

pub(super) fn user_turn(
    c: InContent,
    path: &str,
    out: &mut Vec<Message>,
) -> Result<(), GatewayError> {
    let blocks = match c {
        InContent::Text(t) => {
            out.push(Message::text(Role::User, t));
            return Ok(());
        }
        InContent::Blocks(blocks) => blocks,
    };
    let mut parts = Vec::new();
    for (i, mut block) in blocks.into_iter().enumerate() {
        let block_path = format!("{path}.content.{i}");
        if block.get("type").and_then(Value::as_str) != Some("tool_result") {
            parts.push(part(block, &block_path)?);
            continue;
        }
        let id = block
            .get("tool_use_id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let result = match block.remove("content") {
            None | Some(Value::Null) => Content::Text(String::new()),
            Some(Value::String(s)) => Content::Text(s),
            Some(Value::Array(items)) => {
                let items = items.into_iter().filter_map(|v| match v {
                    Value::Object(m) => Some(m),
                    _ => None,
                });
                content(InContent::Blocks(items.collect()), &block_path)?
            }
            Some(_) => {
                return Err(invalid(
                    &block_path,
                    "tool_result content must be a string or blocks",
                ));
            }
        };
        let mut msg = message(Role::Tool, result);
        msg.tool_call_id = Some(id);
        if let Some(is_error) = block.remove("is_error") {
            msg.extra.insert("is_error".into(), is_error);
        }
        out.push(msg);
    }
    if !parts.is_empty() {
        out.push(message(Role::User, parts_content(parts)));
    }
    Ok(())
}

pub(super) fn assistant_turn(c: InContent, path: &str) -> Result<Message, GatewayError> {
    let blocks = match c {
        InContent::Text(t) => return Ok(Message::text(Role::Assistant, t)),
        InContent::Blocks(blocks) => blocks,
    };
    let (mut text, mut reasoning) = (String::new(), String::new());
    let (mut calls, mut thinking) = (Vec::new(), Vec::new());
    for (i, block) in blocks.into_iter().enumerate() {
        match block
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
        {
            "text" => text.push_str(&text_of(&block)),
            "tool_use" => {
                let field = |k: &str| {
                    block
                        .get(k)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned()
                };
                let input = block.get("input").cloned().unwrap_or_else(|| json!({}));
                calls.push(ToolCall {
                    id: field("id"),
                    kind: "function".into(),
                    function: FunctionCall {
                        name: field("name"),
                        arguments: input.to_string(),
                    },
                });
            }
            "thinking" => {
                reasoning.push_str(
                    block
                        .get("thinking")
                        .and_then(Value::as_str)
                        .unwrap_or_default(),
                );
                thinking.push(Value::Object(block));
            }
            "redacted_thinking" => thinking.push(Value::Object(block)),
            other => {
                return Err(invalid(
                    &format!("{path}.content.{i}.type"),
                    format!("assistant content block type '{other}' is not supported"),
                ));
            }
        }
    }
    let mut msg = Message::text(Role::Assistant, text);
    if !calls.is_empty() {
        if matches!(&msg.content, Some(Content::Text(t)) if t.is_empty()) {
            msg.content = None;
        }
        msg.tool_calls = Some(calls);
    }
    if !thinking.is_empty() {
        msg.extra
            .insert("thinking_blocks".into(), Value::Array(thinking));
    }
    if !reasoning.is_empty() {
        msg.extra
            .insert("reasoning_content".into(), Value::String(reasoning));
    }
    Ok(msg)
}
