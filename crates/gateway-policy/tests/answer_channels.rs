//! Refusals and reasoning go through the output guardrails like an answer's content: a model
//! can repeat a secret from its context in its reasoning (OpenAI-compatible
//! `reasoning_content`, Anthropic thinking blocks) or in a refusal as readily as in its
//! answer. Whole answers are redacted or blocked; streamed refusal and reasoning deltas are
//! scanned across deltas, each as its own text, before any of a match is released.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers

mod answers_support;

use answers_support::{Scripted, chunk, ctx, gateway, request};
use futures_util::StreamExt;
use gateway_core::types::{Delta, REASONING_CONTENT};
use gateway_core::*;
use serde_json::{Value, json};

const AWS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";

fn answer(message: Value) -> Value {
    json!({"id": "r", "object": "chat.completion", "created": 0, "model": "m",
        "choices": [{"index": 0, "finish_reason": "stop", "message": message}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}})
}

async fn whole(message: Value) -> Result<ChatResponse, GatewayError> {
    let gw = gateway(Scripted {
        response: answer(message),
        chunks: vec![],
    });
    gw.chat(&ctx(), request(false))
        .await
        .map(|out| out.response)
}

#[tokio::test]
async fn a_secret_in_a_whole_answers_refusal_or_reasoning_is_blocked() {
    let messages = [
        json!({"role": "assistant", "content": null, "refusal": format!("I won't use {AWS_KEY}")}),
        json!({"role": "assistant", "content": "ok", "reasoning_content": format!("the key is {AWS_KEY}")}),
        json!({"role": "assistant", "content": "ok", "thinking_blocks": [
            {"type": "thinking", "thinking": format!("use {AWS_KEY}"), "signature": "sig"}]}),
    ];
    for message in messages {
        let err = whole(message.clone()).await.unwrap_err();
        assert_eq!(err.status(), 422, "{message}");
        assert!(err.to_string().contains("secrets"), "{err}");
    }
}

#[tokio::test]
async fn pii_in_a_whole_answers_refusal_and_reasoning_is_redacted_in_place() {
    let response = whole(json!({"role": "assistant", "content": "done",
        "refusal": "write to jane.doe@example.com instead",
        "reasoning_content": "the user is jane.doe@example.com"}))
    .await
    .unwrap();
    let message = &response.choices[0].message;
    assert_eq!(message.refusal.as_deref(), Some("write to [EMAIL] instead"));
    assert_eq!(message.extra[REASONING_CONTENT], "the user is [EMAIL]");
    assert_eq!(
        message.content.as_ref().unwrap().joined_text(),
        "done",
        "the content is untouched"
    );
}

fn reasoning(text: &str) -> Delta {
    serde_json::from_value(json!({ REASONING_CONTENT: text })).unwrap()
}

fn refusal(text: &str) -> Delta {
    Delta {
        refusal: Some(text.to_owned()),
        ..Delta::default()
    }
}

/// Runs a stream; returns the (content, refusal, reasoning) text released and whether it
/// was blocked.
async fn run_stream(chunks: Vec<ChatChunk>) -> ([String; 3], bool) {
    let gw = gateway(Scripted {
        response: json!({}),
        chunks,
    });
    let out = gw.chat_stream(&ctx(), request(true)).await.unwrap();
    let items: Vec<_> = out.stream.collect().await;
    let mut texts: [String; 3] = Default::default();
    let mut blocked = false;
    for item in &items {
        match item {
            Ok(StreamEvent::Chunk(c)) => {
                for choice in &c.choices {
                    blocked |= choice.finish_reason.as_deref() == Some("content_filter");
                    let delta = &choice.delta;
                    texts[0].push_str(delta.content.as_deref().unwrap_or_default());
                    texts[1].push_str(delta.refusal.as_deref().unwrap_or_default());
                    let thought = delta.extra.get(REASONING_CONTENT).and_then(Value::as_str);
                    texts[2].push_str(thought.unwrap_or_default());
                }
            }
            Ok(StreamEvent::KeepAlive) => {}
            Err(e) => {
                assert!(matches!(e, GatewayError::PolicyBlocked { .. }), "{e}");
                blocked = true;
            }
        }
    }
    (texts, blocked)
}

#[tokio::test]
async fn a_secret_split_across_two_reasoning_deltas_is_blocked_before_any_of_it_is_released() {
    for split in 1..AWS_KEY.len() {
        let (first, second) = AWS_KEY.split_at(split);
        let chunks = vec![
            chunk(reasoning(&format!("I could use {first}")), None),
            chunk(reasoning(&format!("{second} to sign in")), None),
            chunk(
                Delta {
                    content: Some("Done.".into()),
                    ..Delta::default()
                },
                Some("stop"),
            ),
        ];
        let (texts, blocked) = run_stream(chunks).await;
        assert!(blocked, "split at {split}: not blocked");
        let released = texts.concat();
        assert!(
            !released.contains(first),
            "split at {split}: released {released:?}"
        );
    }
}

#[tokio::test]
async fn pii_in_streamed_refusal_deltas_is_redacted_and_the_channels_stay_apart() {
    let chunks = vec![
        chunk(reasoning("Thinking about jane.d"), None),
        chunk(reasoning("oe@example.com now"), None),
        chunk(refusal("Ask jane.doe@exa"), None),
        chunk(refusal("mple.com yourself"), None),
        chunk(Delta::default(), Some("stop")),
    ];
    let (texts, blocked) = run_stream(chunks).await;
    assert!(!blocked);
    assert_eq!(texts[0], "", "no content was invented");
    assert_eq!(texts[1], "Ask [EMAIL] yourself");
    assert_eq!(texts[2], "Thinking about [EMAIL] now");
}

#[tokio::test]
async fn held_back_reasoning_is_released_when_the_upstream_ends_without_a_finish() {
    let chunks = vec![chunk(reasoning("Paris is the capital"), None)];
    let (texts, blocked) = run_stream(chunks).await;
    assert!(!blocked);
    assert_eq!(texts[2], "Paris is the capital");
}
