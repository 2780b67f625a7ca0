//! Running the gateway as a process: load and check the configuration, start logging and
//! tracing, build the pipeline, serve until SIGTERM/SIGINT (reloading on SIGHUP), then flush
//! usage and audit and close the store. The `llm-gateway` binary is only its command line
//! in front of [`run`].
//!
//! `--demo` adds an offline provider: a local mock upstream (started by the binary, which takes
//! it from `gateway-testkit`; this crate does not depend on the test kit), on 127.0.0.1 only,
//! serving the public model `demo`, an in-memory store unless one is configured, and a demo key
//! printed once (or taken from `GATEWAY_DEMO_KEY`).

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::config::{Config, ConfigErrors, DemoUpstream, LogFormat, add_demo_provider};
use crate::error::{AppError, chain};
use crate::reload::reload_on_sighup;
use crate::server::{Server, shutdown_signal};
use crate::state::AppState;

/// The offline demo's upstream: a mock provider on 127.0.0.1 that serves while this value
/// lives.
pub trait DemoUpstreamServer: Send {
    /// Its base URL (OpenAI wire format).
    fn base_url(&self) -> String;
}

/// Starts the demo upstream; given by the binary (see [`RunOptions::demo`]).
pub type DemoStarter = Box<
    dyn FnOnce()
            -> Pin<Box<dyn Future<Output = std::io::Result<Box<dyn DemoUpstreamServer>>> + Send>>
        + Send,
>;

/// What the command line asks for.
#[derive(Default)]
pub struct RunOptions {
    /// The configuration file; without one, defaults apply and providers are enabled from
    /// their API-key environment variables.
    pub config: Option<PathBuf>,
    /// Overrides `server.listen`.
    pub listen: Option<SocketAddr>,
    /// Add the offline demo provider, served by the upstream this starts.
    pub demo: Option<DemoStarter>,
    /// Validate the configuration, print every problem, and exit.
    pub check_config: bool,
}

impl fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunOptions")
            .field("config", &self.config)
            .field("listen", &self.listen)
            .field("demo", &self.demo.is_some())
            .field("check_config", &self.check_config)
            .finish()
    }
}

/// Run the gateway as `options` say, until SIGTERM/SIGINT. Returns the process exit code:
/// 0 after a clean stop, 2 for an invalid configuration, 1 for any other failure (printed
/// with its whole chain of causes).
pub fn run(mut options: RunOptions) -> ExitCode {
    let mut config = match load(options.config.as_deref()) {
        Ok(config) => config,
        Err(errors) => {
            eprintln!("{errors}");
            return ExitCode::from(2);
        }
    };
    if options.check_config {
        println!(
            "configuration OK: {} provider(s), {} model(s)",
            config.providers.len(),
            config.models.len()
        );
        return ExitCode::SUCCESS;
    }
    if let Some(listen) = options.listen {
        config.server.listen = listen;
    }
    let format = match config.logging.format {
        LogFormat::Text => crate::logging::Format::Text,
        LogFormat::Json => crate::logging::Format::Json,
    };
    // Traces go out over OTLP when `telemetry.otlp.endpoint` is set; flushed before exit.
    let traces =
        match crate::logging::init_with_otlp(format, &config.logging.level, &config.telemetry.otlp)
        {
            Ok(guard) => guard,
            Err(e) => {
                eprintln!("error: telemetry: {}", chain(&e));
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
    let demo = options.demo.take();
    let code = match runtime.block_on(serve(config, &options, demo)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let error = chain(&e);
            tracing::error!(%error, "gateway stopped");
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    };
    traces.shutdown();
    code
}

/// The configuration from `path`, or from the environment without one.
fn load(path: Option<&Path>) -> Result<Config, ConfigErrors> {
    match path {
        Some(path) => Config::load(path),
        None => Config::from_environment(),
    }
}

/// Build, serve until a shutdown signal, drain, flush and close.
async fn serve(
    mut config: Config,
    options: &RunOptions,
    demo: Option<DemoStarter>,
) -> Result<(), AppError> {
    // The demo upstream lives as long as the server; it only ever listens on 127.0.0.1.
    let demo = match demo {
        Some(start) => Some(Demo::start(start).await?),
        None => None,
    };
    let demo_upstream = demo.as_ref().map(Demo::upstream);
    if let Some(upstream) = &demo_upstream {
        add_demo_provider(&mut config, upstream);
    }
    let state = match &demo {
        // The demo keeps nothing on disk.
        Some(_) if config.store.database_url.is_none() && config.store.signed_file.is_none() => {
            AppState::build_in_memory(&config).await?
        }
        _ => AppState::build(&config).await?,
    };
    if demo.is_some() {
        Demo::print_key(&state).await?;
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
    // SIGHUP reads the same file (or the environment) again; the demo provider stays.
    let path = options.config.clone();
    // Batches run in the background on every instance (leases share the work).
    let batch_worker = crate::batches::worker::Worker::start(states.clone(), &config.batches);
    // So do asynchronous calls (`Prefer: respond-async`).
    let async_worker =
        crate::async_calls::worker::AsyncWorker::start(states.clone(), &config.async_calls);
    let reloader = tokio::spawn(reload_on_sighup(states.clone(), move || {
        let mut config = load(path.as_deref())?;
        if let Some(upstream) = &demo_upstream {
            add_demo_provider(&mut config, upstream);
        }
        Ok(config)
    }));
    let drained = server.run_swappable(states, shutdown_signal()).await;
    reloader.abort();
    // Lines in flight finish and record their results (a restart then sends none of them
    // again); after the grace period they are abandoned to their leases.
    if let Some(worker) = batch_worker {
        worker.stop(std::time::Duration::from_secs(10)).await;
    }
    if let Some(worker) = async_worker {
        worker.stop(std::time::Duration::from_secs(10)).await;
    }
    // Anomaly baselines learned since the last save survive the restart.
    state.anomalies.persist_now().await;
    // So do the routing bandit's observations since its last sync.
    state.bandit.flush().await;
    // Usage and audit buffered so far reach the store before it closes.
    state.telemetry.flush().await;
    state.close().await;
    tracing::info!(drained, "gateway stopped");
    Ok(())
}

/// The offline demo: a local mock upstream for the `demo` provider.
struct Demo {
    mock: Box<dyn DemoUpstreamServer>,
}

impl Demo {
    async fn start(start: DemoStarter) -> Result<Demo, AppError> {
        let mock = start()
            .await
            .map_err(|e| AppError::startup("demo upstream", e))?;
        Ok(Demo { mock })
    }

    fn upstream(&self) -> DemoUpstream {
        DemoUpstream {
            base_url: self.mock.base_url(),
        }
    }

    /// Register the demo key: `GATEWAY_DEMO_KEY` when set, else a new one printed once.
    async fn print_key(state: &AppState) -> Result<(), AppError> {
        if state.store.backend() == "signed_file" {
            println!("demo keys: from store.signed_file");
            return Ok(());
        }
        let wanted = std::env::var("GATEWAY_DEMO_KEY")
            .ok()
            .filter(|k| !k.is_empty());
        match state.ensure_demo_key(wanted.as_deref()).await? {
            Some(generated) => println!("demo key (shown once): {}", generated.expose()),
            None => println!("demo key: from GATEWAY_DEMO_KEY"),
        }
        Ok(())
    }
}
