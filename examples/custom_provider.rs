//! An out-of-tree provider kind, `acme`, written the way the gateway is meant to be extended:
//! this code depends on `gateway-core` and `gateway-providers` only.
//!
//! "Acme" stands for an in-house model service that speaks OpenAI's JSON shapes at
//! `{base_url}/chat/completions` and `{base_url}/models`, authenticates with an `x-acme-key`
//! header and ends its event streams with `[DONE]`. The codec below is all the translation
//! there is; the generic [`HttpProvider`] sends it, and [`register`] makes the kind known, so
//! that a configuration can say
//!
//! ```toml
//! [providers.inhouse]
//! kind = "acme"
//! base_url = "https://models.internal.example/v1"
//! api_key = "${ACME_KEY}"
//! ```
//!
//! `tests/custom_provider.rs` serves it through the real gateway server.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::Arc;

use gateway_core::types::{ModelInfo, from_json_bytes};
use gateway_core::{ChatChunk, ChatRequest, ChatResponse, ChatStream, Provider, ProviderError};
use gateway_core::{StreamEvent, types::EmbeddingsRequest};
use gateway_providers::bytes::Bytes;
use gateway_providers::client::retry_after;
use gateway_providers::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use gateway_providers::sanitize::sanitize_upstream_message;
use gateway_providers::sse::SseEvent;
use gateway_providers::vendor_stream::SseDecoder;
use gateway_providers::{
    Encoded, HttpClient, HttpProvider, ProviderFactory, ProviderSpec, UpstreamEvents, UpstreamUrl,
    VendorCodec,
};

/// The `kind` this module registers.
pub const KIND: &str = "acme";

/// Makes `kind = "acme"` known to the gateway; call it once, before the configuration loads.
pub fn register() {
    gateway_providers::register_kind(KIND, AcmeFactory);
}

/// Builds `acme` providers from their `[providers.NAME]` section.
pub struct AcmeFactory;

impl ProviderFactory for AcmeFactory {
    fn build(
        &self,
        spec: &ProviderSpec,
        client: HttpClient,
    ) -> Result<Arc<dyn Provider>, ProviderError> {
        let base = spec.base_url_or(None)?;
        let base = base.trim_end_matches('/');
        let mut headers = Vec::new();
        if let Some(key) = &spec.api_key {
            let mut value = HeaderValue::try_from(key.expose()).map_err(|_| {
                ProviderError::Unsupported(format!("provider '{}': bad api_key", spec.name))
            })?;
            value.set_sensitive(true);
            headers.push((HeaderName::from_static("x-acme-key"), value));
        }
        let codec = AcmeCodec {
            chat: UpstreamUrl::new(&format!("{base}/chat/completions"), headers.clone())?,
            models: UpstreamUrl::new(&format!("{base}/models"), headers)?,
        };
        let provider = HttpProvider::from_codec(&spec.name, codec, client, spec.timeouts);
        Ok(Arc::new(provider))
    }
}

/// Acme's wire format.
#[derive(Debug)]
pub struct AcmeCodec {
    chat: UpstreamUrl,
    models: UpstreamUrl,
}

fn invalid(what: &str, e: serde_json::Error) -> ProviderError {
    ProviderError::InvalidResponse(format!("acme {what}: {e}"))
}

impl VendorCodec for AcmeCodec {
    fn encode_chat(&self, req: &ChatRequest, _stream: bool) -> Result<Encoded<'_>, ProviderError> {
        let body = serde_json::to_vec(req)
            .map_err(|e| ProviderError::Unsupported(format!("cannot encode request: {e}")))?;
        Ok(Encoded::to(&self.chat, Bytes::from(body)))
    }

    fn decode_chat(&self, _req: &ChatRequest, body: &[u8]) -> Result<ChatResponse, ProviderError> {
        from_json_bytes(body).map_err(|e| invalid("answer", e))
    }

    fn decode_stream(&self, _req: &ChatRequest, events: UpstreamEvents) -> ChatStream {
        events.decode(ChunkDecoder)
    }

    /// Keeps a sanitised message only: an upstream body never reaches a caller.
    fn decode_error(status: StatusCode, headers: &HeaderMap, body: &Bytes) -> ProviderError {
        let message = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| {
                v["error"]["message"]
                    .as_str()
                    .map(sanitize_upstream_message)
            })
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
        ProviderError::Status {
            status: status.as_u16(),
            message,
            retry_after: retry_after(headers),
        }
    }

    /// Acme serves no embeddings (this is the trait's default, spelled out).
    fn encode_embeddings(
        &self,
        _req: &EmbeddingsRequest,
    ) -> Result<Option<Encoded<'_>>, ProviderError> {
        Ok(None)
    }

    fn models_url(&self) -> Result<Cow<'_, UpstreamUrl>, ProviderError> {
        Ok(Cow::Borrowed(&self.models))
    }

    fn decode_models(&self, provider: &str, body: &[u8]) -> Result<Vec<ModelInfo>, ProviderError> {
        #[derive(serde::Deserialize)]
        struct List {
            data: Vec<Entry>,
        }
        #[derive(serde::Deserialize)]
        struct Entry {
            id: String,
        }
        let list: List = serde_json::from_slice(body).map_err(|e| invalid("model list", e))?;
        Ok(list
            .data
            .into_iter()
            .map(|m| ModelInfo::new(m.id, provider))
            .collect())
    }
}

/// `data: {chunk}` events until `data: [DONE]`.
struct ChunkDecoder;

impl SseDecoder for ChunkDecoder {
    fn on_event(
        &mut self,
        event: &SseEvent,
        out: &mut VecDeque<StreamEvent>,
    ) -> Result<bool, ProviderError> {
        let data = event.data.trim();
        if data == "[DONE]" {
            return Ok(true);
        }
        let chunk: ChatChunk = from_json_bytes(data.as_bytes()).map_err(|e| invalid("chunk", e))?;
        out.push_back(StreamEvent::Chunk(chunk));
        Ok(false)
    }

    fn on_eof(&mut self, _out: &mut VecDeque<StreamEvent>) -> Result<(), ProviderError> {
        Err(ProviderError::InvalidResponse(
            "acme stream ended before [DONE]".to_owned(),
        ))
    }
}
