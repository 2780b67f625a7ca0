//! `cargo xtask`: the one entry point beyond cargo (tidy, test, browser, bench, pgo, soak, chaos,
//! fuzz, tutorials, openapi, schemathesis).
//!
//! Only parses the command line; the work is in the `xtask` library.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use xtask::{
    bench, browser, chaos, fuzz, openapi, schemathesis, soak, testcmd, tidy, tutorials, util,
};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "Repository automation for the LLM Secure Gateway"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check the workspace's structural rules (dependency direction, docs, file sizes, manifests).
    Tidy,
    /// Run every test: cargo tests (nextest when installed), doc tests, Python end-to-end tests,
    /// a one-minute soak and a short fault suite.
    Test(testcmd::TestArgs),
    /// Build the binaries and run only the web console's browser tests (a step of `test`).
    Browser,
    /// Load-test mock-upstream, nginx and the release gateway; write docs/benchmarks.md.
    Bench(bench::BenchArgs),
    /// Build a profile-guided (PGO) release gateway: instrument, train on the bench's
    /// traffic, rebuild with the profile.
    Pgo(bench::pgo::PgoArgs),
    /// Steady mixed load on one gateway (with --demo) with its RSS sampled: fails when RSS
    /// grows more than 5 % after the warm-up.
    Soak(soak::SoakArgs),
    /// Fault suite on three gateways with private Redis and PostgreSQL: idle floods, faulty
    /// upstreams, backend restarts, SIGKILL; fails above the bounds of docs/security.md.
    Chaos(chaos::ChaosArgs),
    /// Build the cargo-fuzz targets of fuzz/ (nightly) and run each for --seconds N.
    Fuzz(fuzz::FuzzArgs),
    /// Run the runnable blocks of every tutorial in docs/tutorials/ against the debug binaries.
    Tutorials(tutorials::TutorialsArgs),
    /// Write docs/openapi.json, the OpenAPI document the gateway generates (--check: only
    /// compare).
    Openapi(openapi::OpenApiArgs),
    /// Validate the served OpenAPI document and fuzz a --demo gateway with schemathesis
    /// (a step of `test`; larger --max-examples / --max-steps for a longer run).
    Schemathesis(schemathesis::SchemathesisArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = util::repo_root();
    let outcome = match cli.command {
        Command::Tidy => tidy::run_cli(&root),
        Command::Test(args) => testcmd::run(&root, &args),
        Command::Browser => browser::run_cli(&root),
        Command::Bench(args) => bench::run(&root, &args),
        Command::Pgo(args) => bench::pgo::run(&root, &args),
        Command::Soak(args) => soak::run(&root, &args),
        Command::Chaos(args) => chaos::run(&root, &args),
        Command::Fuzz(args) => fuzz::run(&root, &args),
        Command::Tutorials(args) => tutorials::run(&root, &args),
        Command::Openapi(args) => openapi::run(&root, &args),
        Command::Schemathesis(args) => schemathesis::run_cli(&root, &args),
    };
    match outcome {
        Ok(code) => code,
        Err(err) => {
            eprintln!("xtask: error: {err}");
            ExitCode::FAILURE
        }
    }
}
