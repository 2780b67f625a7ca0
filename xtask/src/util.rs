//! Small helpers shared by the xtask commands: locating the repository and the
//! target directory, running commands with a visible banner.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Result;

/// The workspace root: the parent of xtask's own manifest directory.
pub fn repo_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map_or_else(|| manifest_dir.to_path_buf(), Path::to_path_buf)
}

/// The cargo target directory as cargo itself resolves it (honours `CARGO_TARGET_DIR`
/// and `build.target-dir`), falling back to `CARGO_TARGET_DIR` or `<root>/target`.
pub fn target_dir(root: &Path) -> PathBuf {
    let metadata = Command::new(cargo())
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(root)
        .output();
    if let Ok(out) = metadata
        && out.status.success()
        && let Ok(value) = serde_json::from_slice::<serde_json::Value>(&out.stdout)
        && let Some(dir) = value.get("target_directory").and_then(|v| v.as_str())
    {
        return PathBuf::from(dir);
    }
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                root.join(dir)
            }
        }
        None => root.join("target"),
    }
}

/// The cargo executable cargo ran us with (`$CARGO`), or `cargo` from `PATH`.
pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// Prints a step banner, e.g. `==> [2/5] cargo test --workspace --doc`.
pub fn banner(text: &str) {
    println!("\n==> {text}");
}

/// Renders a command as the shell line a developer could paste.
pub fn display_command(cmd: &Command) -> String {
    let mut line = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        let arg = arg.to_string_lossy();
        line.push(' ');
        if arg.contains([' ', '"', '\'', '>', '<', '*']) {
            line.push('\'');
            line.push_str(&arg.replace('\'', r"'\''"));
            line.push('\'');
        } else {
            line.push_str(&arg);
        }
    }
    line
}

/// Runs a command with inherited stdio; an error when it cannot start or exits non-zero.
pub fn run_status(cmd: &mut Command) -> Result<()> {
    let shown = display_command(cmd);
    println!("$ {shown}");
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run `{shown}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{shown}` failed ({status})").into())
    }
}

/// True when `program --version`-style probe `args` runs and exits 0 (output discarded).
pub fn probe(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Finds an executable named `name` on `PATH` (plus the sbin directories, where
/// Debian installs daemons such as nginx).
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let extra = ["/usr/local/sbin", "/usr/sbin", "/sbin"].map(PathBuf::from);
    std::env::split_paths(&path)
        .chain(extra)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_command_quotes_spaces() {
        let mut cmd = Command::new("pip");
        cmd.args(["install", "openai>=1.50", "a b"]);
        assert_eq!(display_command(&cmd), "pip install 'openai>=1.50' 'a b'");
    }

    #[test]
    fn repo_root_holds_the_workspace_manifest() {
        assert!(repo_root().join("Cargo.toml").is_file());
        assert!(repo_root().join("xtask").is_dir());
    }
}
