//! `input` -> canonical messages, and the input items as `GET /v1/responses/{id}/input_items`
//! lists them (each with an id, content as typed parts).
//!
//! - a string is one user message;
//! - `message` items (`role` user, system, developer or assistant; content a string or
//!   `input_text` / `input_image` / `input_file` / `input_audio` parts, and `output_text` /
//!   `refusal` parts for the assistant) become messages;
//! - `function_call` items join the assistant message before them (or start one) as tool
//!   calls; `function_call_output` items become tool messages;
//! - `reasoning` items are listed but not sent upstream (no canonical field carries them);
//! - any other item type (built-in tool calls, item references) is refused by name.

use serde_json::{Map, Value, json};

use gateway_core::types::{Content, ContentPart, FunctionCall, ImageUrl, ToolCall};
use gateway_core::{GatewayError, Message, Role};

use super::ids::{is_valid_id, new_id};

/// `input` as sent: a string or a list of items (checked in [`decode_input`]).
pub type Input = Value;

fn unsupported(param: String, message: String) -> GatewayError {
    GatewayError::InvalidRequest {
        message,
        param: Some(param),
        code: Some("unsupported_parameter"),
    }
}

fn invalid(param: String, message: &str) -> GatewayError {
    GatewayError::InvalidRequest {
        message: message.to_owned(),
        param: Some(param),
        code: None,
    }
}

/// The messages and the listed items of `input`.
pub fn decode_input(input: Input) -> Result<(Vec<Message>, Vec<Value>), GatewayError> {
    let mut decoder = Decoder::default();
    match input {
        Value::String(text) => {
            decoder.items.push(json!({
                "id": new_id("msg"), "type": "message", "role": "user", "status": "completed",
                "content": [{"type": "input_text", "text": text}],
            }));
            decoder.messages.push(Message::text(Role::User, text));
        }
        Value::Array(items) => {
            for (i, item) in items.into_iter().enumerate() {
                decoder.item(i, item)?;
            }
        }
        _ => {
            return Err(invalid(
                "input".into(),
                "'input' must be a string or a list of items.",
            ));
        }
    }
    Ok((decoder.messages, decoder.items))
}

#[derive(Default)]
struct Decoder {
    messages: Vec<Message>,
    items: Vec<Value>,
    /// The last message is an assistant turn that following function calls join.
    assistant_open: bool,
}

fn str_field<'a>(item: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    item.get(key).and_then(Value::as_str)
}

/// The item's own id when it is usable, else a new one.
fn item_id(item: &Map<String, Value>, prefix: &str) -> String {
    str_field(item, "id")
        .filter(|id| is_valid_id(id))
        .map_or_else(|| new_id(prefix), str::to_owned)
}

impl Decoder {
    fn item(&mut self, i: usize, item: Value) -> Result<(), GatewayError> {
        let Value::Object(item) = item else {
            return Err(invalid(
                format!("input[{i}]"),
                "Each input item must be an object.",
            ));
        };
        let kind = match str_field(&item, "type") {
            Some(kind) => kind.to_owned(),
            None if item.contains_key("role") => "message".to_owned(),
            None => String::new(),
        };
        match kind.as_str() {
            "message" => self.message(i, &item),
            "function_call" => self.function_call(i, &item),
            "function_call_output" => self.function_call_output(i, &item),
            "reasoning" => {
                let mut listed = item;
                listed.insert("id".into(), json!(item_id(&listed, "rs")));
                self.items.push(Value::Object(listed));
                Ok(())
            }
            "item_reference" => Err(unsupported(
                format!("input[{i}].type"),
                "Item references are not supported; send the item itself, or continue a stored response with 'previous_response_id'.".into(),
            )),
            other => Err(unsupported(
                format!("input[{i}].type"),
                format!("Input item type '{other}' is not supported by this gateway; use messages, 'function_call' and 'function_call_output' items."),
            )),
        }
    }

    fn message(&mut self, i: usize, item: &Map<String, Value>) -> Result<(), GatewayError> {
        let role = match str_field(item, "role") {
            Some("user") => Role::User,
            Some("assistant") => Role::Assistant,
            Some("system") => Role::System,
            Some("developer") => Role::Developer,
            _ => {
                return Err(invalid(
                    format!("input[{i}].role"),
                    "A message's 'role' must be 'user', 'assistant', 'system' or 'developer'.",
                ));
            }
        };
        let id = item_id(item, "msg");
        let content = item.get("content").unwrap_or(&Value::Null);
        let (message, parts) = if role == Role::Assistant {
            assistant_message(i, content)?
        } else {
            input_message(i, role, content)?
        };
        let mut listed = json!({
            "id": id, "type": "message", "role": role.as_str(), "status": "completed",
            "content": parts,
        });
        if role == Role::Assistant {
            listed["status"] = json!("completed");
        }
        self.items.push(listed);
        self.messages.push(message);
        self.assistant_open = role == Role::Assistant;
        Ok(())
    }

    fn function_call(&mut self, i: usize, item: &Map<String, Value>) -> Result<(), GatewayError> {
        let call_id = required(item, i, "call_id")?;
        let name = required(item, i, "name")?;
        let arguments = str_field(item, "arguments").unwrap_or("{}");
        self.items.push(json!({
            "id": item_id(item, "fc"), "type": "function_call", "status": "completed",
            "call_id": call_id, "name": name, "arguments": arguments,
        }));
        let call = ToolCall {
            id: call_id.to_owned(),
            kind: "function".to_owned(),
            function: FunctionCall {
                name: name.to_owned(),
                arguments: arguments.to_owned(),
            },
        };
        match self.messages.last_mut() {
            Some(last) if self.assistant_open => {
                last.tool_calls.get_or_insert_with(Vec::new).push(call);
            }
            _ => {
                let mut message = Message::text(Role::Assistant, "");
                message.content = None;
                message.tool_calls = Some(vec![call]);
                self.messages.push(message);
                self.assistant_open = true;
            }
        }
        Ok(())
    }

    fn function_call_output(
        &mut self,
        i: usize,
        item: &Map<String, Value>,
    ) -> Result<(), GatewayError> {
        let call_id = required(item, i, "call_id")?;
        let output = item.get("output").unwrap_or(&Value::Null);
        let content = match output {
            Value::String(text) => Content::Text(text.clone()),
            Value::Array(parts) => Content::Parts(
                parts
                    .iter()
                    .enumerate()
                    .map(|(j, part)| input_part(&format!("input[{i}].output[{j}]"), part))
                    .collect::<Result<_, _>>()?,
            ),
            _ => {
                return Err(invalid(
                    format!("input[{i}].output"),
                    "A 'function_call_output' needs an 'output' string or list of parts.",
                ));
            }
        };
        self.items.push(json!({
            "id": item_id(item, "fco"), "type": "function_call_output", "status": "completed",
            "call_id": call_id, "output": output,
        }));
        let mut message = Message::text(Role::Tool, "");
        message.content = Some(content);
        message.tool_call_id = Some(call_id.to_owned());
        self.messages.push(message);
        self.assistant_open = false;
        Ok(())
    }
}

fn required<'a>(
    item: &'a Map<String, Value>,
    i: usize,
    key: &str,
) -> Result<&'a str, GatewayError> {
    str_field(item, key)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            invalid(
                format!("input[{i}].{key}"),
                &format!("This input item needs a '{key}' string."),
            )
        })
}

/// A user, system or developer message and its listed parts.
fn input_message(
    i: usize,
    role: Role,
    content: &Value,
) -> Result<(Message, Vec<Value>), GatewayError> {
    let mut message = Message::text(role, "");
    match content {
        Value::String(text) => {
            message.content = Some(Content::Text(text.clone()));
            Ok((message, vec![json!({"type": "input_text", "text": text})]))
        }
        Value::Array(parts) => {
            let canonical: Vec<ContentPart> = parts
                .iter()
                .enumerate()
                .map(|(j, part)| input_part(&format!("input[{i}].content[{j}]"), part))
                .collect::<Result<_, _>>()?;
            message.content = Some(match <[ContentPart; 1]>::try_from(canonical) {
                // One text part is plain text: every upstream takes that, for every role.
                Ok([part]) if part.kind == "text" => Content::Text(part.text.unwrap_or_default()),
                Ok([part]) => Content::Parts(vec![part]),
                Err(parts) => Content::Parts(parts),
            });
            Ok((message, parts.clone()))
        }
        _ => Err(invalid(
            format!("input[{i}].content"),
            "A message's 'content' must be a string or a list of parts.",
        )),
    }
}

/// One input content part -> a canonical part.
fn input_part(param: &str, part: &Value) -> Result<ContentPart, GatewayError> {
    let kind = part.get("type").and_then(Value::as_str).unwrap_or_default();
    let text = |key: &str| part.get(key).and_then(Value::as_str);
    match kind {
        "input_text" | "output_text" | "text" => {
            let text = text("text").ok_or_else(|| invalid(format!("{param}.text"), "A text part needs a 'text' string."))?;
            Ok(ContentPart::text(text))
        }
        "input_image" => match text("image_url") {
            Some(url) => Ok(ContentPart {
                kind: "image_url".into(),
                text: None,
                image_url: Some(ImageUrl {
                    url: url.to_owned(),
                    detail: text("detail").map(str::to_owned),
                }),
                extra: Map::new(),
            }),
            None => Err(unsupported(
                format!("{param}.file_id"),
                "Images must be sent as 'image_url' (a URL or a data: URL); uploaded file ids are not supported by this gateway.".into(),
            )),
        },
        "input_file" => match text("file_data") {
            Some(data) => {
                let mut file = Map::new();
                file.insert("file_data".into(), json!(data));
                if let Some(name) = text("filename") {
                    file.insert("filename".into(), json!(name));
                }
                let mut extra = Map::new();
                extra.insert("file".into(), Value::Object(file));
                Ok(ContentPart { kind: "file".into(), text: None, image_url: None, extra })
            }
            None => Err(unsupported(
                format!("{param}.file_data"),
                "Files must be sent inline as 'file_data'; file ids and file URLs are not supported by this gateway.".into(),
            )),
        },
        "input_audio" => {
            let audio = part.get("input_audio").filter(|a| a.is_object()).ok_or_else(|| {
                invalid(format!("{param}.input_audio"), "An audio part needs an 'input_audio' object.")
            })?;
            let mut extra = Map::new();
            extra.insert("input_audio".into(), audio.clone());
            Ok(ContentPart { kind: "input_audio".into(), text: None, image_url: None, extra })
        }
        other => Err(unsupported(
            format!("{param}.type"),
            format!("Content part type '{other}' is not supported here."),
        )),
    }
}

/// An assistant message of an earlier turn and its listed parts.
fn assistant_message(i: usize, content: &Value) -> Result<(Message, Vec<Value>), GatewayError> {
    let mut message = Message::text(Role::Assistant, "");
    let mut listed = Vec::new();
    let mut texts: Vec<&str> = Vec::new();
    match content {
        Value::String(text) => texts.push(text),
        Value::Array(parts) => {
            for (j, part) in parts.iter().enumerate() {
                let kind = part.get("type").and_then(Value::as_str).unwrap_or_default();
                match (kind, part.get("text"), part.get("refusal")) {
                    ("output_text" | "input_text" | "text", Some(Value::String(text)), _) => {
                        texts.push(text);
                    }
                    ("refusal", _, Some(Value::String(refusal))) => {
                        message.refusal = Some(refusal.clone());
                        listed.push(json!({"type": "refusal", "refusal": refusal}));
                    }
                    _ => {
                        return Err(unsupported(
                            format!("input[{i}].content[{j}]"),
                            "An assistant message's parts must be 'output_text' or 'refusal'."
                                .into(),
                        ));
                    }
                }
            }
        }
        _ => {
            return Err(invalid(
                format!("input[{i}].content"),
                "A message's 'content' must be a string or a list of parts.",
            ));
        }
    }
    for text in &texts {
        listed.push(json!({"type": "output_text", "text": text, "annotations": []}));
    }
    message.content = (!texts.is_empty()).then(|| Content::Text(texts.concat()));
    Ok((message, listed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_string_is_one_user_message_listed_with_an_id() {
        let (messages, items) = decode_input(json!("hi")).unwrap();
        assert_eq!(messages, [Message::text(Role::User, "hi")]);
        assert_eq!(
            items[0]["content"],
            json!([{"type": "input_text", "text": "hi"}])
        );
        assert!(items[0]["id"].as_str().unwrap().starts_with("msg_"));
    }

    #[test]
    fn function_calls_join_the_assistant_turn_before_them() {
        let (messages, items) = decode_input(json!([
            {"role": "developer", "content": "rules"},
            {"type": "function_call", "id": "fc_given", "call_id": "c1", "name": "f", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c1", "output": "ok"},
            {"role": "assistant", "content": "done"},
            {"type": "function_call", "call_id": "c2", "name": "g"},
        ]))
        .unwrap();
        let roles: Vec<Role> = messages.iter().map(|m| m.role).collect();
        assert_eq!(
            roles,
            [
                Role::Developer,
                Role::Assistant,
                Role::Tool,
                Role::Assistant
            ]
        );
        assert_eq!(messages[1].content, None);
        assert_eq!(messages[2].tool_call_id.as_deref(), Some("c1"));
        let joined = messages[3].tool_calls.as_ref().unwrap();
        assert_eq!(joined[0].function.name, "g");
        assert_eq!(joined[0].function.arguments, "{}");
        assert_eq!(items[1]["id"], "fc_given");
        assert_eq!(items.len(), 5);
    }

    #[test]
    fn parts_translate_and_bad_items_name_their_place() {
        let (messages, _) = decode_input(json!([{"role": "user", "content": [
            {"type": "input_text", "text": "see"},
            {"type": "input_image", "image_url": "data:image/png;base64,AAAA", "detail": "low"},
            {"type": "input_file", "file_data": "data:application/pdf;base64,AAAA", "filename": "a.pdf"},
        ]}]))
        .unwrap();
        let Some(Content::Parts(parts)) = &messages[0].content else {
            panic!("parts expected: {:?}", messages[0].content);
        };
        assert_eq!(
            parts[1].image_url.as_ref().unwrap().detail.as_deref(),
            Some("low")
        );
        assert_eq!(parts[2].extra["file"]["filename"], "a.pdf");
        for (input, param) in [
            (json!(7), "input"),
            (json!([1]), "input[0]"),
            (json!([{"role": "tool", "content": "x"}]), "input[0].role"),
            (
                json!([{"type": "function_call", "name": "f"}]),
                "input[0].call_id",
            ),
            (
                json!([{"type": "function_call_output", "call_id": "c"}]),
                "input[0].output",
            ),
            (
                json!([{"role": "user", "content": [{"type": "input_file", "file_id": "f"}]}]),
                "input[0].content[0].file_data",
            ),
            (
                json!([{"role": "assistant", "content": [{"type": "input_image"}]}]),
                "input[0].content[0]",
            ),
            (
                json!([{"type": "item_reference", "id": "x"}]),
                "input[0].type",
            ),
        ] {
            let err = decode_input(input.clone()).unwrap_err();
            assert_eq!(err.param(), Some(param), "{input}");
        }
    }
}
