//! The edge profile end to end with the real binary: `llm-gateway edge` makes a signing key,
//! issues keys and signs a tenants source; a gateway serving that file answers its keys, and
//! after the source is re-signed without one and the gateway gets SIGHUP, that key is refused.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const PEPPER: &str = "edge-pepper-0123456789";

fn edge(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_llm-gateway"))
        .env("GATEWAY_KEY_PEPPER", PEPPER)
        .arg("edge")
        .args(args)
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "status {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A new key's secret and the `[[tenants.keys]]` entry `edge new-key` printed for it.
fn new_key(id: &str) -> (String, String) {
    let text = ok(&edge(&["new-key", "--tenant", "edge", "--id", id]));
    let secret = text.lines().next().unwrap().rsplit(' ').next().unwrap();
    let entry: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    (secret.to_owned(), entry.join("\n"))
}

fn sign(dir: &Path, serial: u64, entries: &[&str]) -> PathBuf {
    let source = dir.join("tenants.toml");
    let text = format!(
        "serial = {serial}\n\n[[tenants]]\nid = \"edge\"\nlimits = {{ rpm = 100000 }}\n\n{}\n",
        entries.join("\n")
    );
    std::fs::write(&source, text).unwrap();
    let signed = dir.join("tenants.signed.json");
    let key = dir.join("signing.pem");
    let out = edge(&[
        "sign",
        "--key",
        key.to_str().unwrap(),
        "--in",
        source.to_str().unwrap(),
        "--out",
        signed.to_str().unwrap(),
    ]);
    assert!(ok(&out).contains(&format!("serial {serial}")));
    signed
}

fn chat_status(addr: &str, secret: &str) -> u16 {
    let body = r#"{"model":"demo","messages":[{"role":"user","content":"Hello from the edge"}]}"#;
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {secret}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    reply.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn keys_signed_offline_serve_until_a_re_signed_file_drops_them() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("signing.pem");
    let key_path = key_file.to_str().unwrap();
    let out = ok(&edge(&["keygen", "--out", key_path]));
    let public_key = out.lines().find_map(|l| l.split("): ").nth(1)).unwrap();
    // A signing key is never overwritten.
    assert_eq!(edge(&["keygen", "--out", key_path]).status.code(), Some(1));

    let (kept_secret, kept) = new_key("kept");
    let (dropped_secret, dropped) = new_key("dropped");
    let signed = sign(dir.path(), 1, &[&kept, &dropped]);
    let signed_path = signed.to_str().unwrap();
    let verified = ok(&edge(&["verify", "--public-key", public_key, signed_path]));
    assert!(verified.contains("signature valid, serial 1, 1 tenant(s), 2 key(s)"));
    let foreign = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    assert_eq!(
        edge(&["verify", "--public-key", foreign, signed_path])
            .status
            .code(),
        Some(1)
    );

    // A source the gateway would refuse is refused before signing.
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "serial = 1\n[[tenants]]\nid = \"t\"\n[[tenants.keys]]\nid = \"k\"\nhash = \"xyz\"\n",
    )
    .unwrap();
    let out = edge(&[
        "sign",
        "--key",
        key_path,
        "--in",
        bad.to_str().unwrap(),
        "--out",
        "x",
    ]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");

    let config = dir.path().join("gateway.toml");
    std::fs::write(
        &config,
        format!("[auth]\npepper = \"{PEPPER}\"\n\n[store.signed_file]\npath = {signed:?}\npublic_key = \"{public_key}\"\n"),
    )
    .unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_llm-gateway"));
    cmd.arg("-c")
        .arg(&config)
        .args(["--demo", "--listen", "127.0.0.1:0"])
        .stderr(Stdio::null());
    let (gw, addr) = common::spawn_listening(cmd);
    assert_eq!(chat_status(&addr, &kept_secret), 200);
    assert_eq!(chat_status(&addr, &dropped_secret), 200);

    sign(dir.path(), 2, &[&kept]);
    let pid = gw.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap()
            .success()
    );
    // The reload runs on the gateway's own time: wait for it, bounded.
    let deadline = Instant::now() + Duration::from_secs(20);
    while chat_status(&addr, &dropped_secret) != 401 {
        assert!(
            Instant::now() < deadline,
            "the dropped key still works after SIGHUP"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(chat_status(&addr, &kept_secret), 200);
}
