//! The content log sealed (`telemetry.log_prompts_for_tenants` with `[encryption]`): each
//! logged prompt and completion is sealed with its tenant's data key and written as `gwe1:`
//! text (the form sealed TEXT columns take), so that crypto-shredding the tenant leaves old
//! log lines unreadable; request id, tenant, model and kind stay in clear. An operator reads a
//! sealed field back through `POST /admin/v1/tenants/{id}/encryption/open` (audited).
//!
//! Sealing may need the store (a tenant's first data key, or its keys after `key_cache_ttl`),
//! so it runs in a task of its own, never on the request path; at most [`MAX_PENDING`] lines
//! are being sealed at once, beyond which a line is dropped with a warning (never written in
//! clear).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use gateway_core::content_log::{self, ContentLine, ContentLogSink, SEALED_RECORD};
use gateway_core::encryption::ContentCipher;

/// Lines being sealed at most, across the process (bounded memory under a slow key store).
pub const MAX_PENDING: usize = 10_000;

static PENDING: AtomicUsize = AtomicUsize::new(0);

/// Seals content lines with a tenant's data key before they are written.
#[derive(Debug)]
pub struct SealedContentLog {
    cipher: Arc<dyn ContentCipher>,
}

impl SealedContentLog {
    pub fn new(cipher: Arc<dyn ContentCipher>) -> Self {
        SealedContentLog { cipher }
    }
}

fn dropped(line: &ContentLine, why: &str) {
    tracing::warn!(
        target: content_log::TARGET,
        request_id = %line.request_id,
        tenant = %line.tenant,
        kind = line.kind.as_str(),
        reason = why,
        "content log line dropped"
    );
}

/// Counts a line in flight until dropped.
struct Pending;

impl Drop for Pending {
    fn drop(&mut self) {
        PENDING.fetch_sub(1, Ordering::AcqRel);
    }
}

impl ContentLogSink for SealedContentLog {
    fn write(&self, line: ContentLine) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return dropped(&line, "no runtime to seal it on");
        };
        if PENDING.fetch_add(1, Ordering::AcqRel) >= MAX_PENDING {
            PENDING.fetch_sub(1, Ordering::AcqRel);
            return dropped(&line, "too many lines waiting to be sealed");
        }
        let pending = Pending;
        let cipher = self.cipher.clone();
        runtime.spawn(async move {
            let _pending = pending;
            match cipher
                .seal(&line.tenant, SEALED_RECORD, line.content.as_bytes())
                .await
            {
                Ok(sealed) => {
                    content_log::emit(&line, &gateway_store::encryption::to_text(&sealed), true)
                }
                Err(e) => {
                    tracing::error!(error = %e, "sealing a content log line failed");
                    dropped(&line, "sealing failed");
                }
            }
        });
    }
}
