//! The output of a response: its items (reasoning, an assistant message, function calls), its
//! status and its usage, in the Responses API's shapes, and the assistant message a later turn
//! continues from. Built whole from a chat answer, or piece by piece by the stream encoder;
//! both end in the same [`Output`], so streamed and plain answers are alike.

use serde_json::{Value, json};

use gateway_core::types::{Content, FunctionCall, ToolCall};
use gateway_core::{ChatResponse, Message, Role, Usage};

use super::ids::new_id;

/// One output item.
#[derive(Debug, Clone, PartialEq)]
pub enum OutputItem {
    /// The model's reasoning text (`reasoning_content` of the canonical answer).
    Reasoning { id: String, text: String },
    /// The assistant's text (and refusal, if any).
    Message {
        id: String,
        text: String,
        refusal: Option<String>,
    },
    FunctionCall {
        id: String,
        call_id: String,
        name: String,
        arguments: String,
    },
}

impl OutputItem {
    pub fn id(&self) -> &str {
        match self {
            OutputItem::Reasoning { id, .. }
            | OutputItem::Message { id, .. }
            | OutputItem::FunctionCall { id, .. } => id,
        }
    }

    /// The item as the API shows it; `status` is `in_progress` while it streams.
    pub fn json(&self, status: &str) -> Value {
        match self {
            OutputItem::Reasoning { id, text } => json!({
                "id": id, "type": "reasoning", "summary": [], "status": status,
                "content": if text.is_empty() { json!([]) } else { json!([{"type": "reasoning_text", "text": text}]) },
            }),
            OutputItem::Message { id, text, refusal } => {
                let mut content = Vec::new();
                if !text.is_empty() || (refusal.is_none() && status == "completed") {
                    content.push(text_part(text));
                }
                if let Some(refusal) = refusal {
                    content.push(json!({"type": "refusal", "refusal": refusal}));
                }
                json!({"id": id, "type": "message", "role": "assistant", "status": status, "content": content})
            }
            OutputItem::FunctionCall {
                id,
                call_id,
                name,
                arguments,
            } => json!({
                "id": id, "type": "function_call", "status": status,
                "call_id": call_id, "name": name, "arguments": arguments,
            }),
        }
    }
}

/// An `output_text` content part.
pub fn text_part(text: &str) -> Value {
    json!({"type": "output_text", "text": text, "annotations": [], "logprobs": []})
}

/// What a response produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Output {
    pub items: Vec<OutputItem>,
    /// The canonical finish reason (`stop`, `length`, `tool_calls`, `content_filter`).
    pub finish_reason: Option<String>,
    pub usage: Option<Usage>,
}

impl Output {
    /// The output of a whole chat answer (its first choice).
    pub fn from_chat(response: &ChatResponse) -> Output {
        let mut output = Output {
            usage: response.usage.clone(),
            ..Output::default()
        };
        let Some(choice) = response.choices.first() else {
            return output;
        };
        output.finish_reason = choice.finish_reason.clone();
        let message = &choice.message;
        if let Some(reasoning) = message
            .extra
            .get("reasoning_content")
            .and_then(Value::as_str)
            .filter(|r| !r.is_empty())
        {
            output.items.push(OutputItem::Reasoning {
                id: new_id("rs"),
                text: reasoning.to_owned(),
            });
        }
        let text = message
            .content
            .as_ref()
            .map(Content::joined_text)
            .unwrap_or_default();
        let calls = message.tool_calls.as_deref().unwrap_or_default();
        if !text.is_empty() || message.refusal.is_some() || calls.is_empty() {
            output.items.push(OutputItem::Message {
                id: new_id("msg"),
                text,
                refusal: message.refusal.clone(),
            });
        }
        for call in calls {
            output.items.push(OutputItem::FunctionCall {
                id: new_id("fc"),
                call_id: call.id.clone(),
                name: call.function.name.clone(),
                arguments: call.function.arguments.clone(),
            });
        }
        output
    }

    /// `completed`, or `incomplete` when the answer was cut (by its token limit or a filter).
    pub fn status(&self) -> &'static str {
        match self.finish_reason.as_deref() {
            Some("length" | "content_filter") => "incomplete",
            _ => "completed",
        }
    }

    /// Why the response is incomplete, if it is.
    pub fn incomplete_details(&self) -> Value {
        match self.finish_reason.as_deref() {
            Some("length") => json!({"reason": "max_output_tokens"}),
            Some("content_filter") => json!({"reason": "content_filter"}),
            _ => Value::Null,
        }
    }

    /// Items as the API shows them once the response is done.
    pub fn items_json(&self) -> Vec<Value> {
        let status = self.status();
        self.items.iter().map(|item| item.json(status)).collect()
    }

    /// Usage in the Responses API's shape (`input_tokens`, `output_tokens`, details).
    pub fn usage_json(&self) -> Value {
        let Some(u) = &self.usage else {
            return Value::Null;
        };
        json!({
            "input_tokens": u.prompt_tokens,
            "input_tokens_details": {"cached_tokens": u.cached_tokens()},
            "output_tokens": u.completion_tokens,
            "output_tokens_details": {"reasoning_tokens": u.reasoning_tokens()},
            "total_tokens": u.total_tokens,
        })
    }

    /// The assistant turn a later call continues from (`None` when the answer was empty).
    pub fn assistant_message(&self) -> Option<Message> {
        let mut message = Message::text(Role::Assistant, "");
        message.content = None;
        let mut calls = Vec::new();
        for item in &self.items {
            match item {
                // Reasoning is not replayed: upstreams refuse it in a message (and Anthropic
                // would need its signature), and no model needs its own past reasoning.
                OutputItem::Reasoning { .. } => {}
                OutputItem::Message { text, refusal, .. } => {
                    if !text.is_empty() {
                        message.content = Some(Content::Text(text.clone()));
                    }
                    message.refusal.clone_from(refusal);
                }
                OutputItem::FunctionCall {
                    call_id,
                    name,
                    arguments,
                    ..
                } => calls.push(ToolCall {
                    id: call_id.clone(),
                    kind: "function".to_owned(),
                    function: FunctionCall {
                        name: name.clone(),
                        arguments: arguments.clone(),
                    },
                }),
            }
        }
        if !calls.is_empty() {
            message.tool_calls = Some(calls);
        }
        let empty =
            message.content.is_none() && message.tool_calls.is_none() && message.refusal.is_none();
        (!empty).then_some(message)
    }
}
