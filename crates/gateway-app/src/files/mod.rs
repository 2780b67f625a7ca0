//! Files and batches, the gateway's asynchronous work: [`storage`] holds file bytes behind a
//! trait ([`storage::BlobStorage`]: a local directory by default, [`s3::S3Storage`] an
//! S3-compatible bucket with `[files] backend = "s3"`), the metadata lives in the
//! store (`gateway_core::store::FileStore`). The HTTP handlers are in `crate::http::files`.

pub mod local;
pub mod s3;
pub mod sealed;
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
    /// `[files] tenant_max_bytes` and `tenant_max_files`.
    pub quota: Quota,
    /// Seals file bytes per tenant when `[encryption]` is on ([`sealed`]).
    pub cipher: Option<Arc<dyn gateway_core::encryption::ContentCipher>>,
    /// Wakes this instance's batch worker when a batch is created here.
    pub batch_wake: Arc<tokio::sync::Notify>,
}

impl Files {
    /// A new blob `id` of `tenant`, sealed when encryption is on.
    pub async fn create_blob(
        &self,
        tenant: &gateway_core::TenantId,
        id: &str,
    ) -> std::io::Result<Box<dyn BlobSink>> {
        let sink = self.blobs.create(id).await?;
        Ok(match &self.cipher {
            Some(c) => Box::new(sealed::SealingSink::new(
                sink,
                c.clone(),
                tenant.clone(),
                id,
            )),
            None => sink,
        })
    }

    /// The bytes of blob `id` of `tenant`, opened when encryption is on. With encryption on,
    /// every file must be sealed: a plaintext one (written before it was turned on, or
    /// swapped in on the storage) fails to read rather than being trusted.
    pub async fn open_blob(
        &self,
        tenant: &gateway_core::TenantId,
        id: &str,
    ) -> std::io::Result<std::pin::Pin<Box<dyn tokio::io::AsyncRead + Send>>> {
        let reader = self.blobs.open(id).await?;
        Ok(match &self.cipher {
            Some(c) => sealed::open(reader, c.clone(), tenant.clone(), id),
            None => reader,
        })
    }
}

/// What one tenant may store (`None`: no limit).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Quota {
    pub max_bytes: Option<u64>,
    pub max_files: Option<u64>,
}

impl Quota {
    /// How many bytes the next upload of a tenant that stores `used` may carry, at most
    /// `max_file_bytes`; a 429 when the quota is used up already.
    pub fn room(
        &self,
        tenant: &gateway_core::TenantId,
        used: gateway_core::store::StorageUsage,
        max_file_bytes: u64,
    ) -> Result<u64, GatewayError> {
        if let Some(max) = self.max_files
            && used.files >= max
        {
            return Err(GatewayError::rate_limited(
                gateway_core::LimitKind::Storage,
                format!(
                    "Tenant '{tenant}' stores {} files, its quota is {max} ([files] tenant_max_files): delete files to upload more.",
                    used.files
                ),
                None,
            ));
        }
        let Some(max) = self.max_bytes else {
            return Ok(max_file_bytes);
        };
        let left = max.saturating_sub(used.bytes);
        if left == 0 {
            return Err(GatewayError::rate_limited(
                gateway_core::LimitKind::Storage,
                format!(
                    "Tenant '{tenant}' stores {} bytes, its quota is {max} bytes ([files] tenant_max_bytes): delete files to upload more.",
                    used.bytes
                ),
                None,
            ));
        }
        Ok(left.min(max_file_bytes))
    }
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
    use gateway_core::store::StorageUsage;

    #[test]
    fn the_quota_leaves_room_or_refuses_with_429() {
        let tenant = gateway_core::TenantId::new("acme");
        let used = |files, bytes| StorageUsage { files, bytes };
        let none = Quota::default();
        assert_eq!(none.room(&tenant, used(9, 9), 100).unwrap(), 100);
        let quota = Quota {
            max_bytes: Some(1000),
            max_files: Some(3),
        };
        assert_eq!(quota.room(&tenant, used(1, 950), 100).unwrap(), 50);
        assert_eq!(quota.room(&tenant, used(2, 0), 100).unwrap(), 100);
        for full in [used(3, 0), used(1, 1000), used(1, 2000)] {
            let e = quota.room(&tenant, full, 100).unwrap_err();
            assert_eq!(e.status(), 429, "{full:?}");
        }
    }

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
