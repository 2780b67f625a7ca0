//! `gatewayctl backup ...`: backups of the store (docs/operations.md). `create`, `list` and
//! `show` go through the admin API (`/admin/v1/backups`: the archive is written on the
//! gateway's host, in `[backup] dir`); `verify` and `restore` work on an archive file and a
//! store offline, delegated to `llm-gateway backup ...` (like `config validate`), because a
//! restore must not target a store a gateway is serving and this CLI links no gateway crate.

use std::path::PathBuf;
use std::process::Command;

use clap::{Args, Subcommand};
use http::Method;
use serde_json::Value;

use crate::client::{Client, CtlError, encode};
use crate::commands::Outcome;
use crate::output;

#[derive(Debug, Subcommand)]
pub enum BackupCmd {
    /// Take a backup now on the gateway (into its `[backup] dir`).
    Create,
    /// The archives in the gateway's `[backup] dir`, newest first.
    List,
    /// One archive's manifest.
    Show { id: String },
    /// Check an archive file offline: every chunk authenticates, checksum, row counts and the
    /// audit chain match its manifest (runs `llm-gateway backup verify`).
    Verify {
        #[command(flatten)]
        offline: OfflineArgs,
        file: PathBuf,
    },
    /// Restore an archive file into an empty store offline, then verify counts and the audit
    /// chain and record the restore in the audit log (runs `llm-gateway backup restore`).
    Restore {
        #[command(flatten)]
        offline: OfflineArgs,
        file: PathBuf,
        /// Delete the target store's rows first instead of refusing a store that is not empty.
        #[arg(long)]
        replace: bool,
    },
}

/// Where the key and the store come from, passed on to `llm-gateway backup`.
#[derive(Debug, Clone, Args)]
pub struct OfflineArgs {
    /// A gateway configuration: its `[backup] key` and `[store]`.
    #[arg(short, long)]
    config: Option<PathBuf>,
    /// The store: `sqlite://PATH?mode=rwc` or `postgres://...` (restore).
    #[arg(long)]
    database_url: Option<String>,
    /// The environment variable holding the key when no configuration gives one.
    #[arg(long, default_value = "GATEWAY_BACKUP_KEY")]
    key_env: String,
}

const COLUMNS: [(&str, &str); 6] = [
    ("id", "ID"),
    ("size_bytes", "BYTES"),
    ("backend", "STORE"),
    ("schema_version", "SCHEMA"),
    ("audit_seq", "AUDIT SEQ"),
    ("error", "ERROR"),
];

/// The manifest's main fields next to the entry's, for the table.
fn flatten(entry: &Value) -> Value {
    let m = &entry["manifest"];
    serde_json::json!({
        "id": entry["id"],
        "size_bytes": entry["size_bytes"],
        "backend": m["backend"],
        "schema_version": m["schema_version"],
        "audit_seq": m["audit_head"]["seq"],
        "error": entry["error"],
        "created_at_ms": m["created_at_ms"],
    })
}

fn entry_text(entry: &Value) -> String {
    let mut text = output::record(
        &flatten(entry),
        &[
            "id",
            "size_bytes",
            "backend",
            "schema_version",
            "audit_seq",
            "created_at_ms",
            "error",
        ],
    );
    if let Some(tables) = entry["manifest"]["tables"].as_array() {
        text.push_str("\ntables:");
        for t in tables {
            text.push_str(&format!(
                "\n  {:<28} {:>12}",
                t["name"].as_str().unwrap_or_default(),
                t["rows"]
            ));
        }
    }
    text
}

/// `create`, `list`, `show`: through the admin API.
pub async fn run(client: &Client, json: bool, cmd: &BackupCmd) -> Result<Outcome, CtlError> {
    let value = match cmd {
        BackupCmd::Create => client.call(Method::POST, "/admin/v1/backups", None).await?,
        BackupCmd::List => {
            let v = client.call(Method::GET, "/admin/v1/backups", None).await?;
            if json {
                return Ok(Outcome::ok(
                    serde_json::to_string_pretty(&v).unwrap_or_default(),
                ));
            }
            let rows: Vec<Value> = v["data"]
                .as_array()
                .map(|a| a.iter().map(flatten).collect())
                .unwrap_or_default();
            return Ok(Outcome::ok(output::list(
                &serde_json::json!({ "data": rows }),
                &COLUMNS,
            )));
        }
        BackupCmd::Show { id } => {
            let path = format!("/admin/v1/backups/{}", encode(id));
            client.call(Method::GET, &path, None).await?
        }
        BackupCmd::Verify { .. } | BackupCmd::Restore { .. } => {
            return Err(CtlError::Usage(
                "backup verify and restore run offline".to_owned(),
            ));
        }
    };
    Ok(Outcome::ok(if json {
        serde_json::to_string_pretty(&value).unwrap_or_default()
    } else {
        entry_text(&value)
    }))
}

/// `verify` and `restore`: `llm-gateway backup ...` with inherited output; its exit code.
/// `None` for the commands that go through the API.
pub fn offline(cmd: &BackupCmd) -> Option<Result<u8, CtlError>> {
    let (verb, offline, file, replace) = match cmd {
        BackupCmd::Verify { offline, file } => ("verify", offline, file, false),
        BackupCmd::Restore {
            offline,
            file,
            replace,
        } => ("restore", offline, file, *replace),
        _ => return None,
    };
    Some(run_gateway(verb, offline, file, replace))
}

fn run_gateway(
    verb: &str,
    args: &OfflineArgs,
    file: &PathBuf,
    replace: bool,
) -> Result<u8, CtlError> {
    let gateway = crate::validate::find_gateway().ok_or_else(|| {
        CtlError::Other(
            "cannot find the 'llm-gateway' binary next to gatewayctl or on PATH; install it, \
             or set LLM_GATEWAY_BIN to its path (it does the work: llm-gateway backup ...)"
                .to_owned(),
        )
    })?;
    let mut command = Command::new(&gateway);
    command.arg("backup").arg(verb);
    if let Some(config) = &args.config {
        command.arg("-c").arg(config);
    }
    if let Some(url) = &args.database_url {
        // Through the environment: a URL may hold a password, and argv is public on the host.
        command.env("GATEWAY_DATABASE_URL", url);
    }
    command.arg("--key-env").arg(&args.key_env);
    if replace {
        command.arg("--replace");
    }
    command.arg(file);
    let status = command
        .status()
        .map_err(|e| CtlError::Other(format!("cannot run {}: {e}", gateway.display())))?;
    Ok(status
        .code()
        .and_then(|c| u8::try_from(c).ok())
        .unwrap_or(1))
}
