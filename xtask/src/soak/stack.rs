//! The processes a soak or chaos run drives: the gateway and mock-upstream binaries (built
//! first, debug unless `--release`), started on loopback with a configuration written to a
//! scratch directory, and stopped when their guards drop.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::Result;
use crate::bench::procs::{Service, free_port};
use crate::util::{cargo, run_status, target_dir};

/// The key callers present (gateway key shape); the gateway runs with `--demo` and
/// `GATEWAY_DEMO_KEY` set to it.
pub const CALLER_KEY: &str = "sk-gw-SoakChaosKey0123456789abcdefghijklmnopqrstu";
/// The key the gateway presents to the mock.
pub const UPSTREAM_KEY: &str = "soak-upstream-key-0123456789";
/// How long a process may take to listen.
pub const STARTUP: Duration = Duration::from_secs(60);

/// Builds `llm-gateway` and `mock-upstream` (unless `no_build`) and returns their directory.
pub fn build_binaries(root: &Path, release: bool, no_build: bool) -> Result<PathBuf> {
    if !no_build {
        let mut cmd = Command::new(cargo());
        cmd.current_dir(root).args([
            "build",
            "-p",
            "llm-gateway",
            "-p",
            "gateway-testkit",
            "--bins",
        ]);
        if release {
            cmd.arg("--release");
        }
        run_status(&mut cmd)?;
    }
    let dir = target_dir(root).join(if release { "release" } else { "debug" });
    for bin in ["llm-gateway", "mock-upstream"] {
        if !dir.join(bin).is_file() {
            return Err(format!("{} was not built", dir.join(bin).display()).into());
        }
    }
    Ok(dir)
}

/// Starts `mock-upstream` on a free loopback port.
pub fn start_mock(bin_dir: &Path) -> Result<(Service, SocketAddr)> {
    let mut cmd = Command::new(bin_dir.join("mock-upstream"));
    cmd.args(["--listen", "127.0.0.1:0"]);
    let mut service = Service::spawn("mock-upstream", cmd)?;
    let addr = service.wait_ready(None, STARTUP)?;
    Ok((service, addr))
}

/// A gateway's launch recipe: enough to start it again on the same port after a kill.
#[derive(Debug, Clone)]
pub struct GatewaySpec {
    pub name: String,
    pub bin: PathBuf,
    pub config: PathBuf,
    pub listen: SocketAddr,
    pub dir: PathBuf,
}

impl GatewaySpec {
    /// Writes `config` (with `@LISTEN@` filled with a free port) under `dir`.
    pub fn new(name: &str, bin_dir: &Path, dir: &Path, config: &str) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let listen = SocketAddr::from(([127, 0, 0, 1], free_port()?));
        let path = dir.join(format!("{name}.toml"));
        std::fs::write(&path, config.replace("@LISTEN@", &listen.to_string()))?;
        Ok(Self {
            name: name.to_owned(),
            bin: bin_dir.join("llm-gateway"),
            config: path,
            listen,
            dir: dir.to_path_buf(),
        })
    }

    /// Starts the gateway (`--demo`, so the caller key is registered) and waits until it listens.
    pub fn start(&self) -> Result<Service> {
        let mut cmd = Command::new(&self.bin);
        cmd.arg("--config")
            .arg(&self.config)
            .arg("--demo")
            .current_dir(&self.dir)
            .env("GATEWAY_DEMO_KEY", CALLER_KEY)
            .env_remove("RUST_LOG")
            .env_remove("GATEWAY_CONFIG")
            .env_remove("GATEWAY_LISTEN")
            .env_remove("OPENAI_API_KEY");
        let mut service = Service::spawn(&self.name, cmd)?;
        service.wait_ready(Some(self.listen), STARTUP)?;
        Ok(service)
    }
}

/// The resident set size of `pid` in KiB (`VmRSS` of `/proc/PID/status`).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// SIGKILL, without the grace a dropped [`Service`] gets.
pub fn kill_hard(pid: u32) -> Result<()> {
    run_status(Command::new("kill").args(["-KILL", &pid.to_string()]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_rss_is_read() {
        let rss = rss_kib(std::process::id()).unwrap();
        assert!(rss > 100, "{rss} KiB");
        assert_eq!(rss_kib(u32::MAX), None);
    }

    #[test]
    fn caller_key_has_the_gateway_key_shape() {
        let body = CALLER_KEY.strip_prefix("sk-gw-").unwrap();
        assert_eq!(body.len(), 43);
        assert!(body.chars().all(|c| c.is_ascii_alphanumeric()));
    }
}
