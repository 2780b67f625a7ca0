//! The Batch API's work, in the background: [`validate`] streams a batch's input file into
//! its lines, the [`worker`] leases lines and runs each through the pipeline as the batch's
//! owner ([`line`]), and [`jobs`] runs the batch-level work: validating the input, writing the output and error files once every line ended.
//! All state is in the store (`gateway_core::store::BatchStore`), so a restart resumes every
//! unfinished batch and several instances share one batch through leases. The HTTP handlers
//! are in `crate::http::batches`.

pub mod jobs;
pub mod line;
pub mod owner;
pub mod validate;
pub mod worker;

use gateway_core::GatewayError;

/// The endpoints a batch may target.
pub const ENDPOINTS: [&str; 3] = ["/v1/chat/completions", "/v1/embeddings", "/v1/responses"];

/// A new batch id: `batch_` and a UUIDv7 without dashes, so ids sort by creation time.
pub fn new_batch_id() -> String {
    format!("batch_{}", uuid::Uuid::now_v7().simple())
}

/// The ids of a batch's output and error files: fixed by the batch, so that a finalization
/// repeated after a crash replaces its own files instead of adding more.
pub fn output_file_ids(batch_id: &str) -> (String, String) {
    let base = batch_id.strip_prefix("batch_").unwrap_or(batch_id);
    (format!("file-{base}out"), format!("file-{base}err"))
}

/// The 404 of a batch that is not the caller's (or not there): the same either way.
pub fn batch_not_found(id: &str) -> GatewayError {
    GatewayError::NotFound(format!("No such Batch object: {id}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::is_valid_id;

    #[test]
    fn batch_and_output_ids_are_valid_ids() {
        let id = new_batch_id();
        assert!(is_valid_id(&id, "batch_"), "{id}");
        let (out, err) = output_file_ids(&id);
        assert!(is_valid_id(&out, "file-") && is_valid_id(&err, "file-"));
        assert_ne!(out, err);
        assert_eq!(output_file_ids(&id), (out, err), "stable");
    }
}
