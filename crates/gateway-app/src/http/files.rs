//! The OpenAI-compatible Files API: `POST /v1/files` (multipart, streamed to storage within
//! `[files] max_file_bytes`), `GET /v1/files`, `GET /v1/files/{id}`,
//! `GET /v1/files/{id}/content` (streamed from storage) and `DELETE /v1/files/{id}`. Every
//! request is authenticated, and a tenant sees only its own files: another tenant's id is a
//! 404, the same as an id that never existed. An upload counts against the caller's request
//! limits (429) and must fit the tenant's storage quota (`[files] tenant_max_bytes`,
//! `tenant_max_files`: 429 when used up, 413 for an upload larger than the room left).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use http::{HeaderValue, Request, Response};
use http_body_util::{BodyDataStream, BodyExt, StreamBody};
use hyper::body::{Frame, Incoming};
use serde_json::{Value, json};

use gateway_core::store::{FileQuery, FileRecord};
use gateway_core::{GatewayError, Principal};

use super::admin::query::Query;
use super::body::{Body, response};
use super::inbound::Inbound;
use super::info::json_response;
use super::routes::PathParams;
use crate::files::{BlobSink, Files, file_not_found, is_valid_id, new_file_id};
use crate::state::AppState;

/// Which Files API operation a route is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilesOp {
    Upload,
    List,
    Get,
    Content,
    Delete,
}

/// The purposes an upload may have (the batch worker writes `batch_output` files itself).
const UPLOAD_PURPOSES: [&str; 1] = ["batch"];

/// The most a list returns (OpenAI's limit for files).
const MAX_LIST: u64 = 10_000;

pub async fn handle(
    state: &AppState,
    req: Request<Incoming>,
    params: &PathParams,
    inbound: &mut Inbound,
    op: FilesOp,
) -> Result<Response<Body>, GatewayError> {
    let principal = inbound.authenticate(state, req.headers()).await?;
    let files = files_of(state)?;
    match op {
        FilesOp::Upload => {
            // An upload is a request like a model call for the caller's request limits (and
            // holds a concurrency slot while it streams in), then must fit the tenant's quota.
            let ctx = inbound.context(state, principal.clone(), gateway_core::Endpoint::Files);
            let admitted = state.limiter.admit_request(&ctx).await?;
            let used = files.meta.tenant_usage(&principal.tenant).await?;
            let room = files
                .quota
                .room(&principal.tenant, used, files.max_file_bytes)?;
            let record = upload(state, files, &principal, req, room).await;
            gateway_core::phases::admission::Permit::complete(admitted.permit, None, None);
            let record = record?;
            super::batches::audit_change(state, inbound, &principal, "file.upload", &record.id);
            Ok(json_response(200, &file_object(&record)))
        }
        FilesOp::List => list(files, &principal, req.uri().query()).await,
        FilesOp::Get => Ok(json_response(
            200,
            &file_object(&owned(files, &principal, params).await?),
        )),
        FilesOp::Content => content(files, &owned(files, &principal, params).await?).await,
        FilesOp::Delete => {
            let file = owned(files, &principal, params).await?;
            if files.meta.delete_file(&principal.tenant, &file.id).await?
                && let Err(e) = files.blobs.delete(&file.id).await
            {
                tracing::warn!(file = %file.id, error = %e, "could not remove a deleted file's bytes");
            }
            super::batches::audit_change(state, inbound, &principal, "file.delete", &file.id);
            Ok(json_response(
                200,
                &json!({"id": file.id, "object": "file", "deleted": true}),
            ))
        }
    }
}

/// The Files API, or a 404 that says why it is not served.
pub fn files_of(state: &AppState) -> Result<&Files, GatewayError> {
    state.files.as_ref().ok_or_else(|| {
        GatewayError::NotFound(
            "The Files and Batch APIs need a SQL store (SQLite or PostgreSQL); this gateway runs on a signed file.".to_owned(),
        )
    })
}

/// The caller's file named by the path, or 404.
async fn owned(
    files: &Files,
    principal: &Principal,
    params: &PathParams,
) -> Result<FileRecord, GatewayError> {
    let id = params.get(0).unwrap_or_default();
    if !is_valid_id(id, "file-") {
        return Err(file_not_found(id));
    }
    files
        .meta
        .get_file(&principal.tenant, id)
        .await?
        .ok_or_else(|| file_not_found(id))
}

/// OpenAI's File object.
pub fn file_object(f: &FileRecord) -> Value {
    json!({
        "id": f.id,
        "object": "file",
        "bytes": f.bytes,
        "created_at": unix_secs(f.created_at),
        "filename": f.filename,
        "purpose": f.purpose,
        "status": "processed",
        "expires_at": null,
        "status_details": null,
    })
}

pub fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

async fn list(
    files: &Files,
    principal: &Principal,
    query: Option<&str>,
) -> Result<Response<Body>, GatewayError> {
    let q = Query::parse(query, &["purpose", "limit", "after", "order"])?;
    let limit = q.number("limit")?.unwrap_or(MAX_LIST);
    if !(1..=MAX_LIST).contains(&limit) {
        return Err(GatewayError::invalid_param(
            "limit",
            format!("limit must be between 1 and {MAX_LIST}."),
        ));
    }
    let ascending = match q.text("order") {
        None | Some("desc") => false,
        Some("asc") => true,
        Some(_) => {
            return Err(GatewayError::invalid_param(
                "order",
                "order must be 'asc' or 'desc'.",
            ));
        }
    };
    let query = FileQuery {
        purpose: q.text("purpose").map(str::to_owned),
        after: q.text("after").map(str::to_owned),
        // One more than asked, to tell whether there is a next page.
        limit: u32::try_from(limit + 1).unwrap_or(u32::MAX),
        ascending,
    };
    let mut found = files.meta.list_files(&principal.tenant, &query).await?;
    let has_more = found.len() as u64 > limit;
    found.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(json_response(
        200,
        &list_object(found.iter().map(file_object).collect(), has_more),
    ))
}

/// OpenAI's list envelope.
pub fn list_object(data: Vec<Value>, has_more: bool) -> Value {
    let id = |v: Option<&Value>| v.and_then(|o| o.get("id")).cloned().unwrap_or(Value::Null);
    json!({
        "object": "list",
        "first_id": id(data.first()),
        "last_id": id(data.last()),
        "has_more": has_more,
        "data": data,
    })
}

/// The file's bytes, streamed from storage with their length.
async fn content(files: &Files, file: &FileRecord) -> Result<Response<Body>, GatewayError> {
    let reader = files.open_blob(&file.tenant, &file.id).await.map_err(|e| {
        tracing::error!(file = %file.id, error = %e, "a stored file's bytes cannot be read");
        GatewayError::Unavailable("The file's content cannot be read; retry later.".to_owned())
    })?;
    let id = file.id.clone();
    // A read error mid-way ends the body short of its declared length, so the client sees a
    // truncated transfer rather than a complete-looking file.
    let frames = tokio_util::io::ReaderStream::with_capacity(reader, 64 * 1024)
        .take_while(move |chunk| {
            if let Err(e) = chunk {
                tracing::error!(file = %id, error = %e, "reading a stored file failed mid-way");
            }
            std::future::ready(chunk.is_ok())
        })
        .filter_map(|chunk| std::future::ready(chunk.ok().map(|b| Ok(Frame::data(b)))));
    let mut resp = response(
        StreamBody::new(frames).boxed_unsync(),
        "application/octet-stream",
    );
    resp.headers_mut()
        .insert(http::header::CONTENT_LENGTH, HeaderValue::from(file.bytes));
    Ok(resp)
}

/// `POST /v1/files`: the `file` part is written to storage as it arrives.
async fn upload(
    state: &AppState,
    files: &Files,
    principal: &Principal,
    req: Request<Incoming>,
    max: u64,
) -> Result<FileRecord, GatewayError> {
    state.refuse_if_passthrough(&principal.tenant, "Files")?;
    let boundary = req
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| multer::parse_boundary(ct).ok())
        .ok_or_else(|| {
            GatewayError::invalid(
                "Upload a file as multipart/form-data with a 'file' and a 'purpose' field.",
            )
        })?;
    let limit = usize::try_from(max).unwrap_or(usize::MAX);
    let constraints = multer::Constraints::new()
        .allowed_fields(vec!["file", "purpose"])
        .size_limit(
            multer::SizeLimit::new()
                // The file, the purpose and the multipart framing.
                .whole_stream(max.saturating_add(64 * 1024))
                .per_field(max)
                .for_field("purpose", 256),
        );
    let stream = BodyDataStream::new(req.into_body());
    let mut multipart = multer::Multipart::with_constraints(stream, boundary, constraints);
    let idle = state.body_timeout;
    let mut purpose: Option<String> = None;
    let mut stored: Option<(String, String, Box<dyn BlobSink>)> = None;
    let result: Result<(), GatewayError> = async {
        while let Some(mut field) = within(idle, multipart.next_field())
            .await?
            .map_err(|e| multipart_error(&e, limit))?
        {
            match field.name() {
                Some("purpose") => {
                    purpose = Some(
                        within(idle, field.text())
                            .await?
                            .map_err(|e| multipart_error(&e, limit))?,
                    );
                }
                _ if stored.is_some() => {
                    return Err(GatewayError::invalid("Send one 'file' field."));
                }
                _ => {
                    let filename = clean_filename(field.file_name());
                    let id = new_file_id();
                    let sink = files
                        .create_blob(&principal.tenant, &id)
                        .await
                        .map_err(storage_error)?;
                    let (_, _, sink) = stored.insert((id, filename, sink));
                    while let Some(chunk) = within(idle, field.chunk())
                        .await?
                        .map_err(|e| multipart_error(&e, limit))?
                    {
                        sink.write(&chunk).await.map_err(storage_error)?;
                    }
                }
            }
        }
        Ok(())
    }
    .await;
    let check = result.and_then(|()| match (&purpose, &stored) {
        (_, None) => Err(GatewayError::invalid_param(
            "file",
            "The upload has no 'file' field.",
        )),
        (None, _) => Err(GatewayError::invalid_param(
            "purpose",
            "The upload has no 'purpose' field.",
        )),
        (Some(p), _) if !UPLOAD_PURPOSES.contains(&p.as_str()) => Err(GatewayError::invalid_param(
            "purpose",
            format!(
                "Purpose '{p}' is not supported; this gateway accepts: {}.",
                UPLOAD_PURPOSES.join(", ")
            ),
        )),
        _ => Ok(()),
    });
    let (id, filename, sink) = match (check, stored) {
        (Ok(()), Some(stored)) => stored,
        (Err(e), Some((_, _, sink))) => {
            sink.abort().await;
            return Err(e);
        }
        (Err(e), None) => return Err(e),
        (Ok(()), None) => {
            return Err(GatewayError::invalid_param(
                "file",
                "The upload has no 'file' field.",
            ));
        }
    };
    let bytes = sink.commit().await.map_err(storage_error)?;
    let record = FileRecord {
        id,
        tenant: principal.tenant.clone(),
        filename,
        purpose: purpose.unwrap_or_default(),
        bytes,
        created_at: SystemTime::now(),
    };
    if let Err(e) = files.meta.create_file(&record).await {
        let _ = files.blobs.delete(&record.id).await;
        return Err(e);
    }
    Ok(record)
}

/// `fut` within the idle timeout of the body (408 beyond).
async fn within<T>(idle: Duration, fut: impl Future<Output = T>) -> Result<T, GatewayError> {
    tokio::time::timeout(idle, fut)
        .await
        .map_err(|_| GatewayError::RequestTimeout {
            secs: idle.as_secs(),
        })
}

fn multipart_error(e: &multer::Error, limit: usize) -> GatewayError {
    match e {
        multer::Error::FieldSizeExceeded { .. } | multer::Error::StreamSizeExceeded { .. } => {
            GatewayError::PayloadTooLarge { limit }
        }
        multer::Error::UnknownField { field_name } => GatewayError::invalid(format!(
            "Unknown multipart field '{}'; send 'file' and 'purpose'.",
            field_name.as_deref().unwrap_or("")
        )),
        other => GatewayError::invalid(format!("The multipart body is malformed: {other}.")),
    }
}

pub fn storage_error(e: std::io::Error) -> GatewayError {
    tracing::error!(error = %e, "file storage failed");
    GatewayError::Unavailable("The gateway's file storage is unavailable; retry later.".to_owned())
}

/// The uploader's file name for display: at most 255 characters, no control characters, no
/// directory part.
fn clean_filename(name: Option<&str>) -> String {
    let base = name
        .unwrap_or("upload")
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default();
    let clean: String = base.chars().filter(|c| !c.is_control()).take(255).collect();
    if clean.is_empty() {
        "upload".to_owned()
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames_lose_directories_and_control_characters() {
        assert_eq!(clean_filename(Some("../../etc/passwd")), "passwd");
        assert_eq!(clean_filename(Some("C:\\x\\in.jsonl")), "in.jsonl");
        assert_eq!(clean_filename(Some("a\nb\u{7}.jsonl")), "ab.jsonl");
        assert_eq!(clean_filename(None), "upload");
        assert_eq!(clean_filename(Some("dir/")), "upload");
        assert_eq!(clean_filename(Some(&"x".repeat(400))).len(), 255);
    }
}
