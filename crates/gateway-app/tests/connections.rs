//! Every phase of a client connection's life is bounded, and the number of connections is
//! capped: silent TCP, a partial HTTP/2 preface, an h2c connection that opens no stream, an
//! idle HTTP/2 connection and a TLS connection idle after its handshake are all closed; at
//! `server.max_connections` an idle connection makes room for a new one, and with none idle
//! the new one is refused at once and counted. A stop closes idle keep-alive connections at
//! once instead of lingering on them. Each wait is bounded well above the configured
//! timeout (these are bounds, not timing claims).

// Test helpers outside #[test] functions may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::Empty;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use common::TestGateway;
use gateway_app::{AppState, Config, Server};

/// Far above every timeout these tests configure (1 s).
const BOUND: Duration = Duration::from_secs(20);

const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// An empty SETTINGS frame: length 0, type 4, no flags, stream 0.
const H2_EMPTY_SETTINGS: &[u8] = &[0, 0, 0, 4, 0, 0, 0, 0, 0];

/// Reads until the server closes the connection (EOF or reset); fails if it is still open
/// after [`BOUND`].
async fn closed_by_server(mut stream: impl AsyncRead + Unpin) {
    let mut sink = Vec::new();
    match tokio::time::timeout(BOUND, stream.read_to_end(&mut sink)).await {
        Ok(_) => {}
        Err(_) => panic!("the server kept the connection open for {BOUND:?}"),
    }
}

/// The value of an unlabelled sample in the gateway's metrics text, 0 when absent.
fn metric(gw: &TestGateway, series: &str) -> f64 {
    let text = gw.state.telemetry.metrics().encode();
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

/// Polls `done` every 20 ms; fails after [`BOUND`].
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + BOUND;
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_silent_tcp_connection_is_closed_after_the_header_timeout() {
    let gw = TestGateway::start_with("header_timeout_secs = 1").await;
    let stream = TcpStream::connect(gw.addr).await.unwrap();
    closed_by_server(stream).await;
    assert_eq!(
        metric(
            &gw,
            "gateway_connections_closed_total{reason=\"first_request_timeout\"}"
        ),
        1.0
    );
}

#[tokio::test]
async fn a_partial_http2_preface_is_closed_after_the_header_timeout() {
    let gw = TestGateway::start_with("header_timeout_secs = 1").await;
    let mut stream = TcpStream::connect(gw.addr).await.unwrap();
    stream.write_all(&H2_PREFACE[..16]).await.unwrap();
    closed_by_server(stream).await;
}

#[tokio::test]
async fn an_h2c_connection_that_opens_no_stream_is_closed() {
    let gw = TestGateway::start_with("header_timeout_secs = 1").await;
    let mut stream = TcpStream::connect(gw.addr).await.unwrap();
    stream.write_all(H2_PREFACE).await.unwrap();
    stream.write_all(H2_EMPTY_SETTINGS).await.unwrap();
    closed_by_server(stream).await;
}

#[tokio::test]
async fn a_stop_does_not_wait_out_the_linger_timeout_on_an_idle_keep_alive_connection() {
    // A pooled HTTP/1 client keeps its idle socket open and does not read it. The stop must
    // close that connection at once, not linger on it (an hour here) for a body in transit.
    let gw =
        TestGateway::start_with("linger_timeout_secs = 3600\nshutdown_grace_secs = 3600").await;
    let mut stream = TcpStream::connect(gw.addr).await.unwrap();
    stream
        .write_all(b"GET /health HTTP/1.1\r\nhost: gw\r\n\r\n")
        .await
        .unwrap();
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).await.unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
    let drained = tokio::time::timeout(BOUND, gw.shutdown())
        .await
        .expect("the stop waited on an idle keep-alive connection");
    assert!(drained, "the drain finished within the grace period");
    closed_by_server(stream).await;
}

#[tokio::test]
async fn an_idle_http2_connection_is_closed_after_the_idle_timeout() {
    let gw = TestGateway::start_with("idle_timeout_secs = 1").await;
    let tcp = TcpStream::connect(gw.addr).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
            .await
            .unwrap();
    let conn = tokio::spawn(conn);
    let req = Request::get(gw.url("/health"))
        .body(Empty::<Bytes>::new())
        .unwrap();
    assert_eq!(sender.send_request(req).await.unwrap().status(), 200);
    // The client keeps the connection (and would answer pings); the server ends it.
    tokio::time::timeout(BOUND, conn)
        .await
        .expect("the idle HTTP/2 connection was closed")
        .unwrap()
        .unwrap();
    assert_eq!(
        metric(
            &gw,
            "gateway_connections_closed_total{reason=\"idle_timeout\"}"
        ),
        1.0
    );
}

fn tls_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/tls")
}

async fn start_tls(extra: &str) -> std::net::SocketAddr {
    let dir = tls_dir();
    let text = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n{extra}\n[server.tls]\ncert_file = \"{}\"\nkey_file = \"{}\"\n",
        dir.join("cert.pem").display(),
        dir.join("key.pem").display()
    );
    let config = Config::from_toml_str(&text, &|_| None, std::iter::empty()).unwrap();
    let state: Arc<AppState> = AppState::build_in_memory(&config).await.unwrap();
    let server = Server::bind(&config.server).await.unwrap();
    let addr = server.local_addr().unwrap();
    tokio::spawn(server.run(state, std::future::pending()));
    addr
}

fn tls_connector() -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(tls_dir().join("ca.pem")).unwrap())
        .unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

#[tokio::test]
async fn a_tls_connection_idle_after_its_handshake_is_closed() {
    let addr = start_tls("header_timeout_secs = 1").await;
    let tcp = TcpStream::connect(addr).await.unwrap();
    let tls = tls_connector()
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    closed_by_server(tls).await;
}

#[tokio::test]
async fn a_stalled_tls_handshake_is_closed_after_the_handshake_timeout() {
    let addr = start_tls("tls_handshake_timeout_secs = 1\nheader_timeout_secs = 600").await;
    let stream = TcpStream::connect(addr).await.unwrap();
    closed_by_server(stream).await;
}

#[tokio::test]
async fn at_the_connection_cap_an_idle_connection_makes_room_for_a_new_one() {
    let gw = TestGateway::start_with("max_connections = 2\nheader_timeout_secs = 600").await;
    let silent: Vec<TcpStream> = vec![
        TcpStream::connect(gw.addr).await.unwrap(),
        TcpStream::connect(gw.addr).await.unwrap(),
    ];
    eventually("two connections open", || {
        metric(&gw, "gateway_connections_open") == 2.0
    })
    .await;
    let reply = common::send(http::Method::GET, &gw.url("/health"), "", &[]).await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        metric(&gw, "gateway_connections_closed_total{reason=\"evicted\"}"),
        1.0
    );
    // The one evicted was a silent one, closed by the server.
    let [a, b] = <[TcpStream; 2]>::try_from(silent).unwrap();
    tokio::select! {
        () = closed_by_server(a) => {}
        () = closed_by_server(b) => {}
    }
}

#[tokio::test]
async fn at_the_cap_with_every_connection_busy_a_new_one_is_refused_and_counted() {
    let gw = TestGateway::start_with("max_connections = 2").await;
    // Two requests whose bodies never finish: both connections are serving a request.
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: {}\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{{\"model\"",
        gw.bearer()
    );
    let mut busy = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(gw.addr).await.unwrap();
        s.write_all(head.as_bytes()).await.unwrap();
        busy.push(s);
    }
    eventually("two requests in flight", || {
        metric(&gw, "gateway_http_requests_in_flight") == 2.0
    })
    .await;
    let refused = TcpStream::connect(gw.addr).await.unwrap();
    closed_by_server(refused).await;
    assert_eq!(metric(&gw, "gateway_connections_refused_total"), 1.0);
    assert_eq!(metric(&gw, "gateway_connections_open"), 2.0);
    drop(busy);
}
