//! The TypeScript SDK's suite (`sdks/typescript`), run by `cargo xtask test`: `tsc` builds the
//! package (ESM and declarations) and its tests, then `node --test` runs them against the real
//! `llm-gateway` and `mock-upstream` binaries, which the tests start themselves on port 0, and
//! checks that the SDK covers every operation of the gateway's own APIs in `docs/openapi.json`.
//!
//! The package's dev dependencies (typescript, @types/node, and the `openai` package the
//! inference tests drive) are npm-installed, idempotently, into a cache outside the clone
//! (`$GATEWAY_NODE_TOOLS`, else `~/.cache/llm-gateway/node-tools`); the build happens in a copy
//! under the target directory, so the clone stays clean. Without Node 20+ and npm the step
//! prints one line and passes, except under `GATEWAY_REQUIRE_SERVICES=1` (CI), where it fails.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Result;
use crate::sdk_python::binaries;
use crate::util::{find_on_path, run_status, target_dir};

/// The oldest Node the SDK supports (global `fetch`, `node --test`).
const NODE_MIN_MAJOR: u32 = 20;
/// What the build copies of the package (everything else is generated or installed).
const PACKAGE_FILES: &[&str] = &[
    "package.json",
    "README.md",
    "tsconfig.json",
    "tsconfig.test.json",
    "src",
    "test",
];

/// Builds and tests the SDK.
pub fn run(root: &Path) -> Result<()> {
    let (gateway, mock) = binaries(root)?;
    let (node, npm) = match tools() {
        Ok(found) => found,
        Err(why) => {
            if std::env::var("GATEWAY_REQUIRE_SERVICES").is_ok_and(|v| v == "1") {
                return Err(format!(
                    "the TypeScript SDK suite is required (GATEWAY_REQUIRE_SERVICES=1): {why}"
                )
                .into());
            }
            println!("typescript sdk: skipped: {why}");
            return Ok(());
        }
    };
    let sdk = root.join("sdks/typescript");
    let cache = node_tools_dir(root);
    install_dev_dependencies(&sdk, &cache, &npm)?;
    let work = target_dir(root).join("sdk-typescript");
    if work.exists() {
        std::fs::remove_dir_all(&work)?;
    }
    std::fs::create_dir_all(&work)?;
    for name in PACKAGE_FILES {
        copy_tree(&sdk.join(name), &work.join(name))?;
    }
    std::os::unix::fs::symlink(cache.join("node_modules"), work.join("node_modules"))?;
    let tsc = work.join("node_modules/typescript/bin/tsc");
    for config in ["tsconfig.json", "tsconfig.test.json"] {
        run_status(
            Command::new(&node)
                .current_dir(&work)
                .arg(&tsc)
                .args(["-p", config]),
        )?;
    }
    let mut tests: Vec<PathBuf> = std::fs::read_dir(work.join("build-test/test"))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".test.js"))
        .collect();
    tests.sort();
    if tests.is_empty() {
        return Err("the TypeScript SDK has no compiled tests".into());
    }
    run_status(
        Command::new(&node)
            .current_dir(&work)
            .args(["--test", "--test-concurrency=1"])
            .args(&tests)
            .env("LLM_GATEWAY_BIN", &gateway)
            .env("MOCK_UPSTREAM_BIN", &mock)
            .env("LLM_GATEWAY_OPENAPI", root.join("docs/openapi.json")),
    )
}

/// `node` (20 or newer) and `npm`, or why not.
fn tools() -> std::result::Result<(PathBuf, PathBuf), String> {
    let node = find_on_path("node").ok_or("node is not installed")?;
    let npm = find_on_path("npm").ok_or("npm is not installed")?;
    let out = Command::new(&node)
        .arg("--version")
        .output()
        .map_err(|e| format!("cannot run node: {e}"))?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    match node_major(&version) {
        Some(major) if major >= NODE_MIN_MAJOR => Ok((node, npm)),
        _ => Err(format!(
            "node {version} is older than {NODE_MIN_MAJOR} (or unreadable)"
        )),
    }
}

/// `v20.20.2` -> 20.
fn node_major(version: &str) -> Option<u32> {
    version.strip_prefix('v')?.split('.').next()?.parse().ok()
}

/// `$GATEWAY_NODE_TOOLS`, else `~/.cache/llm-gateway/node-tools` (the target directory
/// without a home).
fn node_tools_dir(root: &Path) -> PathBuf {
    match std::env::var_os("GATEWAY_NODE_TOOLS") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => match std::env::var_os("HOME") {
            Some(home) => PathBuf::from(home).join(".cache/llm-gateway/node-tools"),
            None => target_dir(root).join("node-tools"),
        },
    }
}

/// The package's dev dependencies, pinned in its package.json, installed into `cache` unless
/// exactly those are there already.
fn install_dev_dependencies(sdk: &Path, cache: &Path, npm: &Path) -> Result<()> {
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sdk.join("package.json"))?)?;
    let wanted = serde_json::json!({
        "private": true,
        "description": "dev dependencies of sdks/typescript, installed by cargo xtask test",
        "devDependencies": manifest["devDependencies"],
    });
    let text = serde_json::to_string_pretty(&wanted)?;
    let lock = cache.join("node_modules/.package-lock.json");
    let current = std::fs::read_to_string(cache.join("package.json")).unwrap_or_default();
    if current == text && lock.is_file() {
        println!(
            "typescript sdk: dev dependencies already in {}",
            cache.display()
        );
        return Ok(());
    }
    std::fs::create_dir_all(cache)?;
    std::fs::write(cache.join("package.json"), &text)?;
    run_status(Command::new(npm).current_dir(cache).args([
        "install",
        "--no-audit",
        "--no-fund",
        "--ignore-scripts",
        "--loglevel=error",
    ]))
}

/// Copies a file or a directory tree.
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    if from.is_dir() {
        std::fs::create_dir_all(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            copy_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
    } else {
        std::fs::copy(from, to)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_node_versions() {
        assert_eq!(node_major("v20.20.2"), Some(20));
        assert_eq!(node_major("v18.0.0"), Some(18));
        assert_eq!(node_major("20.1.0"), None);
        assert_eq!(node_major(""), None);
    }

    #[test]
    fn the_package_pins_its_dev_dependencies_and_has_no_runtime_ones() {
        let manifest: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(crate::util::repo_root().join("sdks/typescript/package.json"))
                .expect("package.json"),
        )
        .expect("valid json");
        assert!(
            manifest.get("dependencies").is_none(),
            "zero runtime dependencies"
        );
        let dev = manifest["devDependencies"]
            .as_object()
            .expect("devDependencies");
        for name in ["typescript", "@types/node", "openai"] {
            let version = dev[name].as_str().expect(name);
            assert!(
                version.chars().all(|c| c.is_ascii_digit() || c == '.'),
                "{name} {version} is pinned"
            );
        }
    }
}
