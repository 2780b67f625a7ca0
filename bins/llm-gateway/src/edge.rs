//! `llm-gateway edge ...`: the edge profile's signed tenants file, made offline (no gateway,
//! no token): the command line of [`gateway_app::edge_cli`].

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use gateway_app::edge_cli;

#[derive(Debug, Subcommand)]
pub enum EdgeCmd {
    /// Create an Ed25519 signing key (PKCS#8 PEM, mode 0600) and print its public key.
    Keygen {
        /// Where to write the private key (never overwritten).
        #[arg(long)]
        out: PathBuf,
    },
    /// Issue an API key: print its secret once and the `[[tenants.keys]]` entry to add.
    NewKey {
        /// The tenant it belongs to (for the printed note).
        #[arg(long)]
        tenant: String,
        /// The key's public id.
        #[arg(long)]
        id: String,
        /// Environment variable holding the gateways' `auth.pepper`.
        #[arg(long, default_value = "GATEWAY_KEY_PEPPER")]
        pepper_env: String,
    },
    /// Check a tenants source (TOML) and write it signed.
    Sign {
        /// The signing key from `edge keygen` (or `openssl genpkey -algorithm ed25519`).
        #[arg(long)]
        key: PathBuf,
        /// The tenants source (TOML: `serial`, `[[tenants]]`, `[[tenants.keys]]`).
        #[arg(long = "in")]
        input: PathBuf,
        /// The signed file to write (replaced atomically).
        #[arg(long)]
        out: PathBuf,
    },
    /// Check a signed file against a public key, as the gateway does at startup.
    Verify {
        /// Base64 of the Ed25519 public key.
        #[arg(long)]
        public_key: String,
        /// The signed file.
        file: PathBuf,
    },
}

pub fn run(cmd: &EdgeCmd) -> ExitCode {
    let result = match cmd {
        EdgeCmd::Keygen { out } => edge_cli::keygen(out),
        EdgeCmd::NewKey {
            tenant,
            id,
            pepper_env,
        } => edge_cli::new_key(tenant, id, pepper_env),
        EdgeCmd::Sign { key, input, out } => edge_cli::sign(key, input, out),
        EdgeCmd::Verify { public_key, file } => edge_cli::verify_file(public_key, file),
    };
    match result {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("llm-gateway edge: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
