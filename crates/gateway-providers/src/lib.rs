//! `gateway-providers`: the upstream side of the gateway.
//!
//! It owns provider construction ([`factory`]: a [`ProviderSpec`] of a registered `kind` ->
//! `Arc<dyn Provider>`); the one HTTP provider ([`HttpProvider`]: encode -> send -> decode)
//! over a per-vendor [`VendorCodec`]; one module per vendor family ([`openai`] for the
//! OpenAI-compatible family, [`anthropic`], [`gemini`], [`azure`], [`bedrock`], [`vertex`]), each holding translation
//! only (request, response, stream and error); the shared upstream HTTP client ([`client::HttpClient`]: pooled, rustls, HTTP/2,
//! `TCP_NODELAY`); event-stream parsing ([`sse`], [`vendor_stream`]); and the
//! [`router::ModelRouter`] that maps public model names to deployments and retries, balances,
//! falls back and circuit-breaks between them ([`router::RoutingPolicy`]), with [`auto`] in
//! front of it for prompt-type routing (a virtual model, CEL rules over the features of a
//! prompt, the cheapest good-enough candidate). It depends only on
//! `gateway-core`; it knows nothing of the HTTP server, auth, policy or storage.
//!
//! Extending: in your own crate, implement a [`VendorCodec`] (or [`gateway_core::Provider`]
//! itself), wrap it in a [`ProviderFactory`] and [`register_kind`] it: a `[providers.NAME]`
//! section of that `kind` then builds it (see `examples/custom_provider.rs`). The shared
//! [`client`], [`upstream_url`], [`sse`] and [`vendor_stream`] modules are public so that an
//! adapter needs only its translation code.

pub mod anthropic;
pub mod auto;
pub mod azure;
pub mod bedrock;
pub mod body;
pub mod client;
pub mod codec;
pub mod embedding_format;
pub mod factory;
#[doc(hidden)]
pub mod fuzzing;
pub mod gemini;
mod headers;
pub mod http_provider;
pub mod media;
pub mod openai;
pub mod reasoning;
pub mod router;
pub mod sanitize;
pub mod sse;
pub mod upstream_url;
pub mod vendor_stream;
pub mod vertex;

/// The versions of `bytes` and `http` in [`VendorCodec`]'s signatures, for out-of-tree codecs.
pub use bytes;
pub use http;

pub use anthropic::{AnthropicCodec, AnthropicConfig, AnthropicProvider};
pub use azure::{AzureConfig, AzureProvider, AzureRoutes};
pub use bedrock::{AwsKeys, BedrockAuth, BedrockConfig, BedrockProvider};
pub use client::{HttpClient, Timeouts};
pub use codec::{Encoded, UpstreamEvents, VendorCodec};
pub use factory::{ProviderFactory, ProviderRegistry, ProviderSpec, register_kind};
pub use gemini::{GeminiCodec, GeminiConfig, GeminiProvider};
pub use http_provider::HttpProvider;
pub use openai::{OpenAiCodec, OpenAiConfig, OpenAiProvider, OpenAiRoutes};
pub use router::{
    CircuitConfig, CircuitStatus, Deployment, DeploymentState, ModelGroup, ModelRouter,
    RoutingPolicy, Strategy,
};
pub use upstream_url::UpstreamUrl;
