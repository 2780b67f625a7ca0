//! The pure manifest rules of `cargo xtask tidy`: each takes a parsed `Cargo.toml` and
//! returns the problems it finds. No I/O here, so every rule is unit-tested on fakes.

use std::collections::BTreeSet;
use std::fmt;

use toml::{Table, Value};

/// One violation, printed as `path: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// File the problem is in, relative to the workspace root.
    pub path: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl Problem {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

const LEAVES: &[&str] = &["gateway-core"];
const APP_DEPS: &[&str] = &[
    "gateway-core",
    "gateway-providers",
    "gateway-auth",
    "gateway-policy",
    "gateway-cache",
    "gateway-telemetry",
    "gateway-store",
];

/// The workspace crates `krate` may have as normal dependencies (DESIGN.md's direction),
/// or `None` when the crate has no rule yet. dev-dependencies are not restricted here.
pub fn allowed_normal_deps(krate: &str) -> Option<&'static [&'static str]> {
    match krate {
        "gateway-core" | "xtask" => Some(&[]),
        "gateway-providers" | "gateway-auth" | "gateway-policy" | "gateway-cache"
        | "gateway-telemetry" | "gateway-store" | "gateway-testkit" => Some(LEAVES),
        "gateway-app" => Some(APP_DEPS),
        // The binary starts the mock provider behind `--demo` (documented exception).
        "llm-gateway" => Some(&["gateway-app", "gateway-core", "gateway-testkit"]),
        "gatewayctl" => Some(&["gateway-core"]),
        "gateway-lambda" => Some(&["gateway-app"]),
        // Talks to the gateway over its admin API only (tests start gateway-app in-process).
        "gateway-operator" => Some(&[]),
        "gateway-examples" => Some(&["gateway-core", "gateway-providers", "gateway-app"]),
        _ => None,
    }
}

/// The package name of a member manifest.
pub fn package_name(manifest: &Table) -> Option<&str> {
    manifest.get("package")?.get("name")?.as_str()
}

/// Every dependency table of a manifest: `(label, table, is_normal)`, including
/// `[target.'cfg(..)'.*]` ones.
fn dependency_tables(manifest: &Table) -> Vec<(String, &Table, bool)> {
    const KINDS: [(&str, bool); 3] = [
        ("dependencies", true),
        ("dev-dependencies", false),
        ("build-dependencies", false),
    ];
    let mut out = Vec::new();
    for (kind, normal) in KINDS {
        if let Some(table) = manifest.get(kind).and_then(Value::as_table) {
            out.push((kind.to_owned(), table, normal));
        }
    }
    if let Some(targets) = manifest.get("target").and_then(Value::as_table) {
        for (cfg, section) in targets {
            for (kind, normal) in KINDS {
                if let Some(table) = section.get(kind).and_then(Value::as_table) {
                    out.push((format!("target.'{cfg}'.{kind}"), table, normal));
                }
            }
        }
    }
    out
}

/// The crate a dependency entry refers to (`package = ".."` renames included).
fn dependency_crate<'a>(key: &'a str, spec: &'a Value) -> &'a str {
    spec.get("package").and_then(Value::as_str).unwrap_or(key)
}

/// Normal dependency edges to workspace crates must follow [`allowed_normal_deps`].
pub fn check_dependency_direction(
    path: &str,
    manifest: &Table,
    workspace_crates: &BTreeSet<String>,
) -> Vec<Problem> {
    let Some(name) = package_name(manifest) else {
        return vec![Problem::new(path, "no [package] name")];
    };
    let Some(allowed) = allowed_normal_deps(name) else {
        return vec![Problem::new(
            path,
            format!(
                "crate `{name}` has no dependency-direction rule; add one to xtask/src/tidy/rules.rs"
            ),
        )];
    };
    let mut problems = Vec::new();
    for (label, table, normal) in dependency_tables(manifest) {
        if !normal {
            continue;
        }
        for (key, spec) in table {
            let dep = dependency_crate(key, spec);
            if workspace_crates.contains(dep) && !allowed.contains(&dep) {
                let allowed_text = if allowed.is_empty() {
                    "no workspace crate".to_owned()
                } else {
                    allowed.join(", ")
                };
                problems.push(Problem::new(
                    path,
                    format!(
                        "`{name}` must not depend on `{dep}` in [{label}] \
                         (allowed: {allowed_text}; use a dev-dependency on gateway-testkit for tests)"
                    ),
                ));
            }
        }
    }
    problems
}

/// Every dependency must be `name.workspace = true` (versions pinned once, in the root).
pub fn check_workspace_inheritance(path: &str, manifest: &Table) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (label, table, _) in dependency_tables(manifest) {
        for (key, spec) in table {
            let inherits = spec.get("workspace").and_then(Value::as_bool) == Some(true);
            if inherits {
                continue;
            }
            let found = match spec {
                Value::String(version) => format!("version \"{version}\""),
                Value::Table(t) if t.contains_key("version") => {
                    format!(
                        "version {}",
                        t.get("version")
                            .map_or_else(String::new, ToString::to_string)
                    )
                }
                Value::Table(t) if t.contains_key("path") => "a path".to_owned(),
                Value::Table(t) if t.contains_key("git") => "a git source".to_owned(),
                _ => "no workspace inheritance".to_owned(),
            };
            problems.push(Problem::new(
                path,
                format!(
                    "[{label}] `{key}` is given with {found}; use `{key}.workspace = true` \
                     and pin it in the root [workspace.dependencies]"
                ),
            ));
        }
    }
    problems
}

/// The manifest must contain `[lints] workspace = true`.
pub fn check_lints(path: &str, manifest: &Table) -> Vec<Problem> {
    let inherits = manifest
        .get("lints")
        .and_then(|lints| lints.get("workspace"))
        .and_then(Value::as_bool)
        == Some(true);
    if inherits {
        Vec::new()
    } else {
        vec![Problem::new(path, "missing `[lints] workspace = true`")]
    }
}

/// All manifest rules for one member.
pub fn check_manifest(
    path: &str,
    manifest: &Table,
    workspace_crates: &BTreeSet<String>,
) -> Vec<Problem> {
    let mut problems = check_lints(path, manifest);
    problems.extend(check_workspace_inheritance(path, manifest));
    problems.extend(check_dependency_direction(path, manifest, workspace_crates));
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLEAN_HEADER: &str = r#"
[package]
name = "NAME"
version.workspace = true

[lints]
workspace = true
"#;

    fn crates() -> BTreeSet<String> {
        [
            "gateway-core",
            "gateway-providers",
            "gateway-auth",
            "gateway-policy",
            "gateway-cache",
            "gateway-telemetry",
            "gateway-store",
            "gateway-app",
            "gateway-testkit",
            "llm-gateway",
            "gatewayctl",
            "gateway-examples",
            "xtask",
        ]
        .into_iter()
        .map(String::from)
        .collect()
    }

    fn manifest(name: &str, rest: &str) -> Table {
        let text = format!("{}{rest}", CLEAN_HEADER.replace("NAME", name));
        text.parse::<Table>().unwrap()
    }

    fn messages(problems: &[Problem]) -> String {
        problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn clean_manifests_pass() {
        let cases = [
            ("gateway-core", "[dependencies]\nserde.workspace = true\n"),
            (
                "gateway-auth",
                "[dependencies]\ngateway-core.workspace = true\n[dev-dependencies]\ngateway-testkit.workspace = true\n",
            ),
            (
                "gateway-app",
                "[dependencies]\ngateway-core.workspace = true\ngateway-providers.workspace = true\ngateway-store = { workspace = true, features = [] }\n[dev-dependencies]\ngateway-testkit.workspace = true\n",
            ),
            (
                "llm-gateway",
                "[dependencies]\ngateway-app.workspace = true\ngateway-core.workspace = true\ngateway-testkit.workspace = true\n",
            ),
            ("gatewayctl", "[dependencies]\nclap.workspace = true\n"),
            (
                "gateway-examples",
                "[dependencies]\ngateway-app.workspace = true\ngateway-providers.workspace = true\n",
            ),
            ("xtask", "[dependencies]\ntoml.workspace = true\n"),
        ];
        for (name, deps) in cases {
            let problems = check_manifest("Cargo.toml", &manifest(name, deps), &crates());
            assert!(problems.is_empty(), "{name}: {}", messages(&problems));
        }
    }

    #[test]
    fn sibling_dependency_is_rejected() {
        let m = manifest(
            "gateway-auth",
            "[dependencies]\ngateway-core.workspace = true\ngateway-store.workspace = true\n",
        );
        let problems = check_dependency_direction("crates/gateway-auth/Cargo.toml", &m, &crates());
        assert_eq!(problems.len(), 1, "{}", messages(&problems));
        assert!(
            problems[0]
                .message
                .contains("`gateway-auth` must not depend on `gateway-store`")
        );
        assert_eq!(problems[0].path, "crates/gateway-auth/Cargo.toml");
    }

    #[test]
    fn core_and_xtask_depend_on_no_gateway_crate() {
        for name in ["gateway-core", "xtask"] {
            let m = manifest(name, "[dependencies]\ngateway-testkit.workspace = true\n");
            let problems = check_dependency_direction("Cargo.toml", &m, &crates());
            assert_eq!(problems.len(), 1, "{name}");
            assert!(problems[0].message.contains("no workspace crate"));
        }
    }

    #[test]
    fn renamed_and_target_specific_edges_are_seen() {
        let m = manifest(
            "gateway-cache",
            "[target.'cfg(unix)'.dependencies]\napp = { package = \"gateway-app\", workspace = true }\n",
        );
        let problems = check_dependency_direction("Cargo.toml", &m, &crates());
        assert_eq!(problems.len(), 1, "{}", messages(&problems));
        assert!(problems[0].message.contains("`gateway-app`"));
        assert!(
            problems[0]
                .message
                .contains("target.'cfg(unix)'.dependencies")
        );
    }

    #[test]
    fn testkit_is_fine_as_dev_dependency_but_not_as_normal_one() {
        let dev = manifest(
            "gateway-policy",
            "[dev-dependencies]\ngateway-testkit.workspace = true\n",
        );
        assert!(check_dependency_direction("Cargo.toml", &dev, &crates()).is_empty());
        for name in ["gateway-policy", "gateway-app"] {
            let normal = manifest(name, "[dependencies]\ngateway-testkit.workspace = true\n");
            assert_eq!(
                check_dependency_direction("Cargo.toml", &normal, &crates()).len(),
                1,
                "{name}"
            );
        }
        let ctl = manifest(
            "gatewayctl",
            "[dependencies]\ngateway-app.workspace = true\n",
        );
        assert_eq!(
            check_dependency_direction("Cargo.toml", &ctl, &crates()).len(),
            1
        );
    }

    #[test]
    fn unknown_crate_needs_a_rule() {
        let m = manifest("gateway-new", "");
        let problems = check_dependency_direction("crates/new/Cargo.toml", &m, &crates());
        assert_eq!(problems.len(), 1);
        assert!(problems[0].message.contains("no dependency-direction rule"));
    }

    #[test]
    fn explicit_versions_paths_and_git_are_rejected() {
        let m = manifest(
            "gateway-core",
            r#"
[dependencies]
serde = "1"
tokio = { version = "1.54", features = ["rt"] }
[dev-dependencies]
local = { path = "../local" }
[build-dependencies]
remote = { git = "https://example.invalid/x" }
[target.'cfg(unix)'.dependencies]
libc = "0.2"
fine = { workspace = true, optional = true }
"#,
        );
        let problems = check_workspace_inheritance("Cargo.toml", &m);
        let text = messages(&problems);
        assert_eq!(problems.len(), 5, "{text}");
        assert!(text.contains("[dependencies] `serde` is given with version \"1\""));
        assert!(text.contains("`tokio` is given with version \"1.54\""));
        assert!(text.contains("`local` is given with a path"));
        assert!(text.contains("`remote` is given with a git source"));
        assert!(text.contains("target.'cfg(unix)'.dependencies] `libc`"));
        assert!(!text.contains("`fine`"));
    }

    #[test]
    fn missing_or_false_lints_are_rejected() {
        let none: Table = "[package]\nname = \"gateway-core\"\n".parse().unwrap();
        assert_eq!(check_lints("Cargo.toml", &none).len(), 1);
        let off: Table = "[package]\nname = \"x\"\n[lints]\nworkspace = false\n"
            .parse()
            .unwrap();
        assert_eq!(check_lints("Cargo.toml", &off).len(), 1);
        assert!(check_lints("Cargo.toml", &manifest("gateway-core", "")).is_empty());
    }
}
