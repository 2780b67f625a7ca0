//! `gateway-providers`: the upstream side of the gateway.
//!
//! It owns one module per vendor family ([`openai`] for the OpenAI-compatible family,
//! [`anthropic`], [`gemini`], [`azure`]), each split into request, response, stream and error
//! translation; the shared upstream HTTP client ([`client::HttpClient`]: pooled, rustls, HTTP/2,
//! `TCP_NODELAY`); event-stream parsing ([`sse`], [`vendor_stream`]); and the
//! [`router::ModelRouter`] that maps public model names to deployments and retries, balances,
//! falls back and circuit-breaks between them ([`router::RoutingPolicy`]). It depends only on
//! `gateway-core`; it knows nothing of the HTTP server, auth, policy or storage.
//!
//! Extending: implement [`gateway_core::Provider`] in your own crate and put it in a
//! [`router::Deployment`]; the shared [`client`], [`endpoint`] and [`sse`] modules are public
//! so that an adapter needs only its translation code.

pub mod anthropic;
pub mod azure;
pub mod body;
pub mod client;
pub mod endpoint;
pub mod gemini;
mod headers;
pub mod media;
pub mod openai;
pub mod router;
pub mod sanitize;
pub mod sse;
pub mod vendor_stream;

pub use anthropic::{AnthropicConfig, AnthropicProvider};
pub use azure::{AzureConfig, AzureProvider};
pub use client::{HttpClient, Timeouts};
pub use gemini::{GeminiConfig, GeminiProvider};
pub use openai::{OpenAiConfig, OpenAiProvider};
pub use router::{
    CircuitConfig, CircuitStatus, Deployment, DeploymentState, ModelGroup, ModelRouter,
    RoutingPolicy, Strategy,
};
