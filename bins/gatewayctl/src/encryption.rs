//! `gatewayctl encryption ...`: key management of the encryption of stored content over the
//! admin API (docs/security.md): show a tenant's data keys, rotate its data key, re-encrypt its
//! stored content, re-wrap every data key under the current KEK.

use clap::Subcommand;
use http::Method;
use serde_json::Value;

use crate::client::{Client, CtlError, encode};
use crate::commands::Outcome;
use crate::output;

#[derive(Debug, Subcommand)]
pub enum EncryptionCmd {
    /// A tenant's data-key versions and the KEK wrapping each (never key material).
    Show { tenant: String },
    /// A new data key for the tenant's new writes; older content stays readable.
    Rotate { tenant: String },
    /// Seal the tenant's stored content again with its current data key.
    Reencrypt { tenant: String },
    /// Re-wrap every data key under the current KEK (after `[encryption] kek` changed).
    Rewrap,
}

const FIELDS: [&str; 5] = [
    "tenant",
    "current",
    "versions",
    "shredded_up_to",
    "reencrypted",
];

fn tenant_path(tenant: &str, action: &str) -> String {
    format!("/admin/v1/tenants/{}/encryption{action}", encode(tenant))
}

pub async fn run(client: &Client, json: bool, cmd: &EncryptionCmd) -> Result<Outcome, CtlError> {
    let (value, fields): (Value, &[&str]) = match cmd {
        EncryptionCmd::Show { tenant } => (
            client
                .call(Method::GET, &tenant_path(tenant, ""), None)
                .await?,
            &FIELDS,
        ),
        EncryptionCmd::Rotate { tenant } => (
            client
                .call(Method::POST, &tenant_path(tenant, "/rotate"), None)
                .await?,
            &FIELDS,
        ),
        EncryptionCmd::Reencrypt { tenant } => (
            client
                .call(Method::POST, &tenant_path(tenant, "/reencrypt"), None)
                .await?,
            &FIELDS,
        ),
        EncryptionCmd::Rewrap => (
            client
                .call(Method::POST, "/admin/v1/encryption/rewrap", None)
                .await?,
            &["kek_id", "rewrapped", "already_current"],
        ),
    };
    Ok(Outcome::ok(if json {
        serde_json::to_string_pretty(&value).unwrap_or_default()
    } else {
        output::record(&value, fields)
    }))
}
