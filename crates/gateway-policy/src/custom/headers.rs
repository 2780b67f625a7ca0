//! Request headers for `input.headers`. The pipeline's context carries no headers, so the HTTP
//! edge runs the gateway call inside [`with_headers`], and the policy reads them from there
//! (a task-local value: it follows the call's future, not a thread). Only the headers named
//! in `[policies] headers` are captured ([`crate::CustomPolicy::capture_headers`]).

use std::future::Future;
use std::sync::Arc;

/// Captured headers: lower-case name and value.
pub type RequestHeaders = Arc<[(String, String)]>;

tokio::task_local! {
    static HEADERS: RequestHeaders;
}

/// Runs `fut` (a `Gateway::chat` or `chat_stream` call) with `headers` visible to the policy.
pub async fn with_headers<F: Future>(headers: RequestHeaders, fut: F) -> F::Output {
    HEADERS.scope(headers, fut).await
}

/// The headers of the current call; empty outside [`with_headers`].
pub(super) fn current() -> RequestHeaders {
    HEADERS
        .try_with(Arc::clone)
        .unwrap_or_else(|_| Arc::from([]))
}
