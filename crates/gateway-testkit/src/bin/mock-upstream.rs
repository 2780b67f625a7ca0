//! `mock-upstream`: the mock (OpenAI unless `--vendor` says otherwise) as a standalone
//! process, the upstream of load tests.
//! Prints one line `listening on http://ADDR` once bound, then serves until SIGTERM or SIGINT.

use std::io::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use gateway_testkit::{MockOptions, MockServer, Vendor};

/// In-process mock server for load tests (recording off).
#[derive(Parser, Debug)]
#[command(name = "mock-upstream", version, about)]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Latency added to every response, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Wire format to serve: `openai` (default), `anthropic`, `gemini` or `azure`.
    #[arg(long, default_value = "openai")]
    vendor: String,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    // Handlers first: a signal sent as soon as the address is printed must still stop us cleanly.
    let shutdown = match Shutdown::install() {
        Ok(shutdown) => shutdown,
        Err(err) => {
            eprintln!("mock-upstream: cannot install signal handlers: {err}");
            return ExitCode::FAILURE;
        }
    };
    let vendor = match args.vendor.as_str() {
        "openai" => Vendor::OpenAi,
        "anthropic" => Vendor::Anthropic,
        "gemini" => Vendor::Gemini,
        "azure" => Vendor::Azure,
        "bedrock" => Vendor::Bedrock,
        "vertex" => Vendor::Vertex,
        other => {
            eprintln!(
                "mock-upstream: unknown --vendor '{other}' (openai, anthropic, gemini, azure, bedrock, vertex)"
            );
            return ExitCode::FAILURE;
        }
    };
    let options = MockOptions::new()
        .with_latency(Duration::from_millis(args.latency_ms))
        .with_record(false);
    let server = match MockServer::start_vendor_on(vendor, args.listen, options).await {
        Ok(server) => server,
        Err(err) => {
            eprintln!("mock-upstream: cannot listen on {}: {err}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout().lock();
    if writeln!(stdout, "listening on http://{}", server.addr())
        .and_then(|()| stdout.flush())
        .is_err()
    {
        return ExitCode::FAILURE;
    }
    drop(stdout);
    shutdown.wait().await;
    drop(server);
    ExitCode::SUCCESS
}

#[cfg(unix)]
struct Shutdown {
    terminate: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Shutdown {
    fn install() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            terminate: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
        })
    }

    async fn wait(mut self) {
        tokio::select! {
            _ = self.terminate.recv() => {}
            _ = self.interrupt.recv() => {}
        }
    }
}

#[cfg(not(unix))]
struct Shutdown;

#[cfg(not(unix))]
impl Shutdown {
    fn install() -> std::io::Result<Self> {
        Ok(Self)
    }

    async fn wait(self) {
        let _ = tokio::signal::ctrl_c().await;
    }
}
