//! `cargo xtask openapi`: writes `docs/openapi.json`, the OpenAPI 3.1 document the gateway
//! generates from its route tables and wire types (`llm-gateway --print-openapi`, the same
//! bytes `GET /openapi.json` serves, pretty-printed). A gateway test fails while the committed
//! file differs from the generated one.

use std::path::Path;
use std::process::{Command, ExitCode};

use clap::Args;

use crate::Result;
use crate::util::{cargo, display_command};

/// Where the document is committed, from the repository root.
pub const DOCUMENT: &str = "docs/openapi.json";

/// Options of `cargo xtask openapi`.
#[derive(Args, Debug, Default)]
pub struct OpenApiArgs {
    /// Only check that the committed file is up to date (exit 1 when not).
    #[arg(long)]
    pub check: bool,
}

/// Generates the document and writes (or checks) `docs/openapi.json`.
pub fn run(root: &Path, args: &OpenApiArgs) -> Result<ExitCode> {
    let generated = generate(root)?;
    let path = root.join(DOCUMENT);
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed == generated {
        println!("{DOCUMENT} is up to date");
        return Ok(ExitCode::SUCCESS);
    }
    if args.check {
        println!("{DOCUMENT} is stale: run `cargo xtask openapi` and commit it");
        return Ok(ExitCode::FAILURE);
    }
    std::fs::write(&path, &generated).map_err(|e| format!("cannot write {DOCUMENT}: {e}"))?;
    println!("wrote {DOCUMENT} ({} bytes)", generated.len());
    Ok(ExitCode::SUCCESS)
}

/// The document as the gateway prints it.
fn generate(root: &Path) -> Result<String> {
    let mut cmd = Command::new(cargo());
    cmd.current_dir(root).args([
        "run",
        "--quiet",
        "-p",
        "llm-gateway",
        "--",
        "--print-openapi",
    ]);
    println!("$ {}", display_command(&cmd));
    let out = cmd.output().map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`llm-gateway --print-openapi` failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    String::from_utf8(out.stdout).map_err(|_| "the document is not UTF-8".into())
}
