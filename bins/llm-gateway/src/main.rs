//! `llm-gateway`: the gateway server. Only the command line: everything else — configuration,
//! logging, serving and reloading — is [`gateway_app::run`]; the binary only supplies the
//! offline demo's mock upstream ([`demo`]); `llm-gateway edge ...` makes the edge profile's
//! signed tenants file ([`edge`]); `llm-gateway backup ...` creates, verifies and restores
//! backups of the store offline ([`backup`]).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

mod backup;
mod demo;
mod edge;

// mimalloc: per-request work is allocation-heavy (JSON, headers, guardrail buffers); glibc's
// malloc/free were about 30% of the gateway's instructions per request under callgrind.
// Built with `no_thp`: mimalloc otherwise asks for transparent huge pages, and each 2 MiB
// page faulted in for a few small objects made idle RSS ~20 MiB larger.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "llm-gateway",
    version,
    about = "LLM Secure Gateway: a secure, fast gateway in front of LLM providers"
)]
struct Cli {
    /// Configuration file (TOML). Without one, defaults apply and providers are enabled from
    /// their API-key environment variables.
    #[arg(short, long, env = "GATEWAY_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on, e.g. 127.0.0.1:8080 (overrides server.listen).
    #[arg(long, env = "GATEWAY_LISTEN")]
    listen: Option<std::net::SocketAddr>,
    /// Add an offline demo provider (a local mock) serving the model `demo`.
    #[arg(long)]
    demo: bool,
    /// Validate the configuration, print every problem, and exit.
    #[arg(long)]
    check_config: bool,
    /// Print the OpenAPI 3.1 document of the gateway's API (what `GET /openapi.json` serves)
    /// and exit.
    #[arg(long, conflicts_with_all = ["config", "listen", "demo", "check_config"])]
    print_openapi: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// The edge profile's signed tenants file: keygen, new-key, sign, verify (offline).
    #[command(subcommand)]
    Edge(edge::EdgeCmd),
    /// Encrypted backups of the store, offline: create, verify, restore.
    #[command(subcommand)]
    Backup(backup::BackupCmd),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Edge(cmd)) = &cli.command {
        return edge::run(cmd);
    }
    if let Some(Command::Backup(cmd)) = &cli.command {
        return backup::run(cmd);
    }
    if cli.print_openapi {
        print!("{}", gateway_app::openapi::document_text());
        return ExitCode::SUCCESS;
    }
    gateway_app::run(gateway_app::RunOptions {
        config: cli.config,
        listen: cli.listen,
        demo: cli.demo.then(demo::starter),
        check_config: cli.check_config,
    })
}
