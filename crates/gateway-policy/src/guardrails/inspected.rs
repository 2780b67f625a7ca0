//! Which text of a request and of a response the guardrails inspect, as visitors over mutable
//! strings (so redactions land in place).
//!
//! Requests: the text of `user`, `tool` and `function` messages — their plain content, the
//! `text` of each part, and the text that blocks passed through unchanged carry in their
//! fields (kept in the part's `extra`): an Anthropic `document` with a text source or with
//! content blocks, a `search_result` (title and content), a document's `title` and
//! `context`, and any text block nested in them. Base64, URL and file sources are not text
//! and are skipped. Responses: the text of every choice (its content, its refusal and its
//! reasoning — `reasoning_content` and the text of Anthropic `thinking_blocks`), and the
//! arguments of its tool calls.

use gateway_core::types::{ChatRequest, ChatResponse, Content, REASONING_CONTENT, Role};
use serde_json::{Map, Value};

/// Fields of a passed-through block whose string value is text a model reads.
const TEXT_FIELDS: [&str; 6] = [
    "text",
    "title",
    "context",
    "content",
    "cited_text",
    "thinking",
];

/// Whether messages of this role are the caller's or a tool's (and so inspected).
pub(crate) fn is_untrusted(role: Role) -> bool {
    matches!(role, Role::User | Role::Tool | Role::Function)
}

/// Calls `f` on every inspected text of the request, in message order.
pub(crate) fn request_texts(req: &mut ChatRequest, f: &mut dyn FnMut(&mut String)) {
    let untrusted = req.messages.iter_mut().filter(|m| is_untrusted(m.role));
    for content in untrusted.filter_map(|m| m.content.as_mut()) {
        content_texts(content, f);
    }
}

/// [`request_texts`] for a request that is only read (the external moderation check).
pub(crate) fn request_texts_ref<'a>(req: &'a ChatRequest, f: &mut dyn FnMut(&'a str)) {
    let untrusted = req.messages.iter().filter(|m| is_untrusted(m.role));
    for content in untrusted.filter_map(|m| m.content.as_ref()) {
        match content {
            Content::Text(text) => f(text),
            Content::Parts(parts) => {
                for part in parts {
                    if let Some(text) = part.text.as_deref() {
                        f(text);
                    }
                    block_texts_ref(&part.extra, f);
                }
            }
        }
    }
}

/// Calls `f` on every text of every choice of the response: content, refusal and reasoning
/// (a model's reasoning can repeat a secret from its context as readily as its answer can).
pub(crate) fn response_texts(resp: &mut ChatResponse, f: &mut dyn FnMut(&mut String)) {
    for choice in &mut resp.choices {
        let message = &mut choice.message;
        if let Some(content) = message.content.as_mut() {
            content_texts(content, f);
        }
        if let Some(refusal) = message.refusal.as_mut() {
            f(refusal);
        }
        if let Some(Value::String(reasoning)) = message.extra.get_mut(REASONING_CONTENT) {
            f(reasoning);
        }
        if let Some(Value::Array(blocks)) = message.extra.get_mut("thinking_blocks") {
            for block in blocks {
                if let Some(Value::String(thinking)) = block.get_mut("thinking") {
                    f(thinking);
                }
            }
        }
    }
}

/// The arguments (JSON text) of every tool call of the response's choices.
pub(crate) fn tool_arguments(resp: &mut ChatResponse) -> impl Iterator<Item = &mut String> {
    resp.choices
        .iter_mut()
        .filter_map(|c| c.message.tool_calls.as_mut())
        .flatten()
        .map(|call| &mut call.function.arguments)
}

/// Every text of a content: the string, or each part's `text` and its block fields.
pub(crate) fn content_texts(content: &mut Content, f: &mut dyn FnMut(&mut String)) {
    match content {
        Content::Text(text) => f(text),
        Content::Parts(parts) => {
            for part in parts {
                if let Some(text) = part.text.as_mut() {
                    f(text);
                }
                block_texts(&mut part.extra, f);
            }
        }
    }
}

/// The text in the fields of a passed-through block, at any depth. The JSON decoder bounds
/// the nesting depth (128), so the recursion is bounded too.
fn block_texts(block: &mut Map<String, Value>, f: &mut dyn FnMut(&mut String)) {
    // `{"type": "text", "data": ...}` is a document's plain-text source.
    let text_source = block.get("type").and_then(Value::as_str) == Some("text");
    for (key, value) in block.iter_mut() {
        let text_field = TEXT_FIELDS.contains(&key.as_str()) || (text_source && key == "data");
        match value {
            Value::String(s) if text_field => f(s),
            Value::Object(inner) => block_texts(inner, f),
            Value::Array(items) => {
                for item in items {
                    match item {
                        Value::Object(inner) => block_texts(inner, f),
                        Value::String(s) if text_field => f(s),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
}

/// [`block_texts`], reading only.
fn block_texts_ref<'a>(block: &'a Map<String, Value>, f: &mut dyn FnMut(&'a str)) {
    let text_source = block.get("type").and_then(Value::as_str) == Some("text");
    for (key, value) in block {
        let text_field = TEXT_FIELDS.contains(&key.as_str()) || (text_source && key == "data");
        match value {
            Value::String(s) if text_field => f(s),
            Value::Object(inner) => block_texts_ref(inner, f),
            Value::Array(items) => {
                for item in items {
                    match item {
                        Value::Object(inner) => block_texts_ref(inner, f),
                        Value::String(s) if text_field => f(s),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gateway_core::types::{ContentPart, Extra};
    use serde_json::json;

    fn block_part(kind: &str, fields: Value) -> ContentPart {
        let Value::Object(extra) = fields else {
            unreachable!("fields are an object")
        };
        ContentPart {
            kind: kind.into(),
            text: None,
            image_url: None,
            extra: Extra::from_iter(extra),
        }
    }

    /// The texts visited, sorted (the order of a JSON object's fields is not fixed).
    fn texts(content: &mut Content) -> Vec<String> {
        let mut out = Vec::new();
        content_texts(content, &mut |t| out.push(t.clone()));
        out.sort();
        out
    }

    #[test]
    fn block_fields_that_carry_text_are_visited_and_binary_sources_are_not() {
        let mut content = Content::Parts(vec![
            ContentPart::text("intro"),
            block_part(
                "document",
                json!({"source": {"type": "text", "media_type": "text/plain", "data": "doc body"},
                       "title": "doc title", "context": "doc context", "cache_control": {"type": "ephemeral"}}),
            ),
            block_part(
                "document",
                json!({"source": {"type": "content", "content": [{"type": "text", "text": "inner block"}]}}),
            ),
            block_part(
                "document",
                json!({"source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0xLjQK"}}),
            ),
            block_part(
                "search_result",
                json!({"source": "https://example.com", "title": "result title",
                       "content": [{"type": "text", "text": "result text"}]}),
            ),
        ]);
        let mut read = Vec::new();
        let req = ChatRequest {
            messages: vec![gateway_core::Message {
                content: Some(content.clone()),
                ..gateway_core::Message::text(Role::User, "")
            }],
            ..ChatRequest::default()
        };
        request_texts_ref(&req, &mut |t| read.push(t.to_owned()));
        read.sort();
        assert_eq!(read, texts(&mut content));
        assert_eq!(
            texts(&mut content),
            [
                "doc body",
                "doc context",
                "doc title",
                "inner block",
                "intro",
                "result text",
                "result title"
            ]
        );
    }

    #[test]
    fn visited_block_text_is_changed_in_place() {
        let mut content = Content::Parts(vec![block_part(
            "document",
            json!({"source": {"type": "text", "media_type": "text/plain", "data": "secret"}}),
        )]);
        content_texts(&mut content, &mut |t| *t = "[X]".into());
        let Content::Parts(parts) = &content else {
            unreachable!("parts")
        };
        assert_eq!(parts[0].extra["source"]["data"], "[X]");
        assert_eq!(parts[0].extra["source"]["type"], "text");
    }
}
