//! `cargo xtask tutorials`: every guide in `docs/tutorials/` is executed, so none can rot.
//!
//! Each `NN-*.md` file is read for its runnable blocks ([`extract`]: ```` ```sh runnable ````
//! and ```` ```python runnable ````), which run in order in a fresh directory against the
//! debug binaries (`llm-gateway`, `gatewayctl`, `mock-upstream` on `PATH`) and the e2e venv's
//! Python ([`exec`]). A tutorial with no runnable block is an error, and so is any failing
//! block. The Python packages the tutorials import are installed into the venv first.

pub mod exec;
pub mod extract;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use clap::Args;

use crate::Result;
use crate::testcmd::venv_dir;
use crate::util::{cargo, probe, run_status, target_dir};

/// Python packages the tutorials use, each with the module that proves it is installed.
pub const PACKAGES: &[(&str, &str)] = &[
    ("openai", "openai>=1.50"),
    ("anthropic", "anthropic>=0.40"),
    ("langchain_openai", "langchain-openai"),
    ("llama_index.llms.openai", "llama-index-llms-openai"),
    ("agents", "openai-agents"),
];

/// Options of `cargo xtask tutorials`.
#[derive(Args, Debug, Default)]
pub struct TutorialsArgs {
    /// Run only the tutorials whose file name contains this.
    #[arg(long)]
    pub only: Option<String>,
    /// Reuse the built binaries instead of building them first.
    #[arg(long)]
    pub no_build: bool,
}

/// The command: build, prepare the venv, run every tutorial.
pub fn run(root: &Path, args: &TutorialsArgs) -> Result<ExitCode> {
    if !args.no_build {
        build(root)?;
    }
    ensure_packages(&venv_dir(root))?;
    run_all(root, args.only.as_deref())?;
    Ok(ExitCode::SUCCESS)
}

/// `cargo build` of the binaries the tutorials call.
pub fn build(root: &Path) -> Result<()> {
    run_status(Command::new(cargo()).current_dir(root).args([
        "build",
        "-p",
        "llm-gateway",
        "-p",
        "gatewayctl",
        "-p",
        "gateway-testkit",
        "--bins",
    ]))
}

/// The command-line tools the tutorials call, each with the Debian package that brings it.
const TOOLS: &[(&str, &str)] = &[("curl", "curl"), ("jq", "jq"), ("openssl", "openssl")];

/// Installs the missing [`TOOLS`] with apt-get (an error when that fails: every tutorial
/// needs them), then [`PACKAGES`] into the venv unless they all import already.
pub fn ensure_packages(venv: &Path) -> Result<()> {
    let missing: Vec<&str> = TOOLS
        .iter()
        .filter(|(tool, _)| crate::util::find_on_path(tool).is_none())
        .map(|(_, package)| *package)
        .collect();
    if !missing.is_empty() {
        println!("tutorials: installing {} with apt-get", missing.join(" "));
        let install = || {
            run_status(
                Command::new("apt-get")
                    .args(["install", "-y", "-q", "--no-install-recommends"])
                    .args(&missing)
                    .env("DEBIAN_FRONTEND", "noninteractive"),
            )
        };
        if install().is_err() {
            let _ = run_status(Command::new("apt-get").args(["update", "-q"]));
            install().map_err(|e| format!("the tutorials need {}: {e}", missing.join(", ")))?;
        }
    }
    crate::testcmd::ensure_venv(venv)?;
    let python = venv.join("bin").join("python");
    let python = python.to_string_lossy();
    let imports: Vec<&str> = PACKAGES.iter().map(|(module, _)| *module).collect();
    let check = format!("import {}", imports.join(", "));
    if probe(&python, &["-c", &check]) {
        println!("tutorial packages already installed");
        return Ok(());
    }
    run_status(
        Command::new(&*python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(PACKAGES.iter().map(|(_, spec)| *spec)),
    )
}

/// The tutorials, in file-name order (`01-...`, `02-...`).
pub fn tutorials(root: &Path) -> Result<Vec<PathBuf>> {
    let dir = root.join("docs/tutorials");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "md")
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(|c: char| c.is_ascii_digit()))
        })
        .collect();
    found.sort();
    Ok(found)
}

/// Runs every tutorial (or those matching `only`); all run, then the failures are reported.
pub fn run_all(root: &Path, only: Option<&str>) -> Result<()> {
    let target = target_dir(root);
    let path_dirs = vec![target.join("debug"), venv_dir(root).join("bin")];
    let started = Instant::now();
    let mut failed = Vec::new();
    let mut passed = 0;
    for path in tutorials(root)? {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if only.is_some_and(|o| !name.contains(o)) {
            continue;
        }
        let text = std::fs::read_to_string(&path)?;
        let outcome = extract::runnable_blocks(&text)
            .map_err(|e| format!("{name}: {e}").into())
            .and_then(|blocks| {
                if blocks.is_empty() {
                    return Err(format!("{name} has no runnable block").into());
                }
                run_one(root, &name, &blocks, &path_dirs, &target)
            });
        match outcome {
            Ok(elapsed) => {
                passed += 1;
                println!("ok   {name} ({elapsed:.1?})");
            }
            Err(err) => {
                println!("FAIL {name}: {err}");
                failed.push(name);
            }
        }
    }
    println!(
        "tutorials: {passed} passed, {} failed in {:.0?}",
        failed.len(),
        started.elapsed()
    );
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("tutorials failed: {}", failed.join(", ")).into())
    }
}

fn run_one(
    root: &Path,
    name: &str,
    blocks: &[extract::Block],
    path_dirs: &[PathBuf],
    target: &Path,
) -> Result<std::time::Duration> {
    let started = Instant::now();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let run_id = format!("{}-{nanos}", std::process::id());
    let work_dir = target.join("tutorials").join(name.trim_end_matches(".md"));
    if work_dir.exists() {
        std::fs::remove_dir_all(&work_dir)?;
    }
    std::fs::create_dir_all(&work_dir)?;
    let setup = exec::Setup {
        path_dirs,
        work_dir: &work_dir,
        run_id: &format!("{run_id}-{name}"),
        repo: root,
    };
    println!(
        "\n==> tutorial {name} ({} blocks, in {})",
        blocks.len(),
        work_dir.display()
    );
    exec::run_blocks(name, blocks, &setup)?;
    Ok(started.elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tutorial_has_runnable_blocks() {
        let root = crate::util::repo_root();
        let all = tutorials(&root).unwrap();
        assert!(all.len() >= 8, "at least eight tutorials: {all:?}");
        for path in all {
            let text = std::fs::read_to_string(&path).unwrap();
            let blocks = extract::runnable_blocks(&text).unwrap();
            assert!(!blocks.is_empty(), "{} runs nothing", path.display());
        }
    }
}
