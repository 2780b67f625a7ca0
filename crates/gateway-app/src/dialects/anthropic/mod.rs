//! The Anthropic Messages dialect (`POST /v1/messages`, `/v1/messages/count_tokens`), so that
//! the official Anthropic SDKs and Claude-Code-style agents work through the gateway against
//! any provider.
//!
//! - [`AnthropicMessages`]: the [`crate::dialects::Dialect`] the edge serves `/v1/messages` with.
//! - [`decode_request`] / [`decode_count_tokens_request`]: Anthropic request -> canonical
//!   [`gateway_core::ChatRequest`].
//! - [`encode_response`]: canonical response -> Anthropic `message` object.
//! - [`AnthropicStreamEncoder`]: canonical chunks -> Anthropic SSE events (`message_start`,
//!   `content_block_start/delta/stop`, `message_delta`, `message_stop`, `ping`, `error`);
//!   [`sse_frame`] renders one.
//! - [`encode_error`]: any gateway error -> `{"type":"error","error":{"type","message"}}`.
//! - [`count_tokens`]: the estimate `/v1/messages/count_tokens` answers with.
//!
//! Conventions shared with the Anthropic provider adapter: thinking blocks travel in a
//! message's `extra.thinking_blocks` (and their text in `reasoning_content`), tool results'
//! `is_error` in the tool message's `extra`, `top_k`/`thinking` and other Anthropic-only
//! fields in the request's `extra`.

mod content;
mod error;
mod messages;
mod request;
mod response;
mod stream;

pub use error::{encode_error, error_status, error_type};
pub use messages::AnthropicMessages;
pub(crate) use request::MessagesRequest;
pub use request::{count_tokens, decode_count_tokens_request, decode_request};
pub use response::{encode_count_tokens, encode_response, stop_reason};
pub use stream::{AnthropicStreamEncoder, SseEvent, sse_frame};
