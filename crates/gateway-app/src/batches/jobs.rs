//! The batch-level work, done by whichever instance leases the batch: validating the input
//! into lines, and, once every line ended (or the batch was cancelled or expired), writing
//! the output and error files (purpose `batch_output`) and ending the batch. Both are
//! restartable: a validation interrupted by a crash starts over (its lines are replaced); a
//! finalization writes the same file ids again.

use std::time::SystemTime;

use tokio::io::BufReader;

use gateway_core::GatewayError;
use gateway_core::store::{BatchRecord, BatchStore, FileRecord, ItemOutcome, NewItem};

use super::line::unanswered_line;
use super::output_file_ids;
use super::validate::{Checker, Line, LineError, errors_object, next_line};
use crate::files::{BlobSink, Files};
use crate::http::files::storage_error;

/// Lines stored per statement while validating, and read per query while finalizing.
const CHUNK: usize = 500;

/// Validates `batch`'s input into its lines; ends it `in_progress` or `failed`. Returns
/// whether this call failed the batch (the store applied the transition for this holder), so
/// that exactly one instance reports `batch.failed`.
pub async fn validate(
    files: &Files,
    store: &dyn BatchStore,
    batch: &BatchRecord,
    holder: &str,
    max_line_bytes: usize,
) -> Result<bool, GatewayError> {
    let result = read_input(files, store, batch, holder, max_line_bytes).await?;
    let result = result.map_err(|errors| errors_object(&errors));
    let failed = result.is_err();
    let won = store
        .end_validation(&batch.id, holder, result, SystemTime::now())
        .await?;
    Ok(failed && won)
}

/// The number of valid lines stored, or the problems found.
async fn read_input(
    files: &Files,
    store: &dyn BatchStore,
    batch: &BatchRecord,
    holder: &str,
    max_line_bytes: usize,
) -> Result<Result<u64, Vec<LineError>>, GatewayError> {
    let Some(file) = files
        .meta
        .get_file(&batch.tenant, &batch.input_file_id)
        .await?
    else {
        return Ok(Err(vec![LineError::file(
            "invalid_file",
            "The input file was deleted before the batch started.",
        )]));
    };
    if file.bytes > files.max_file_bytes {
        return Ok(Err(vec![LineError::file(
            "file_too_large",
            format!(
                "The input file is {} bytes, over the limit of {} bytes ([files] max_file_bytes).",
                file.bytes, files.max_file_bytes
            ),
        )]));
    }
    let reader = files
        .open_blob(&file.tenant, &file.id)
        .await
        .map_err(storage_error)?;
    let mut reader = BufReader::with_capacity(64 * 1024, reader);
    let mut checker = Checker::new(&batch.endpoint);
    let mut chunk: Vec<NewItem> = Vec::with_capacity(CHUNK);
    let (mut number, mut total, mut first) = (0u64, 0u64, true);
    while let Some(line) = next_line(&mut reader, max_line_bytes)
        .await
        .map_err(storage_error)?
    {
        number += 1;
        let item = match line {
            Line::Text(text) if text.iter().all(u8::is_ascii_whitespace) => continue,
            Line::Text(text) => checker.check(number, &text),
            Line::TooLong(len) => {
                if checker.errors.len() < super::validate::MAX_ERRORS {
                    checker.errors.push(LineError {
                        code: "request_too_large",
                        message: format!(
                            "This line is {len} bytes, over the request body limit of {max_line_bytes} bytes."
                        ),
                        param: None,
                        line: Some(number),
                    });
                }
                None
            }
        };
        if !checker.errors.is_empty() {
            // The batch fails; keep reading only to name more bad lines.
            chunk.clear();
            if checker.errors.len() >= super::validate::MAX_ERRORS {
                break;
            }
            continue;
        }
        if let Some(item) = item {
            total += 1;
            chunk.push(item);
            if chunk.len() == CHUNK {
                store.add_items(&batch.id, holder, &chunk, first).await?;
                first = false;
                chunk.clear();
            }
        }
    }
    if !checker.errors.is_empty() {
        return Ok(Err(checker.errors));
    }
    if total == 0 {
        return Ok(Err(vec![LineError::file(
            "empty_file",
            "The input file has no requests.",
        )]));
    }
    if first || !chunk.is_empty() {
        store.add_items(&batch.id, holder, &chunk, first).await?;
    }
    Ok(Ok(total))
}

/// Writes the output and error files of a `finalizing` or `cancelling` batch and ends it.
/// Returns whether this call ended it (the store applied the transition for this holder):
/// only then is its terminal event reported.
pub async fn finalize(
    files: &Files,
    store: &dyn BatchStore,
    batch: &BatchRecord,
    holder: &str,
) -> Result<bool, GatewayError> {
    let (out_id, err_id) = output_file_ids(&batch.id);
    let mut out = Output::new(&out_id, &batch.tenant);
    let mut err = Output::new(&err_id, &batch.tenant);
    let expired = batch.expired_at.is_some();
    let mut after = 0;
    let result: Result<(), GatewayError> = async {
        loop {
            let items = store.finished_items(&batch.id, after, CHUNK as u32).await?;
            let Some(last) = items.last() else { break };
            after = last.line;
            for item in &items {
                let text = match &item.result {
                    Some(text) => text.clone(),
                    None => unanswered_line(&item.custom_id, expired, item.retried),
                };
                let target = match item.outcome {
                    ItemOutcome::Done => &mut out,
                    ItemOutcome::Failed => &mut err,
                };
                target.write(files, &text).await?;
            }
        }
        Ok(())
    }
    .await;
    if let Err(e) = result {
        out.abort().await;
        err.abort().await;
        return Err(e);
    }
    let out_id = out.commit(files, batch, "output").await?;
    let err_id = err.commit(files, batch, "error").await?;
    store
        .end_batch(
            &batch.id,
            holder,
            out_id.as_deref(),
            err_id.as_deref(),
            SystemTime::now(),
        )
        .await
}

/// One output file, started with its first line.
struct Output {
    id: String,
    tenant: gateway_core::TenantId,
    sink: Option<Box<dyn BlobSink>>,
}

impl Output {
    fn new(id: &str, tenant: &gateway_core::TenantId) -> Self {
        Output {
            id: id.to_owned(),
            tenant: tenant.clone(),
            sink: None,
        }
    }

    async fn write(&mut self, files: &Files, line: &str) -> Result<(), GatewayError> {
        let sink = match &mut self.sink {
            Some(sink) => sink,
            None => self.sink.insert(
                files
                    .create_blob(&self.tenant, &self.id)
                    .await
                    .map_err(storage_error)?,
            ),
        };
        sink.write(line.as_bytes()).await.map_err(storage_error)?;
        sink.write(b"\n").await.map_err(storage_error)
    }

    async fn abort(self) {
        if let Some(sink) = self.sink {
            sink.abort().await;
        }
    }

    /// The file's id once stored, `None` when it has no line.
    async fn commit(
        self,
        files: &Files,
        batch: &BatchRecord,
        kind: &str,
    ) -> Result<Option<String>, GatewayError> {
        let Some(sink) = self.sink else {
            return Ok(None);
        };
        let bytes = sink.commit().await.map_err(storage_error)?;
        let record = FileRecord {
            id: self.id.clone(),
            tenant: batch.tenant.clone(),
            filename: format!("{}_{kind}.jsonl", batch.id),
            purpose: "batch_output".to_owned(),
            bytes,
            created_at: SystemTime::now(),
        };
        match files.meta.create_file(&record).await {
            // Written before by a finalization that stopped short: the bytes were replaced.
            Err(GatewayError::InvalidRequest {
                code: Some(code), ..
            }) if code == gateway_core::store::CONFLICT_CODE => Ok(Some(self.id)),
            Err(e) => Err(e),
            Ok(()) => Ok(Some(self.id)),
        }
    }
}
