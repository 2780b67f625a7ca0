//! `gateway-operator`: `run` watches LlmGateway, GatewayTenant and GatewayApiKey resources
//! and reconciles them (in the cluster, with the pod's service account, or with the local
//! kubeconfig); `crds` prints the CustomResourceDefinitions generated from the Rust types.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use gateway_operator::{Context, crd, reconcile};

#[derive(Parser)]
#[command(
    name = "gateway-operator",
    version,
    about = "Kubernetes operator for LLM Secure Gateway"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Reconcile the resources until SIGTERM.
    Run {
        /// Watch one namespace only (a Role suffices); default: all namespaces.
        #[arg(long, env = "OPERATOR_NAMESPACE")]
        namespace: Option<String>,
        /// Seconds between comparisons of each tenant and key with the gateway.
        #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(5..=86_400))]
        resync_secs: u64,
        /// The cluster's Service DNS suffix.
        #[arg(long, default_value = "svc.cluster.local")]
        service_domain: String,
    },
    /// Print the CustomResourceDefinitions (YAML) to stdout.
    Crds,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Crds => match crd::crds_yaml() {
            Ok(yaml) => {
                print!("{yaml}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Run {
            namespace,
            resync_secs,
            service_domain,
        } => {
            tracing_subscriber::fmt()
                .json()
                .with_env_filter(
                    tracing_subscriber::EnvFilter::try_from_default_env()
                        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
                )
                .init();
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("error: cannot start the async runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            runtime.block_on(async move {
                let client = match kube::Client::try_default().await {
                    Ok(c) => c,
                    Err(e) => {
                        eprintln!("error: no Kubernetes API server to talk to: {e}");
                        return ExitCode::FAILURE;
                    }
                };
                let mut ctx = Context::new(client.clone());
                ctx.resync = Duration::from_secs(resync_secs);
                ctx.service_domain = service_domain;
                tracing::info!(
                    namespace = namespace.as_deref().unwrap_or("*"),
                    "gateway-operator starting"
                );
                reconcile::run(client, namespace, ctx).await;
                ExitCode::SUCCESS
            })
        }
    }
}
