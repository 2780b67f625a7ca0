//! The Python SDK's suite (`sdks/python`), run by `cargo xtask test`: `mypy --strict` on the
//! package, then its pytest suite against the real `llm-gateway` and `mock-upstream` binaries
//! (built by the e2e steps), which the tests start themselves on port 0.
//!
//! What it needs is installed here, idempotently, outside the clone: `httpx`, `pytest` and
//! `mypy` into the e2e venv (`GATEWAY_VENV`), which already has Python (the e2e step needs it).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Result;
use crate::testcmd::{venv_dir, venv_python};
use crate::util::{probe, run_status, target_dir};

/// What the Python SDK's checks need beyond the e2e packages (which bring `openai` and
/// `anthropic`, used by the inference helper tests).
const PYTHON_PACKAGES: &[&str] = &["httpx>=0.27,<1", "pytest>=8", "mypy>=1.10"];
const PYTHON_PROBE: &str = "import httpx, pytest, mypy, openai, anthropic";

/// Where the gateway and mock binaries the SDK tests start are (also for the TypeScript SDK).
pub(crate) fn binaries(root: &Path) -> Result<(PathBuf, PathBuf)> {
    let bin_dir = target_dir(root).join("debug");
    let gateway = bin_dir.join("llm-gateway");
    let mock = bin_dir.join("mock-upstream");
    for bin in [&gateway, &mock] {
        if !bin.is_file() {
            return Err(format!("{} was not built", bin.display()).into());
        }
    }
    Ok((gateway, mock))
}

/// Type-checks the SDK and runs its tests.
pub fn run(root: &Path) -> Result<()> {
    let (gateway, mock) = binaries(root)?;
    let python = venv_python(&venv_dir(root));
    let python_str = python.to_string_lossy().into_owned();
    if !probe(&python_str, &["-c", PYTHON_PROBE]) {
        run_status(
            Command::new(&python)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                ])
                .args(PYTHON_PACKAGES)
                .args(crate::testcmd::E2E_PACKAGES),
        )?;
    }
    let sdk = root.join("sdks/python");
    let cache = target_dir(root).join("sdk-python");
    run_status(
        Command::new(&python)
            .current_dir(&sdk)
            .args([
                "-m",
                "mypy",
                "--config-file",
                "pyproject.toml",
                "--cache-dir",
            ])
            .arg(cache.join("mypy"))
            .env("PYTHONDONTWRITEBYTECODE", "1"),
    )?;
    run_status(
        Command::new(&python)
            .current_dir(&sdk)
            .args(["-m", "pytest", "-p", "no:cacheprovider", "-q", "tests"])
            .env("LLM_GATEWAY_BIN", &gateway)
            .env("MOCK_UPSTREAM_BIN", &mock)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("PYTHONUNBUFFERED", "1"),
    )
}
