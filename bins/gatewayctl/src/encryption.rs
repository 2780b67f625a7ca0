//! `gatewayctl encryption ...`: key management of the encryption of stored content over the
//! admin API (docs/security.md): a tenant's data-key status, rotating its data key,
//! re-encrypting its stored content, re-wrapping every data key under the current KEK, and
//! `open`, which reads log lines on stdin and prints them with their sealed content-log
//! fields opened ([`crate::sealed_lines`]).

use clap::Subcommand;
use http::Method;
use serde_json::Value;

use crate::client::{Client, CtlError, encode};
use crate::commands::Outcome;
use crate::output;

#[derive(Debug, Subcommand)]
pub enum EncryptionCmd {
    /// A tenant's data-key versions and the KEK wrapping each (never key material).
    #[command(alias = "show")]
    Status { tenant: String },
    /// A new data key for the tenant's new writes; older content stays readable.
    Rotate { tenant: String },
    /// Seal the tenant's stored content again with its current data key (runs under traffic).
    Reencrypt { tenant: String },
    /// Re-wrap every data key under the current KEK (after `[encryption] kek` changed).
    Rewrap,
    /// Read log lines (JSON or text) on stdin and print them with every sealed content-log
    /// field (`gwe1:...`) opened: its plaintext, `[destroyed]` once the tenant was shredded,
    /// `[invalid]` when it is not a sealed value of that tenant. The tenant is the line's
    /// `tenant` field unless --tenant is given. Admins only; every call is audited.
    Open {
        /// The tenant of every line (default: each line's own `tenant` field).
        #[arg(long)]
        tenant: Option<String>,
    },
}

const FIELDS: [&str; 6] = [
    "tenant",
    "current",
    "versions",
    "shredded_up_to",
    "kek_id",
    "reencrypted",
];

fn tenant_path(tenant: &str, action: &str) -> String {
    format!("/admin/v1/tenants/{}/encryption{action}", encode(tenant))
}

pub async fn run(client: &Client, json: bool, cmd: &EncryptionCmd) -> Result<Outcome, CtlError> {
    let (value, fields): (Value, &[&str]) = match cmd {
        EncryptionCmd::Status { tenant } => (
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
        EncryptionCmd::Open { tenant } => {
            let stdin = std::io::stdin();
            let summary = crate::sealed_lines::open_lines(
                client,
                tenant.as_deref(),
                &mut stdin.lock(),
                &mut std::io::stdout(),
            )
            .await?;
            eprintln!(
                "gatewayctl: {} lines, {} sealed values: {} opened, {} destroyed, {} invalid",
                summary.lines, summary.values, summary.opened, summary.destroyed, summary.invalid
            );
            return Ok(Outcome::ok(String::new()));
        }
    };
    Ok(Outcome::ok(if json {
        serde_json::to_string_pretty(&value).unwrap_or_default()
    } else {
        output::record(&value, fields)
    }))
}

/// Opens sealed values of `tenant` through the admin API, at most 100 per call, in order:
/// the plaintext, or `[destroyed]` / `[invalid]`.
pub async fn open_values(
    client: &Client,
    tenant: &str,
    values: &[String],
) -> Result<Vec<(String, &'static str)>, CtlError> {
    let mut out = Vec::with_capacity(values.len());
    for chunk in values.chunks(crate::sealed_lines::MAX_PER_CALL) {
        let body = serde_json::json!({ "values": chunk });
        let answer = client
            .call(Method::POST, &tenant_path(tenant, "/open"), Some(&body))
            .await?;
        let data = answer["data"].as_array().cloned().unwrap_or_default();
        if data.len() != chunk.len() {
            return Err(CtlError::Other(
                "the gateway answered a different number of values".to_owned(),
            ));
        }
        for d in data {
            out.push(match d["status"].as_str() {
                Some("opened") => (
                    d["plaintext"].as_str().unwrap_or_default().to_owned(),
                    "opened",
                ),
                Some("destroyed") => ("[destroyed]".to_owned(), "destroyed"),
                _ => ("[invalid]".to_owned(), "invalid"),
            });
        }
    }
    Ok(out)
}
