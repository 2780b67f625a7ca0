//! A gateway binary that knows one more provider kind: what an extender ships. It is
//! `llm-gateway` plus one line, the registration of the out-of-tree `acme` kind of
//! `custom_provider.rs`, before the configuration is read.
//!
//! ```sh
//! cargo run -p gateway-examples --example acme_gateway -- --config gateway.toml
//! cargo run -p gateway-examples --example acme_gateway -- --check-config --config gateway.toml
//! ```
//!
//! `--listen ADDR` (or `GATEWAY_LISTEN`) overrides `server.listen`, as for `llm-gateway`.
//! Tutorial 8 (`docs/tutorials/08-custom-provider.md`) builds and runs it.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    // The one line that makes `kind = "acme"` valid in the configuration.
    gateway_examples::custom_provider::register();
    let mut options = gateway_app::RunOptions {
        config: std::env::var_os("GATEWAY_CONFIG").map(PathBuf::from),
        listen: None,
        demo: None,
        check_config: false,
    };
    let mut listen = std::env::var("GATEWAY_LISTEN").ok();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-c" | "--config" => options.config = args.next().map(PathBuf::from),
            "--listen" => listen = args.next(),
            "--check-config" => options.check_config = true,
            other => {
                eprintln!(
                    "acme_gateway: unknown argument '{other}' (use --config FILE, --listen ADDR, --check-config)"
                );
                return ExitCode::from(2);
            }
        }
    }
    if let Some(addr) = listen {
        match addr.parse() {
            Ok(addr) => options.listen = Some(addr),
            Err(e) => {
                eprintln!("acme_gateway: bad --listen address '{addr}': {e}");
                return ExitCode::from(2);
            }
        }
    }
    gateway_app::run(options)
}
