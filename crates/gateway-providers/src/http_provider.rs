//! [`HttpProvider`]: the one [`Provider`] over HTTP. It runs encode -> send -> decode for
//! every call kind, the vendor differences living in its [`VendorCodec`].

use std::borrow::Cow;

use async_trait::async_trait;

use gateway_core::types::{EmbeddingsRequest, EmbeddingsResponse, ModelInfo};
use gateway_core::{ChatRequest, ChatResponse, ChatStream, Provider, ProviderError};

use crate::client::{HttpClient, Timeouts};
use crate::codec::{Encoded, UpstreamEvents, VendorCodec};

/// A provider speaking codec `C`'s wire format over the shared upstream client.
#[derive(Debug)]
pub struct HttpProvider<C> {
    name: String,
    codec: C,
    client: HttpClient,
    timeouts: Timeouts,
}

impl<C: VendorCodec> HttpProvider<C> {
    /// Provider `name` sending `codec`'s calls through `client` within `timeouts`.
    pub fn from_codec(
        name: impl Into<String>,
        codec: C,
        client: HttpClient,
        timeouts: Timeouts,
    ) -> Self {
        HttpProvider {
            name: name.into(),
            codec,
            client,
            timeouts,
        }
    }

    pub fn codec(&self) -> &C {
        &self.codec
    }
}

impl<C: VendorCodec> HttpProvider<C> {
    /// `call` with the headers the codec computes for it ([`VendorCodec::authorize`]).
    async fn authorized<'a>(&'a self, call: Encoded<'a>) -> Result<Encoded<'a>, ProviderError> {
        let Some(pending) = self.codec.authorize(&call) else {
            return Ok(call);
        };
        let headers = pending.await?;
        Ok(Encoded {
            url: Cow::Owned(call.url.into_owned().with_headers(headers)),
            body: call.body,
        })
    }
}

#[async_trait]
impl<C: VendorCodec> Provider for HttpProvider<C> {
    fn name(&self) -> &str {
        &self.name
    }

    fn unsupported_params(&self, req: &ChatRequest) -> Vec<&'static str> {
        self.codec.unsupported_params(req)
    }

    async fn chat(&self, req: &ChatRequest) -> Result<ChatResponse, ProviderError> {
        let call = self.authorized(self.codec.encode_chat(req, false)?).await?;
        let bytes = call
            .url
            .post_json(&self.client, call.body, &self.timeouts, C::decode_error)
            .await?;
        self.codec.decode_chat(req, &bytes)
    }

    async fn chat_stream(&self, req: &ChatRequest) -> Result<ChatStream, ProviderError> {
        let call = self.authorized(self.codec.encode_chat(req, true)?).await?;
        let resp = call
            .url
            .post_stream(&self.client, call.body, &self.timeouts, C::decode_error)
            .await?;
        Ok(self.codec.decode_stream(
            req,
            UpstreamEvents {
                body: resp.into_body(),
                limits: self.timeouts.stream(),
            },
        ))
    }

    async fn embeddings(
        &self,
        req: &EmbeddingsRequest,
    ) -> Result<EmbeddingsResponse, ProviderError> {
        let Some(call) = self.codec.encode_embeddings(req)? else {
            return Err(ProviderError::Unsupported(format!(
                "provider '{}' does not serve embeddings",
                self.name
            )));
        };
        let call = self.authorized(call).await?;
        let bytes = call
            .url
            .post_json(&self.client, call.body, &self.timeouts, C::decode_error)
            .await?;
        self.codec.decode_embeddings(req, &bytes)
    }

    async fn list_models(&self) -> Result<Vec<ModelInfo>, ProviderError> {
        let call = Encoded {
            url: self.codec.models_url()?,
            body: bytes::Bytes::new(),
        };
        let call = self.authorized(call).await?;
        let bytes = call
            .url
            .get(&self.client, &self.timeouts, C::decode_error)
            .await?;
        self.codec.decode_models(&self.name, &bytes)
    }
}
