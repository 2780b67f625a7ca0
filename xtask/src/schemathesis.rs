//! The API fuzzing of `cargo xtask test` (and `cargo xtask schemathesis`, for longer runs): the
//! real `llm-gateway --demo` is started on a free port, the document it serves at
//! `GET /openapi.json` is validated as OpenAPI 3.1 by `openapi-spec-validator`, then
//! `schemathesis` generates requests for every operation of that document (its examples, the
//! coverage of its schemas' boundaries, random fuzzing, and the stateful phase that follows the
//! document's `links`: create a key, then read, change, rotate and revoke it) and checks every
//! answer: no 5xx, a documented status, a documented content type, a body its schema accepts.
//! Any failure fails the step. The document is run in two parts ([`PARTS`]): the admin API last,
//! since its fuzzing revokes and deletes the demo key and tenant the model calls use.
//!
//! Both tools are pinned and installed idempotently into the e2e venv (`GATEWAY_VENV`). Without
//! Python the step prints why and is skipped, unless `GATEWAY_REQUIRE_SERVICES=1` (CI).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use clap::Args;

use crate::Result;
use crate::bench::procs::Service;
use crate::testcmd::{venv_dir, venv_python};
use crate::util::{find_on_path, probe, run_status, target_dir};

/// The pinned tools: `schemathesis` 4 (OpenAPI 3.1, scheme-aware auth, the coverage and
/// stateful phases) and the validator of the document itself.
pub const PACKAGES: &[&str] = &["schemathesis==4.32.5", "openapi-spec-validator==0.9.0"];

/// What `cargo xtask test` runs: few examples per operation, a short stateful phase. With two
/// busy cores this stays under three minutes; `cargo xtask schemathesis` takes larger numbers.
pub const TEST_MAX_EXAMPLES: u32 = 12;
/// Steps of one stateful scenario in `cargo xtask test`.
pub const TEST_MAX_STEPS: u32 = 6;

/// The checks run on every answer.
pub const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance";

/// The admin token and the demo key the fuzzed gateway is started with (test values).
const ADMIN_TOKEN: &str = "schemathesis-admin-token-0123456789abcdef";
const DEMO_KEY: &str = "sk-gw-SchemathesisDemoKey0123456789abcdefghijklmn";

/// How long the gateway may take to listen.
const STARTUP: Duration = Duration::from_secs(60);

/// Options of `cargo xtask schemathesis`.
#[derive(Args, Debug, Clone)]
pub struct SchemathesisArgs {
    /// Test cases generated per operation (per phase).
    #[arg(long, default_value_t = TEST_MAX_EXAMPLES)]
    pub max_examples: u32,
    /// Steps of each stateful scenario (the phase that follows the document's links).
    #[arg(long, default_value_t = TEST_MAX_STEPS)]
    pub max_steps: u32,
    /// Random seed (a fixed one makes runs repeatable; `0`: a new one each run).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Reuse the built debug binary instead of building it first.
    #[arg(long)]
    pub no_build: bool,
}

impl Default for SchemathesisArgs {
    fn default() -> Self {
        SchemathesisArgs {
            max_examples: TEST_MAX_EXAMPLES,
            max_steps: TEST_MAX_STEPS,
            seed: 1,
            no_build: true,
        }
    }
}

/// `cargo xtask schemathesis`: build the gateway, then [`run`].
pub fn run_cli(root: &Path, args: &SchemathesisArgs) -> Result<ExitCode> {
    if !args.no_build {
        run_status(Command::new(crate::util::cargo()).current_dir(root).args([
            "build",
            "-p",
            "llm-gateway",
            "--bin",
            "llm-gateway",
        ]))?;
    }
    run(root, args)?;
    Ok(ExitCode::SUCCESS)
}

/// Validates the served document and fuzzes the gateway (skipped without Python, see the
/// module doc).
pub fn run(root: &Path, args: &SchemathesisArgs) -> Result<()> {
    let venv = venv_dir(root);
    let python = venv_python(&venv);
    if !python.is_file() && find_on_path("python3").is_none() {
        let why = "python3 is not installed";
        if std::env::var("GATEWAY_REQUIRE_SERVICES").is_ok_and(|v| v == "1") {
            return Err(
                format!("schemathesis is required (GATEWAY_REQUIRE_SERVICES=1): {why}").into(),
            );
        }
        println!("schemathesis: skipped: {why}");
        return Ok(());
    }
    crate::testcmd::ensure_venv(&venv)?;
    ensure_packages(&python)?;
    let target = target_dir(root);
    let gateway = target.join("debug").join("llm-gateway");
    if !gateway.is_file() {
        return Err(format!("{} was not built", gateway.display()).into());
    }
    let scratch = target.join("schemathesis");
    // A fresh directory: reports of an earlier run must not be mistaken for this one's.
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch)?;

    let mut cmd = Command::new(&gateway);
    cmd.args(["--demo", "--listen", "127.0.0.1:0"])
        .current_dir(&scratch)
        .env("GATEWAY_DEMO_KEY", DEMO_KEY)
        .env("GATEWAY__ADMIN__TOKEN", ADMIN_TOKEN)
        .env("GATEWAY__CACHE__ENABLED", "true")
        .env("RUST_LOG", "warn");
    let mut service = Service::spawn("llm-gateway", cmd)?;
    let addr = service.wait_ready(None, STARTUP)?;
    let url = format!("http://{addr}/openapi.json");

    run_status(
        Command::new(&python)
            .args(["-c", VALIDATE, &url])
            .env("PYTHONDONTWRITEBYTECODE", "1"),
    )?;

    let config = scratch.join("schemathesis.toml");
    std::fs::write(&config, config_toml(args))?;
    let mut failed = Vec::new();
    for part in PARTS {
        let started = Instant::now();
        let mut cmd = schemathesis_command(&python, &config, &url, &scratch, part);
        let outcome = run_status(&mut cmd);
        println!(
            "schemathesis ({}): {} in {:.0?} ({} examples per operation, {} stateful steps, seed {})",
            part.name,
            if outcome.is_ok() { "passed" } else { "FAILED" },
            started.elapsed(),
            args.max_examples,
            args.max_steps,
            args.seed,
        );
        if outcome.is_err() {
            failed.push(part.name);
        }
    }
    println!(
        "schemathesis: reports in {}",
        scratch.join("reports").display()
    );
    if !failed.is_empty() {
        println!("llm-gateway's last lines:\n{}", service.tail_text());
    }
    service.stop_within(Duration::from_secs(5));
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("schemathesis found failures in: {}", failed.join(", ")).into())
    }
}

/// One schemathesis run over a part of the document.
pub struct Part {
    /// What the part covers (also its reports' file name).
    pub name: &'static str,
    /// `--include-path-regex` / `--exclude-path-regex` options, each with its pattern.
    pub filters: &'static [(&'static str, &'static str)],
}

/// The document in two runs, in this order: the model calls and public endpoints first, then
/// the admin API. The admin run creates, changes, rotates, revokes and deletes keys and tenants
/// (the demo tenant and its key among them, found through the list operations), so the calls
/// made with the demo key must all be done before it starts. Webhook endpoints are left out:
/// the gateway would deliver events to whatever URLs the fuzzer registers, and a test sends
/// traffic only to this machine.
pub const PARTS: &[Part] = &[
    Part {
        name: "inference",
        filters: &[("--exclude-path-regex", "^/admin/")],
    },
    Part {
        name: "admin",
        filters: &[
            ("--include-path-regex", "^/admin/"),
            ("--exclude-path-regex", "^/admin/v1/webhooks"),
        ],
    },
];

/// Installs [`PACKAGES`] into the venv unless each is already there at its pinned version.
pub fn ensure_packages(python: &Path) -> Result<()> {
    let python_str = python.to_string_lossy().into_owned();
    let check = pins_probe();
    if probe(&python_str, &["-c", &check]) {
        return Ok(());
    }
    run_status(
        Command::new(python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(PACKAGES),
    )
}

/// A Python check that every pin of [`PACKAGES`] is installed at its version.
fn pins_probe() -> String {
    let mut check = String::from("import importlib.metadata as m\n");
    for (name, version) in PACKAGES.iter().filter_map(|p| p.split_once("==")) {
        check.push_str(&format!(
            "assert m.version('{name}') == '{version}', '{name}'\n"
        ));
    }
    check
}

/// Fetches the served document and validates it as OpenAPI 3.1 (argv[1]: its URL).
const VALIDATE: &str = r#"
import importlib.metadata, json, sys, urllib.request
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
url = sys.argv[1]
with urllib.request.urlopen(url, timeout=30) as answer:
    ctype = answer.headers.get("content-type", "")
    spec = json.load(answer)
assert ctype.startswith("application/json"), f"GET /openapi.json answered {ctype!r}"
assert spec.get("openapi", "").startswith("3.1."), f"not OpenAPI 3.1: {spec.get('openapi')!r}"
validate(spec, cls=OpenAPIV31SpecValidator)
ops = sum(1 for item in spec["paths"].values() for k in item if k in ("get", "put", "post", "delete", "patch", "head", "options"))
links = sum(len(r.get("links", {})) for item in spec["paths"].values() for op in item.values() if isinstance(op, dict) for r in op.get("responses", {}).values())
version = importlib.metadata.version("openapi-spec-validator")
print(f"openapi-spec-validator {version}: {url} is valid OpenAPI {spec['openapi']} ({len(spec['paths'])} paths, {ops} operations, {links} links)")
"#;

/// The run's configuration: the credentials of each security scheme (from the environment
/// [`schemathesis_command`] sets), the bounds, the reports.
pub fn config_toml(args: &SchemathesisArgs) -> String {
    let seed = if args.seed == 0 {
        String::new()
    } else {
        format!("seed = {}\n", args.seed)
    };
    format!(
        r#"# Written by `cargo xtask schemathesis` for one run.
# One worker: parallel workers are threads, and CPython 3.11 before 3.11.8 may raise
# "SystemError: AST constructor recursion depth mismatch" when threads parse source at once
# (CPython gh-106905), which Hypothesis does while describing strategies.
{seed}workers = 1
request-timeout = 30
continue-on-failure = true

[generation]
max-examples = {max_examples}
# Nothing is kept between runs (a fixed seed repeats a run).
database = "none"

[phases.stateful]
max-steps = {max_steps}

[auth.openapi.adminToken]
bearer = "${{GATEWAY_ADMIN_TOKEN}}"

[auth.openapi.apiKey]
bearer = "${{GATEWAY_KEY}}"

[auth.openapi.anthropicApiKey]
api_key = "${{GATEWAY_KEY}}"

[auth.openapi.azureApiKey]
api_key = "${{GATEWAY_KEY}}"

[auth.openapi.googleApiKey]
api_key = "${{GATEWAY_KEY}}"
"#,
        max_examples = args.max_examples,
        max_steps = args.max_steps,
    )
}

/// `schemathesis run` of one part of the served document with [`CHECKS`], every phase.
fn schemathesis_command(
    python: &Path,
    config: &Path,
    url: &str,
    scratch: &Path,
    part: &Part,
) -> Command {
    let bin: PathBuf = python.with_file_name("schemathesis");
    let mut cmd = Command::new(bin);
    cmd.current_dir(scratch)
        .arg("--config-file")
        .arg(config)
        .args([
            "run",
            url,
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--checks",
            CHECKS,
            "--report",
            "junit",
        ])
        .arg("--report-junit-path")
        .arg(
            scratch
                .join("reports")
                .join(format!("{}.junit.xml", part.name)),
        )
        .env("GATEWAY_ADMIN_TOKEN", ADMIN_TOKEN)
        .env("GATEWAY_KEY", DEMO_KEY)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("NO_COLOR", "1");
    for (option, pattern) in part.filters {
        cmd.args([option, pattern]);
    }
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_names_every_credential_and_bound() {
        let toml = config_toml(&SchemathesisArgs::default());
        let parsed: toml::Value = toml::from_str(&toml).expect("valid TOML");
        assert_eq!(
            parsed["generation"]["max-examples"].as_integer(),
            Some(i64::from(TEST_MAX_EXAMPLES))
        );
        assert_eq!(
            parsed["phases"]["stateful"]["max-steps"].as_integer(),
            Some(i64::from(TEST_MAX_STEPS))
        );
        assert_eq!(parsed["seed"].as_integer(), Some(1));
        let auth = &parsed["auth"]["openapi"];
        assert_eq!(
            auth["adminToken"]["bearer"].as_str(),
            Some("${GATEWAY_ADMIN_TOKEN}")
        );
        assert_eq!(auth["apiKey"]["bearer"].as_str(), Some("${GATEWAY_KEY}"));
        let unseeded = config_toml(&SchemathesisArgs {
            seed: 0,
            ..SchemathesisArgs::default()
        });
        assert!(!unseeded.contains("seed ="), "{unseeded}");
    }

    #[test]
    fn the_admin_part_runs_last_without_webhooks() {
        assert_eq!(PARTS.len(), 2);
        assert_eq!(PARTS[0].filters, &[("--exclude-path-regex", "^/admin/")]);
        let admin = &PARTS[1];
        assert!(
            admin
                .filters
                .contains(&("--include-path-regex", "^/admin/"))
        );
        assert!(
            admin
                .filters
                .contains(&("--exclude-path-regex", "^/admin/v1/webhooks"))
        );
        let cmd = schemathesis_command(
            Path::new("/venv/bin/python"),
            Path::new("/s/schemathesis.toml"),
            "http://127.0.0.1:1/openapi.json",
            Path::new("/s"),
            admin,
        );
        let line = crate::util::display_command(&cmd);
        assert!(
            line.starts_with("/venv/bin/schemathesis --config-file"),
            "{line}"
        );
        assert!(
            line.contains("--exclude-path-regex ^/admin/v1/webhooks"),
            "{line}"
        );
    }

    #[test]
    fn the_pins_probe_checks_each_version() {
        let check = pins_probe();
        assert!(check.contains("assert m.version('schemathesis') == '4.32.5'"));
        assert!(check.contains("assert m.version('openapi-spec-validator') == '0.9.0'"));
    }
}
