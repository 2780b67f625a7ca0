//! `cargo xtask test`: the one test command of the README. Runs the Rust tests
//! (cargo-nextest when installed, plain `cargo test` otherwise, plus doc tests), a short run
//! of every fuzz target ([`crate::fuzz`]), the Python end-to-end tests in `tests/e2e/` against
//! the real binaries, the API fuzzing of the OpenAPI document ([`crate::schemathesis`]), the
//! compatibility suite ([`crate::compat`]), the SDK suites
//! ([`crate::sdk_java`], [`crate::sdk_python`], [`crate::sdk_typescript`]), the deployment
//! checks of `deploy/` (`deploy/tests/validate.py`), the tutorials ([`crate::tutorials`]), the
//! web console's browser tests in `tests/browser/` ([`crate::browser`]), then a short soak
//! (`cargo xtask soak --minutes 1`) and a short fault suite (`cargo xtask chaos --seconds 60`).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use clap::Args;

use crate::Result;
use crate::util::{banner, cargo, probe, run_status, target_dir};

/// Python packages the e2e tests and the compatibility suite need (installed into the venv
/// when missing). `openai` 1.99 has the Responses API with its typed, numbered stream events;
/// `llmock` is pinned: the compatibility suite scripts its behaviours by their JSON form;
/// `google-genai` (Google's SDK, `from google import genai`) drives the Gemini rows;
/// `moto[server]` is the local S3-compatible server the S3 file storage is tested against
/// (`crates/gateway-app/tests/files_s3.rs` runs its `moto_server`).
pub const E2E_PACKAGES: &[&str] = &[
    "openai>=1.99",
    "anthropic>=0.40",
    "llmock==0.2.2",
    "google-genai>=1.0",
    "moto[server]==5.2.5",
];

/// What [`ensure_venv`] checks before installing: every package imports, `openai` is recent
/// enough, and each pinned package (`NAME==VERSION`) is at its version.
fn venv_probe() -> String {
    let mut check = String::from(
        "import importlib.metadata as m, openai, anthropic, llmock, moto.server\n\
         from google import genai\n\
         assert tuple(int(p) for p in openai.__version__.split('.')[:2]) >= (1, 99)\n\
         assert int(m.version('google-genai').split('.')[0]) >= 1\n",
    );
    for (name, version) in E2E_PACKAGES.iter().filter_map(|p| p.split_once("==")) {
        let name = name.split('[').next().unwrap_or(name);
        check.push_str(&format!(
            "assert m.version('{name}') == '{version}', '{name}'\n"
        ));
    }
    check.push_str("print('openai', openai.__version__, '/ anthropic', anthropic.__version__, '/ llmock', m.version('llmock'), '/ google-genai', m.version('google-genai'))");
    check
}

/// Options of `cargo xtask test`.
#[derive(Args, Debug, Default)]
pub struct TestArgs {
    /// Skip the Python end-to-end tests.
    #[arg(long, conflicts_with = "e2e_only")]
    pub no_e2e: bool,
    /// Run only the Python end-to-end tests.
    #[arg(long)]
    pub e2e_only: bool,
    /// Skip the short soak and fault suite runs.
    #[arg(long)]
    pub no_soak_chaos: bool,
    /// Skip the short fuzzing run.
    #[arg(long)]
    pub no_fuzz: bool,
}

/// Seconds each fuzz target runs in `cargo xtask test` (`cargo xtask fuzz` runs longer).
const FUZZ_SECONDS: u64 = 5;
/// Length of the soak run of `cargo xtask test`, in minutes.
const TEST_SOAK_MINUTES: f64 = 1.0;
/// Time budget of the fault suite run of `cargo xtask test`, in seconds.
const TEST_CHAOS_SECONDS: u64 = 60;

/// One step of the run: a name and what it does.
struct Step {
    name: String,
    action: Box<dyn Fn() -> Result<()>>,
}

/// Runs the selected steps in order; stops at the first failure.
pub fn run(root: &Path, args: &TestArgs) -> Result<ExitCode> {
    let steps = plan(root, args);
    let started = Instant::now();
    let total = steps.len();
    for (index, step) in steps.iter().enumerate() {
        banner(&format!("[{}/{total}] {}", index + 1, step.name));
        if let Err(err) = (step.action)() {
            println!(
                "\nxtask test: FAILED at step {}/{total} ({}) after {:.0?}: {err}",
                index + 1,
                step.name,
                started.elapsed()
            );
            return Ok(ExitCode::FAILURE);
        }
    }
    println!(
        "\nxtask test: all {total} steps passed in {:.0?}",
        started.elapsed()
    );
    Ok(ExitCode::SUCCESS)
}

fn plan(root: &Path, args: &TestArgs) -> Vec<Step> {
    let mut steps = Vec::new();
    if !args.no_e2e {
        // First: the Rust tests use it too (the S3 file storage against its `moto_server`).
        let venv = venv_dir(root);
        steps.push(Step {
            name: format!("Python venv for e2e ({})", venv.display()),
            action: Box::new(move || ensure_venv(&venv)),
        });
    }
    if !args.e2e_only {
        let nextest = probe(&cargo(), &["nextest", "--version"]);
        let dir = root.to_path_buf();
        if nextest {
            steps.push(Step {
                name: "Rust tests (cargo nextest run --workspace --all-targets)".into(),
                action: Box::new(move || {
                    run_status(
                        Command::new(cargo())
                            .current_dir(&dir)
                            .env("GATEWAY_VENV", venv_dir(&dir))
                            .args([
                                "nextest",
                                "run",
                                "--workspace",
                                "--all-targets",
                                "--no-tests=warn",
                            ]),
                    )
                }),
            });
        } else {
            steps.push(Step {
                name:
                    "Rust tests (cargo test --workspace --all-targets; cargo-nextest not installed)"
                        .into(),
                action: Box::new(move || {
                    run_status(
                        Command::new(cargo())
                            .current_dir(&dir)
                            .env("GATEWAY_VENV", venv_dir(&dir))
                            .args(["test", "--workspace", "--all-targets"]),
                    )
                }),
            });
        }
        let dir = root.to_path_buf();
        steps.push(Step {
            name: "doc tests (cargo test --workspace --doc)".into(),
            action: Box::new(move || {
                run_status(Command::new(cargo()).current_dir(&dir).args([
                    "test",
                    "--workspace",
                    "--doc",
                ]))
            }),
        });
        if !args.no_fuzz {
            let dir = root.to_path_buf();
            steps.push(Step {
                name: format!("fuzz targets, {FUZZ_SECONDS} s each (cargo xtask fuzz)"),
                action: Box::new(move || short_fuzz(&dir)),
            });
        }
    }
    if !args.no_e2e {
        let dir = root.to_path_buf();
        steps.push(Step {
            name: "build binaries (cargo build -p llm-gateway -p gatewayctl -p gateway-testkit --bins)"
                .into(),
            action: Box::new(move || crate::tutorials::build(&dir)),
        });
        let dir = root.to_path_buf();
        steps.push(Step {
            name: "Python end-to-end tests (tests/e2e/run_e2e.py)".into(),
            action: Box::new(move || run_e2e(&dir)),
        });
        let dir = root.to_path_buf();
        steps.push(Step {
            name: format!(
                "API fuzzing (schemathesis against GET /openapi.json of a --demo gateway, {} examples per operation)",
                crate::schemathesis::TEST_MAX_EXAMPLES
            ),
            action: Box::new(move || {
                crate::schemathesis::run(&dir, &crate::schemathesis::SchemathesisArgs::default())
            }),
        });
        let dir = root.to_path_buf();
        steps.push(Step {
            name: "compatibility suite (tests/e2e/compat: SDKs x upstream kinds x features)".into(),
            action: Box::new(move || crate::compat::run(&dir)),
        });
        let dir = root.to_path_buf();
        steps.push(Step {
            name: "Java SDK suite (sdks/java, javac + JUnit 5 against the real binary)".into(),
            action: Box::new(move || {
                let target = target_dir(&dir);
                let gateway = target.join("debug").join("llm-gateway");
                crate::sdk_java::run(&dir, &gateway, &target.join("sdk-java"))
            }),
        });
        let dir = root.to_path_buf();
        steps.push(Step {
            name: "Python SDK suite (sdks/python: mypy --strict, pytest against the binary)".into(),
            action: Box::new(move || crate::sdk_python::run(&dir)),
        });
        let dir = root.to_path_buf();
        steps.push(Step {
            name: "TypeScript SDK suite (sdks/typescript: tsc, node --test against the binary)"
                .into(),
            action: Box::new(move || crate::sdk_typescript::run(&dir)),
        });
        let dir = root.to_path_buf();
        steps.push(Step {
            name: "deployment checks (deploy/tests/validate.py)".into(),
            action: Box::new(move || run_deploy_checks(&dir)),
        });
        let dir = root.to_path_buf();
        steps.push(Step {
            name: "tutorials (cargo xtask tutorials: every runnable block of docs/tutorials/)"
                .into(),
            action: Box::new(move || {
                crate::tutorials::ensure_packages(&venv_dir(&dir))?;
                crate::tutorials::run_all(&dir, None)
            }),
        });
        let dir = root.to_path_buf();
        steps.push(Step {
            name: "browser tests of the web console (tests/browser, headless Chromium)".into(),
            action: Box::new(move || crate::browser::run(&dir)),
        });
    }
    if !args.e2e_only && !args.no_soak_chaos {
        push_soak_and_chaos(root, &mut steps);
    }
    steps
}

/// The short runs of `cargo xtask soak` and `cargo xtask chaos` (debug binaries).
fn push_soak_and_chaos(root: &Path, steps: &mut Vec<Step>) {
    let dir = root.to_path_buf();
    steps.push(Step {
        name: format!("soak (cargo xtask soak --minutes {TEST_SOAK_MINUTES})"),
        action: Box::new(move || {
            let args = crate::soak::SoakArgs {
                minutes: TEST_SOAK_MINUTES,
                rate: 100,
                max_growth_pct: 5.0,
                release: false,
                no_build: false,
            };
            let outcome = crate::soak::soak(&dir, &args)?;
            println!("{}", outcome.summary);
            if outcome.passed {
                Ok(())
            } else {
                Err("the soak failed".into())
            }
        }),
    });
    let dir = root.to_path_buf();
    steps.push(Step {
        name: format!("fault suite (cargo xtask chaos --seconds {TEST_CHAOS_SECONDS})"),
        action: Box::new(move || {
            let args = crate::chaos::ChaosArgs {
                seconds: TEST_CHAOS_SECONDS,
                idle_connections: 500,
                release: false,
                no_build: false,
            };
            if crate::chaos::suite(&dir, &args)? {
                Ok(())
            } else {
                Err("a fault scenario is above its bound".into())
            }
        }),
    });
}

/// Every fuzz target for [`FUZZ_SECONDS`]; skipped (with a line saying why) when nightly
/// or cargo-fuzz cannot be had, unless `GATEWAY_REQUIRE_SERVICES=1` (CI) makes that a failure.
fn short_fuzz(root: &Path) -> Result<()> {
    if let Err(crate::fuzz::Unavailable(why)) = crate::fuzz::ensure_tools() {
        if std::env::var("GATEWAY_REQUIRE_SERVICES").is_ok_and(|v| v == "1") {
            return Err(format!("fuzzing is required (GATEWAY_REQUIRE_SERVICES=1): {why}").into());
        }
        println!("fuzz: skipped: {why}");
        return Ok(());
    }
    let args = crate::fuzz::FuzzArgs {
        seconds: FUZZ_SECONDS,
        targets: Vec::new(),
    };
    crate::fuzz::fuzz(root, &args)
}

/// The e2e virtualenv: `$GATEWAY_VENV`, or `<repo>/.venv`.
pub fn venv_dir(root: &Path) -> PathBuf {
    match std::env::var_os("GATEWAY_VENV") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                root.join(dir)
            }
        }
        _ => root.join(".venv"),
    }
}

pub fn venv_python(venv: &Path) -> PathBuf {
    venv.join("bin").join("python")
}

/// Creates the venv if missing and installs the SDKs unless they already import.
pub fn ensure_venv(venv: &Path) -> Result<()> {
    let python = venv_python(venv);
    if !python.is_file() {
        if let Some(parent) = venv.parent() {
            std::fs::create_dir_all(parent)?;
        }
        run_status(Command::new("python3").arg("-m").arg("venv").arg(venv))?;
    }
    // An older venv (an `openai` without the Responses API's stream events, another llmock)
    // is upgraded.
    let check = venv_probe();
    let python_str = python.to_string_lossy().into_owned();
    if probe(&python_str, &["-c", &check]) {
        let out = Command::new(&python).args(["-c", &check]).output()?;
        print!(
            "SDKs already installed: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        return Ok(());
    }
    run_status(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(E2E_PACKAGES),
    )
}

fn run_e2e(root: &Path) -> Result<()> {
    let bin_dir = target_dir(root).join("debug");
    let gateway = bin_dir.join("llm-gateway");
    let mock = bin_dir.join("mock-upstream");
    for bin in [&gateway, &mock] {
        if !bin.is_file() {
            return Err(format!("{} was not built", bin.display()).into());
        }
    }
    let python = venv_python(&venv_dir(root));
    run_status(
        Command::new(python)
            .current_dir(root)
            .arg(root.join("tests/e2e/run_e2e.py"))
            .env("LLM_GATEWAY_BIN", &gateway)
            .env("MOCK_UPSTREAM_BIN", &mock)
            .env("PYTHONUNBUFFERED", "1"),
    )
}

/// Dockerfile, compose, Prometheus, Grafana, kustomize and Helm checked by their real tools
/// (installed into caches outside the clone by `deploy/tests/tools.py`), and every shipped
/// gateway.toml by the debug `llm-gateway --check-config`.
fn run_deploy_checks(root: &Path) -> Result<()> {
    let gateway = target_dir(root).join("debug").join("llm-gateway");
    if !gateway.is_file() {
        return Err(format!("{} was not built", gateway.display()).into());
    }
    let venv = venv_dir(root);
    run_status(
        Command::new("python3")
            .current_dir(root)
            .arg(root.join("deploy/tests/validate.py"))
            .arg("--gateway-bin")
            .arg(&gateway)
            .env("GATEWAY_VENV", &venv)
            .env("PYTHONUNBUFFERED", "1"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(args: &TestArgs) -> Vec<String> {
        plan(Path::new("/repo"), args)
            .into_iter()
            .map(|s| s.name)
            .collect()
    }

    #[test]
    fn default_plan_prepares_the_venv_then_runs_rust_then_e2e_then_soak_and_chaos() {
        let steps = names(&TestArgs::default());
        assert_eq!(steps.len(), 16, "{steps:?}");
        // The venv comes first: the Rust tests start its moto_server (S3 file storage).
        assert!(steps[0].starts_with("Python venv"));
        assert!(steps[1].starts_with("Rust tests"));
        assert!(steps[2].starts_with("doc tests"));
        assert!(steps[3].starts_with("fuzz targets"));
        assert!(steps[4].starts_with("build binaries"));
        assert!(steps[5].starts_with("Python end-to-end"));
        assert!(steps[6].starts_with("API fuzzing (schemathesis"));
        assert!(steps[7].starts_with("compatibility suite"));
        assert!(steps[8].starts_with("Java SDK"));
        assert!(steps[9].starts_with("Python SDK"));
        assert!(steps[10].starts_with("TypeScript SDK"));
        assert!(steps[11].starts_with("deployment checks"));
        assert!(steps[12].starts_with("tutorials"));
        assert!(steps[13].starts_with("browser tests"));
        assert!(steps[14].starts_with("soak"));
        assert!(steps[15].starts_with("fault suite"));
    }

    #[test]
    fn options_select_steps() {
        let only = names(&TestArgs {
            e2e_only: true,
            ..TestArgs::default()
        });
        assert_eq!(only.len(), 11);
        assert!(only.iter().all(|s| !s.starts_with("Rust tests")));
        let none = names(&TestArgs {
            no_e2e: true,
            ..TestArgs::default()
        });
        assert_eq!(none.len(), 5);
        let short = names(&TestArgs {
            no_e2e: true,
            no_soak_chaos: true,
            no_fuzz: true,
            ..TestArgs::default()
        });
        assert_eq!(short.len(), 2);
        let no_fuzz = names(&TestArgs {
            no_fuzz: true,
            ..TestArgs::default()
        });
        assert!(
            no_fuzz.iter().all(|s| !s.starts_with("fuzz")),
            "{no_fuzz:?}"
        );
    }

    #[test]
    fn the_venv_probe_checks_every_pin() {
        let check = venv_probe();
        assert!(check.contains("import importlib.metadata as m, openai, anthropic, llmock"));
        assert!(check.contains("from google import genai"), "{check}");
        assert!(
            check.contains("assert m.version('llmock') == '0.2.2'"),
            "{check}"
        );
    }

    #[test]
    fn venv_defaults_to_repo_dot_venv() {
        if std::env::var_os("GATEWAY_VENV").is_none() {
            assert_eq!(venv_dir(Path::new("/repo")), PathBuf::from("/repo/.venv"));
        }
    }
}
