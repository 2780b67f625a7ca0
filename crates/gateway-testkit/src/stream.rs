//! Streaming chat completions: OpenAI `chat.completion.chunk` server-sent events.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use http::Response;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use serde::Serialize;

use crate::body::MockBody;
use crate::chat::{Answer, Reply, SYSTEM_FINGERPRINT, TOOL_ARGUMENTS, TOOL_CALL_ID, Usage};

const DONE: &[u8] = b"data: [DONE]\n\n";
/// The tool call arguments arrive in these pieces, as OpenAI splits them.
const TOOL_ARGUMENT_PIECES: [&str; 2] = [r#"{"x":"#, "1}"];
const _: () =
    assert!(TOOL_ARGUMENTS.len() == TOOL_ARGUMENT_PIECES[0].len() + TOOL_ARGUMENT_PIECES[1].len());

#[derive(Serialize)]
struct Chunk<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    model: &'a str,
    system_fingerprint: &'static str,
    choices: &'a [ChunkChoice<'a>],
    /// Absent without `include_usage`; `null` on every chunk but the last with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<Option<Usage>>,
}

#[derive(Serialize)]
struct ChunkChoice<'a> {
    index: u32,
    delta: Delta<'a>,
    logprobs: Option<()>,
    finish_reason: Option<&'static str>,
}

#[derive(Default, Serialize)]
struct Delta<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'static str>,
    /// `Some(None)` renders `"content": null`.
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<Option<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_calls: Option<[ToolCallDelta<'a>; 1]>,
}

#[derive(Serialize)]
struct ToolCallDelta<'a> {
    index: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'static str>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    function: FunctionDelta<'a>,
}

#[derive(Serialize)]
struct FunctionDelta<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    arguments: &'a str,
}

/// Splits text into chunks of one word plus the whitespace that follows it, so that the
/// chunks concatenate back to the text exactly.
pub fn word_chunks(text: &str) -> Vec<&str> {
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut previous_was_space = false;
    for (i, c) in text.char_indices() {
        let space = c.is_whitespace();
        if !space && previous_was_space && i > start {
            chunks.push(&text[start..i]);
            start = i;
        }
        previous_was_space = space;
    }
    if start < text.len() {
        chunks.push(&text[start..]);
    }
    chunks
}

struct Events<'a> {
    answer: &'a Answer<'a>,
    include_usage: bool,
    out: VecDeque<Bytes>,
}

impl<'a> Events<'a> {
    fn push(&mut self, choices: &[ChunkChoice<'_>], usage: Option<Option<Usage>>) {
        let chunk = Chunk {
            id: &self.answer.id,
            object: "chat.completion.chunk",
            created: self.answer.created,
            model: self.answer.model,
            system_fingerprint: SYSTEM_FINGERPRINT,
            choices,
            usage,
        };
        let mut buf = Vec::with_capacity(320);
        buf.extend_from_slice(b"data: ");
        if serde_json::to_writer(&mut buf, &chunk).is_ok() {
            buf.extend_from_slice(b"\n\n");
            self.out.push_back(Bytes::from(buf));
        }
    }

    /// One chunk per choice index carrying `delta`.
    fn push_each(&mut self, delta: impl Fn() -> Delta<'a>, finish_reason: Option<&'static str>) {
        let usage = self.include_usage.then_some(None);
        for index in 0..self.answer.choices {
            let choice = ChunkChoice {
                index,
                delta: delta(),
                logprobs: None,
                finish_reason,
            };
            self.push(&[choice], usage);
        }
    }
}

fn tool_delta<'a>(name: Option<&'a str>, arguments: &'a str) -> Delta<'a> {
    let first = name.is_some();
    Delta {
        role: first.then_some("assistant"),
        content: first.then_some(None),
        tool_calls: Some([ToolCallDelta {
            index: 0,
            id: first.then_some(TOOL_CALL_ID),
            kind: first.then_some("function"),
            function: FunctionDelta { name, arguments },
        }]),
    }
}

/// Renders the whole event sequence up front; `stop` cuts it after that many content chunks.
pub fn response(
    answer: &Answer<'_>,
    include_usage: bool,
    gap: Duration,
    stop: Option<u64>,
) -> Response<MockBody> {
    let mut events = Events {
        answer,
        include_usage,
        out: VecDeque::new(),
    };
    let (pieces, finish_reason) = match &answer.reply {
        Reply::Text(text) => {
            events.push_each(
                || Delta {
                    role: Some("assistant"),
                    content: Some(Some("")),
                    tool_calls: None,
                },
                None,
            );
            (word_chunks(text), "stop")
        }
        Reply::ToolCall { name } => {
            events.push_each(|| tool_delta(Some(name), ""), None);
            (TOOL_ARGUMENT_PIECES.to_vec(), "tool_calls")
        }
    };
    let role_events = events.out.len();
    for piece in pieces {
        match &answer.reply {
            Reply::Text(_) => events.push_each(
                || Delta {
                    content: Some(Some(piece)),
                    ..Delta::default()
                },
                None,
            ),
            Reply::ToolCall { .. } => events.push_each(|| tool_delta(None, piece), None),
        }
    }
    let abort = match stop {
        Some(n) => {
            let keep = usize::try_from(n).unwrap_or(usize::MAX);
            events.out.truncate(role_events.saturating_add(keep));
            true
        }
        None => {
            events.push_each(Delta::default, Some(finish_reason));
            if include_usage {
                events.push(&[], Some(Some(answer.usage)));
            }
            events.out.push_back(Bytes::from_static(DONE));
            false
        }
    };
    let mut response = Response::new(MockBody::events(events.out, gap, abort));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_chunks_concatenate_back() {
        let text = "Hello! You said:  two\nlines ";
        let chunks = word_chunks(text);
        assert_eq!(chunks, ["Hello! ", "You ", "said:  ", "two\n", "lines "]);
        assert_eq!(chunks.concat(), text);
        assert!(word_chunks("").is_empty());
    }
}
