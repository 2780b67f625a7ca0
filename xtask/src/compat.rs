//! The compatibility suite's step of `cargo xtask test`: the Node `openai` SDK installed
//! (idempotently) into an npm cache outside the clone, then `tests/e2e/compat/run_compat.py`
//! (client SDK x upstream kind x feature, see `docs/compatibility.md`) against the built
//! binaries. Its Python packages (`llmock` among them) come with the e2e venv
//! ([`crate::testcmd::E2E_PACKAGES`]).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Result;
use crate::testcmd::{venv_dir, venv_python};
use crate::util::{probe, run_status, target_dir};

/// The npm package of the Node rows: openai 7 needs Node 22, and Node 20 is what the
/// machines have.
pub const NODE_PACKAGE: &str = "openai@6";
/// The major version [`NODE_PACKAGE`] installs (checked on what the cache holds).
const NODE_MAJOR: &str = "6";

/// Where the npm packages live: `$GATEWAY_NPM_CACHE`, or `~/.cache/llm-gateway/npm`.
pub fn npm_dir() -> PathBuf {
    match std::env::var_os("GATEWAY_NPM_CACHE") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => {
            let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
            home.join(".cache/llm-gateway/npm")
        }
    }
}

fn required() -> bool {
    std::env::var("GATEWAY_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

/// The version of the `openai` package installed under `node_modules`, if any.
fn installed_version(node_modules: &Path) -> Option<String> {
    let manifest = std::fs::read(node_modules.join("openai/package.json")).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&manifest).ok()?;
    value.get("version")?.as_str().map(str::to_owned)
}

/// Whether `version` is of the major version the rows are written for.
fn is_wanted(version: &str) -> bool {
    version.split('.').next() == Some(NODE_MAJOR)
}

/// Install [`NODE_PACKAGE`] into [`npm_dir`] unless it is there; without node or npm, say so
/// and go on (the Node rows then skip), or fail under `GATEWAY_REQUIRE_SERVICES=1`.
pub fn ensure_node_packages() -> Result<()> {
    if !probe("node", &["--version"]) || !probe("npm", &["--version"]) {
        if required() {
            return Err("node and npm are required (GATEWAY_REQUIRE_SERVICES=1)".into());
        }
        println!("compat: skipped: node or npm not found, the Node SDK rows will be skipped");
        return Ok(());
    }
    let dir = npm_dir();
    if let Some(version) = installed_version(&dir.join("node_modules"))
        && is_wanted(&version)
    {
        println!(
            "npm package openai {version} already installed in {}",
            dir.join("node_modules").display()
        );
        return Ok(());
    }
    std::fs::create_dir_all(&dir)?;
    run_status(Command::new("npm").args([
        "install",
        "--prefix",
        &dir.to_string_lossy(),
        "--no-audit",
        "--no-fund",
        "--no-save",
        "--no-package-lock",
        NODE_PACKAGE,
    ]))
}

/// Runs the matrix with the e2e venv's Python against the debug binaries.
pub fn run(root: &Path) -> Result<()> {
    ensure_node_packages()?;
    let bin_dir = target_dir(root).join("debug");
    let gateway = bin_dir.join("llm-gateway");
    let mock = bin_dir.join("mock-upstream");
    for bin in [&gateway, &mock] {
        if !bin.is_file() {
            return Err(format!("{} was not built", bin.display()).into());
        }
    }
    run_status(
        Command::new(venv_python(&venv_dir(root)))
            .current_dir(root)
            .arg(root.join("tests/e2e/compat/run_compat.py"))
            .env("LLM_GATEWAY_BIN", &gateway)
            .env("MOCK_UPSTREAM_BIN", &mock)
            .env("GATEWAY_NODE_MODULES", npm_dir().join("node_modules"))
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("PYTHONUNBUFFERED", "1"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_pinned_major_counts_as_installed() {
        assert!(NODE_PACKAGE.ends_with(&format!("@{NODE_MAJOR}")));
        assert!(is_wanted("6.49.0"));
        assert!(!is_wanted("7.60.0"));
        assert!(!is_wanted("16.0.0"));
    }

    #[test]
    fn reads_the_installed_version() {
        let dir = std::env::temp_dir().join(format!("xtask-compat-{}", std::process::id()));
        let pkg = dir.join("openai");
        std::fs::create_dir_all(&pkg).unwrap();
        assert_eq!(installed_version(&dir), None);
        std::fs::write(
            pkg.join("package.json"),
            r#"{"name":"openai","version":"6.49.0"}"#,
        )
        .unwrap();
        assert_eq!(installed_version(&dir).as_deref(), Some("6.49.0"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
