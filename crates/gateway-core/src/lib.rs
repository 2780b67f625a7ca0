//! `gateway-core`: the vocabulary and the pipeline of LLM Secure Gateway.
//!
//! It owns the canonical request/response types ([`ChatRequest`], [`ChatResponse`],
//! [`StreamEvent`], [`Usage`]), the identity types ([`Principal`], [`TenantId`]), the
//! [`Provider`] trait every upstream implements, one trait per pipeline phase (in [`phases`])
//! and the [`Gateway`] that runs them in order. It does no I/O of its own: no HTTP server, no
//! database, no vendor names — those live in the sibling crates, which depend on this one and
//! never on each other.
//!
//! Entry points: [`Gateway::builder`] to assemble a pipeline, [`Provider`] to add an upstream.

mod accounting;
pub mod change_feed;
pub mod client_address;
pub mod client_networks;
pub mod content_log;
pub mod context;
pub mod cost_text;
pub mod duration;
pub mod encryption;
pub mod error;
pub mod features;
pub mod gateway;
mod metered_stream;
pub mod phases;
pub mod principal;
pub mod provider;
pub mod quality;
pub mod secret;
pub mod secret_mask;
pub mod store;
mod stream_channel;
mod tool_call_guard;
pub mod types;

pub use context::{BatchCall, Endpoint, RequestContext, RouteConstraints};
pub use error::{
    AuthFailure, AuthRefusal, Denial, DeniedBy, ErrorClass, GatewayError, LimitKind, ProviderError,
    TimeoutPhase,
};
pub use gateway::{ChatOutcome, EmbeddingsOutcome, Gateway, GatewayBuilder, StreamOutcome};
pub use metered_stream::GatewayStream;
pub use principal::{AuthMethod, GatewayRole, Principal, TenantId};
pub use provider::{ChatStream, Provider};
pub use secret::Secret;
pub use types::{ChatChunk, ChatRequest, ChatResponse, Message, Role, StreamEvent, Usage};
