//! The arguments of tool calls in answers go through the output guardrails like text, in the
//! served pipeline: a whole answer's arguments are redacted or blocked, and a stream's
//! argument deltas are scanned across deltas, so a secret split over two of them is stopped
//! before any of it is released.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers

use std::sync::Arc;

use async_trait::async_trait;
use futures_util::StreamExt;
use gateway_core::phases::route::{Routed, Router, ServedBy};
use gateway_core::types::{
    ChunkChoice, Delta, EmbeddingsRequest, EmbeddingsResponse, Extra, FunctionCallDelta, ModelInfo,
    ToolCallDelta,
};
use gateway_core::*;
use gateway_policy::{GuardrailConfig, PolicyGuardrail};
use serde_json::json;

/// An upstream answering with a fixed response, or streaming fixed chunks.
struct Scripted {
    response: serde_json::Value,
    chunks: Vec<ChatChunk>,
}

fn served() -> ServedBy {
    ServedBy {
        dropped_params: Vec::new(),
        provider: Arc::from("fake"),
        upstream_model: Arc::from("m"),
        region: None,
        attempts: 1,
        path: vec![Arc::from("fake")],
    }
}

#[async_trait]
impl Router for Scripted {
    fn models(&self) -> Vec<ModelInfo> {
        vec![ModelInfo::new("m", "fake")]
    }
    fn knows(&self, model: &str) -> bool {
        model == "m"
    }
    async fn chat(
        &self,
        _: ChatRequest,
        _: &RequestContext,
    ) -> Result<Routed<ChatResponse>, GatewayError> {
        Ok(Routed {
            value: serde_json::from_value(self.response.clone()).unwrap(),
            served_by: served(),
        })
    }
    async fn chat_stream(
        &self,
        _: ChatRequest,
        _: &RequestContext,
    ) -> Result<Routed<ChatStream>, GatewayError> {
        let items: Vec<Result<StreamEvent, ProviderError>> = self
            .chunks
            .iter()
            .map(|c| Ok(StreamEvent::Chunk(c.clone())))
            .collect();
        Ok(Routed {
            value: Box::pin(futures_util::stream::iter(items)),
            served_by: served(),
        })
    }
    async fn embeddings(
        &self,
        _: EmbeddingsRequest,
        _: &RequestContext,
    ) -> Result<Routed<EmbeddingsResponse>, GatewayError> {
        Err(GatewayError::invalid("no embeddings"))
    }
}

fn gateway(router: Scripted) -> Gateway {
    let guardrail = PolicyGuardrail::from_config(&GuardrailConfig::default()).unwrap();
    Gateway::builder(Arc::new(router))
        .guardrail(Arc::new(guardrail))
        .build()
}

fn ctx() -> RequestContext {
    RequestContext::new("req-1", Principal::anonymous(), Endpoint::ChatCompletions)
}

fn request(stream: bool) -> ChatRequest {
    ChatRequest {
        model: "m".into(),
        messages: vec![Message::text(Role::User, "send the note")],
        stream,
        ..Default::default()
    }
}

fn tool_response(arguments: &str) -> serde_json::Value {
    json!({"id": "r", "object": "chat.completion", "created": 0, "model": "m",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": null,
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "send", "arguments": arguments}}]}}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}})
}

/// A chunk of choice 0 with tool-call deltas `(call index, id and name if first, arguments)`.
fn tool_chunk(calls: &[(u32, Option<&str>, &str)], finish: Option<&str>) -> ChatChunk {
    let deltas = calls
        .iter()
        .map(|(index, name, arguments)| ToolCallDelta {
            index: *index,
            id: name.map(|n| format!("call_{n}")),
            kind: name.map(|_| "function".to_owned()),
            function: Some(FunctionCallDelta {
                name: name.map(str::to_owned),
                arguments: Some((*arguments).to_owned()),
            }),
        })
        .collect::<Vec<_>>();
    ChatChunk {
        id: "c".into(),
        object: "chat.completion.chunk".into(),
        created: 0,
        model: "m".into(),
        choices: vec![ChunkChoice {
            index: 0,
            delta: Delta {
                tool_calls: (!deltas.is_empty()).then_some(deltas),
                ..Default::default()
            },
            finish_reason: finish.map(str::to_owned),
            logprobs: None,
            extra: Extra::new(),
        }],
        usage: None,
        system_fingerprint: None,
        extra: Default::default(),
    }
}

/// Runs a stream; returns the arguments each call received and whether it was blocked.
async fn run_stream(chunks: Vec<ChatChunk>) -> (Vec<String>, bool) {
    let gw = gateway(Scripted {
        response: json!({}),
        chunks,
    });
    let out = gw.chat_stream(&ctx(), request(true)).await.unwrap();
    let items: Vec<_> = out.stream.collect().await;
    let mut arguments: Vec<String> = Vec::new();
    let mut blocked = false;
    for item in &items {
        match item {
            Ok(StreamEvent::Chunk(c)) => {
                for choice in &c.choices {
                    blocked |= choice.finish_reason.as_deref() == Some("content_filter");
                    for call in choice.delta.tool_calls.iter().flatten() {
                        let index = call.index as usize;
                        if arguments.len() <= index {
                            arguments.resize(index + 1, String::new());
                        }
                        let args = call.function.as_ref().and_then(|f| f.arguments.as_deref());
                        arguments[index].push_str(args.unwrap_or_default());
                    }
                }
            }
            Ok(StreamEvent::KeepAlive) => {}
            Err(e) => {
                assert!(matches!(e, GatewayError::PolicyBlocked { .. }), "{e}");
                blocked = true;
            }
        }
    }
    (arguments, blocked)
}

#[tokio::test]
async fn a_secret_in_the_arguments_of_a_whole_answer_is_blocked() {
    let gw = gateway(Scripted {
        response: tool_response(r#"{"note":"the key is AKIAIOSFODNN7EXAMPLE"}"#),
        chunks: vec![],
    });
    let err = gw.chat(&ctx(), request(false)).await.unwrap_err();
    assert_eq!(err.status(), 422);
    assert!(err.to_string().contains("secrets"), "{err}");
}

#[tokio::test]
async fn pii_in_the_arguments_of_a_whole_answer_is_redacted() {
    let gw = gateway(Scripted {
        response: tool_response(r#"{"to":"jane.doe@example.com","body":"hello"}"#),
        chunks: vec![],
    });
    let out = gw.chat(&ctx(), request(false)).await.unwrap();
    let calls = out.response.choices[0].message.tool_calls.as_ref().unwrap();
    assert_eq!(
        calls[0].function.arguments,
        r#"{"to":"[EMAIL]","body":"hello"}"#
    );
}

#[tokio::test]
async fn a_secret_split_across_two_argument_deltas_is_blocked_before_any_of_it_is_released() {
    let key = "AKIAIOSFODNN7EXAMPLE";
    for split in 1..key.len() {
        let (first, second) = key.split_at(split);
        let chunks = vec![
            tool_chunk(&[(0, Some("send"), "")], None),
            tool_chunk(&[(0, None, &format!(r#"{{"note": "key {first}"#))], None),
            tool_chunk(&[(0, None, &format!(r#"{second}"}}"#))], None),
            tool_chunk(&[], Some("tool_calls")),
        ];
        let (arguments, blocked) = run_stream(chunks).await;
        assert!(blocked, "split at {split}: not blocked");
        let released = arguments.concat();
        assert!(
            !released.contains(first),
            "split at {split}: released {released:?}"
        );
    }
}

#[tokio::test]
async fn pii_in_streamed_arguments_is_redacted_and_every_call_is_released_whole() {
    let chunks = vec![
        tool_chunk(&[(0, Some("send"), r#"{"to": "jane.d"#)], None),
        tool_chunk(&[(0, None, r#"oe@example.com", "n": 1}"#)], None),
        tool_chunk(&[(1, Some("log"), r#"{"msg": "plain text here"}"#)], None),
        tool_chunk(&[], Some("tool_calls")),
    ];
    let (arguments, blocked) = run_stream(chunks).await;
    assert!(!blocked);
    assert_eq!(
        arguments,
        [
            r#"{"to": "[EMAIL]", "n": 1}"#,
            r#"{"msg": "plain text here"}"#
        ]
    );
}

#[tokio::test]
async fn held_back_arguments_are_released_when_the_upstream_ends_without_a_finish() {
    let chunks = vec![tool_chunk(
        &[(0, Some("send"), r#"{"city":"Paris"}"#)],
        None,
    )];
    let (arguments, blocked) = run_stream(chunks).await;
    assert!(!blocked);
    assert_eq!(arguments, [r#"{"city":"Paris"}"#]);
}
