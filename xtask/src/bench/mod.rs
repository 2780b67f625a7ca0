//! `cargo xtask bench`: measures mock-upstream direct, nginx and the release gateway
//! under the same load in one run, prints tables, writes docs/benchmarks.md and,
//! with `--json FILE`, JSON. Every started process is stopped at the end, even on error.

mod gateway_metrics;
mod measure;
mod nginx;
mod oha;
mod paired;
pub mod pgo;
pub(crate) mod procs;
mod report;
mod stream;
mod streaming;
mod sysinfo;
mod targets;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use clap::{Args, ValueEnum};

use crate::Result;
use crate::util::{banner, cargo, run_status, target_dir};
use measure::Settings;
use report::{Report, TargetReport};

/// The `GATEWAY__*` override that the `gateway-usage-minutes` target starts the gateway with.
const USAGE_DETAIL_VAR: &str = "GATEWAY__TELEMETRY__USAGE__DETAIL";

/// Options of `cargo xtask bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Seconds per load point (default 10; 2 with --quick).
    #[arg(long)]
    pub duration: Option<u64>,
    /// Smoke run: short points, fewer streams, docs/benchmarks.md left alone unless --out is given.
    #[arg(long)]
    pub quick: bool,
    /// Also write the results as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Markdown report path (default docs/benchmarks.md, except with --quick).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Which systems to measure.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "direct,nginx,gateway,gateway-cache-hit,gateway-usage-minutes"
    )]
    pub targets: Vec<TargetName>,
    /// apt-get install nginx when it is missing.
    #[arg(long)]
    pub install_nginx: bool,
    /// Use the binaries already in target/release instead of building them.
    #[arg(long)]
    pub no_build: bool,
    /// Measure a profile-guided build of the gateway (`cargo xtask pgo`, run by the bench
    /// even with --no-build) instead of the plain release build.
    #[arg(long)]
    pub pgo: bool,
    /// Paired rounds (direct, nginx and gateway back to back) that the verdict's medians
    /// come from (default 5; 1 with --quick; 0 skips them).
    #[arg(long)]
    pub rounds: Option<usize>,
}

/// A system under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TargetName {
    Direct,
    Nginx,
    Gateway,
    /// The same gateway on a model group with the response cache on: every call after the
    /// first is a hit (the bench sends one fixed request), to compare a hit with a miss.
    GatewayCacheHit,
    /// The same gateway keeping usage as per-minute totals (`[telemetry.usage] detail =
    /// "minute"`) instead of a record per call, to show what the per-call rows cost.
    GatewayUsageMinutes,
}

impl TargetName {
    fn is_gateway(self) -> bool {
        matches!(
            self,
            Self::Gateway | Self::GatewayCacheHit | Self::GatewayUsageMinutes
        )
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Direct => "direct",
            Self::Nginx => "nginx",
            Self::Gateway => "gateway",
            Self::GatewayCacheHit => "gateway-cache-hit",
            Self::GatewayUsageMinutes => "gateway-usage-minutes",
        }
    }
}

fn settings(args: &BenchArgs) -> Settings {
    let quick = args.quick;
    Settings {
        duration_secs: args.duration.unwrap_or(if quick { 2 } else { 10 }).max(1),
        warmup_secs: if quick { 1 } else { 2 },
        ttft_requests: if quick { 40 } else { 300 },
        ttft_concurrency: 4,
        concurrent_streams: if quick { 64 } else { 512 },
        stall_timeout_secs: 10,
        paired_rounds: args.rounds.unwrap_or(if quick { 1 } else { 5 }),
        paired_secs: if quick { 1 } else { 4 },
        quick,
    }
}

/// Runs the benchmark.
pub fn run(root: &Path, args: &BenchArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let settings = settings(args);
    let points = measure::plan().len() as u64;
    let per_target =
        settings.warmup_secs + points * settings.duration_secs + settings.duration_secs + 5;
    let paired_secs = settings.paired_rounds as u64 * 3 * 2 * settings.paired_secs;
    println!(
        "bench: {} target(s), {} s per point; expect about {} s of measuring",
        args.targets.len(),
        settings.duration_secs,
        per_target * args.targets.len() as u64 + paired_secs
    );
    let release = target_dir(root).join("release");
    let wants_gateway = args.targets.iter().any(|t| t.is_gateway());
    if !args.no_build {
        banner("build (release)");
        let mut cmd = Command::new(cargo());
        cmd.current_dir(root)
            .args(["build", "--release", "-p", "gateway-testkit"]);
        if wants_gateway && !args.pgo {
            cmd.args(["-p", "llm-gateway"]);
        }
        run_status(&mut cmd)?;
    }
    let gateway_bin = if wants_gateway && args.pgo {
        pgo::build(root, pgo::DEFAULT_TRAIN_SECS)?
    } else {
        release.join("llm-gateway")
    };
    banner("load generator");
    let oha = oha::Oha::ensure()?;
    let scratch = target_dir(root).join("xtask-bench");

    banner("mock-upstream");
    let mocks = targets::start_mocks(&release.join("mock-upstream"))?;
    println!(
        "mock-upstream on {} and {} (+{} ms)",
        mocks.fast_addr,
        mocks.slow_addr,
        targets::SLOW_MS
    );

    // Every target's process is started first and kept until the end, so that the paired
    // rounds can return to each of them.
    let mut running = Vec::new();
    for name in [
        TargetName::Direct,
        TargetName::Nginx,
        TargetName::Gateway,
        TargetName::GatewayCacheHit,
        TargetName::GatewayUsageMinutes,
    ] {
        if args.targets.contains(&name) {
            running.push(start_target(name, &mocks, &gateway_bin, &scratch, args));
        }
    }
    let mut reports = Vec::new();
    for target in &running {
        banner(&format!("measuring {}", target.name.as_str()));
        reports.push(TargetReport {
            name: target.name.as_str().into(),
            status: target.status.clone(),
            measurements: target
                .target
                .as_ref()
                .map(|t| measure::run(target.name.as_str(), t, &oha, &settings)),
        });
    }
    let paired = paired_rounds(&running, &oha, &settings);
    drop(running);
    drop(mocks);

    let machine = sysinfo::Machine::describe(root);
    let mut report = Report {
        machine,
        settings,
        added_latency: report::added_latency(&reports),
        targets: reports,
        paired,
        wall_time_secs: 0.0,
    };
    report.wall_time_secs = started.elapsed().as_secs_f64();
    println!();
    for table in report::tables(&report) {
        println!("{}\n", table.to_terminal());
    }
    let out = args
        .out
        .clone()
        .or_else(|| (!args.quick).then(|| root.join("docs/benchmarks.md")));
    let guardrails = if wants_gateway {
        guardrail_cost(root)
    } else {
        None
    };
    let anomaly = if wants_gateway {
        example_table(root, "anomaly_cost", "anomaly detection cost per request")
    } else {
        None
    };
    let routing = if wants_gateway {
        crate_example_table(
            root,
            "gateway-app",
            "route_cost",
            "prompt-type routing cost per request",
        )
    } else {
        None
    };
    if let Some(out) = out {
        let mut md = report::markdown(&report);
        if let Some(table) = &guardrails {
            md.push_str(&guardrail_section(table));
        }
        if let Some(table) = &anomaly {
            md.push_str(&anomaly_section(table));
        }
        if let Some(table) = &routing {
            md.push_str(&routing_section(table));
        }
        md.push_str(&kept_sections(&out));
        std::fs::write(&out, md)?;
        println!("wrote {}", out.display());
    }
    if let Some(json) = &args.json {
        std::fs::write(json, serde_json::to_string_pretty(&report)?)?;
        println!("wrote {}", json.display());
    }
    println!("bench: total wall time {:.0} s", report.wall_time_secs);
    let failed: Vec<&str> = report
        .targets
        .iter()
        .filter(|t| t.status.starts_with("error"))
        .map(|t| t.name.as_str())
        .collect();
    if failed.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        println!("bench: could not measure {}", failed.join(", "));
        Ok(ExitCode::FAILURE)
    }
}

/// A target whose process (if it has one) is up, or the reason it is not.
struct Running {
    name: TargetName,
    /// `ok`, `not installed` or `error: ...`.
    status: String,
    target: Option<targets::Target>,
    /// Stops the process when dropped; its output's tail is printed then.
    process: Option<procs::Service>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(service) = self.process.take() {
            let tail = service.tail_text();
            drop(service);
            if !tail.is_empty() {
                println!("  {} output (tail):\n{tail}", self.name.as_str());
            }
        }
    }
}

/// Starts the target's process, if it has one.
fn start_target(
    name: TargetName,
    mocks: &targets::Mocks,
    gateway_bin: &Path,
    scratch: &Path,
    args: &BenchArgs,
) -> Running {
    let label = name.as_str();
    let failed = |status: String| Running {
        name,
        status,
        target: None,
        process: None,
    };
    match name {
        TargetName::Direct => Running {
            name,
            status: "ok".into(),
            target: Some(targets::direct(mocks)),
            process: None,
        },
        TargetName::Nginx => {
            let Some(bin) = nginx::locate(args.install_nginx) else {
                println!("  nginx: not installed (pass --install-nginx to apt-get install it)");
                return failed("not installed".into());
            };
            match nginx::start(
                &bin,
                &scratch.join("nginx"),
                &[mocks.fast_addr, mocks.slow_addr],
            ) {
                Ok(server) => {
                    let mut target = targets::upstream_style(server.addrs[0], server.addrs[1]);
                    // The master's pid: its worker's CPU and memory are counted with it.
                    target.measured_pid = Some(server.service.pid());
                    Running {
                        name,
                        status: "ok".into(),
                        target: Some(target),
                        process: Some(server.service),
                    }
                }
                Err(err) => {
                    println!("  nginx: {err}");
                    failed(format!("error: {err}"))
                }
            }
        }
        TargetName::Gateway | TargetName::GatewayCacheHit | TargetName::GatewayUsageMinutes => {
            let cached = name == TargetName::GatewayCacheHit;
            let env: &[(&str, &OsStr)] = if name == TargetName::GatewayUsageMinutes {
                &[(USAGE_DETAIL_VAR, OsStr::new("minute"))]
            } else {
                &[]
            };
            match targets::start_gateway_with(gateway_bin, &scratch.join(label), mocks, cached, env)
            {
                Ok((service, target)) => Running {
                    name,
                    status: "ok".into(),
                    target: Some(target),
                    process: Some(service),
                },
                Err(err) => {
                    println!("  gateway: {err}");
                    failed(format!("error: {}", first_line(&err.to_string())))
                }
            }
        }
    }
}

/// The paired rounds over direct, nginx and the gateway, when all three are up.
fn paired_rounds(
    running: &[Running],
    oha: &oha::Oha,
    settings: &Settings,
) -> Option<paired::Paired> {
    if settings.paired_rounds == 0 {
        return None;
    }
    let find = |name: TargetName| {
        running
            .iter()
            .find(|r| r.name == name)
            .and_then(|r| r.target.as_ref())
    };
    let mut targets = vec![
        ("direct", find(TargetName::Direct)?),
        ("nginx", find(TargetName::Nginx)?),
        ("gateway", find(TargetName::Gateway)?),
    ];
    // Beside the verdict, for reference: what the same rounds give with per-minute usage.
    if let Some(minutes) = find(TargetName::GatewayUsageMinutes) {
        targets.push((paired::USAGE_MINUTES, minutes));
    }
    let names: Vec<&str> = targets.iter().map(|(name, _)| *name).collect();
    banner(&format!(
        "paired rounds ({} × {})",
        settings.paired_rounds,
        names.join(", ")
    ));
    Some(paired::run(
        oha,
        &targets,
        settings.paired_rounds,
        settings.paired_secs,
    ))
}

/// Runs the guardrail cost example (release), then the client-address and threat-intel
/// one, whose rows it appends, and returns the Markdown table.
fn guardrail_cost(root: &Path) -> Option<String> {
    banner("guardrail cost per request");
    let mut table = String::new();
    for example in ["guardrail_cost", "threat_intel_cost"] {
        let output = Command::new(cargo())
            .current_dir(root)
            .args([
                "run",
                "--release",
                "-q",
                "-p",
                "gateway-policy",
                "--example",
                example,
            ])
            .output()
            .ok()?;
        let rows = String::from_utf8_lossy(&output.stdout).into_owned();
        if !output.status.success() || !rows.starts_with('|') {
            return None;
        }
        table.push_str(&rows);
    }
    println!("{table}");
    Some(table)
}

/// Runs a gateway-policy example (release) and returns its Markdown table.
fn example_table(root: &Path, example: &str, title: &str) -> Option<String> {
    crate_example_table(root, "gateway-policy", example, title)
}

/// Runs an example of `package` (release) and returns its Markdown table.
fn crate_example_table(root: &Path, package: &str, example: &str, title: &str) -> Option<String> {
    banner(title);
    let output = Command::new(cargo())
        .current_dir(root)
        .args([
            "run",
            "--release",
            "-q",
            "-p",
            package,
            "--example",
            example,
        ])
        .output()
        .ok()?;
    let table = String::from_utf8_lossy(&output.stdout).into_owned();
    println!("{table}");
    (output.status.success() && table.starts_with('|')).then_some(table)
}

fn anomaly_section(table: &str) -> String {
    format!(
        "\n## Anomaly detection cost per request\n\nWhat one request adds on the hot path for behavioural anomaly \
         detection (atomic counter updates only), next to an empty loop timed the same way, mean and p99 \
         over 100,000 calls (`cargo run --release -p gateway-policy --example anomaly_cost`, run by \
         `cargo xtask bench`). The budget is 2 µs per request; see docs/security.md.\n\n{table}"
    )
}

fn routing_section(table: &str) -> String {
    format!(
        "\n## Prompt-type routing cost per request\n\nWhat a call to the virtual model `auto` adds before \
         routing (the prompt classifier, the CEL rules of docs/routing.md's worked example and the \
         choice among candidates), next to routing off (a named model), mean and p99 over 20,000 \
         calls (`cargo run --release -p gateway-app --example route_cost`, run by `cargo xtask \
         bench`). The budget is 10 µs per request at the load bench's prompt size.\n\n{table}"
    )
}

fn guardrail_section(table: &str) -> String {
    format!(
        "\n## Guardrail cost per request\n\nOne call of each detector on texts of typical prompt size, in-process, \
         mean and p99 over 20,000 calls (`cargo run --release -p gateway-policy --example guardrail_cost`, \
         run by `cargo xtask bench`). The gateway runs all of them on every request's user text with \
         the secure defaults; on streams, the scan runs per pushed chunk. The prompt classifier rows are \
         routing's (docs/routing.md): its budget is 50 µs per KiB of prompt. The last rows are the \
         edge's client-address checks and the threat-intelligence lookups, with nothing configured \
         and configured side by side (`cargo run --release -p gateway-policy --example \
         threat_intel_cost`; docs/security.md).\n\n{table}"
    )
}

/// Marks the sections of docs/benchmarks.md measured by their own scripts (the edge and
/// Lambda footprints, `xtask/bench/footprint.py`): a bench run keeps them as they are.
pub const KEPT_MARKER: &str =
    "<!-- measured by other scripts: cargo xtask bench keeps what follows -->";

/// The marker and everything after it in the existing report, if any.
fn kept_sections(out: &Path) -> String {
    std::fs::read_to_string(out)
        .ok()
        .and_then(|old| old.find(KEPT_MARKER).map(|at| format!("\n{}", &old[at..])))
        .unwrap_or_default()
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}
