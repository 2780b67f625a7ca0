//! The asynchronous calls' job object (`crate::async_calls::job_view`) and the operations of
//! `/v1/async/{id}`. The test below checks the schema against the real output: a field the
//! view adds or renames fails it (`deny_unknown_fields`).

// The types are only read by schemars and constructed by the tests.
#![allow(dead_code)]

use schemars::{JsonSchema, SchemaGenerator};
use serde::Deserialize;

use super::operation::Operation;
use crate::http::async_jobs::AsyncOp;

/// A model call accepted with `Prefer: respond-async` (docs/async.md).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AsyncJobObject {
    /// `async_...`.
    id: String,
    #[schemars(extend("const" = "async.job"))]
    object: String,
    /// `pending`, `running`, `completed`, `failed` (in flight at two instance stops; not sent
    /// a third time) or `cancelled`.
    status: String,
    /// The route the call was sent to (`/v1/chat/completions`, ...).
    route: String,
    /// Unix seconds.
    created_at: u64,
    completed_at: Option<u64>,
    /// Whether the call was in flight when an instance stopped and was sent again (once).
    retried: bool,
    /// Where the `async.completed` webhook goes, besides the tenant's subscribed endpoints.
    callback_url: Option<String>,
    /// The status of the stored answer, once there is one.
    #[serde(default)]
    status_code: Option<u16>,
    links: AsyncLinks,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AsyncLinks {
    /// `/v1/async/{id}`: poll it for the answer.
    #[serde(rename = "self")]
    this: String,
}

/// The operations of `/v1/async/{id}`.
pub fn operation(op: AsyncOp, g: &mut SchemaGenerator) -> Operation {
    match op {
        AsyncOp::Get => Operation::new("getAsyncJob", "Async calls", "Show an async call or its answer")
            .description("While the call waits or runs: 202 with the job object and `Retry-After`. Once it ran: exactly the answer the synchronous call would have given (its status, headers and body, errors in the dialect's shape). `X-Gateway-Async-Status` says which. Another tenant's id is a 404.")
            .answer::<AsyncJobObject>(g, 202, "Not answered yet.")
            .answer_with(200, "The call's answer (or the job object of a cancelled call).", serde_json::json!({ "application/json": { "schema": {} } })),
        AsyncOp::Cancel => Operation::new("cancelAsyncJob", "Async calls", "Cancel an async call")
            .description("A pending call is not run; a call that started or ended cannot be cancelled (400).")
            .answer::<AsyncJobObject>(g, 200, "The job, `cancelled`."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gateway_core::TenantId;
    use gateway_core::store::{AsyncJob, AsyncResult, AsyncStatus};
    use std::time::SystemTime;

    #[test]
    fn the_schema_matches_the_view() {
        let now = SystemTime::now();
        let mut job = AsyncJob {
            id: "async_1".to_owned(),
            tenant: TenantId::new("acme"),
            route: "/v1/chat/completions".to_owned(),
            status: AsyncStatus::Pending,
            request: "{}".to_owned(),
            callback_url: Some("https://example.com/hook".to_owned()),
            result: None,
            attempts: 0,
            retried: false,
            notified: false,
            created_at: now,
            updated_at: now,
            completed_at: None,
        };
        let pending = crate::async_calls::job_view(&job);
        serde_json::from_value::<AsyncJobObject>(pending).unwrap();
        job.status = AsyncStatus::Completed;
        job.completed_at = Some(now);
        job.result = Some(AsyncResult {
            status: 200,
            headers: "{}".to_owned(),
            body: "{}".to_owned(),
        });
        let done = crate::async_calls::job_view(&job);
        serde_json::from_value::<AsyncJobObject>(done).unwrap();
    }
}
