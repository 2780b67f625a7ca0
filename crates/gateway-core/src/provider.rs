//! The `Provider` trait: one upstream LLM API. Implementations live in `gateway-providers`
//! (or in your own crate: the trait is all a new provider needs).

use std::pin::Pin;

use async_trait::async_trait;
use futures_core::Stream;

use crate::error::ProviderError;
use crate::types::{
    ChatRequest, ChatResponse, EmbeddingsRequest, EmbeddingsResponse, ModelInfo, StreamEvent,
};

/// A stream of completion events from one upstream call. Dropping it cancels the call.
pub type ChatStream = Pin<Box<dyn Stream<Item = Result<StreamEvent, ProviderError>> + Send>>;

/// One upstream API. `req.model` is already the upstream's model name when a method is called.
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// The configured name of this provider (e.g. `openai`, `groq-eu`).
    fn name(&self) -> &str;

    /// The parameters of `req` this upstream has no form for and would leave out; the router
    /// applies the model's policy to them (drop and report, or refuse). Empty by default.
    fn unsupported_params(&self, _req: &ChatRequest) -> Vec<&'static str> {
        Vec::new()
    }

    async fn chat(&self, req: &ChatRequest) -> Result<ChatResponse, ProviderError>;

    /// Start a streamed completion. Resolves once the upstream accepted the call (status and
    /// headers received), so that failures before the first byte can still fall back.
    async fn chat_stream(&self, req: &ChatRequest) -> Result<ChatStream, ProviderError>;

    async fn embeddings(
        &self,
        _req: &EmbeddingsRequest,
    ) -> Result<EmbeddingsResponse, ProviderError> {
        Err(ProviderError::Unsupported(format!(
            "provider '{}' does not serve embeddings",
            self.name()
        )))
    }

    async fn list_models(&self) -> Result<Vec<ModelInfo>, ProviderError>;
}
