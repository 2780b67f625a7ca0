//! `cargo xtask tidy`: reads the workspace from disk and applies the pure rules of
//! [`rules`] (manifests) and [`source`] (crate roots, file sizes).

pub mod rules;
pub mod source;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use toml::{Table, Value};

pub use rules::Problem;

use crate::Result;

/// Directory names never descended into when looking for `.rs` files.
const SKIP_DIRS: &[&str] = &["target", ".venv", ".git", "node_modules"];

/// What a tidy run looked at and found.
#[derive(Debug, Default)]
pub struct Report {
    pub members: usize,
    pub rust_files: usize,
    pub problems: Vec<Problem>,
}

/// Runs every check on the workspace at `root`, printing one line per problem.
pub fn run_cli(root: &Path) -> Result<ExitCode> {
    let report = check_workspace(root)?;
    for problem in &report.problems {
        println!("{problem}");
    }
    if report.problems.is_empty() {
        println!(
            "tidy: ok ({} crates, {} .rs files checked)",
            report.members, report.rust_files
        );
        Ok(ExitCode::SUCCESS)
    } else {
        println!("tidy: {} problem(s)", report.problems.len());
        Ok(ExitCode::FAILURE)
    }
}

/// Checks the workspace whose root manifest is `root/Cargo.toml`.
pub fn check_workspace(root: &Path) -> Result<Report> {
    let root_manifest = read_toml(&root.join("Cargo.toml"))?;
    let member_dirs = workspace_members(root, &root_manifest)?;
    let mut members = Vec::new();
    for dir in member_dirs {
        let path = dir.join("Cargo.toml");
        let manifest = read_toml(&path)?;
        members.push((dir, manifest));
    }
    let crate_names: BTreeSet<String> = members
        .iter()
        .filter_map(|(_, m)| rules::package_name(m).map(str::to_owned))
        .collect();

    let mut report = Report {
        members: members.len(),
        ..Report::default()
    };
    for (dir, manifest) in &members {
        let shown = relative(root, &dir.join("Cargo.toml"));
        report
            .problems
            .extend(rules::check_manifest(&shown, manifest, &crate_names));
        for crate_root in crate_roots(dir, manifest) {
            let source = fs::read_to_string(&crate_root)
                .map_err(|e| format!("cannot read {}: {e}", crate_root.display()))?;
            report.problems.extend(source::check_crate_doc(
                &relative(root, &crate_root),
                &source,
            ));
        }
    }
    let mut files = Vec::new();
    collect_rust_files(root, &mut files)?;
    files.sort();
    report.rust_files = files.len();
    for file in files {
        let source = fs::read_to_string(&file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        report
            .problems
            .extend(source::check_file_length(&relative(root, &file), &source));
    }
    Ok(report)
}

fn read_toml(path: &Path) -> Result<Table> {
    let text =
        fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    text.parse::<Table>()
        .map_err(|e| format!("cannot parse {}: {e}", path.display()).into())
}

/// Member directories from `[workspace] members`, expanding a trailing `/*`.
fn workspace_members(root: &Path, manifest: &Table) -> Result<Vec<PathBuf>> {
    let members = manifest
        .get("workspace")
        .and_then(|w| w.get("members"))
        .and_then(Value::as_array)
        .ok_or("root Cargo.toml has no [workspace] members")?;
    let mut dirs = Vec::new();
    for member in members.iter().filter_map(Value::as_str) {
        if let Some(parent) = member.strip_suffix("/*") {
            let mut found: Vec<PathBuf> = fs::read_dir(root.join(parent))?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| p.join("Cargo.toml").is_file())
                .collect();
            found.sort();
            dirs.extend(found);
        } else {
            dirs.push(root.join(member));
        }
    }
    Ok(dirs)
}

/// The lib root (`[lib] path` or `src/lib.rs`) and `src/main.rs`, where they exist.
fn crate_roots(dir: &Path, manifest: &Table) -> Vec<PathBuf> {
    let lib = manifest
        .get("lib")
        .and_then(|lib| lib.get("path"))
        .and_then(Value::as_str)
        .map_or_else(|| dir.join("src/lib.rs"), |p| dir.join(p));
    [lib, dir.join("src/main.rs")]
        .into_iter()
        .filter(|p| p.is_file())
        .collect()
}

fn collect_rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if kind.is_dir() {
            if !SKIP_DIRS.contains(&name.as_ref()) && !name.starts_with('.') {
                collect_rust_files(&entry.path(), out)?;
            }
        } else if kind.is_file() && name.ends_with(".rs") {
            out.push(entry.path());
        }
    }
    Ok(())
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, path: &str, text: &str) {
        let path = root.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    #[test]
    fn walks_a_fake_workspace() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(
            root,
            "Cargo.toml",
            "[workspace]\nmembers = [\"crates/*\", \"xtask\"]\n",
        );
        let lints = "[lints]\nworkspace = true\n";
        write(
            root,
            "crates/gateway-core/Cargo.toml",
            &format!("[package]\nname = \"gateway-core\"\n{lints}"),
        );
        write(root, "crates/gateway-core/src/lib.rs", "//! Core.\n");
        write(
            root,
            "crates/gateway-auth/Cargo.toml",
            &format!(
                "[package]\nname = \"gateway-auth\"\n{lints}[dependencies]\ngateway-core.workspace = true\n"
            ),
        );
        write(root, "crates/gateway-auth/src/lib.rs", "//! Auth.\n");
        write(
            root,
            "xtask/Cargo.toml",
            "[package]\nname = \"xtask\"\n[dependencies]\ngateway-auth = { path = \"../crates/gateway-auth\" }\n",
        );
        write(root, "xtask/src/main.rs", "fn main() {}\n");
        write(root, "xtask/src/big.rs", &"//\n".repeat(801));
        write(root, "target/debug/huge.rs", &"//\n".repeat(5000));
        write(root, ".venv/lib/x.rs", &"//\n".repeat(5000));

        let report = check_workspace(root).unwrap();
        let lines: Vec<String> = report.problems.iter().map(ToString::to_string).collect();
        assert_eq!(report.members, 3);
        assert_eq!(report.rust_files, 4, "{lines:?}");
        let expected = [
            "xtask/Cargo.toml: missing `[lints] workspace = true`",
            "xtask/Cargo.toml: [dependencies] `gateway-auth` is given with a path",
            "xtask/Cargo.toml: `xtask` must not depend on `gateway-auth`",
            "xtask/src/main.rs: crate root must start with a `//!` doc comment",
            "xtask/src/big.rs: 801 lines",
        ];
        assert_eq!(lines.len(), expected.len(), "{lines:#?}");
        for want in expected {
            assert!(
                lines.iter().any(|l| l.starts_with(want)),
                "missing {want:?} in {lines:#?}"
            );
        }
    }
}
