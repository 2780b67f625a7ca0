//! [`VendorCodec`]: what a vendor adapter writes — where each call goes and how the canonical
//! types translate to and from the vendor's wire format. [`crate::HttpProvider`] runs every
//! call (encode -> send -> decode) over a codec, so a vendor module holds translation only.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

use gateway_core::types::{EmbeddingsRequest, EmbeddingsResponse, ModelInfo};
use gateway_core::{ChatRequest, ChatResponse, ChatStream, ProviderError};

use crate::client::UpstreamBody;
use crate::sse::StreamLimits;
use crate::upstream_url::UpstreamUrl;
use crate::vendor_stream::{SseDecoder, decode_body};

/// One encoded upstream call: where it goes and its JSON body. The URL is borrowed from the
/// codec when it is fixed, built per call when it names the model (Gemini, Azure).
#[derive(Debug)]
pub struct Encoded<'a> {
    pub url: Cow<'a, UpstreamUrl>,
    pub body: Bytes,
}

impl<'a> Encoded<'a> {
    /// A call to a URL the codec keeps.
    pub fn to(url: &'a UpstreamUrl, body: Bytes) -> Self {
        Encoded {
            url: Cow::Borrowed(url),
            body,
        }
    }

    /// A call to a URL built for this request.
    pub fn to_owned_url(url: UpstreamUrl, body: Bytes) -> Self {
        Encoded {
            url: Cow::Owned(url),
            body,
        }
    }
}

/// The headers one call needs on top of its URL's: a request signature over the body (AWS
/// SigV4), a short-lived access token (Google service accounts).
pub type CallHeaders = Vec<(HeaderName, HeaderValue)>;

/// What [`VendorCodec::authorize`] returns: the per-call headers, once known.
pub type AuthorizeFuture<'a> =
    Pin<Box<dyn Future<Output = Result<CallHeaders, ProviderError>> + Send + 'a>>;

/// The body of an accepted streamed answer and the limits it is read within (silence,
/// duration, line length).
#[derive(Debug)]
pub struct UpstreamEvents {
    pub body: UpstreamBody,
    pub limits: StreamLimits,
}

impl UpstreamEvents {
    /// The canonical stream that `decoder` makes of these events ([`decode_body`]).
    pub fn decode<D: SseDecoder>(self, decoder: D) -> ChatStream {
        decode_body(self.body, self.limits, decoder)
    }
}

/// A vendor's wire format. Methods get the canonical request so that decoding can use what
/// was asked (the model name, whether stream usage was requested).
pub trait VendorCodec: std::fmt::Debug + Send + Sync + 'static {
    /// The chat call for `req`, streamed or not.
    fn encode_chat(&self, req: &ChatRequest, stream: bool) -> Result<Encoded<'_>, ProviderError>;

    /// A whole (non-streamed) chat answer.
    fn decode_chat(&self, req: &ChatRequest, body: &[u8]) -> Result<ChatResponse, ProviderError>;

    /// The canonical stream of an accepted streamed answer.
    fn decode_stream(&self, req: &ChatRequest, events: UpstreamEvents) -> ChatStream;

    /// The error for a non-2xx answer (only a sanitised message is kept).
    fn decode_error(status: StatusCode, headers: &HeaderMap, body: &Bytes) -> ProviderError;

    /// The request parameters this vendor has no form for (dropped by [`Self::encode_chat`]),
    /// for the model's unsupported-parameter policy. Empty, without allocating, when none.
    fn unsupported_params(&self, _req: &ChatRequest) -> Vec<&'static str> {
        Vec::new()
    }

    /// The embeddings call for `req`; `None` when the vendor serves no embeddings.
    fn encode_embeddings(
        &self,
        _req: &EmbeddingsRequest,
    ) -> Result<Option<Encoded<'_>>, ProviderError> {
        Ok(None)
    }

    /// An embeddings answer (called only after [`Self::encode_embeddings`] gave a call).
    fn decode_embeddings(
        &self,
        _req: &EmbeddingsRequest,
        _body: &[u8],
    ) -> Result<EmbeddingsResponse, ProviderError> {
        Err(ProviderError::Unsupported(
            "embeddings are not served".to_owned(),
        ))
    }

    /// Where the model list is read (`GET`).
    fn models_url(&self) -> Result<Cow<'_, UpstreamUrl>, ProviderError>;

    /// The model list, each entry attributed to `provider`.
    fn decode_models(&self, provider: &str, body: &[u8]) -> Result<Vec<ModelInfo>, ProviderError>;

    /// Headers computed for this one call (`GET`s have an empty body), added to the URL's
    /// fixed ones. `None`, the default, costs nothing: the URL's headers are all.
    fn authorize<'a>(&'a self, _call: &'a Encoded<'_>) -> Option<AuthorizeFuture<'a>> {
        None
    }
}
