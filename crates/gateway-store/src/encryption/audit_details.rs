//! Content-bearing audit details: the fields of an event's details that may carry a caller's
//! content (an error message quoting input, a prompt or completion an operator chose to
//! audit) are sealed for the event's tenant as `{"sealed": "gwe1:..."}`. The hash chain covers
//! the stored (sealed) text, so the chain still verifies after the tenant's keys are shredded;
//! the sealed fields then read as `"[destroyed]"`.

use gateway_core::TenantId;
use gateway_core::encryption::{CipherError, ContentCipher};
use gateway_core::store::{AuditEvent, AuditRecord, unix_millis};
use serde_json::{Value, json};

use super::{from_text, to_text};
use crate::connect::SqlStore;
use crate::error::StoreError;

/// Detail fields that may hold content.
const CONTENT_FIELDS: &[&str] = &[
    "message",
    "prompt",
    "completion",
    "content",
    "input",
    "output",
    "text",
];

/// What a sealed field reads as once its tenant's keys are destroyed.
pub const DESTROYED: &str = "[destroyed]";

fn record(at_ms: i64, action: &str, field: &str) -> String {
    format!("audit/{at_ms}/{action}/{field}")
}

impl SqlStore {
    /// `e.details` as stored: content fields sealed when a keyring is set and the event has
    /// a tenant.
    pub(crate) async fn seal_audit_details(&self, e: &AuditEvent) -> Result<Value, StoreError> {
        let (Some(keyring), Some(tenant), Value::Object(map)) =
            (self.keyring.get(), &e.tenant, &e.details)
        else {
            return Ok(e.details.clone());
        };
        let at_ms = unix_millis(e.at);
        let mut out = map.clone();
        for field in CONTENT_FIELDS {
            if let Some(v) = out.get_mut(*field) {
                let plain = serde_json::to_vec(v).map_err(|_| CipherError::Corrupt)?;
                let sealed = keyring
                    .seal(tenant, &record(at_ms, &e.action, field), &plain)
                    .await?;
                *v = json!({ "sealed": to_text(&sealed) });
            }
        }
        Ok(Value::Object(out))
    }

    /// Opens the sealed fields of `r`'s details in place.
    pub(crate) async fn open_audit_details(&self, r: &mut AuditRecord) -> Result<(), StoreError> {
        let (Some(tenant), Value::Object(map)) = (r.event.tenant.clone(), &mut r.event.details)
        else {
            return Ok(());
        };
        let at_ms = unix_millis(r.event.at);
        for field in CONTENT_FIELDS {
            let Some(v) = map.get_mut(*field) else {
                continue;
            };
            let Some(text) = v.get("sealed").and_then(Value::as_str) else {
                continue;
            };
            let Some(sealed) = from_text(text) else {
                continue;
            };
            *v = open_field(
                self,
                &tenant,
                &record(at_ms, &r.event.action, field),
                sealed,
            )
            .await?;
        }
        Ok(())
    }
}

async fn open_field(
    store: &SqlStore,
    tenant: &TenantId,
    record: &str,
    sealed: Result<Vec<u8>, CipherError>,
) -> Result<Value, StoreError> {
    let Some(keyring) = store.keyring.get() else {
        return Ok(json!(DESTROYED));
    };
    match keyring.open(tenant, record, &sealed?).await {
        Ok(plain) => Ok(serde_json::from_slice(&plain).map_err(|_| CipherError::Corrupt)?),
        Err(CipherError::Shredded) => Ok(json!(DESTROYED)),
        Err(e) => Err(e.into()),
    }
}
