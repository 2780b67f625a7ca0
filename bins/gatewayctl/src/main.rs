//! `gatewayctl`: the admin CLI of LLM Secure Gateway. It manages tenants and API keys and reads
//! usage and the audit log, prompt templates and the prompt linter, through the gateway's admin API (`/admin/v1/`), printing tables for
//! people and `--json` for scripts; `config validate` delegates to `llm-gateway --check-config`,
//! and `backup verify|restore` to `llm-gateway backup ...` (offline work on a store).
//!
//! It talks HTTP only and depends on no gateway crate, so it can run anywhere the admin API is
//! reachable. Entry points: [`cli::Cli`] (flags and subcommands), [`client::Client`] (the HTTP
//! client and the operator-facing errors with their exit codes).

mod backup;
mod cli;
mod client;
mod commands;
mod encryption;
mod feedback;
mod output;
mod sealed_lines;
mod templates;
mod validate;
mod webhooks;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use cli::{Cli, Command, ConfigCmd};
use client::{Client, CtlError};

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Config(ConfigCmd::Validate { file }) = &cli.command {
        return match validate::validate(file) {
            Ok(code) => ExitCode::from(code),
            Err(e) => fail(&e),
        };
    }
    if let Command::Backup(cmd) = &cli.command
        && let Some(result) = backup::offline(cmd)
    {
        return match result {
            Ok(code) => ExitCode::from(code),
            Err(e) => fail(&e),
        };
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return fail(&CtlError::Other(format!(
                "cannot start the async runtime: {e}"
            )));
        }
    };
    match runtime.block_on(run(&cli)) {
        Ok(outcome) => {
            // `encryption open` wrote its output as it went.
            if !outcome.text.is_empty() {
                println!("{}", outcome.text);
            }
            if outcome.failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => fail(&e),
    }
}

fn fail(e: &CtlError) -> ExitCode {
    eprintln!("gatewayctl: {e}");
    ExitCode::from(e.exit_code())
}

async fn run(cli: &Cli) -> Result<commands::Outcome, CtlError> {
    let client = Client::new(
        &cli.url,
        cli.token.as_deref(),
        Duration::from_secs(cli.timeout.max(1)),
    )?;
    if !matches!(cli.command, Command::Health(_)) {
        client.require_token()?;
    }
    match &cli.command {
        Command::Health(args) => commands::health(&client, cli.json, args).await,
        Command::Tenants(cmd) => commands::tenants(&client, cli.json, cmd).await,
        Command::Keys(cmd) => commands::keys(&client, cli.json, cmd).await,
        Command::Webhooks(cmd) => webhooks::run(&client, cli.json, cmd).await,
        Command::Feedback(cmd) => feedback::run(&client, cli.json, cmd).await,
        Command::Backup(cmd) => backup::run(&client, cli.json, cmd).await,
        Command::Encryption(cmd) => encryption::run(&client, cli.json, cmd).await,
        Command::Templates(cmd) => templates::run(&client, cli.json, cmd).await,
        Command::Prompts(cmd) => templates::prompts(&client, cli.json, cmd).await,
        Command::Anomalies(cmd) => commands::anomalies(&client, cli.json, cmd).await,
        Command::Usage(args) => commands::usage(&client, cli.json, args).await,
        Command::Audit(args) => commands::audit(&client, cli.json, args).await,
        Command::Config(ConfigCmd::Validate { .. }) => Err(CtlError::Usage(
            "config validate runs without the gateway".to_owned(),
        )),
    }
}
