//! Rebuilding a complete response from the chunks of a finished stream, so that a streamed
//! answer can be cached. A stream that did not finish (a choice without `finish_reason`) yields
//! nothing: a partial answer is never cached.

use gateway_core::types::{
    Choice, Content, Extra, FunctionCall, Message, Role, ToolCall, ToolCallDelta,
};
use gateway_core::{ChatChunk, ChatResponse, Usage};
use serde_json::Value;

/// Accumulates the chunks of one stream.
#[derive(Debug, Default)]
pub struct StreamAccumulator {
    head: Option<Head>,
    choices: Vec<ChoiceAcc>,
    usage: Option<Usage>,
}

#[derive(Debug)]
struct Head {
    id: String,
    created: u64,
    model: String,
    system_fingerprint: Option<String>,
    extra: Extra,
}

#[derive(Debug, Default)]
struct ChoiceAcc {
    index: u32,
    role: Option<Role>,
    content: Option<String>,
    refusal: Option<String>,
    tool_calls: Vec<ToolAcc>,
    finish_reason: Option<String>,
    logprobs: Option<Value>,
    /// The message's other fields (`reasoning_content`...), from the deltas' `extra`.
    extra: Extra,
    /// The choice's other fields (a `stop_reason`), from the chunk choices' `extra`.
    choice_extra: Extra,
}

#[derive(Debug, Default)]
struct ToolAcc {
    index: u32,
    id: String,
    kind: Option<String>,
    name: String,
    arguments: String,
}

impl StreamAccumulator {
    pub fn new() -> Self {
        StreamAccumulator::default()
    }

    pub fn push(&mut self, chunk: &ChatChunk) {
        match &mut self.head {
            None => {
                self.head = Some(Head {
                    id: chunk.id.clone(),
                    created: chunk.created,
                    model: chunk.model.clone(),
                    system_fingerprint: chunk.system_fingerprint.clone(),
                    extra: chunk.extra.clone(),
                });
            }
            Some(head) => {
                if head.system_fingerprint.is_none() {
                    head.system_fingerprint = chunk.system_fingerprint.clone();
                }
            }
        }
        if let Some(usage) = &chunk.usage {
            self.usage = Some(usage.clone());
        }
        for choice in &chunk.choices {
            let acc = self.choice(choice.index);
            let delta = &choice.delta;
            if acc.role.is_none() {
                acc.role = delta.role;
            }
            append(&mut acc.content, delta.content.as_deref());
            append(&mut acc.refusal, delta.refusal.as_deref());
            for call in delta.tool_calls.iter().flatten() {
                acc.tool_call(call);
            }
            for (name, value) in &delta.extra {
                merge_value(acc.extra.entry(name.clone()).or_insert(Value::Null), value);
            }
            for (name, value) in &choice.extra {
                // Stop details come with the last chunk; vLLM sends `stop_reason: null` before.
                if !value.is_null() || !acc.choice_extra.contains_key(name) {
                    acc.choice_extra.insert(name.clone(), value.clone());
                }
            }
            if let Some(logprobs) = &choice.logprobs {
                merge_value(acc.logprobs.get_or_insert(Value::Null), logprobs);
            }
            if choice.finish_reason.is_some() {
                acc.finish_reason = choice.finish_reason.clone();
            }
        }
    }

    fn choice(&mut self, index: u32) -> &mut ChoiceAcc {
        let pos = match self.choices.iter().position(|c| c.index == index) {
            Some(pos) => pos,
            None => {
                self.choices.push(ChoiceAcc {
                    index,
                    ..ChoiceAcc::default()
                });
                self.choices.len() - 1
            }
        };
        &mut self.choices[pos]
    }

    /// Whether every choice seen so far has finished (and there is at least one).
    pub fn is_finished(&self) -> bool {
        !self.choices.is_empty() && self.choices.iter().all(|c| c.finish_reason.is_some())
    }

    /// The complete response, or `None` if the stream did not finish.
    pub fn finish(self) -> Option<ChatResponse> {
        if !self.is_finished() {
            return None;
        }
        let head = self.head?;
        let mut choices: Vec<Choice> = self.choices.into_iter().map(ChoiceAcc::build).collect();
        choices.sort_by_key(|c| c.index);
        Some(ChatResponse {
            id: head.id,
            object: "chat.completion".to_owned(),
            created: head.created,
            model: head.model,
            choices,
            usage: self.usage,
            system_fingerprint: head.system_fingerprint,
            extra: head.extra,
        })
    }
}

impl ChoiceAcc {
    fn tool_call(&mut self, delta: &ToolCallDelta) {
        let pos = match self.tool_calls.iter().position(|t| t.index == delta.index) {
            Some(pos) => pos,
            None => {
                self.tool_calls.push(ToolAcc {
                    index: delta.index,
                    ..ToolAcc::default()
                });
                self.tool_calls.len() - 1
            }
        };
        let acc = &mut self.tool_calls[pos];
        if let Some(id) = delta.id.as_deref()
            && acc.id.is_empty()
        {
            acc.id = id.to_owned();
        }
        if acc.kind.is_none() {
            acc.kind = delta.kind.clone();
        }
        if let Some(function) = &delta.function {
            acc.name.push_str(function.name.as_deref().unwrap_or(""));
            acc.arguments
                .push_str(function.arguments.as_deref().unwrap_or(""));
        }
    }

    fn build(mut self) -> Choice {
        self.tool_calls.sort_by_key(|t| t.index);
        let tool_calls: Vec<ToolCall> = self
            .tool_calls
            .into_iter()
            .map(|t| ToolCall {
                id: t.id,
                kind: t.kind.unwrap_or_else(|| "function".to_owned()),
                function: FunctionCall {
                    name: t.name,
                    arguments: t.arguments,
                },
            })
            .collect();
        Choice {
            index: self.index,
            message: Message {
                role: self.role.unwrap_or(Role::Assistant),
                content: self.content.map(Content::Text),
                name: None,
                tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
                tool_call_id: None,
                refusal: self.refusal,
                extra: self.extra,
            },
            finish_reason: self.finish_reason,
            logprobs: self.logprobs,
            extra: self.choice_extra,
        }
    }
}

fn append(target: &mut Option<String>, piece: Option<&str>) {
    if let Some(piece) = piece {
        target.get_or_insert_with(String::new).push_str(piece);
    }
}

/// Streamed fields arrive in pieces: strings concatenate, arrays extend, objects merge field by
/// field (so `logprobs.content` arrays join up), anything else is replaced by the newer value.
fn merge_value(target: &mut Value, piece: &Value) {
    match (target, piece) {
        (Value::String(t), Value::String(p)) => t.push_str(p),
        (Value::Array(t), Value::Array(p)) => t.extend(p.iter().cloned()),
        (Value::Object(t), Value::Object(p)) => {
            for (name, value) in p {
                merge_value(t.entry(name.clone()).or_insert(Value::Null), value);
            }
        }
        (target, piece) => *target = piece.clone(),
    }
}

/// The complete response of a finished stream, or `None` if it did not finish.
pub fn collect_stream<'a>(chunks: impl IntoIterator<Item = &'a ChatChunk>) -> Option<ChatResponse> {
    let mut acc = StreamAccumulator::new();
    for chunk in chunks {
        acc.push(chunk);
    }
    acc.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::{replay_as_chunks, replay_chunks};
    use crate::testing::response;
    use serde_json::json;

    fn rich_response() -> ChatResponse {
        serde_json::from_value(json!({
            "id": "chatcmpl-9", "object": "chat.completion", "created": 1700000000,
            "model": "gpt-4o", "system_fingerprint": "fp_1", "service_tier": "default",
            "choices": [
                {"index": 0, "finish_reason": "stop", "stop_reason": "###",
                 "message": {"role": "assistant",
                             "content": format!("{} naïve café ✓", "The quick brown fox. ".repeat(20)),
                             "annotations": []},
                 "logprobs": {"content": [{"token": "The", "logprob": -0.1}]}},
                {"index": 1, "finish_reason": "tool_calls",
                 "message": {"role": "assistant", "content": null, "tool_calls": [
                     {"id": "call_a", "type": "function",
                      "function": {"name": "lookup", "arguments": format!("{{\"q\": \"{}\"}}", "x ".repeat(150))}},
                     {"id": "call_b", "type": "function",
                      "function": {"name": "now", "arguments": "{}"}}]}},
                {"index": 2, "finish_reason": "stop",
                 "message": {"role": "assistant", "content": null, "refusal": "I can't help with that."}}
            ],
            "usage": {"prompt_tokens": 12, "completion_tokens": 40, "total_tokens": 52,
                      "prompt_tokens_details": {"cached_tokens": 0}}
        }))
        .unwrap()
    }

    #[test]
    fn replay_then_accumulate_is_the_original() {
        for original in [response("hi"), response(""), rich_response()] {
            let chunks = replay_as_chunks(&original);
            assert_eq!(collect_stream(&chunks), Some(original));
        }
    }

    #[test]
    fn without_the_usage_chunk_only_usage_is_missing() {
        let original = rich_response();
        let rebuilt = collect_stream(&replay_chunks(&original, false)).unwrap();
        assert_eq!(rebuilt.usage, None);
        assert_eq!(rebuilt.choices, original.choices);
    }

    #[test]
    fn an_unfinished_stream_yields_nothing() {
        let chunks = replay_as_chunks(&rich_response());
        // Cut before the last choice's finish chunk (and the usage chunk).
        let last_finish = chunks
            .iter()
            .rposition(|c| c.choices.iter().any(|ch| ch.finish_reason.is_some()))
            .unwrap();
        assert_eq!(collect_stream(&chunks[..last_finish]), None);
        assert_eq!(collect_stream(&[]), None);
        let mut acc = StreamAccumulator::new();
        for chunk in &chunks[..last_finish] {
            acc.push(chunk);
        }
        assert!(!acc.is_finished());
    }

    #[test]
    fn a_streamed_choice_level_stop_reason_is_kept() {
        // vLLM: `stop_reason` on every chunk choice, null until the matched stop string.
        let chunk = |choice: Value| {
            serde_json::from_value::<ChatChunk>(json!({"id": "c", "created": 1, "model": "m",
                "choices": [choice]}))
            .unwrap()
        };
        let chunks = [
            chunk(json!({"index": 0, "delta": {"content": "Hi"}, "stop_reason": null})),
            chunk(json!({"index": 0, "delta": {}, "finish_reason": "stop", "stop_reason": "###"})),
        ];
        let resp = collect_stream(&chunks).unwrap();
        assert_eq!(resp.choices[0].extra["stop_reason"], "###");
        assert!(resp.choices[0].message.extra.is_empty());
        let replayed = replay_as_chunks(&resp);
        let finish = replayed
            .iter()
            .flat_map(|c| &c.choices)
            .find(|c| c.finish_reason.is_some())
            .unwrap();
        assert_eq!(finish.extra["stop_reason"], "###");
    }

    #[test]
    fn interleaved_provider_deltas_are_joined_by_index() {
        let chunk = |v: Value| serde_json::from_value::<ChatChunk>(v).unwrap();
        let base = json!({"id": "c", "created": 1, "model": "m"});
        let with = |choices: Value| {
            let mut v = base.clone();
            v["choices"] = choices;
            chunk(v)
        };
        let chunks = [
            with(
                json!([{"index": 0, "delta": {"role": "assistant", "tool_calls": [
                {"index": 1, "id": "b", "type": "function", "function": {"name": "g", "arguments": ""}},
                {"index": 0, "id": "a", "type": "function", "function": {"name": "f", "arguments": "{\"x\""}}]}}]),
            ),
            with(json!([{"index": 0, "delta": {"tool_calls": [
                {"index": 0, "function": {"arguments": ": 1}"}},
                {"index": 1, "function": {"arguments": "{}"}}]}}])),
            with(json!([{"index": 0, "delta": {}, "finish_reason": "tool_calls"}])),
        ];
        let resp = collect_stream(&chunks).unwrap();
        let calls = resp.choices[0].message.tool_calls.clone().unwrap();
        assert_eq!(calls.len(), 2);
        assert_eq!(
            (calls[0].id.as_str(), calls[0].function.arguments.as_str()),
            ("a", "{\"x\": 1}")
        );
        assert_eq!(
            (
                calls[1].function.name.as_str(),
                calls[1].function.arguments.as_str()
            ),
            ("g", "{}")
        );
        assert_eq!(resp.object, "chat.completion");
    }
}
