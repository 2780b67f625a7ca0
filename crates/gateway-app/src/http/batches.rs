//! The OpenAI-compatible Batch API: `POST /v1/batches`, `GET /v1/batches/{id}`,
//! `GET /v1/batches` (newest first, `after` and `limit`) and `POST /v1/batches/{id}/cancel`.
//! Every request is authenticated, and a tenant sees and cancels only its own batches: another
//! tenant's id is a 404, the same as an id that never existed. The work itself runs in the
//! background (`crate::batches`).

use std::time::{Duration, SystemTime};

use http::{Request, Response};
use hyper::body::Incoming;
use serde_json::{Map, Value, json};

use gateway_core::phases::account::AuditSink;
use gateway_core::store::{AuditEvent, AuditOutcome, BatchQuery, BatchRecord, BatchStatus};
use gateway_core::{GatewayError, Principal};

use super::admin::query::Query;
use super::body::{Body, parse_json, read_limited};
use super::files::{files_of, list_object, unix_secs};
use super::inbound::Inbound;
use super::info::json_response;
use super::routes::PathParams;
use crate::batches::{ENDPOINTS, batch_not_found, new_batch_id, owner};
use crate::files::{Files, file_not_found, is_valid_id};
use crate::state::AppState;

/// Which Batch API operation a route is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchesOp {
    Create,
    List,
    Get,
    Cancel,
}

/// The only completion window (OpenAI's).
const WINDOW: &str = "24h";
const WINDOW_LEN: Duration = Duration::from_secs(24 * 3600);

/// A create request is small: ids and metadata.
const MAX_CREATE_BYTES: usize = 64 * 1024;

/// The most a list returns (OpenAI's limit for batches).
const MAX_LIST: u64 = 100;

pub async fn handle(
    state: &AppState,
    req: Request<Incoming>,
    params: &PathParams,
    inbound: &mut Inbound,
    op: BatchesOp,
) -> Result<Response<Body>, GatewayError> {
    let principal = inbound.authenticate(state, req.headers()).await?;
    let files = files_of(state)?;
    match op {
        BatchesOp::Create => {
            let batch = create(state, files, &principal, req).await?;
            audit_change(state, inbound, &principal, "batch.create", &batch.id);
            Ok(json_response(200, &batch_object(&batch)))
        }
        BatchesOp::List => list(files, &principal, req.uri().query()).await,
        BatchesOp::Get => {
            let id = checked_id(params)?;
            let batch = files
                .batches
                .get_batch(&principal.tenant, id)
                .await?
                .ok_or_else(|| batch_not_found(id))?;
            Ok(json_response(200, &batch_object(&batch)))
        }
        BatchesOp::Cancel => {
            let id = checked_id(params)?;
            let batch = files
                .batches
                .cancel_batch(&principal.tenant, id, SystemTime::now())
                .await?
                .ok_or_else(|| batch_not_found(id))?;
            if batch.status.is_terminal() && batch.status != BatchStatus::Cancelled {
                return Err(GatewayError::InvalidRequest {
                    message: format!(
                        "Batch {id} cannot be cancelled: it is already {}.",
                        batch.status.as_str()
                    ),
                    param: None,
                    code: Some("batch_not_cancellable"),
                });
            }
            audit_change(state, inbound, &principal, "batch.cancel", id);
            Ok(json_response(200, &batch_object(&batch)))
        }
    }
}

fn checked_id(params: &PathParams) -> Result<&str, GatewayError> {
    let id = params.get(0).unwrap_or_default();
    if is_valid_id(id, "batch_") {
        Ok(id)
    } else {
        Err(batch_not_found(id))
    }
}

/// OpenAI's Batch object.
pub fn batch_object(b: &BatchRecord) -> Value {
    let at = |t: Option<SystemTime>| t.map(unix_secs);
    json!({
        "id": b.id,
        "object": "batch",
        "endpoint": b.endpoint,
        "errors": b.errors,
        "input_file_id": b.input_file_id,
        "completion_window": b.completion_window,
        "status": b.status.as_str(),
        "output_file_id": b.output_file_id,
        "error_file_id": b.error_file_id,
        "created_at": unix_secs(b.created_at),
        "in_progress_at": at(b.in_progress_at),
        "expires_at": unix_secs(b.expires_at),
        "finalizing_at": at(b.finalizing_at),
        "completed_at": at(b.completed_at),
        "failed_at": at(b.failed_at),
        "expired_at": at(b.expired_at),
        "cancelling_at": at(b.cancelling_at),
        "cancelled_at": at(b.cancelled_at),
        "request_counts": {
            "total": b.counts.total,
            "completed": b.counts.completed,
            "failed": b.counts.failed,
        },
        "metadata": b.metadata,
    })
}

async fn list(
    files: &Files,
    principal: &Principal,
    query: Option<&str>,
) -> Result<Response<Body>, GatewayError> {
    let q = Query::parse(query, &["after", "limit"])?;
    let limit = q.number("limit")?.unwrap_or(20);
    if !(1..=MAX_LIST).contains(&limit) {
        return Err(GatewayError::invalid_param(
            "limit",
            format!("limit must be between 1 and {MAX_LIST}."),
        ));
    }
    let query = BatchQuery {
        after: q.text("after").map(str::to_owned),
        // One more than asked, to tell whether there is a next page.
        limit: u32::try_from(limit + 1).unwrap_or(u32::MAX),
    };
    let mut found = files
        .batches
        .list_batches(&principal.tenant, &query)
        .await?;
    let has_more = found.len() as u64 > limit;
    found.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(json_response(
        200,
        &list_object(found.iter().map(batch_object).collect(), has_more),
    ))
}

/// `POST /v1/batches`: checks the request and the input file, stores the batch as
/// `validating`; the worker validates the file's lines.
async fn create(
    state: &AppState,
    files: &Files,
    principal: &Principal,
    req: Request<Incoming>,
) -> Result<BatchRecord, GatewayError> {
    state.refuse_if_passthrough(&principal.tenant, "Batches")?;
    let bytes = read_limited(req.into_body(), MAX_CREATE_BYTES, state.body_timeout).await?;
    let body: Map<String, Value> = parse_json(&bytes)?;
    let input_file_id = text(&body, "input_file_id")?;
    let endpoint = text(&body, "endpoint")?;
    if !ENDPOINTS.contains(&endpoint) {
        return Err(GatewayError::invalid_param(
            "endpoint",
            format!(
                "Endpoint '{endpoint}' is not supported; use one of: {}.",
                ENDPOINTS.join(", ")
            ),
        ));
    }
    if text(&body, "completion_window")? != WINDOW {
        return Err(GatewayError::invalid_param(
            "completion_window",
            "completion_window must be '24h'.",
        ));
    }
    let metadata = match body.get("metadata") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) if valid_metadata(m) => Some(Value::Object(m.clone())),
        Some(_) => {
            return Err(GatewayError::invalid_param(
                "metadata",
                "metadata must be an object of at most 16 string values (keys up to 64 characters, values up to 512).",
            ));
        }
    };
    if let Some(other) = body.keys().find(|k| {
        !["input_file_id", "endpoint", "completion_window", "metadata"].contains(&k.as_str())
    }) {
        return Err(GatewayError::invalid_param(
            "body",
            format!("Unknown parameter '{other}'."),
        ));
    }
    let file = if is_valid_id(input_file_id, "file-") {
        files
            .meta
            .get_file(&principal.tenant, input_file_id)
            .await?
    } else {
        None
    }
    .ok_or_else(|| file_not_found(input_file_id))?;
    if file.purpose != "batch" {
        return Err(GatewayError::invalid_param(
            "input_file_id",
            format!(
                "File {} has purpose '{}'; a batch's input must be uploaded with purpose 'batch'.",
                file.id, file.purpose
            ),
        ));
    }
    let now = SystemTime::now();
    let batch = BatchRecord {
        id: new_batch_id(),
        tenant: principal.tenant.clone(),
        owner: owner::snapshot(principal),
        endpoint: endpoint.to_owned(),
        input_file_id: file.id,
        completion_window: WINDOW.to_owned(),
        metadata,
        status: BatchStatus::Validating,
        errors: None,
        output_file_id: None,
        error_file_id: None,
        created_at: now,
        expires_at: now + WINDOW_LEN,
        in_progress_at: None,
        finalizing_at: None,
        completed_at: None,
        failed_at: None,
        expired_at: None,
        cancelling_at: None,
        cancelled_at: None,
        counts: Default::default(),
    };
    files.batches.create_batch(&batch).await?;
    files.batch_wake.notify_one();
    Ok(batch)
}

/// Audits a change a caller made to its tenant's files or batches (`file.upload`,
/// `file.delete`, `batch.create`, `batch.cancel`); refusals are audited by the edge.
pub(crate) fn audit_change(
    state: &AppState,
    inbound: &Inbound,
    principal: &Principal,
    action: &str,
    target: &str,
) {
    state.telemetry.audit(AuditEvent {
        at: SystemTime::now(),
        tenant: Some(principal.tenant.clone()),
        actor: principal.subject.to_string(),
        action: action.to_owned(),
        target: Some(target.to_owned()),
        outcome: AuditOutcome::Success,
        ip: inbound.client_ip.map(|ip| ip.to_string()),
        details: json!({"request_id": inbound.request_id}),
    });
}

/// The string field `name` of a request body (400 naming it when absent).
fn text<'a>(body: &'a Map<String, Value>, name: &str) -> Result<&'a str, GatewayError> {
    body.get(name).and_then(Value::as_str).ok_or_else(|| {
        GatewayError::invalid_param(name, format!("'{name}' is required (a string)."))
    })
}

/// OpenAI's metadata rules: up to 16 pairs, keys up to 64 characters, string values up to 512.
fn valid_metadata(m: &Map<String, Value>) -> bool {
    m.len() <= 16
        && m.iter().all(|(k, v)| {
            k.chars().count() <= 64 && v.as_str().is_some_and(|s| s.chars().count() <= 512)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_follows_openais_bounds() {
        let ok: Map<String, Value> = serde_json::from_value(json!({"a": "b"})).unwrap_or_default();
        assert!(valid_metadata(&ok));
        let number: Map<String, Value> =
            serde_json::from_value(json!({"a": 1})).unwrap_or_default();
        assert!(!valid_metadata(&number));
        let many: Map<String, Value> = (0..17).map(|i| (i.to_string(), json!("v"))).collect();
        assert!(!valid_metadata(&many));
        let long: Map<String, Value> = [("k".to_owned(), json!("x".repeat(513)))]
            .into_iter()
            .collect();
        assert!(!valid_metadata(&long));
    }
}
