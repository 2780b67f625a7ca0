//! The arguments of tool calls in answers go through the output guardrails like text, in the
//! served pipeline: a whole answer's arguments are redacted or blocked, and a stream's
//! argument deltas are scanned across deltas, so a secret split over two of them is stopped
//! before any of it is released.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers

mod answers_support;

use answers_support::{Scripted, chunk, ctx, gateway, request};
use futures_util::StreamExt;
use gateway_core::types::{Delta, FunctionCallDelta, ToolCallDelta};
use gateway_core::*;
use serde_json::json;

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
    let delta = Delta {
        tool_calls: (!deltas.is_empty()).then_some(deltas),
        ..Default::default()
    };
    chunk(delta, finish)
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
