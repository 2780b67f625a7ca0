//! Serving a cached answer to a streaming request: the response becomes the chunk sequence an
//! OpenAI stream would have carried, so any SDK parses it like a live one.
//!
//! Per choice: a role chunk (`role`, `content: ""` when there is content, the message's other
//! fields), the content in a few pieces, the refusal, each tool call (id, type and name, then
//! its arguments in pieces, all under its `index`), and a chunk with `finish_reason` and
//! `logprobs`. Then, if the response has usage and it was asked for, a usage-only chunk.

use std::pin::Pin;

use futures_util::stream::{self, Stream};
use gateway_core::types::{
    ChunkChoice, Content, Delta, Extra, FunctionCallDelta, ToolCall, ToolCallDelta,
};
use gateway_core::{ChatChunk, ChatResponse, StreamEvent};

/// A piece ends at the first whitespace after this many bytes...
const PIECE_SOFT: usize = 48;
/// ...or at the first character boundary after this many, whitespace or not.
const PIECE_HARD: usize = 192;

/// The chunks of `resp`, usage chunk included when `resp` has usage.
pub fn replay_as_chunks(resp: &ChatResponse) -> Vec<ChatChunk> {
    replay_chunks(resp, true)
}

/// The chunks of `resp`; the usage chunk only when `include_usage`.
pub fn replay_chunks(resp: &ChatResponse, include_usage: bool) -> Vec<ChatChunk> {
    let mut out = Vec::new();
    let chunk = |choices: Vec<ChunkChoice>| ChatChunk {
        id: resp.id.clone(),
        object: "chat.completion.chunk".to_owned(),
        created: resp.created,
        model: resp.model.clone(),
        choices,
        usage: None,
        system_fingerprint: resp.system_fingerprint.clone(),
        extra: resp.extra.clone(),
    };
    let delta_chunk = |index: u32, delta: Delta| {
        chunk(vec![ChunkChoice {
            index,
            delta,
            finish_reason: None,
            logprobs: None,
            extra: Extra::new(),
        }])
    };
    for choice in &resp.choices {
        let message = &choice.message;
        let text = message.content.as_ref().map(Content::joined_text);
        out.push(delta_chunk(
            choice.index,
            Delta {
                role: Some(message.role),
                content: text.as_ref().map(|_| String::new()),
                extra: message.extra.clone(),
                ..Delta::default()
            },
        ));
        for piece in pieces(text.as_deref().unwrap_or("")) {
            out.push(delta_chunk(
                choice.index,
                Delta {
                    content: Some(piece.to_owned()),
                    ..Delta::default()
                },
            ));
        }
        if let Some(refusal) = &message.refusal {
            out.push(delta_chunk(
                choice.index,
                Delta {
                    refusal: Some(refusal.clone()),
                    ..Delta::default()
                },
            ));
        }
        for (i, call) in message.tool_calls.iter().flatten().enumerate() {
            let index = u32::try_from(i).unwrap_or(u32::MAX);
            out.push(delta_chunk(choice.index, tool_call_start(index, call)));
            for piece in pieces(&call.function.arguments) {
                out.push(delta_chunk(choice.index, tool_call_arguments(index, piece)));
            }
        }
        out.push(chunk(vec![ChunkChoice {
            index: choice.index,
            delta: Delta::default(),
            finish_reason: choice.finish_reason.clone(),
            logprobs: choice.logprobs.clone(),
            // Choice-level fields (an Anthropic or vLLM `stop_reason`) end the stream as they
            // came: on the choice of the finish chunk.
            extra: choice.extra.clone(),
        }]));
    }
    if include_usage && let Some(usage) = &resp.usage {
        let mut last = chunk(Vec::new());
        last.usage = Some(usage.clone());
        out.push(last);
    }
    out
}

/// A ready stream of the chunks of `resp`, typed for whichever stream the caller needs
/// (`gateway_core::ChatStream` or `gateway_core::GatewayStream`).
pub fn replay_stream<E: Send + 'static>(
    resp: &ChatResponse,
    include_usage: bool,
) -> Pin<Box<dyn Stream<Item = Result<StreamEvent, E>> + Send>> {
    let chunks = replay_chunks(resp, include_usage);
    Box::pin(stream::iter(
        chunks.into_iter().map(|c| Ok(StreamEvent::Chunk(c))),
    ))
}

fn tool_call_start(index: u32, call: &ToolCall) -> Delta {
    Delta {
        tool_calls: Some(vec![ToolCallDelta {
            index,
            id: Some(call.id.clone()),
            kind: Some(call.kind.clone()),
            function: Some(FunctionCallDelta {
                name: Some(call.function.name.clone()),
                arguments: Some(String::new()),
            }),
        }]),
        ..Delta::default()
    }
}

fn tool_call_arguments(index: u32, piece: &str) -> Delta {
    Delta {
        tool_calls: Some(vec![ToolCallDelta {
            index,
            id: None,
            kind: None,
            function: Some(FunctionCallDelta {
                name: None,
                arguments: Some(piece.to_owned()),
            }),
        }]),
        ..Delta::default()
    }
}

/// `text` cut into pieces at whitespace (or, failing that, at character boundaries); the
/// pieces concatenate to `text` exactly.
fn pieces(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        let end = i + c.len_utf8();
        let len = end - start;
        if (len >= PIECE_SOFT && c.is_whitespace()) || len >= PIECE_HARD {
            out.push(&text[start..end]);
            start = end;
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::response;

    #[test]
    fn pieces_concatenate_to_the_text() {
        let text = format!("{} {}", "word ".repeat(40), "é".repeat(300));
        let parts = pieces(&text);
        assert!(parts.len() > 3);
        assert_eq!(parts.concat(), text);
        assert!(parts.iter().all(|p| p.len() <= PIECE_HARD + 4));
        assert!(pieces("").is_empty());
    }

    #[test]
    fn a_text_answer_replays_as_an_openai_stream() {
        let resp = response("Hello there.");
        let chunks = replay_as_chunks(&resp);
        let json: Vec<_> = chunks
            .iter()
            .map(|c| serde_json::to_value(c).unwrap())
            .collect();
        assert_eq!(json.len(), 4, "{json:#?}");
        assert_eq!(
            json[0]["choices"][0]["delta"],
            serde_json::json!({"role": "assistant", "content": ""})
        );
        assert_eq!(json[1]["choices"][0]["delta"]["content"], "Hello there.");
        assert_eq!(json[2]["choices"][0]["finish_reason"], "stop");
        assert_eq!(json[3]["choices"], serde_json::json!([]));
        assert_eq!(json[3]["usage"]["total_tokens"], 5);
        for c in &json {
            assert_eq!(c["object"], "chat.completion.chunk");
            assert_eq!(c["id"], "chatcmpl-1");
        }
        assert_eq!(replay_chunks(&resp, false).len(), 3);
    }
}
