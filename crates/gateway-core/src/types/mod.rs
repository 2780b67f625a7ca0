//! Canonical wire-neutral types. They follow OpenAI's shapes (the lingua franca of LLM APIs)
//! and keep every field they do not model in `extra`, so nothing a caller sends is lost.

pub mod chat;
pub mod embeddings;
mod extra_fields;
mod json;
mod one_or_many;
pub mod response;
pub mod stream;
mod validate;

pub use chat::*;
pub use embeddings::*;
#[doc(hidden)]
pub use extra_fields::FieldKey;
pub use json::from_json_bytes;
pub use response::*;
pub use stream::*;
