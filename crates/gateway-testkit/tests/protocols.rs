//! HTTP/2 without TLS (h2c prior knowledge), keep-alive, shutdown on drop, and the binary.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use bytes::Bytes;
use gateway_testkit::MockServer;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};
use tokio::net::TcpStream;

#[allow(clippy::unwrap_used)] // test helper: a bad request is a broken test
fn chat_request(authority: &str, body: &Value) -> http::Request<Full<Bytes>> {
    http::Request::post(format!("http://{authority}/v1/chat/completions"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}

#[tokio::test]
async fn h2c_streams_and_multiplexes() {
    let mock = MockServer::start().await.unwrap();
    let io = TokioIo::new(TcpStream::connect(mock.addr()).await.unwrap());
    let (mut sender, connection) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
        .await
        .unwrap();
    tokio::spawn(connection);
    let authority = mock.addr().to_string();
    let body =
        json!({"model": "m", "stream": true, "messages": [{"role": "user", "content": "h2"}]});
    let response = sender
        .send_request(chat_request(&authority, &body))
        .await
        .unwrap();
    assert_eq!(response.version(), http::Version::HTTP_2);
    let text = response.into_body().collect().await.unwrap().to_bytes();
    assert!(text.ends_with(b"data: [DONE]\n\n"));

    let cut = json!({"model": "mock-stream-stop-1", "stream": true,
                     "messages": [{"role": "user", "content": "h2"}]});
    let response = sender
        .send_request(chat_request(&authority, &cut))
        .await
        .unwrap();
    assert!(
        response.into_body().collect().await.is_err(),
        "stream must be reset"
    );
    assert_eq!(mock.requests().len(), 2);
}

#[tokio::test]
async fn http1_keep_alive_and_stop_on_drop() {
    let mock = MockServer::start().await.unwrap();
    let addr = mock.addr();
    let io = TokioIo::new(TcpStream::connect(addr).await.unwrap());
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io).await.unwrap();
    let connection = tokio::spawn(connection);
    for _ in 0..3 {
        let body = json!({"model": "m", "messages": [{"role": "user", "content": "again"}]});
        let response = sender
            .send_request(chat_request(&addr.to_string(), &body))
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.into_body().collect().await.unwrap();
    }
    assert_eq!(mock.requests().len(), 3);
    drop(mock);
    // The open keep-alive connection is closed and the port no longer accepts.
    tokio::time::timeout(std::time::Duration::from_secs(5), connection)
        .await
        .unwrap()
        .unwrap()
        .ok();
    let refused = gateway_testkit::eventually_async(std::time::Duration::from_secs(5), || async {
        TcpStream::connect(addr).await.is_err()
    })
    .await;
    assert!(refused, "the port still accepts after the mock was dropped");
}

#[test]
fn binary_prints_its_address_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mock-upstream"))
        .args(["--listen", "127.0.0.1:0", "--latency-ms", "1"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap()
        .to_owned();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let status = runtime.block_on(async {
        let io = TokioIo::new(TcpStream::connect(&addr).await.unwrap());
        let (mut sender, connection) = hyper::client::conn::http1::handshake(io).await.unwrap();
        tokio::spawn(connection);
        let body = json!({"model": "m", "messages": [{"role": "user", "content": "load"}]});
        let response = sender
            .send_request(chat_request(&addr, &body))
            .await
            .unwrap();
        response.status()
    });
    assert_eq!(status, 200);

    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert!(child.wait().unwrap().success());
}
