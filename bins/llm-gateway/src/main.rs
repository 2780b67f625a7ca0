//! `llm-gateway`: the gateway server. A thin main: command line, configuration, the optional
//! offline demo upstream, then `gateway-app` until SIGTERM/SIGINT.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use gateway_app::config::{DemoUpstream, LogFormat, add_demo_provider};
use std::sync::Arc;

use arc_swap::ArcSwap;
use gateway_app::{AppState, Config, Server, shutdown_signal};

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match &cli.config {
        Some(path) => Config::load(path),
        None => Config::from_environment(),
    };
    let mut config = match config {
        Ok(config) => config,
        Err(errors) => {
            eprintln!("{errors}");
            return ExitCode::from(2);
        }
    };
    if cli.check_config {
        println!(
            "configuration OK: {} provider(s), {} model(s)",
            config.providers.len(),
            config.models.len()
        );
        return ExitCode::SUCCESS;
    }
    if let Some(listen) = cli.listen {
        config.server.listen = listen;
    }
    let format = match config.logging.format {
        LogFormat::Text => gateway_app::logging::Format::Text,
        LogFormat::Json => gateway_app::logging::Format::Json,
    };
    // Traces go out over OTLP when `telemetry.otlp.endpoint` is set; flushed before exit.
    let traces = match gateway_app::logging::init_with_otlp(
        format,
        &config.logging.level,
        &config.telemetry.otlp,
    ) {
        Ok(guard) => guard,
        Err(e) => {
            eprintln!("error: telemetry: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The main thread's runtime runs startup, background tasks (usage and audit writers,
    // reload) and the accept loop, and serves its share of connections; the server starts
    // one more single-threaded runtime per extra core (`server.workers`).
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = match runtime.block_on(run(config, cli.demo, cli.config.clone())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "gateway stopped");
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    };
    traces.shutdown();
    code
}

async fn run(
    mut config: Config,
    demo: bool,
    path: Option<PathBuf>,
) -> Result<(), gateway_app::AppError> {
    // The demo upstream lives as long as the server; it only ever listens on 127.0.0.1, and
    // keeps no request (nobody reads them; recording would grow with the traffic).
    let demo_mock = if demo {
        let local = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        let options = gateway_testkit::MockOptions::new().with_record(false);
        let mock = gateway_testkit::MockServer::start_on(local, options)
            .await
            .map_err(|e| gateway_app::AppError::Startup(format!("demo upstream: {e}")))?;
        Some(mock)
    } else {
        None
    };
    let demo_upstream = demo_mock.as_ref().map(|mock| DemoUpstream {
        base_url: mock.base_url(),
    });
    if let Some(upstream) = &demo_upstream {
        add_demo_provider(&mut config, upstream);
    }
    let state = if demo && config.store.database_url.is_none() {
        // The demo keeps nothing on disk.
        AppState::build_in_memory(&config).await?
    } else {
        AppState::build(&config).await?
    };
    if demo {
        let wanted = std::env::var("GATEWAY_DEMO_KEY")
            .ok()
            .filter(|k| !k.is_empty());
        match state.ensure_demo_key(wanted.as_deref()).await? {
            Some(generated) => println!("demo key (shown once): {}", generated.expose()),
            None => println!("demo key: from GATEWAY_DEMO_KEY"),
        }
    }
    let server = Server::bind(&config.server).await?;
    let addr = server.local_addr()?;
    let scheme = if server.is_tls() { "https" } else { "http" };
    let live: Vec<&str> = state.providers.iter().map(String::as_str).collect();
    if live.is_empty() {
        tracing::warn!(
            "no provider is configured: set OPENAI_API_KEY (or another key), pass --config, or try --demo"
        );
    }
    tracing::info!(%addr, providers = ?live, models = config.models.len(), "gateway started");
    println!("listening on {scheme}://{addr}");
    let states = Arc::new(ArcSwap::new(state.clone()));
    let reloader = tokio::spawn(reload_on_sighup(states.clone(), path, demo_upstream));
    let drained = server.run_swappable(states, shutdown_signal()).await;
    reloader.abort();
    // Usage and audit buffered so far reach the store before it closes.
    state.telemetry.flush().await;
    state.close().await;
    tracing::info!(drained, "gateway stopped");
    Ok(())
}

/// SIGHUP: read the configuration again (the same file, or the environment) and swap it in;
/// a bad file is rejected whole and the gateway goes on with the old one.
async fn reload_on_sighup(
    states: Arc<ArcSwap<AppState>>,
    path: Option<PathBuf>,
    demo: Option<DemoUpstream>,
) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hangups) = signal(SignalKind::hangup()) else {
            tracing::warn!("cannot listen for SIGHUP; configuration reload is off");
            return;
        };
        while hangups.recv().await.is_some() {
            let load = || {
                let mut config = match &path {
                    Some(path) => Config::load(path),
                    None => Config::from_environment(),
                }?;
                if let Some(upstream) = &demo {
                    add_demo_provider(&mut config, upstream);
                }
                Ok(config)
            };
            let _ = gateway_app::reload::reload(&states, load);
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (states, path, demo);
    }
}
