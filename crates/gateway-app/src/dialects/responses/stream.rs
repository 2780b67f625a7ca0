//! Canonical stream chunks -> the Responses API's typed event sequence, each event with its
//! `sequence_number`:
//!
//! `response.created`, `response.in_progress`; per output item `response.output_item.added`,
//! then for a message `response.content_part.added`, `response.output_text.delta`...,
//! `response.output_text.done`, `response.content_part.done` (reasoning alike with
//! `response.reasoning_text.*`), for a function call `response.function_call_arguments.delta`...,
//! `response.function_call_arguments.done`; `response.output_item.done`; and last
//! `response.completed` (or `response.incomplete` when the answer was cut) with the whole
//! response. A failure mid-stream sends `error` and then `response.failed`. Items are opened
//! one at a time, in the order the model produces them; only choice 0 is used.

use serde_json::{Value, json};

use gateway_core::types::ToolCallDelta;
use gateway_core::{ChatChunk, GatewayError};

use super::ids::new_id;
use super::output::{Output, OutputItem, text_part};
use super::response::{Shell, error_code};

/// One event: its type (also its SSE event name) and its JSON data.
pub type Event = (&'static str, Value);

/// Stateful encoder for one streamed response.
#[derive(Debug)]
pub struct ResponsesStreamEncoder {
    shell: Shell,
    sequence: u64,
    started: bool,
    finished: bool,
    output: Output,
    /// The index in `output.items` of the open item.
    open: Option<usize>,
    /// (canonical tool-call index, item index) of the function calls seen so far.
    calls: Vec<(u32, usize)>,
    /// The finished response object, once [`Self::finish`] ran.
    completed: Option<Value>,
}

impl ResponsesStreamEncoder {
    pub fn new(shell: Shell) -> Self {
        ResponsesStreamEncoder {
            shell,
            sequence: 0,
            started: false,
            finished: false,
            output: Output::default(),
            open: None,
            calls: Vec::new(),
            completed: None,
        }
    }

    /// What was produced so far (all of it once [`Self::finish`] ran).
    pub fn output(&self) -> &Output {
        &self.output
    }

    pub fn shell(&self) -> &Shell {
        &self.shell
    }

    /// The finished response object (what `response.completed` carried), once finished.
    pub fn completed(&self) -> Option<&Value> {
        self.completed.as_ref()
    }

    fn emit(&mut self, out: &mut Vec<Event>, kind: &'static str, mut data: Value) {
        data["type"] = json!(kind);
        data["sequence_number"] = json!(self.sequence);
        self.sequence += 1;
        out.push((kind, data));
    }

    fn start(&mut self, out: &mut Vec<Event>) {
        if self.started {
            return;
        }
        self.started = true;
        let snapshot = self.shell.object("in_progress", Vec::new());
        self.emit(out, "response.created", json!({ "response": snapshot }));
        let snapshot = self.shell.object("in_progress", Vec::new());
        self.emit(out, "response.in_progress", json!({ "response": snapshot }));
    }

    /// Closes the open item: its done events.
    fn close(&mut self, out: &mut Vec<Event>) {
        let Some(index) = self.open.take() else {
            return;
        };
        let status = self.output.status();
        let item = self.output.items[index].clone();
        let id = item.id().to_owned();
        match &item {
            OutputItem::Message { text, .. } => {
                self.emit(out, "response.output_text.done", json!({
                    "item_id": id, "output_index": index, "content_index": 0, "text": text, "logprobs": [],
                }));
                self.emit(out, "response.content_part.done", json!({
                    "item_id": id, "output_index": index, "content_index": 0, "part": text_part(text),
                }));
            }
            OutputItem::Reasoning { text, .. } => {
                self.emit(
                    out,
                    "response.reasoning_text.done",
                    json!({
                        "item_id": id, "output_index": index, "content_index": 0, "text": text,
                    }),
                );
                self.emit(
                    out,
                    "response.content_part.done",
                    json!({
                        "item_id": id, "output_index": index, "content_index": 0,
                        "part": {"type": "reasoning_text", "text": text},
                    }),
                );
            }
            OutputItem::FunctionCall {
                name, arguments, ..
            } => {
                self.emit(
                    out,
                    "response.function_call_arguments.done",
                    json!({
                        "item_id": id, "output_index": index, "name": name, "arguments": arguments,
                    }),
                );
            }
        }
        self.emit(
            out,
            "response.output_item.done",
            json!({
                "output_index": index, "item": item.json(status),
            }),
        );
    }

    /// Opens `item` (closing the open one) and announces it; returns its index.
    fn open(&mut self, item: OutputItem, out: &mut Vec<Event>) -> usize {
        self.close(out);
        let index = self.output.items.len();
        let id = item.id().to_owned();
        let announced = item.json("in_progress");
        let part = match &item {
            OutputItem::Message { .. } => Some(text_part("")),
            OutputItem::Reasoning { .. } => Some(json!({"type": "reasoning_text", "text": ""})),
            OutputItem::FunctionCall { .. } => None,
        };
        self.output.items.push(item);
        self.open = Some(index);
        self.emit(
            out,
            "response.output_item.added",
            json!({
                "output_index": index, "item": announced,
            }),
        );
        if let Some(part) = part {
            self.emit(
                out,
                "response.content_part.added",
                json!({
                    "item_id": id, "output_index": index, "content_index": 0, "part": part,
                }),
            );
        }
        index
    }

    /// The index of the open item when it is of the kind `is_kind` accepts, else of a new one.
    fn open_kind(
        &mut self,
        is_kind: fn(&OutputItem) -> bool,
        new: fn() -> OutputItem,
        out: &mut Vec<Event>,
    ) -> usize {
        match self.open {
            Some(index) if is_kind(&self.output.items[index]) => index,
            _ => self.open(new(), out),
        }
    }

    fn text(&mut self, delta: &str, out: &mut Vec<Event>) {
        let index = self.open_kind(
            |i| matches!(i, OutputItem::Message { .. }),
            || OutputItem::Message {
                id: new_id("msg"),
                text: String::new(),
                refusal: None,
            },
            out,
        );
        if let OutputItem::Message { id, text, .. } = &mut self.output.items[index] {
            text.push_str(delta);
            let id = id.clone();
            self.emit(out, "response.output_text.delta", json!({
                "item_id": id, "output_index": index, "content_index": 0, "delta": delta, "logprobs": [],
            }));
        }
    }

    fn refusal(&mut self, delta: &str, out: &mut Vec<Event>) {
        let index = self.open_kind(
            |i| matches!(i, OutputItem::Message { .. }),
            || OutputItem::Message {
                id: new_id("msg"),
                text: String::new(),
                refusal: None,
            },
            out,
        );
        if let OutputItem::Message { refusal, .. } = &mut self.output.items[index] {
            refusal.get_or_insert_with(String::new).push_str(delta);
        }
    }

    fn reasoning(&mut self, delta: &str, out: &mut Vec<Event>) {
        let index = self.open_kind(
            |i| matches!(i, OutputItem::Reasoning { .. }),
            || OutputItem::Reasoning {
                id: new_id("rs"),
                text: String::new(),
            },
            out,
        );
        if let OutputItem::Reasoning { id, text } = &mut self.output.items[index] {
            text.push_str(delta);
            let id = id.clone();
            self.emit(
                out,
                "response.reasoning_text.delta",
                json!({
                    "item_id": id, "output_index": index, "content_index": 0, "delta": delta,
                }),
            );
        }
    }

    fn tool_call(&mut self, call: &ToolCallDelta, out: &mut Vec<Event>) {
        let function = call.function.as_ref();
        let index = match self.calls.iter().find(|(tool, _)| *tool == call.index) {
            // Arguments of the open call, or (rare interleaving) of an earlier one.
            Some(&(_, index)) => index,
            None => {
                let item = OutputItem::FunctionCall {
                    id: new_id("fc"),
                    call_id: call.id.clone().unwrap_or_else(|| new_id("call")),
                    name: function.and_then(|f| f.name.clone()).unwrap_or_default(),
                    arguments: String::new(),
                };
                let index = self.open(item, out);
                self.calls.push((call.index, index));
                index
            }
        };
        let delta = function
            .and_then(|f| f.arguments.as_deref())
            .unwrap_or_default();
        if delta.is_empty() {
            return;
        }
        if let OutputItem::FunctionCall { id, arguments, .. } = &mut self.output.items[index] {
            arguments.push_str(delta);
            let id = id.clone();
            self.emit(
                out,
                "response.function_call_arguments.delta",
                json!({
                    "item_id": id, "output_index": index, "delta": delta,
                }),
            );
        }
    }

    /// The events for one canonical chunk.
    pub fn push(&mut self, chunk: &ChatChunk) -> Vec<Event> {
        let mut out = Vec::new();
        if self.finished {
            return out;
        }
        self.start(&mut out);
        if let Some(usage) = &chunk.usage {
            self.output.usage = Some(usage.clone());
        }
        for choice in chunk.choices.iter().filter(|c| c.index == 0) {
            let d = &choice.delta;
            if let Some(thinking) = d
                .extra
                .get("reasoning_content")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
            {
                self.reasoning(thinking, &mut out);
            }
            if let Some(text) = d.content.as_deref().filter(|t| !t.is_empty()) {
                self.text(text, &mut out);
            }
            if let Some(refusal) = d.refusal.as_deref().filter(|t| !t.is_empty()) {
                self.refusal(refusal, &mut out);
            }
            for call in d.tool_calls.iter().flatten() {
                self.tool_call(call, &mut out);
            }
            if let Some(reason) = &choice.finish_reason {
                self.output.finish_reason = Some(reason.clone());
                self.close(&mut out);
            }
        }
        out
    }

    /// The closing events, once the canonical stream ended: `response.completed` (or
    /// `response.incomplete`) with the whole response.
    pub fn finish(&mut self) -> Vec<Event> {
        let mut out = Vec::new();
        if self.finished {
            return out;
        }
        self.start(&mut out);
        self.close(&mut out);
        self.finished = true;
        let response = self.shell.finished(&self.output);
        let kind = if self.output.status() == "incomplete" {
            "response.incomplete"
        } else {
            "response.completed"
        };
        self.emit(&mut out, kind, json!({ "response": &response }));
        self.completed = Some(response);
        out
    }

    /// A failure mid-stream: `error`, then `response.failed` with what was produced.
    pub fn fail(&mut self, err: &GatewayError) -> Vec<Event> {
        let mut out = Vec::new();
        if self.finished {
            return out;
        }
        self.start(&mut out);
        self.finished = true;
        self.emit(
            &mut out,
            "error",
            json!({
                "code": error_code(err), "message": err.to_string(), "param": err.param(),
            }),
        );
        let response = self.shell.failed(&self.output, err);
        self.emit(&mut out, "response.failed", json!({ "response": response }));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;

    fn chunk(v: Value) -> ChatChunk {
        let mut base = json!({"id": "chatcmpl-1", "model": "m", "created": 1});
        if let (Some(b), Some(extra)) = (base.as_object_mut(), v.as_object()) {
            b.extend(extra.clone());
        }
        serde_json::from_value(base).unwrap()
    }

    fn delta(d: Value) -> ChatChunk {
        chunk(json!({"choices": [{"index": 0, "delta": d, "finish_reason": null}]}))
    }

    fn encoder() -> ResponsesStreamEncoder {
        ResponsesStreamEncoder::new(Shell {
            id: "resp_1".into(),
            created_at: 7,
            echo: Map::new(),
        })
    }

    #[test]
    fn reasoning_text_and_a_tool_call_become_three_items_in_order() {
        let mut enc = encoder();
        let mut events: Vec<Event> = [
            delta(json!({"reasoning_content": "thinking"})),
            delta(json!({"content": "Let me check."})),
            delta(json!({"tool_calls": [{"index": 0, "id": "call_a", "function": {"name": "w", "arguments": "{\"c\":"}}]})),
            delta(json!({"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]})),
            chunk(json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]})),
            chunk(json!({"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}})),
        ]
        .iter()
        .flat_map(|c| enc.push(c))
        .collect();
        events.extend(enc.finish());
        let names: Vec<&str> = events.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "response.created",
                "response.in_progress",
                "response.output_item.added",
                "response.content_part.added",
                "response.reasoning_text.delta",
                "response.reasoning_text.done",
                "response.content_part.done",
                "response.output_item.done",
                "response.output_item.added",
                "response.content_part.added",
                "response.output_text.delta",
                "response.output_text.done",
                "response.content_part.done",
                "response.output_item.done",
                "response.output_item.added",
                "response.function_call_arguments.delta",
                "response.function_call_arguments.delta",
                "response.function_call_arguments.done",
                "response.output_item.done",
                "response.incomplete",
            ]
        );
        for (i, (_, data)) in events.iter().enumerate() {
            assert_eq!(data["sequence_number"], i);
        }
        assert_eq!(events[17].1["arguments"], "{\"c\":1}");
        assert_eq!(events[17].1["output_index"], 2);
        let response = &events[19].1["response"];
        assert_eq!(response["status"], "incomplete");
        assert_eq!(
            response["incomplete_details"]["reason"],
            "max_output_tokens"
        );
        assert_eq!(response["usage"]["input_tokens"], 5);
        assert_eq!(response["output"][0]["type"], "reasoning");
        assert_eq!(response["output"][1]["content"][0]["text"], "Let me check.");
        assert_eq!(response["output"][2]["call_id"], "call_a");
        assert_eq!(enc.completed(), Some(response));
        let message = enc.output().assistant_message().unwrap();
        assert_eq!(
            message.tool_calls.unwrap()[0].function.arguments,
            "{\"c\":1}"
        );
    }

    #[test]
    fn an_empty_stream_completes_and_a_failure_fails() {
        let mut enc = encoder();
        let names: Vec<&str> = enc.finish().iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "response.created",
                "response.in_progress",
                "response.completed"
            ]
        );
        let mut enc = encoder();
        enc.push(&delta(json!({"content": "par"})));
        let events = enc.fail(&GatewayError::Unavailable("gone".into()));
        assert_eq!(events[0].0, "error");
        assert_eq!(events[1].0, "response.failed");
        assert_eq!(
            events[1].1["response"]["output"][0]["content"][0]["text"],
            "par"
        );
        assert!(enc.finish().is_empty(), "nothing after a failure");
    }
}
