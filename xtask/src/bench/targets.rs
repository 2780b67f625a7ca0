//! The systems under test: mock-upstream called directly, nginx in front of it, and
//! the release gateway in front of it (configured from `xtask/bench/gateway-bench.toml`).

use std::ffi::OsStr;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::procs::{Service, free_port};
use super::stream::StreamRequest;
use crate::Result;

/// The key the bench presents to the gateway.
pub const GATEWAY_KEY: &str = "sk-gw-BenchKey0123456789abcdefghijklmnopqrstuvwxy";
/// The key the gateway (and the direct/nginx runs) present to the mock.
pub const UPSTREAM_KEY: &str = "bench-upstream-key";
/// Latency of the slow mock.
pub const SLOW_MS: u64 = 20;
const CONFIG_TEMPLATE: &str = include_str!("../../bench/gateway-bench.toml");
const CHAT_PATH: &str = "/v1/chat/completions";
const STARTUP: Duration = Duration::from_secs(30);

/// One URL a load is sent to, with the model name and credentials it needs.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub addr: SocketAddr,
    pub model: String,
    pub authorization: String,
}

impl Endpoint {
    pub fn url(&self) -> String {
        format!("http://{}{CHAT_PATH}", self.addr)
    }

    /// A small chat request; `stream` asks for server-sent events.
    pub fn body(&self, stream: bool) -> String {
        serde_json::json!({
            "model": self.model,
            "messages": [{"role": "user", "content": "Say hello to the benchmark."}],
            "max_tokens": 32,
            "stream": stream,
        })
        .to_string()
    }

    pub fn stream_request(&self) -> StreamRequest {
        StreamRequest {
            addr: self.addr,
            path: CHAT_PATH.into(),
            authorization: Some(self.authorization.clone()),
            body: self.body(true),
        }
    }
}

/// A system under test: its fast route (mock without latency), its slow route (mock
/// +20 ms) and the pid whose CPU and memory are measured, if any.
#[derive(Debug, Clone)]
pub struct Target {
    pub fast: Endpoint,
    pub slow: Endpoint,
    pub measured_pid: Option<u32>,
    /// Where the gateway serves `/metrics` (gateway targets only).
    pub metrics: Option<SocketAddr>,
}

/// The two mock-upstream processes.
pub struct Mocks {
    pub fast_addr: SocketAddr,
    pub slow_addr: SocketAddr,
    _fast: Service,
    _slow: Service,
}

/// Starts mock-upstream twice: no added latency, and [`SLOW_MS`].
pub fn start_mocks(bin: &Path) -> Result<Mocks> {
    let start = |latency: u64| -> Result<(Service, SocketAddr)> {
        let mut cmd = Command::new(bin);
        cmd.args([
            "--listen",
            "127.0.0.1:0",
            "--latency-ms",
            &latency.to_string(),
        ]);
        let mut service = Service::spawn(&format!("mock-upstream ({latency} ms)"), cmd)?;
        let addr = service.wait_ready(None, STARTUP)?;
        Ok((service, addr))
    };
    let (fast, fast_addr) = start(0)?;
    let (slow, slow_addr) = start(SLOW_MS)?;
    Ok(Mocks {
        fast_addr,
        slow_addr,
        _fast: fast,
        _slow: slow,
    })
}

/// Calling the mocks directly (model `bench-model`).
pub fn direct(mocks: &Mocks) -> Target {
    upstream_style(mocks.fast_addr, mocks.slow_addr)
}

/// Any proxy that forwards the upstream's own request format (nginx).
pub fn upstream_style(fast: SocketAddr, slow: SocketAddr) -> Target {
    let endpoint = |addr| Endpoint {
        addr,
        model: "bench-model".into(),
        authorization: format!("Bearer {UPSTREAM_KEY}"),
    };
    Target {
        fast: endpoint(fast),
        slow: endpoint(slow),
        measured_pid: None,
        metrics: None,
    }
}

/// Fills the placeholders of `xtask/bench/gateway-bench.toml`.
pub fn render_config(listen: SocketAddr, mock: SocketAddr, mock_slow: SocketAddr) -> String {
    CONFIG_TEMPLATE
        .replace("@GATEWAY_LISTEN@", &listen.to_string())
        .replace("@MOCK_URL@", &format!("http://{mock}"))
        .replace("@MOCK_SLOW_URL@", &format!("http://{mock_slow}"))
}

/// Starts the release gateway in front of the mocks, with extra environment variables
/// (e.g. `GATEWAY__*` config overrides); returns its guard and target. With `cached`, the
/// target calls the model groups whose response cache is on.
pub fn start_gateway_with(
    bin: &Path,
    scratch: &Path,
    mocks: &Mocks,
    cached: bool,
    env: &[(&str, &OsStr)],
) -> Result<(Service, Target)> {
    std::fs::create_dir_all(scratch)?;
    // The port is free when picked but not reserved: an outgoing connection or another
    // process may take it before the gateway binds it. Such a start is retried on a new port.
    let mut attempt = 1;
    let (service, listen) = loop {
        let listen = SocketAddr::from(([127, 0, 0, 1], free_port()?));
        match spawn_gateway(bin, scratch, mocks, listen, env) {
            Ok(service) => break (service, listen),
            Err(err) if attempt < START_ATTEMPTS && lost_port_race(&err.to_string()) => {
                println!(
                    "  gateway: port {} was taken meanwhile; retrying",
                    listen.port()
                );
                attempt += 1;
            }
            Err(err) => return Err(err),
        }
    };
    let endpoint = |model: &str| Endpoint {
        addr: listen,
        model: model.into(),
        authorization: format!("Bearer {GATEWAY_KEY}"),
    };
    let (fast, slow) = if cached {
        ("bench-cached", "bench-slow-cached")
    } else {
        ("bench", "bench-slow")
    };
    let target = Target {
        fast: endpoint(fast),
        slow: endpoint(slow),
        measured_pid: Some(service.pid()),
        metrics: Some(listen),
    };
    Ok((service, target))
}

/// Starts the gateway on `listen` with the bench config and waits until it listens.
fn spawn_gateway(
    bin: &Path,
    scratch: &Path,
    mocks: &Mocks,
    listen: SocketAddr,
    env: &[(&str, &OsStr)],
) -> Result<Service> {
    let config = scratch.join("gateway-bench.toml");
    std::fs::write(
        &config,
        render_config(listen, mocks.fast_addr, mocks.slow_addr),
    )?;
    let mut cmd = Command::new(bin);
    // `--demo` registers GATEWAY_DEMO_KEY in an in-memory store, so every call goes
    // through real API-key authentication (hash, constant-time compare, key cache).
    cmd.arg("--config")
        .arg(&config)
        .arg("--demo")
        .current_dir(scratch)
        .env("GATEWAY_BENCH_KEY", GATEWAY_KEY)
        .env("GATEWAY_DEMO_KEY", GATEWAY_KEY)
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied());
    let mut service = Service::spawn("llm-gateway", cmd)?;
    service.wait_ready(Some(listen), STARTUP)?;
    Ok(service)
}

/// Starts of the gateway tried before a taken port fails the target.
const START_ATTEMPTS: u32 = 3;

/// Whether a gateway that failed to start lost its picked port to someone else.
fn lost_port_race(error: &str) -> bool {
    error.contains("Address already in use")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_taken_port_is_retried() {
        assert!(lost_port_race(
            "llm-gateway exited (exit status: 1) before listening; output:\n\
             error: I/O error: Address already in use (os error 98)"
        ));
        assert!(!lost_port_race(
            "llm-gateway exited (exit status: 1) before listening; output:\n\
             error: config: server.workers: must be at most 1024"
        ));
    }

    #[test]
    fn config_template_renders_to_valid_toml() {
        let text = render_config(
            "127.0.0.1:8000".parse().unwrap(),
            "127.0.0.1:9000".parse().unwrap(),
            "127.0.0.1:9001".parse().unwrap(),
        );
        assert!(!text.contains('@'), "unfilled placeholder:\n{text}");
        let config: toml::Table = text.parse().unwrap();
        assert_eq!(config["server"]["listen"].as_str(), Some("127.0.0.1:8000"));
        assert_eq!(
            config["providers"]["mock"]["base_url"].as_str(),
            Some("http://127.0.0.1:9000/v1")
        );
        assert_eq!(
            config["providers"]["mock-slow"]["base_url"].as_str(),
            Some("http://127.0.0.1:9001/v1")
        );
        assert_eq!(
            config["models"]["bench"]["upstream_model"].as_str(),
            Some("bench-model")
        );
        assert_eq!(
            config["models"]["bench-slow"]["provider"].as_str(),
            Some("mock-slow")
        );
    }

    #[test]
    fn endpoint_bodies_are_json_chat_requests() {
        let target = upstream_style(
            "127.0.0.1:1".parse().unwrap(),
            "127.0.0.1:2".parse().unwrap(),
        );
        let body: serde_json::Value = serde_json::from_str(&target.fast.body(true)).unwrap();
        assert_eq!(body["model"], "bench-model");
        assert_eq!(body["stream"], true);
        assert_eq!(target.slow.url(), "http://127.0.0.1:2/v1/chat/completions");
    }
}
