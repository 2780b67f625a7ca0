//! Schemas of the Batch API's bodies, which its handlers write as JSON values
//! (`http::batches::batch_object`). The test below checks them against that real output:
//! a field the handler adds or renames fails it (`deny_unknown_fields`).

// The types are only read by schemars and constructed by the tests.
#![allow(dead_code)]

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

/// `POST /v1/batches`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBatch {
    /// A file of the caller's tenant uploaded with purpose `batch`: one request a line
    /// (`{"custom_id", "method": "POST", "url", "body"}`).
    input_file_id: String,
    /// `/v1/chat/completions`, `/v1/embeddings` or `/v1/responses`.
    endpoint: String,
    /// `24h`.
    completion_window: String,
    /// Up to 16 string values.
    #[serde(default)]
    metadata: Option<Map<String, Value>>,
}

/// OpenAI's Batch object.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchObject {
    /// `batch_...`.
    id: String,
    #[schemars(extend("const" = "batch"))]
    object: String,
    endpoint: String,
    /// Why validation failed: `{"object": "list", "data": [{"code", "message", "param", "line"}]}`.
    errors: Option<BatchErrors>,
    input_file_id: String,
    completion_window: String,
    /// `validating`, `failed`, `in_progress`, `finalizing`, `completed`, `expired`,
    /// `cancelling` or `cancelled`.
    status: String,
    /// The answers of the lines that succeeded (purpose `batch_output`).
    output_file_id: Option<String>,
    /// The lines that failed, with their error answers.
    error_file_id: Option<String>,
    /// Unix seconds, as the other times.
    created_at: u64,
    in_progress_at: Option<u64>,
    expires_at: u64,
    finalizing_at: Option<u64>,
    completed_at: Option<u64>,
    failed_at: Option<u64>,
    expired_at: Option<u64>,
    cancelling_at: Option<u64>,
    cancelled_at: Option<u64>,
    request_counts: BatchRequestCounts,
    metadata: Option<Map<String, Value>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequestCounts {
    total: u64,
    completed: u64,
    failed: u64,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchErrors {
    #[schemars(extend("const" = "list"))]
    object: String,
    data: Vec<BatchError>,
}

/// One problem of an input file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchError {
    /// `invalid_json_line`, `duplicate_custom_id`, `invalid_url`, `invalid_method`,
    /// `missing_required_parameter`, `request_too_large`, `empty_file`, ...
    code: String,
    message: String,
    param: Option<String>,
    /// 1-based; absent for a problem of the whole file.
    line: Option<u64>,
}

/// A page of batches, newest first.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchList {
    #[schemars(extend("const" = "list"))]
    object: String,
    first_id: Option<String>,
    last_id: Option<String>,
    has_more: bool,
    data: Vec<BatchObject>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::time::{Duration, SystemTime};

    use gateway_core::TenantId;
    use gateway_core::store::{BatchRecord, BatchStatus};
    use serde_json::json;

    use super::*;
    use crate::batches::validate::{LineError, errors_object};
    use crate::http::batches::batch_object;
    use crate::http::files::list_object;

    #[test]
    fn the_schemas_match_what_the_handlers_write() {
        let now = SystemTime::now();
        let mut b = BatchRecord {
            id: "batch_1".into(),
            tenant: TenantId::new("t"),
            owner: json!({}),
            endpoint: "/v1/chat/completions".into(),
            input_file_id: "file-1".into(),
            completion_window: "24h".into(),
            metadata: Some(json!({"k": "v"})),
            status: BatchStatus::Completed,
            errors: None,
            output_file_id: Some("file-2".into()),
            error_file_id: None,
            created_at: now,
            expires_at: now + Duration::from_secs(86_400),
            in_progress_at: Some(now),
            finalizing_at: Some(now),
            completed_at: Some(now),
            failed_at: None,
            expired_at: None,
            cancelling_at: None,
            cancelled_at: None,
            counts: Default::default(),
        };
        let _: BatchObject = serde_json::from_value(batch_object(&b)).unwrap();
        b.errors = Some(errors_object(&[LineError::file("empty_file", "no lines")]));
        b.metadata = None;
        let list = list_object(vec![batch_object(&b)], false);
        let _: BatchList = serde_json::from_value(list).unwrap();
        let _: CreateBatch = serde_json::from_value(json!({
            "input_file_id": "file-1", "endpoint": "/v1/embeddings", "completion_window": "24h"
        }))
        .unwrap();
    }
}
