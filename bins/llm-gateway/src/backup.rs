//! `llm-gateway backup ...`: create, verify and restore encrypted backups of the store
//! offline (a restore targets a store the gateway is not serving): the command line of
//! [`gateway_app::backup_cli`]. `gatewayctl backup verify|restore` run these.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use gateway_app::backup_cli::{self, BackupCommandError, Source};

#[derive(Debug, Args)]
pub struct SourceArgs {
    /// A gateway configuration: its `[backup] key` and `[store]`.
    #[arg(short, long, env = "GATEWAY_CONFIG")]
    config: Option<PathBuf>,
    /// The store instead of the configuration's: `sqlite://PATH?mode=rwc` or `postgres://...`.
    #[arg(long, env = "GATEWAY_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// The environment variable holding the key (32 bytes, base64) when no configuration
    /// gives one.
    #[arg(long, default_value = "GATEWAY_BACKUP_KEY")]
    key_env: String,
}

#[derive(Debug, Subcommand)]
pub enum BackupCmd {
    /// Snapshot the store (it may be serving) into an encrypted archive.
    Create {
        #[command(flatten)]
        source: SourceArgs,
        /// The archive to write, or a directory for `gateway-<time>.gwbackup`.
        #[arg(long)]
        out: PathBuf,
    },
    /// Check an archive without a database: authentication of every chunk, checksum, row
    /// counts, audit chain.
    Verify {
        #[command(flatten)]
        source: SourceArgs,
        file: PathBuf,
    },
    /// Restore an archive into an empty store of the same kind and schema version, then
    /// verify counts and the audit chain and record the restore (and its gap) in the audit log.
    Restore {
        #[command(flatten)]
        source: SourceArgs,
        file: PathBuf,
        /// Delete the target's rows first instead of refusing a store that is not empty.
        #[arg(long)]
        replace: bool,
    },
}

fn source(args: &SourceArgs) -> Source {
    Source {
        config: args.config.clone(),
        database_url: args.database_url.clone(),
        key_env: args.key_env.clone(),
    }
}

pub fn run(cmd: &BackupCmd) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("llm-gateway backup: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result: Result<String, BackupCommandError> = runtime.block_on(async {
        match cmd {
            BackupCmd::Create { source: s, out } => backup_cli::create(&source(s), out).await,
            BackupCmd::Verify { source: s, file } => backup_cli::verify(&source(s), file).await,
            BackupCmd::Restore {
                source: s,
                file,
                replace,
            } => backup_cli::restore(&source(s), file, *replace).await,
        }
    });
    match result {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("llm-gateway backup: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
