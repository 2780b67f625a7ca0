//! The browser tests of the web console (`tests/browser/`), a step of `cargo xtask test`:
//! headless Debian Chromium driven by `playwright-core`, with `axe-core` for accessibility,
//! against the real `llm-gateway` binary and the testkit's `mock-upstream`.
//!
//! What they need is installed here, idempotently and outside the clone: Chromium with
//! `apt-get` when `/usr/bin/chromium` is missing, and the pinned npm packages into
//! `$GATEWAY_BROWSER_CACHE` (default `~/.cache/llm-gateway/browser`). Where Chromium or the
//! packages cannot be had the suite is skipped with one line saying why — a failure instead
//! with `GATEWAY_REQUIRE_SERVICES=1` (CI). Screenshots and figures are written to
//! `<target>/browser-artifacts/`.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use crate::Result;
use crate::util::{cargo, find_on_path, probe, run_status, target_dir};

/// The npm packages of the suite, pinned (installed again when the pins change).
const PACKAGES: &[(&str, &str)] = &[("playwright-core", "1.65.2"), ("axe-core", "4.14.1")];

/// Where Debian puts Chromium.
const CHROMIUM: &str = "/usr/bin/chromium";

/// Something the suite needs and this machine cannot provide.
#[derive(Debug)]
pub struct Unavailable(pub String);

/// `cargo xtask browser`: builds the two binaries, then runs the suite.
pub fn run_cli(root: &Path) -> Result<ExitCode> {
    run_status(Command::new(cargo()).current_dir(root).args([
        "build",
        "-p",
        "llm-gateway",
        "-p",
        "gateway-testkit",
        "--bins",
    ]))?;
    run(root)?;
    Ok(ExitCode::SUCCESS)
}

/// Runs the suite, or skips it (one line) when Chromium or Node.js cannot be had.
pub fn run(root: &Path) -> Result<()> {
    let tools = match prepare() {
        Ok(tools) => tools,
        Err(Unavailable(why)) => {
            if std::env::var("GATEWAY_REQUIRE_SERVICES").is_ok_and(|v| v == "1") {
                return Err(format!(
                    "the browser tests are required (GATEWAY_REQUIRE_SERVICES=1): {why}"
                )
                .into());
            }
            println!("browser tests: skipped: {why}");
            return Ok(());
        }
    };
    let bin_dir = target_dir(root).join("debug");
    let artifacts = target_dir(root).join("browser-artifacts");
    run_status(
        Command::new(&tools.node)
            .current_dir(root)
            .arg(root.join("tests/browser/console.test.mjs"))
            .env("LLM_GATEWAY_BIN", bin_dir.join("llm-gateway"))
            .env("MOCK_UPSTREAM_BIN", bin_dir.join("mock-upstream"))
            .env("BROWSER_NODE_MODULES", tools.modules)
            .env("BROWSER_ARTIFACTS", artifacts)
            .env("CHROMIUM", CHROMIUM),
    )
}

struct Tools {
    node: PathBuf,
    modules: PathBuf,
}

/// Chromium, Node.js and the npm packages, installed where missing.
fn prepare() -> std::result::Result<Tools, Unavailable> {
    let node = find_on_path("node").ok_or_else(|| Unavailable("node is not installed".into()))?;
    if !Path::new(CHROMIUM).is_file() {
        install_chromium()?;
    }
    let cache = cache_dir();
    ensure_packages(&cache)?;
    Ok(Tools {
        node,
        modules: cache.join("node_modules"),
    })
}

fn install_chromium() -> std::result::Result<(), Unavailable> {
    if find_on_path("apt-get").is_none() {
        return Err(Unavailable(format!(
            "{CHROMIUM} is missing and there is no apt-get"
        )));
    }
    println!("browser tests: installing Debian's chromium with apt-get");
    let apt = |args: &[&str]| {
        Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|s| s.success())
    };
    let install = ["install", "-y", "--no-install-recommends", "chromium"];
    // Stale package lists are the usual reason an install fails: refresh once and retry.
    let installed = apt(&install) || (apt(&["update"]) && apt(&install));
    if installed && Path::new(CHROMIUM).is_file() {
        Ok(())
    } else {
        Err(Unavailable(format!(
            "{CHROMIUM} is missing and `apt-get install chromium` failed"
        )))
    }
}

/// `$GATEWAY_BROWSER_CACHE`, else `~/.cache/llm-gateway/browser`.
fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("GATEWAY_BROWSER_CACHE").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").map_or_else(std::env::temp_dir, PathBuf::from);
    home.join(".cache/llm-gateway/browser")
}

/// Installs the pinned packages into `cache` unless they are there at those versions.
fn ensure_packages(cache: &Path) -> std::result::Result<(), Unavailable> {
    let current = PACKAGES.iter().all(|(name, version)| {
        std::fs::read_to_string(cache.join("node_modules").join(name).join("package.json"))
            .is_ok_and(|text| text.contains(&format!("\"version\": \"{version}\"")))
    });
    if current {
        return Ok(());
    }
    let npm = find_on_path("npm").ok_or_else(|| Unavailable("npm is not installed".into()))?;
    std::fs::create_dir_all(cache)
        .map_err(|e| Unavailable(format!("cannot create {}: {e}", cache.display())))?;
    let specs: Vec<String> = PACKAGES.iter().map(|(n, v)| format!("{n}@{v}")).collect();
    let cache_str = cache.to_string_lossy();
    let args: Vec<&str> = [
        "install",
        "--no-audit",
        "--no-fund",
        "--no-save",
        "--prefix",
    ]
    .into_iter()
    .chain([cache_str.as_ref()])
    .chain(specs.iter().map(String::as_str))
    .collect();
    if probe(&npm.to_string_lossy(), &args) {
        Ok(())
    } else {
        Err(Unavailable(format!(
            "`npm install {}` into {} failed",
            specs.join(" "),
            cache.display()
        )))
    }
}
