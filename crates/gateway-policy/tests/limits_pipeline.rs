//! The limiter inside the `gateway-core` pipeline: streamed calls reconcile with the usage of
//! their final chunk (`stream: true` cannot bypass token limits), non-streamed calls with the
//! response's usage, embeddings are admitted too, and the snapshot reaches the outcome.

// Test helpers outside #[test] functions may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod limits_support;

use std::sync::Arc;

use async_trait::async_trait;
use futures_util::StreamExt;
use gateway_core::phases::route::{Routed, Router, ServedBy};
use gateway_core::types::{EmbeddingsRequest, EmbeddingsResponse, ModelInfo};
use gateway_core::{
    ChatRequest, ChatResponse, ChatStream, Gateway, GatewayError, RequestContext, StreamEvent,
};
use limits_support::*;
use serde_json::json;

/// Answers every call at once; each call uses 7 prompt + 5 completion tokens.
struct Fixed;

fn served() -> ServedBy {
    ServedBy {
        route_reason: None,
        task: None,
        dropped_params: Vec::new(),
        provider: Arc::from("fixed"),
        upstream_model: Arc::from("gpt-4o-mini"),
        region: None,
        attempts: 1,
        path: vec![Arc::from("fixed")],
    }
}

fn usage() -> serde_json::Value {
    json!({"prompt_tokens": 7, "completion_tokens": 5, "total_tokens": 12})
}

#[async_trait]
impl Router for Fixed {
    fn models(&self) -> Vec<ModelInfo> {
        vec![ModelInfo::new("m".to_owned(), "fixed")]
    }
    fn knows(&self, model: &str) -> bool {
        model == "m"
    }
    async fn chat(
        &self,
        _: ChatRequest,
        _: &RequestContext,
    ) -> Result<Routed<ChatResponse>, GatewayError> {
        let value = serde_json::from_value(json!({
            "id": "c", "model": "m", "usage": usage(),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}]
        }))
        .unwrap();
        Ok(Routed {
            value,
            served_by: served(),
        })
    }
    async fn chat_stream(
        &self,
        _: ChatRequest,
        _: &RequestContext,
    ) -> Result<Routed<ChatStream>, GatewayError> {
        let text =
            json!({"id": "c", "model": "m", "choices": [{"index": 0, "delta": {"content": "hi"}}]});
        let last = json!({"id": "c", "model": "m", "choices": [], "usage": usage()});
        let events = [text, last]
            .into_iter()
            .map(|c| Ok(StreamEvent::Chunk(serde_json::from_value(c).unwrap())));
        let value: ChatStream = Box::pin(futures_util::stream::iter(events.collect::<Vec<_>>()));
        Ok(Routed {
            value,
            served_by: served(),
        })
    }
    async fn embeddings(
        &self,
        _: EmbeddingsRequest,
        _: &RequestContext,
    ) -> Result<Routed<EmbeddingsResponse>, GatewayError> {
        let value = serde_json::from_value(json!({
            "object": "list", "model": "m", "data": [], "usage": {"prompt_tokens": 3, "total_tokens": 3}
        }))
        .unwrap();
        Ok(Routed {
            value,
            served_by: served(),
        })
    }
}

fn request(stream: bool) -> ChatRequest {
    serde_json::from_value(json!({
        "model": "m", "stream": stream, "max_tokens": 400,
        "messages": [{"role": "user", "content": "Hello there"}]
    }))
    .unwrap()
}

#[tokio::test(start_paused = true)]
async fn streamed_and_whole_calls_reconcile_with_real_usage() {
    let l = limiter("[key]\ntpm = 1000\nrpm = 100");
    let gw = Gateway::builder(Arc::new(Fixed))
        .admission(Arc::new(l.clone()))
        .build();
    let c = ctx(&principal("acme", "k"));

    let mut out = gw.chat_stream(&c, request(true)).await.unwrap();
    let reserved = out.limits.remaining_tokens.unwrap();
    assert!(
        reserved < 600,
        "prompt + max_tokens were reserved: {reserved} left"
    );
    assert_eq!(out.limits.limit_requests, Some(100));
    while out.stream.next().await.is_some() {}
    drop(out);

    let whole = gw.chat(&c, request(false)).await.unwrap();
    // The stream's 12 real tokens replaced its reservation; this call's reservation is held.
    let left = whole.limits.remaining_tokens.unwrap();
    assert_eq!(left, reserved - 12, "the stream was reconciled");

    // Both reconciled (12 + 12): a call needing 976 fits exactly, 977 would not.
    let snapshot = call(&l, &principal("acme", "k"), "m", 576, 400)
        .await
        .unwrap();
    assert_eq!(snapshot.snapshot.remaining_tokens, Some(0));
}

#[tokio::test(start_paused = true)]
async fn a_stream_cannot_bypass_a_token_limit() {
    let l = limiter("[key]\ntpm = 100");
    let gw = Gateway::builder(Arc::new(Fixed))
        .admission(Arc::new(l))
        .build();
    let c = ctx(&principal("acme", "k"));
    let err = gw.chat_stream(&c, request(true)).await.err().unwrap();
    assert!(
        message(&err).contains("Request too large"),
        "{}",
        message(&err)
    );
}

#[tokio::test(start_paused = true)]
async fn embeddings_are_admitted_and_counted() {
    let l = limiter("[key]\nrpm = 1");
    let gw = Gateway::builder(Arc::new(Fixed))
        .admission(Arc::new(l))
        .build();
    let c = ctx(&principal("acme", "k"));
    let req: EmbeddingsRequest =
        serde_json::from_value(json!({"model": "m", "input": "hello"})).unwrap();
    gw.embeddings(&c, req.clone()).await.unwrap();
    let err = gw.embeddings(&c, req).await.err().unwrap();
    assert!(message(&err).contains("(rpm)"));
}
