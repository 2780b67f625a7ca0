//! Files and batches, the gateway's asynchronous work: [`storage`] holds file bytes behind a
//! trait ([`storage::BlobStorage`], a local directory by default), the metadata lives in the
//! store (`gateway_core::store::FileStore`). The HTTP handlers are in `crate::http::files`.

pub mod local;
pub mod storage;

use std::sync::Arc;

use gateway_core::GatewayError;
use gateway_core::store::{BatchStore, FileStore};

pub use storage::{BlobSink, BlobStorage};

/// What the Files API needs, present when the gateway runs over a SQL store.
#[derive(Clone)]
pub struct Files {
    pub meta: Arc<dyn FileStore>,
    pub blobs: Arc<dyn BlobStorage>,
    /// Batch and line state (`crate::batches`), in the same store as the file metadata.
    pub batches: Arc<dyn BatchStore>,
    /// `[files] max_file_bytes`.
    pub max_file_bytes: u64,
}

/// A new file id: `file-` and a UUIDv7 without dashes, so ids sort by creation time.
pub fn new_file_id() -> String {
    format!("file-{}", uuid::Uuid::now_v7().simple())
}

/// Whether `id` is one the gateway could have issued with `prefix` (`file-`, `batch_`): the
/// prefix and then only ASCII letters and digits. Checked before an id reaches storage.
pub fn is_valid_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix).is_some_and(|rest| {
        !rest.is_empty() && rest.len() <= 64 && rest.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

/// The 404 of a file that is not the caller's (or not there): the same either way.
pub fn file_not_found(id: &str) -> GatewayError {
    GatewayError::NotFound(format!("No such File object: {id}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_ids_are_valid_and_path_tricks_are_not() {
        let id = new_file_id();
        assert!(is_valid_id(&id, "file-"), "{id}");
        for bad in [
            "file-",
            "file-../x",
            "file-a/b",
            "batch_abc",
            "file-a.b",
            "file-%2e",
        ] {
            assert!(!is_valid_id(bad, "file-"), "{bad}");
        }
        assert!(new_file_id() > id, "ids sort by creation");
    }
}
