//! Usage records of completed calls survive SIGKILL once the documented bound has passed
//! (`docs/security.md`, "Durability": `telemetry.usage.flush_interval_ms`, 200 ms by
//! default, plus one store write). The real binary on a SQLite file makes N calls, is killed
//! with SIGKILL that bound (with slack for the write on a busy machine) after the last
//! answer, is restarted on the same file, and the usage API counts every call.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};

use common::{Running, spawn_listening};
use std::time::Duration;

use gateway_testkit::MockServer;

const DEMO_KEY: &str = "sk-gw-DurabilityTestKey0123456789abcdefghijklmnop";
const ADMIN: &str = "admin-token-for-durability-0123456";
/// The default flush interval, plus what one SQLite write may take on a loaded machine.
const LOSS_BOUND: Duration = Duration::from_millis(200 + 500);
const CALLS: usize = 5;

fn config(dir: &Path, mock: &MockServer) -> std::path::PathBuf {
    let text = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n\n[store]\ndatabase_url = \"sqlite://{}/usage.db?mode=rwc\"\n\n[admin]\ntoken = \"{ADMIN}\"\n\n[providers.mock]\nkind = \"openai\"\nbase_url = \"{}\"\napi_key = \"sk-upstream-secret-1234567890\"\n\n[models.shared]\nprovider = \"mock\"\nupstream_model = \"gpt-4o-mini\"\n",
        dir.display(),
        mock.base_url()
    );
    let path = dir.join("gateway.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn start(config: &Path) -> (Running, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_llm-gateway"));
    cmd.args(["--demo", "--listen", "127.0.0.1:0", "--config"])
        .arg(config)
        .env("GATEWAY_DEMO_KEY", DEMO_KEY)
        .env("RUST_LOG", "error")
        .stderr(Stdio::null());
    spawn_listening(cmd)
}

/// One HTTP/1.1 exchange; returns the status and the body.
fn exchange(addr: &str, method: &str, path: &str, auth: &str, body: &str) -> (u16, String) {
    let request = format!(
        "{method} {path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {auth}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {out}"));
    (status, body.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_of_completed_calls_survives_sigkill_after_the_bound() {
    let mock = MockServer::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &mock);

    let (mut gateway, addr) = tokio::task::spawn_blocking({
        let config = config.clone();
        move || start(&config)
    })
    .await
    .unwrap();
    let chat = r#"{"model":"shared","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}"#;
    tokio::task::spawn_blocking(move || {
        for _ in 0..CALLS {
            let (status, body) = exchange(&addr, "POST", "/v1/chat/completions", DEMO_KEY, chat);
            assert_eq!(status, 200, "{body}");
        }
        std::thread::sleep(LOSS_BOUND);
        // Child::kill is SIGKILL: no flush, no graceful shutdown.
        gateway.0.kill().unwrap();
        gateway.0.wait().unwrap();
    })
    .await
    .unwrap();

    let (_again, addr) = tokio::task::spawn_blocking(move || start(&config))
        .await
        .unwrap();
    let usage =
        tokio::task::spawn_blocking(move || exchange(&addr, "GET", "/admin/v1/usage", ADMIN, ""))
            .await
            .unwrap();
    assert_eq!(usage.0, 200, "{}", usage.1);
    let body: serde_json::Value = serde_json::from_str(&usage.1).unwrap();
    assert_eq!(
        body["data"][0]["requests"], CALLS,
        "every completed call is in the store after SIGKILL: {body}"
    );
}
