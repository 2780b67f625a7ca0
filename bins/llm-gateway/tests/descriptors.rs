//! The gateway process under a lowered descriptor limit (`ulimit -n` in a shell wrapper): a
//! flood of silent connections neither takes `/health` down nor fills the log, and every silent
//! connection is closed after the header timeout. Loopback only; every wait is bounded.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;

use common::{Running, spawn_listening};
use std::time::{Duration, Instant};

/// Far above every timeout these tests configure (2 s).
const BOUND: Duration = Duration::from_secs(30);

/// Kills the gateway when the test ends, however it ends.
/// Starts the gateway with `server` appended to `[server]`, under `ulimit -n nofile`; its log
/// goes to `log`. Returns the process and its address.
fn start(dir: &Path, nofile: u32, server: &str, log: &Path) -> (Running, String) {
    let config = dir.join("gateway.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\nheader_timeout_secs = 2\ndata_dir = \"{}\"\n{server}\n",
            dir.join("data").display()
        ),
    )
    .unwrap();
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("ulimit -n {nofile} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_llm-gateway"))
        .arg("--config")
        .arg(&config)
        .env("RUST_LOG", "warn")
        .stderr(std::fs::File::create(log).unwrap());
    spawn_listening(cmd)
}

/// `GET path` on a new connection; the status and body, or `None` if no answer came.
fn get(addr: &str, path: &str, wait: Duration) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(wait)).unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").as_bytes())
        .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let (head, body) = out.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    Some((status, body.to_owned()))
}

/// Polls `/health` until it answers 200; fails after [`BOUND`].
fn health_answers(addr: &str) {
    let deadline = Instant::now() + BOUND;
    while Instant::now() < deadline {
        if let Some((200, _)) = get(addr, "/health", Duration::from_secs(5)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("/health never answered within {BOUND:?}");
}

/// Opens `n` connections that send nothing.
fn silent_connections(addr: &str, n: usize) -> Vec<TcpStream> {
    (0..n).map(|_| TcpStream::connect(addr).unwrap()).collect()
}

/// Every stream is closed by the server (EOF or reset) within [`BOUND`].
fn all_closed_by_server(streams: Vec<TcpStream>) {
    let deadline = Instant::now() + BOUND;
    for mut s in streams {
        let left = deadline.saturating_duration_since(Instant::now());
        s.set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        let mut buf = [0u8; 64];
        match s.read(&mut buf) {
            Ok(0) => {}
            Ok(n) => panic!("a silent connection got {n} bytes"),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                panic!("a silent connection was still open after {BOUND:?}")
            }
            Err(_) => {} // reset: closed too
        }
    }
}

fn lines_containing(log: &Path, needle: &str) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(needle))
        .count()
}

/// The value of an unlabelled series in `/metrics`, 0 when absent.
fn metric(addr: &str, series: &str) -> f64 {
    let (_, body) = get(addr, "/metrics", Duration::from_secs(5)).expect("/metrics answers");
    body.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

#[test]
fn silent_connections_beyond_the_descriptor_limit_leave_health_answering() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("gateway.log");
    // Default cap under 256 descriptors: (256 - 128 reserved) / 2 = 64 connections.
    let (_gateway, addr) = start(dir.path(), 256, "", &log);
    let silent = silent_connections(&addr, 300);
    health_answers(&addr);
    all_closed_by_server(silent);
    health_answers(&addr);
    assert_eq!(lines_containing(&log, "accept failed"), 0);
}

#[test]
fn out_of_descriptors_the_listener_backs_off_and_logs_once_per_interval() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("gateway.log");
    // A cap the descriptor limit cannot hold (the process itself needs more than the
    // 16 reserved): accepts fail with EMFILE.
    let (_gateway, addr) = start(
        dir.path(),
        40,
        "max_connections = 1000\nreserved_descriptors = 16",
        &log,
    );
    let started = Instant::now();
    let silent = silent_connections(&addr, 100);
    health_answers(&addr);
    assert!(metric(&addr, "gateway_connections_accept_errors_total") > 0.0);
    all_closed_by_server(silent);
    // One line per ten seconds at most, however many accepts failed.
    let allowed = 1 + started.elapsed().as_secs() / 10;
    let logged = lines_containing(&log, "accept failed") as u64;
    assert!(
        (1..=allowed).contains(&logged),
        "{logged} lines about failed accepts in {:?}",
        started.elapsed()
    );
}
