//! The real binary: `--check-config` reports every problem, `--demo` answers offline, and
//! SIGTERM drains and exits 0.

// Test helpers outside #[test] functions may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_llm-gateway"));
    for var in [
        "OPENAI_API_KEY",
        "GROQ_API_KEY",
        "OPENROUTER_API_KEY",
        "GATEWAY_CONFIG",
        "GATEWAY_LISTEN",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

#[test]
fn check_config_reports_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "[server]\nlisten = \"nope\"\n[providers.a]\nkind = \"openai\"\nbase_url = \"ftp://x\"\n[models.m]\nprovider = \"zzz\"\nupstream_model = \"x\"\n",
    )
    .unwrap();
    let out = bin()
        .args(["--check-config", "-c"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for key in ["server", "providers.a.base_url", "models.m.provider"] {
        assert!(stderr.contains(key), "{key} missing from: {stderr}");
    }

    let good = dir.path().join("good.toml");
    std::fs::write(&good, "[server]\nlisten = \"127.0.0.1:0\"\n").unwrap();
    let out = bin()
        .args(["--check-config", "--config"])
        .arg(&good)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A gateway key shape: `sk-gw-` and 43 letters or digits.
const DEMO_KEY: &str = "sk-gw-CliTestKey0123456789abcdefghijklmnopqrstuvw";

struct Running(Child);
impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
    }
}

fn start_demo() -> (Running, String) {
    let mut child = bin()
        .args(["--demo", "--listen", "127.0.0.1:0"])
        .env("GATEWAY_DEMO_KEY", DEMO_KEY)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    // The demo key line comes first; the address line follows. The reader keeps draining
    // stdout in the background so the gateway never blocks on a full pipe.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(addr) = line.trim().strip_prefix("listening on http://") {
                let _ = tx.send(addr.to_owned());
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("no 'listening on' line");
    (Running(child), addr)
}

fn http(addr: &str, request: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn demo_answers_and_sigterm_exits_zero() {
    let (mut running, addr) = start_demo();
    let body = r#"{"model":"demo","messages":[{"role":"user","content":"Hello demo"}]}"#;
    let reply = http(
        &addr,
        &format!(
            "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {DEMO_KEY}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains("Hello demo"), "{reply}");

    let status = Command::new("kill")
        .args(["-TERM", &running.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(code) = running.0.try_wait().unwrap() {
            assert_eq!(code.code(), Some(0));
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "did not exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn models(addr: &str) -> String {
    http(
        addr,
        &format!(
            "GET /v1/models HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {DEMO_KEY}\r\nconnection: close\r\n\r\n"
        ),
    )
}

fn hangup(child: &Child) {
    let status = Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Poll until `f` holds (the reload is asynchronous to the signal), for at most 10 s.
fn eventually(mut f: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn sighup_reloads_a_good_file_and_rejects_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gateway.toml");
    std::fs::write(&path, "[logging]\nlevel = \"warn\"\n").unwrap();
    let mut child = bin()
        .args(["--demo", "--listen", "127.0.0.1:0", "--config"])
        .arg(&path)
        .env("GATEWAY_DEMO_KEY", DEMO_KEY)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(addr) = line.trim().strip_prefix("listening on http://") {
                let _ = tx.send(addr.to_owned());
            }
        }
    });
    // The log says when a reload was rejected; the reader keeps draining stderr.
    let stderr = child.stderr.take().unwrap();
    let (rejected_tx, rejected) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("configuration reload rejected") {
                let _ = rejected_tx.send(line);
            }
        }
    });
    let running = Running(child);
    let addr = rx.recv_timeout(Duration::from_secs(30)).unwrap();
    assert!(!models(&addr).contains("\"extra\""));

    std::fs::write(
        &path,
        "[providers.other]\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:9/v1\"\n[models.extra]\nprovider = \"other\"\nupstream_model = \"x\"\n",
    )
    .unwrap();
    hangup(&running.0);
    assert!(
        eventually(|| models(&addr).contains("\"extra\"")),
        "the new model never appeared"
    );
    assert!(
        models(&addr).contains("\"demo\""),
        "the demo model survives the reload"
    );

    std::fs::write(&path, "[models.broken]\nprovider = \"nowhere\"\n").unwrap();
    hangup(&running.0);
    rejected
        .recv_timeout(Duration::from_secs(10))
        .expect("the bad file was never rejected");
    let after = models(&addr);
    assert!(
        after.contains("\"extra\"") && !after.contains("\"broken\""),
        "bad file was applied: {after}"
    );
}
