//! `gatewayctl config validate FILE`: delegates to `llm-gateway --check-config`, so the CLI
//! and the server can never disagree about what a valid configuration is.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::client::CtlError;

const BIN: &str = "llm-gateway";

/// `LLM_GATEWAY_BIN`, else `llm-gateway` next to this executable, else on `PATH`.
pub fn find_gateway() -> Option<PathBuf> {
    if let Some(explicit) = std::env::var_os("LLM_GATEWAY_BIN").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(explicit));
    }
    let name = format!("{BIN}{}", std::env::consts::EXE_SUFFIX);
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(&name)))
        .filter(|p| p.is_file());
    beside.or_else(|| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(&name))
                .find(|p| p.is_file())
        })
    })
}

/// Runs the check with inherited output; returns its exit code.
pub fn validate(file: &Path) -> Result<u8, CtlError> {
    let gateway = find_gateway().ok_or_else(|| {
        CtlError::Other(format!(
            "cannot find the '{BIN}' binary next to gatewayctl or on PATH; install it, or set \
             LLM_GATEWAY_BIN to its path (it performs the check: {BIN} --check-config -c FILE)"
        ))
    })?;
    let status = Command::new(&gateway)
        .arg("--check-config")
        .arg("-c")
        .arg(file)
        .status()
        .map_err(|e| CtlError::Other(format!("cannot run {}: {e}", gateway.display())))?;
    Ok(status
        .code()
        .and_then(|c| u8::try_from(c).ok())
        .unwrap_or(1))
}
