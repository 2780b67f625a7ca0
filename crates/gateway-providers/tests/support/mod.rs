//! A scripted in-memory provider for router tests: each call takes the next outcome of its
//! script (`Ok` once the script is used up), after an optional delay.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use gateway_core::types::{
    ChunkChoice, Delta, EmbeddingsRequest, EmbeddingsResponse, Extra, ModelInfo,
};
use gateway_core::{
    ChatChunk, ChatRequest, ChatResponse, ChatStream, Endpoint, Message, Principal, Provider,
    ProviderError, RequestContext, Role, StreamEvent,
};

#[derive(Debug, Clone)]
pub enum Outcome {
    Ok,
    Status(u16, Option<Duration>),
    Connect,
    /// Streaming: the upstream accepts, then its first event is this error status.
    FailFirstEvent(u16),
    /// Streaming: `n` chunks, then a connection error.
    ChunksThenCut(usize),
}

pub struct Fake {
    name: String,
    script: Mutex<VecDeque<Outcome>>,
    delay: Duration,
    pub calls: AtomicU32,
}

impl Fake {
    pub fn new(name: &str, script: impl IntoIterator<Item = Outcome>) -> std::sync::Arc<Fake> {
        Self::slow(name, Duration::ZERO, script)
    }

    pub fn slow(
        name: &str,
        delay: Duration,
        script: impl IntoIterator<Item = Outcome>,
    ) -> std::sync::Arc<Fake> {
        std::sync::Arc::new(Fake {
            name: name.to_owned(),
            script: Mutex::new(script.into_iter().collect()),
            delay,
            calls: AtomicU32::new(0),
        })
    }

    pub fn calls(&self) -> u32 {
        self.calls.load(Ordering::SeqCst)
    }

    async fn next(&self) -> Outcome {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        self.script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Outcome::Ok)
    }

    fn chunk(&self, text: &str) -> StreamEvent {
        StreamEvent::Chunk(ChatChunk {
            id: "c".into(),
            object: "chat.completion.chunk".into(),
            created: 0,
            model: self.name.clone(),
            choices: vec![ChunkChoice {
                index: 0,
                delta: Delta {
                    content: Some(text.into()),
                    ..Delta::default()
                },
                finish_reason: None,
                logprobs: None,
                extra: Extra::new(),
            }],
            usage: None,
            system_fingerprint: None,
            extra: Extra::new(),
        })
    }
}

fn status(code: u16, retry_after: Option<Duration>) -> ProviderError {
    ProviderError::Status {
        status: code,
        message: format!("scripted {code}"),
        retry_after,
    }
}

#[async_trait]
impl Provider for Fake {
    fn name(&self) -> &str {
        &self.name
    }

    async fn chat(&self, req: &ChatRequest) -> Result<ChatResponse, ProviderError> {
        match self.next().await {
            Outcome::Status(code, ra) => Err(status(code, ra)),
            Outcome::Connect => Err(ProviderError::Connect("refused".into())),
            _ => Ok(ChatResponse {
                id: "r".into(),
                object: "chat.completion".into(),
                created: 0,
                model: req.model.clone(),
                choices: vec![gateway_core::types::Choice {
                    index: 0,
                    message: Message::text(Role::Assistant, self.name.clone()),
                    finish_reason: Some("stop".into()),
                    logprobs: None,
                    extra: Extra::new(),
                }],
                usage: None,
                system_fingerprint: None,
                extra: Extra::new(),
            }),
        }
    }

    async fn chat_stream(&self, _req: &ChatRequest) -> Result<ChatStream, ProviderError> {
        let events: Vec<Result<StreamEvent, ProviderError>> = match self.next().await {
            Outcome::Status(code, ra) => return Err(status(code, ra)),
            Outcome::Connect => return Err(ProviderError::Connect("refused".into())),
            Outcome::FailFirstEvent(code) => {
                vec![Ok(StreamEvent::KeepAlive), Err(status(code, None))]
            }
            Outcome::ChunksThenCut(n) => (0..n)
                .map(|i| Ok(self.chunk(&format!("{i}"))))
                .chain([Err(ProviderError::InvalidResponse(
                    "stream interrupted".into(),
                ))])
                .collect(),
            Outcome::Ok => vec![Ok(self.chunk(&self.name))],
        };
        Ok(Box::pin(futures_util::stream::iter(events)))
    }

    async fn embeddings(
        &self,
        req: &EmbeddingsRequest,
    ) -> Result<EmbeddingsResponse, ProviderError> {
        match self.next().await {
            Outcome::Status(code, ra) => Err(status(code, ra)),
            _ => Ok(EmbeddingsResponse {
                object: "list".into(),
                data: Vec::new(),
                model: req.model.clone(),
                usage: Default::default(),
                extra: Extra::new(),
            }),
        }
    }

    async fn list_models(&self) -> Result<Vec<ModelInfo>, ProviderError> {
        Ok(Vec::new())
    }
}

pub fn ctx() -> RequestContext {
    RequestContext::new("req-1", Principal::anonymous(), Endpoint::ChatCompletions)
}

pub fn request(model: &str) -> ChatRequest {
    ChatRequest {
        model: model.into(),
        messages: vec![Message::text(Role::User, "hi")],
        ..Default::default()
    }
}
