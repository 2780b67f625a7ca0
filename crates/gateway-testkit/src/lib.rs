//! In-process mock of the vendors' HTTP wire formats (JSON and SSE) for the gateway's
//! integration tests, the `llm-gateway --demo` provider and load tests (`mock-upstream`).
//! It owns nothing of the gateway and depends on no gateway crate: it speaks each vendor's
//! wire format with its own types. One server, [`MockServer`] (a hyper HTTP/1.1 + h2c server
//! on `127.0.0.1:0`), parameterised by [`Vendor`]: [`MockServer::start`] /
//! [`MockServer::start_on`] for OpenAI, [`MockServer::start_vendor`] /
//! [`MockServer::start_vendor_on`] for any vendor (see [`vendors`]). Behaviour is scripted by
//! the request's model name — see [`Script`] — and [`MockServer::requests`] shows what the
//! gateway sent upstream (the latest [`RECORD_LIMIT`] requests, so that a long-running mock
//! stays small).
//!
//! OpenAI endpoints (also under a prefix, `/openai/v1/...`, as the OpenAI-compatible
//! marketplaces serve them): `POST /v1/chat/completions` (streaming or not, tool calls, `n` choices),
//! `POST /v1/embeddings` (float or base64), `GET /v1/models`, `GET /v1/models/{id}`;
//! anything else is a 404 with an OpenAI error body.
//!
//! [`eventually`] polls a condition until a deadline, for tests that wait on background work.

mod body;
mod chat;
mod embeddings;
mod eventually;
mod recorder;
mod respond;
mod script;
mod server;
mod stream;
pub mod vendors;

pub use embeddings::DIMENSIONS as EMBEDDING_DIMENSIONS;
pub use eventually::{eventually, eventually_async};
pub use recorder::RECORD_LIMIT;
pub use script::Script;
pub use server::{MockOptions, MockServer, RecordedRequest, Vendor};
