//! Answers given before a request body is read: a declared body over the limit gets 413 at
//! once (no `100 Continue`, nothing read), a body that arrives too slowly gets 408 in the
//! dialect's error shape, and after an early 413 or 401 the connection closes lingeringly so
//! that a client still sending (Python's `http.client`, under `urllib` and `requests`) reads
//! the answer instead of a broken pipe.

// Test helpers outside #[test] functions may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Command;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use common::TestGateway;

/// Far above every timeout these tests configure.
const BOUND: Duration = Duration::from_secs(30);

/// Sends `head` (and no body), then reads what the server answers until it closes.
async fn raw_exchange(gw: &TestGateway, head: &str) -> String {
    let mut stream = TcpStream::connect(gw.addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(BOUND, stream.read_to_end(&mut out))
        .await
        .expect("the server answered and closed")
        .unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

fn status_and_json(answer: &str) -> (u16, serde_json::Value) {
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((answer, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {answer:?}"));
    let json = serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body:?}"));
    (status, json)
}

#[tokio::test]
async fn expect_continue_with_a_length_over_the_limit_gets_413_without_100_continue() {
    let gw = TestGateway::start_with("max_body_bytes = 1024").await;
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: {}\r\ncontent-type: application/json\r\ncontent-length: 10485760\r\nexpect: 100-continue\r\n\r\n",
        gw.bearer()
    );
    let answer = raw_exchange(&gw, &head).await;
    assert!(
        answer.starts_with("HTTP/1.1 413 "),
        "expected an immediate 413, got {answer:?}"
    );
    let (_, json) = status_and_json(&answer);
    assert_eq!(json["error"]["code"], "request_too_large");
}

#[tokio::test]
async fn a_body_that_arrives_too_slowly_gets_408_in_each_dialect() {
    let gw = TestGateway::start_with("body_timeout_secs = 1").await;
    for (path, auth) in [
        (
            "/v1/chat/completions",
            format!("authorization: {}", gw.bearer()),
        ),
        ("/v1/messages", format!("x-api-key: {}", gw.key)),
    ] {
        let head = format!(
            "POST {path} HTTP/1.1\r\nhost: x\r\n{auth}\r\ncontent-type: application/json\r\ncontent-length: 100\r\nconnection: close\r\n\r\n{{\"model\""
        );
        let (status, json) = status_and_json(&raw_exchange(&gw, &head).await);
        assert_eq!(status, 408, "{path}: {json}");
        if path == "/v1/messages" {
            assert_eq!(json["type"], "error", "{json}");
            assert_eq!(json["error"]["type"], "invalid_request_error", "{json}");
        } else {
            assert_eq!(json["error"]["code"], "request_timeout", "{json}");
        }
    }
}

/// Posts a 64 MiB body with Python's `http.client` (which sends the whole body before reading
/// the answer); returns `(status, JSON body)`, or `None` when python3 is missing.
fn python_upload(
    gw: &TestGateway,
    authorization: Option<&str>,
) -> Option<(u16, serde_json::Value)> {
    const SCRIPT: &str = r#"
import http.client, sys
host, port, auth = sys.argv[1], int(sys.argv[2]), sys.argv[3]
headers = {"content-type": "application/json"}
if auth:
    headers["authorization"] = auth
conn = http.client.HTTPConnection(host, port, timeout=60)
try:
    conn.request("POST", "/v1/chat/completions", body=b"x" * (64 * 1024 * 1024), headers=headers)
    resp = conn.getresponse()
    print(resp.status)
    print(resp.read().decode())
except OSError as e:
    print("client error:", type(e).__name__, e)
    sys.exit(3)
"#;
    let output = Command::new("python3")
        .arg("-c")
        .arg(SCRIPT)
        .arg(gw.addr.ip().to_string())
        .arg(gw.addr.port().to_string())
        .arg(authorization.unwrap_or(""))
        .output();
    let output = match output {
        Ok(o) => o,
        Err(e) => {
            assert!(
                std::env::var("GATEWAY_REQUIRE_SERVICES").as_deref() != Ok("1"),
                "python3 cannot run ({e}) and GATEWAY_REQUIRE_SERVICES=1"
            );
            println!("skipping: python3 cannot run ({e})");
            return None;
        }
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the Python client failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (status, body) = stdout.split_once('\n').unwrap();
    Some((
        status.trim().parse().unwrap(),
        serde_json::from_str(body.trim()).unwrap(),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_client_uploading_64_mib_reads_the_413() {
    let gw = TestGateway::start().await;
    let auth = gw.bearer();
    let gw = std::sync::Arc::new(gw);
    let client = gw.clone();
    let answer = tokio::task::spawn_blocking(move || python_upload(&client, Some(&auth)))
        .await
        .unwrap();
    let Some((status, json)) = answer else { return };
    assert_eq!(status, 413, "{json}");
    assert_eq!(json["error"]["code"], "request_too_large");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_client_uploading_64_mib_without_credentials_reads_the_401() {
    let gw = std::sync::Arc::new(TestGateway::start().await);
    let client = gw.clone();
    let answer = tokio::task::spawn_blocking(move || python_upload(&client, None))
        .await
        .unwrap();
    let Some((status, json)) = answer else { return };
    assert_eq!(status, 401, "{json}");
    assert_eq!(json["error"]["type"], "authentication_error");
}
