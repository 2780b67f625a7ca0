//! The pipeline over fake phases: authorisation, guardrail blocks, stream metering (usage
//! stripped unless asked, cancellation accounted exactly once).

// Test helpers outside #[test] functions may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures_util::StreamExt;

use gateway_core::phases::account::{UsageRecord, UsageSink};
use gateway_core::phases::guard::{
    FindingTally, GuardAction, GuardFinding, GuardOutcome, Guardrail, StreamGuard,
};
use gateway_core::phases::route::{Routed, Router, ServedBy};
use gateway_core::types::{
    ChunkChoice, Delta, EmbeddingsRequest, EmbeddingsResponse, Extra, ModelInfo,
};
use gateway_core::*;

struct FakeRouter {
    chunks: Vec<&'static str>,
    dropped: Arc<AtomicBool>,
    hang_after_chunks: bool,
}

fn served() -> ServedBy {
    ServedBy {
        route_reason: None,
        task: None,
        dropped_params: Vec::new(),
        provider: Arc::from("fake"),
        upstream_model: Arc::from("up-model"),
        region: None,
        attempts: 1,
        path: vec![Arc::from("fake")],
    }
}

fn chunk(text: Option<&str>, finish: Option<&str>, usage: Option<Usage>) -> ChatChunk {
    let usage_only = usage.is_some() && text.is_none() && finish.is_none();
    ChatChunk {
        id: "c".into(),
        object: "chat.completion.chunk".into(),
        created: 0,
        model: "up-model".into(),
        choices: if usage_only {
            vec![]
        } else {
            vec![ChunkChoice {
                index: 0,
                delta: Delta {
                    content: text.map(str::to_owned),
                    ..Default::default()
                },
                finish_reason: finish.map(str::to_owned),
                logprobs: None,
                extra: Extra::new(),
            }]
        },
        usage,
        system_fingerprint: None,
        extra: Default::default(),
    }
}

struct DropFlag(Arc<AtomicBool>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[async_trait]
impl Router for FakeRouter {
    fn models(&self) -> Vec<ModelInfo> {
        vec![
            ModelInfo::new("m", "fake"),
            ModelInfo::new("secret-model", "fake"),
        ]
    }
    fn knows(&self, model: &str) -> bool {
        model == "m" || model == "secret-model"
    }
    async fn chat(
        &self,
        req: ChatRequest,
        _: &RequestContext,
    ) -> Result<Routed<ChatResponse>, GatewayError> {
        let text = req.messages[0].content.as_ref().unwrap().joined_text();
        let resp: ChatResponse = serde_json::from_value(serde_json::json!({
            "id": "r", "object": "chat.completion", "created": 0, "model": req.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": format!("echo {text}")}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
        }))
        .unwrap();
        Ok(Routed {
            value: resp,
            served_by: served(),
        })
    }
    async fn chat_stream(
        &self,
        _: ChatRequest,
        _: &RequestContext,
    ) -> Result<Routed<ChatStream>, GatewayError> {
        let mut items: Vec<Result<StreamEvent, ProviderError>> = self
            .chunks
            .iter()
            .map(|t| Ok(StreamEvent::Chunk(chunk(Some(t), None, None))))
            .collect();
        let flag = DropFlag(self.dropped.clone());
        let hang = self.hang_after_chunks;
        if !hang {
            items.push(Ok(StreamEvent::Chunk(chunk(None, Some("stop"), None))));
            items.push(Ok(StreamEvent::Chunk(chunk(
                None,
                None,
                Some(Usage::new(4, 6)),
            ))));
        }
        let tail = futures_util::stream::unfold(flag, move |flag| async move {
            if hang {
                std::future::pending::<()>().await;
            }
            drop(flag);
            None
        });
        let stream = futures_util::stream::iter(items).chain(tail);
        Ok(Routed {
            value: Box::pin(stream),
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

#[derive(Default)]
struct Records(Mutex<Vec<UsageRecord>>);
impl UsageSink for Records {
    fn record(&self, record: UsageRecord) {
        self.0.lock().unwrap().push(record);
    }
}

/// Blocks requests containing "forbidden"; in streams, blocks once "XYZ" has been seen.
struct WordGuard;
struct WordStreamGuard {
    seen: String,
}
fn finding() -> GuardFinding {
    GuardFinding {
        guardrail: "words".into(),
        category: "test".into(),
        rule: "bad-word".into(),
        score: 1.0,
        start: 0,
        end: 0,
    }
}
impl Guardrail for WordGuard {
    fn check_request(&self, req: &mut ChatRequest, _: &RequestContext) -> GuardOutcome {
        let text = req.messages[0].content.as_ref().unwrap().joined_text();
        if text.contains("forbidden") {
            GuardOutcome {
                action: GuardAction::Block,
                findings: vec![finding()],
            }
        } else if text.contains("suspicious") {
            // Two flags, one of a known kind.
            let pii = GuardFinding {
                guardrail: "pii".into(),
                ..finding()
            };
            GuardOutcome {
                action: GuardAction::Flag,
                findings: vec![finding(), pii],
            }
        } else {
            GuardOutcome::allow()
        }
    }
    fn check_response(&self, resp: &mut ChatResponse, _: &RequestContext) -> GuardOutcome {
        let text = resp.choices[0]
            .message
            .content
            .as_ref()
            .map(|c| c.joined_text())
            .unwrap_or_default();
        if text.contains("suspicious") {
            GuardOutcome {
                action: GuardAction::Redact,
                findings: vec![GuardFinding {
                    guardrail: "secrets".into(),
                    ..finding()
                }],
            }
        } else {
            GuardOutcome::allow()
        }
    }
    fn stream_guard(&self, _: &RequestContext) -> Option<Box<dyn StreamGuard>> {
        Some(Box::new(WordStreamGuard {
            seen: String::new(),
        }))
    }
}
impl StreamGuard for WordStreamGuard {
    fn findings(&self) -> FindingTally {
        let mut found = FindingTally::default();
        for _ in self.seen.matches("flag") {
            found.add_one("moderation");
        }
        found
    }
    fn push(&mut self, delta: &str) -> Result<String, GuardOutcome> {
        self.seen.push_str(delta);
        if self.seen.contains("XYZ") {
            return Err(GuardOutcome {
                action: GuardAction::Block,
                findings: vec![finding()],
            });
        }
        Ok(delta.to_owned())
    }
    fn finish(&mut self) -> Result<String, GuardOutcome> {
        Ok(String::new())
    }
}

fn gateway(router: FakeRouter, sink: Arc<Records>) -> Gateway {
    Gateway::builder(Arc::new(router))
        .guardrail(Arc::new(WordGuard))
        .usage_sink(sink)
        .build()
}

fn router(chunks: Vec<&'static str>, hang: bool) -> (FakeRouter, Arc<AtomicBool>) {
    let dropped = Arc::new(AtomicBool::new(false));
    (
        FakeRouter {
            chunks,
            dropped: dropped.clone(),
            hang_after_chunks: hang,
        },
        dropped,
    )
}

fn ctx() -> RequestContext {
    RequestContext::new("req-1", Principal::anonymous(), Endpoint::ChatCompletions)
}

fn request(text: &str, stream: bool) -> ChatRequest {
    ChatRequest {
        model: "m".into(),
        messages: vec![Message::text(Role::User, text)],
        stream,
        ..Default::default()
    }
}

#[tokio::test]
async fn chat_runs_and_accounts() {
    let sink = Arc::new(Records::default());
    let (r, _) = router(vec![], false);
    let gw = gateway(r, sink.clone());
    let out = gw.chat(&ctx(), request("hi", false)).await.unwrap();
    assert_eq!(out.response.model, "m", "public name restored");
    let records = sink.0.lock().unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].usage.as_ref().unwrap().total_tokens, 5);
    assert_eq!(
        (records[0].status, records[0].provider.as_deref()),
        (200, Some("fake"))
    );
}

#[tokio::test]
async fn forbidden_model_looks_like_unknown_model() {
    let (r, _) = router(vec![], false);
    let gw = gateway(r, Arc::default());
    let mut principal = Principal::anonymous();
    principal.allowed_models = Some(Arc::from(vec!["m".to_owned()]));
    let ctx = RequestContext::new("r", principal.clone(), Endpoint::ChatCompletions);
    let mut req = request("hi", false);
    req.model = "secret-model".into();
    let err = gw.chat(&ctx, req).await.unwrap_err();
    assert_eq!(err.status(), 404);
    assert_eq!(gw.models_for(&principal).len(), 1);
}

#[tokio::test]
async fn input_guardrail_blocks_with_422() {
    let (r, _) = router(vec![], false);
    let sink = Arc::new(Records::default());
    let gw = gateway(r, sink.clone());
    let err = gw
        .chat(&ctx(), request("this is forbidden", false))
        .await
        .unwrap_err();
    assert_eq!(err.status(), 422);
    assert!(err.to_string().contains("words") && err.to_string().contains("bad-word"));
    let err = gw
        .chat_stream(&ctx(), request("this is forbidden", true))
        .await
        .unwrap_err();
    assert_eq!(
        err.status(),
        422,
        "stream: true cannot bypass input guardrails"
    );
    // Both blocked calls are on record, each with its blocking finding.
    let records = sink.0.lock().unwrap();
    let seen: Vec<(u16, bool, u32, Option<String>)> = records
        .iter()
        .map(|r| {
            (
                r.status,
                r.stream,
                r.guardrail_findings.count,
                r.guardrail_findings.kinds.to_text(),
            )
        })
        .collect();
    let other = Some("other".to_owned());
    assert_eq!(
        seen,
        [(422, false, 1, other.clone()), (422, true, 1, other)]
    );
    assert!(
        records
            .iter()
            .all(|r| r.usage.is_none() && r.provider.is_none())
    );
}

#[tokio::test]
async fn flags_and_redactions_are_counted_on_the_usage_record() {
    let sink = Arc::new(Records::default());
    let (r, _) = router(vec![], false);
    let gw = gateway(r, sink.clone());
    // The input is flagged twice; the echoed answer carries the word again and is redacted.
    gw.chat(&ctx(), request("a suspicious prompt", false))
        .await
        .unwrap();
    gw.chat(&ctx(), request("hello", false)).await.unwrap();
    let records = sink.0.lock().unwrap();
    let found = records[0].guardrail_findings;
    assert_eq!(found.count, 3);
    assert_eq!(found.kinds.to_text().as_deref(), Some("pii,secrets,other"));
    assert_eq!(records[0].status, 200);
    assert_eq!(records[1].guardrail_findings, FindingTally::default());
}

#[tokio::test]
async fn streamed_findings_are_counted_when_the_stream_ends() {
    let sink = Arc::new(Records::default());
    let (r, _) = router(vec!["a flag ", "and another flag"], false);
    let gw = gateway(r, sink.clone());
    let out = gw
        .chat_stream(&ctx(), request("suspicious", true))
        .await
        .unwrap();
    let _: Vec<_> = out.stream.collect().await;
    let records = sink.0.lock().unwrap();
    assert_eq!(records.len(), 1);
    // Two input flags, two flags in the answer.
    assert_eq!(records[0].guardrail_findings.count, 4);
    assert_eq!(
        records[0].guardrail_findings.kinds.to_text().as_deref(),
        Some("pii,moderation,other")
    );
}

#[tokio::test]
async fn stream_usage_is_metered_and_hidden_unless_asked() {
    let sink = Arc::new(Records::default());
    let (r, _) = router(vec!["a", "b"], false);
    let gw = gateway(r, sink.clone());
    let out = gw.chat_stream(&ctx(), request("hi", true)).await.unwrap();
    let items: Vec<_> = out.stream.collect().await;
    assert!(
        items
            .iter()
            .all(|i| matches!(i, Ok(StreamEvent::Chunk(c)) if c.usage.is_none()))
    );
    let records = sink.0.lock().unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].usage.as_ref().unwrap().total_tokens, 10);
    assert!(!records[0].cancelled && records[0].stream && records[0].time_to_first_token.is_some());
}

#[tokio::test]
async fn output_guardrail_aborts_stream_with_content_filter() {
    let sink = Arc::new(Records::default());
    let (r, _) = router(vec!["fine ", "then X", "YZ leak"], false);
    let gw = gateway(r, sink.clone());
    let out = gw.chat_stream(&ctx(), request("hi", true)).await.unwrap();
    let items: Vec<_> = out.stream.collect().await;
    let last_chunk = items.iter().rev().find_map(|i| match i {
        Ok(StreamEvent::Chunk(c)) => Some(c.clone()),
        _ => None,
    });
    assert_eq!(
        last_chunk.unwrap().choices[0].finish_reason.as_deref(),
        Some("content_filter")
    );
    assert!(matches!(
        items.last(),
        Some(Err(GatewayError::PolicyBlocked { .. }))
    ));
    let records = sink.0.lock().unwrap();
    assert_eq!(records[0].status, 422);
    assert_eq!(
        records[0].guardrail_findings.count, 1,
        "the block is a finding"
    );
}

#[tokio::test]
async fn dropping_the_stream_cancels_upstream_and_accounts_once() {
    let sink = Arc::new(Records::default());
    let (r, dropped) = router(vec!["partial"], true);
    let gw = gateway(r, sink.clone());
    let mut out = gw.chat_stream(&ctx(), request("hi", true)).await.unwrap();
    let first = out.stream.next().await.unwrap().unwrap();
    assert!(matches!(first, StreamEvent::Chunk(_)));
    drop(out);
    assert!(
        dropped.load(Ordering::SeqCst),
        "upstream stream dropped with the client"
    );
    let records = sink.0.lock().unwrap();
    assert_eq!(records.len(), 1, "accounted exactly once");
    assert!(records[0].cancelled);
}

/// Holds every byte back until the stream finishes.
struct HoldAll;
struct HoldAllStream(String);
impl Guardrail for HoldAll {
    fn check_request(&self, _: &mut ChatRequest, _: &RequestContext) -> GuardOutcome {
        GuardOutcome::allow()
    }
    fn check_response(&self, _: &mut ChatResponse, _: &RequestContext) -> GuardOutcome {
        GuardOutcome::allow()
    }
    fn stream_guard(&self, _: &RequestContext) -> Option<Box<dyn StreamGuard>> {
        Some(Box::new(HoldAllStream(String::new())))
    }
}
impl StreamGuard for HoldAllStream {
    fn push(&mut self, delta: &str) -> Result<String, GuardOutcome> {
        self.0.push_str(delta);
        Ok(String::new())
    }
    fn finish(&mut self) -> Result<String, GuardOutcome> {
        Ok(std::mem::take(&mut self.0))
    }
}

#[tokio::test]
async fn held_back_text_is_released_when_upstream_ends_without_finish() {
    struct NoFinish;
    #[async_trait]
    impl Router for NoFinish {
        fn models(&self) -> Vec<ModelInfo> {
            vec![ModelInfo::new("m", "fake")]
        }
        fn knows(&self, _: &str) -> bool {
            true
        }
        async fn chat(
            &self,
            _: ChatRequest,
            _: &RequestContext,
        ) -> Result<Routed<ChatResponse>, GatewayError> {
            Err(GatewayError::invalid("unused"))
        }
        async fn chat_stream(
            &self,
            _: ChatRequest,
            _: &RequestContext,
        ) -> Result<Routed<ChatStream>, GatewayError> {
            let items: Vec<Result<StreamEvent, ProviderError>> = vec![
                Ok(StreamEvent::Chunk(chunk(Some("held "), None, None))),
                Ok(StreamEvent::Chunk(chunk(Some("back"), None, None))),
            ];
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
            Err(GatewayError::invalid("unused"))
        }
    }
    let gw = Gateway::builder(Arc::new(NoFinish))
        .guardrail(Arc::new(HoldAll))
        .build();
    let out = gw.chat_stream(&ctx(), request("hi", true)).await.unwrap();
    let text: String = out
        .stream
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .filter_map(|i| match i {
            Ok(StreamEvent::Chunk(c)) => c.choices.first().and_then(|ch| ch.delta.content.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(text, "held back");
}

#[tokio::test]
async fn a_non_streamed_call_dropped_mid_flight_is_accounted_as_cancelled() {
    struct Hanging;
    #[async_trait]
    impl Router for Hanging {
        fn models(&self) -> Vec<ModelInfo> {
            vec![ModelInfo::new("m", "fake")]
        }
        fn knows(&self, _: &str) -> bool {
            true
        }
        async fn chat(
            &self,
            _: ChatRequest,
            _: &RequestContext,
        ) -> Result<Routed<ChatResponse>, GatewayError> {
            std::future::pending().await
        }
        async fn chat_stream(
            &self,
            _: ChatRequest,
            _: &RequestContext,
        ) -> Result<Routed<ChatStream>, GatewayError> {
            std::future::pending().await
        }
        async fn embeddings(
            &self,
            _: EmbeddingsRequest,
            _: &RequestContext,
        ) -> Result<Routed<EmbeddingsResponse>, GatewayError> {
            Err(GatewayError::invalid("unused"))
        }
    }
    let sink = Arc::new(Records::default());
    let gw = Gateway::builder(Arc::new(Hanging))
        .usage_sink(sink.clone())
        .build();
    let ctx = ctx();
    let call = gw.chat(&ctx, request("hi", false));
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(50), call)
            .await
            .is_err()
    );
    let stream = gw.chat_stream(&ctx, request("hi", true));
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(50), stream)
            .await
            .is_err()
    );
    let records = sink.0.lock().unwrap();
    assert_eq!(records.len(), 2, "each abandoned call is accounted once");
    assert!(records.iter().all(|r| r.cancelled && r.status == 499));
}
