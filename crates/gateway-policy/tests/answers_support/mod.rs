//! A scripted upstream behind the served pipeline with the default guardrails, for the tests
//! of what output guardrails see in answers (tool calls, refusals, reasoning).

#![allow(dead_code)] // each test file uses part of it

use std::sync::Arc;

use async_trait::async_trait;
use gateway_core::phases::route::{Routed, Router, ServedBy};
use gateway_core::types::{
    ChunkChoice, Delta, EmbeddingsRequest, EmbeddingsResponse, Extra, ModelInfo,
};
use gateway_core::*;
use gateway_policy::{GuardrailConfig, PolicyGuardrail};

/// An upstream answering with a fixed response, or streaming fixed chunks.
pub struct Scripted {
    pub response: serde_json::Value,
    pub chunks: Vec<ChatChunk>,
}

fn served() -> ServedBy {
    ServedBy {
        route_reason: None,
        task: None,
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

pub fn gateway(router: Scripted) -> Gateway {
    let guardrail = PolicyGuardrail::from_config(&GuardrailConfig::default()).unwrap();
    Gateway::builder(Arc::new(router))
        .guardrail(Arc::new(guardrail))
        .build()
}

pub fn ctx() -> RequestContext {
    RequestContext::new("req-1", Principal::anonymous(), Endpoint::ChatCompletions)
}

pub fn request(stream: bool) -> ChatRequest {
    ChatRequest {
        model: "m".into(),
        messages: vec![Message::text(Role::User, "send the note")],
        stream,
        ..Default::default()
    }
}

/// A chunk of choice 0 with `delta`, finishing with `finish` if given.
pub fn chunk(delta: Delta, finish: Option<&str>) -> ChatChunk {
    ChatChunk {
        id: "c".into(),
        object: "chat.completion.chunk".into(),
        created: 0,
        model: "m".into(),
        choices: vec![ChunkChoice {
            index: 0,
            delta,
            finish_reason: finish.map(str::to_owned),
            logprobs: None,
            extra: Extra::new(),
        }],
        usage: None,
        system_fingerprint: None,
        extra: Default::default(),
    }
}
