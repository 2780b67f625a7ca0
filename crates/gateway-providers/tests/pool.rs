//! The upstream connection pool seen from the upstream: how many connections a run of calls
//! opens, which requests share one, and what happens when either side closes one early.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use http_body_util::BodyExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use gateway_core::ProviderError;
use gateway_providers::upstream_url::UpstreamUrl;
use gateway_providers::{HttpClient, Timeouts};
use gateway_testkit::MockServer;

fn client() -> HttpClient {
    HttpClient::new(Duration::from_secs(2)).unwrap()
}

fn status_error(status: StatusCode, _: &HeaderMap, _: &Bytes) -> ProviderError {
    ProviderError::InvalidResponse(format!("status {status}"))
}

fn chat_endpoint(base_url: &str) -> UpstreamUrl {
    UpstreamUrl::new(&format!("{base_url}/chat/completions"), Vec::new()).unwrap()
}

fn body(stream: bool) -> Bytes {
    Bytes::from(
        serde_json::json!({
            "model": "m",
            "messages": [{"role": "user", "content": "hi"}],
            "stream": stream,
        })
        .to_string(),
    )
}

/// A mock OpenAI upstream, a client and its chat endpoint: the setup of most tests here.
struct Upstream {
    mock: MockServer,
    client: HttpClient,
    endpoint: UpstreamUrl,
    timeouts: Timeouts,
}

impl Upstream {
    async fn start() -> Upstream {
        let mock = MockServer::start().await.unwrap();
        let endpoint = chat_endpoint(&mock.base_url());
        Upstream {
            mock,
            client: client(),
            endpoint,
            timeouts: Timeouts::default(),
        }
    }

    /// A non-streamed call through `client`, read whole.
    async fn json_via(&self, client: &HttpClient) -> Bytes {
        self.endpoint
            .post_json(client, body(false), &self.timeouts, status_error)
            .await
            .unwrap()
    }

    async fn json(&self) -> Bytes {
        self.json_via(&self.client).await
    }

    /// A streamed call, its body not yet read.
    async fn stream(&self) -> http::Response<gateway_providers::client::UpstreamBody> {
        self.endpoint
            .post_stream(&self.client, body(true), &self.timeouts, status_error)
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn sequential_calls_share_one_connection_with_a_host_header() {
    let up = Upstream::start().await;
    for _ in 0..20 {
        assert!(up.json().await.starts_with(b"{"), "a JSON answer");
    }
    assert_eq!(up.mock.connections(), 1);
    let requests = up.mock.requests();
    assert_eq!(requests.len(), 20);
    let host = format!("127.0.0.1:{}", up.mock.addr().port());
    assert!(
        requests
            .iter()
            .all(|r| r.header("host") == Some(host.as_str()))
    );
    assert!(requests.iter().all(|r| r.path == "/v1/chat/completions"));
}

#[tokio::test]
async fn a_stream_read_to_the_end_gives_its_connection_back() {
    let up = Upstream::start().await;
    for _ in 0..3 {
        let events = up.stream().await.into_body().collect().await.unwrap();
        assert!(events.to_bytes().ends_with(b"data: [DONE]\n\n"));
        up.json().await;
    }
    assert_eq!(up.mock.connections(), 1);
}

#[tokio::test]
async fn a_call_made_while_another_is_open_gets_its_own_connection() {
    let up = Upstream::start().await;
    let open = up.stream().await;
    up.json().await;
    assert_eq!(up.mock.connections(), 2);
    open.into_body().collect().await.unwrap();
    // Both are idle now: further calls open nothing new.
    for _ in 0..4 {
        up.json().await;
    }
    assert_eq!(up.mock.connections(), 2);
}

#[tokio::test]
async fn a_stream_dropped_early_closes_its_connection() {
    let up = Upstream::start().await;
    drop(up.stream().await);
    up.json().await;
    assert_eq!(
        up.mock.connections(),
        2,
        "the half-read connection is not reused"
    );
}

#[tokio::test]
async fn clones_share_connections_and_separate_clients_do_not() {
    let up = Upstream::start().await;
    let clone = up.client.clone();
    for client in [&up.client, &clone, &up.client, &clone] {
        up.json_via(client).await;
    }
    assert_eq!(up.mock.connections(), 1);
    up.json_via(&client()).await;
    assert_eq!(up.mock.connections(), 2);
}

/// An HTTP/1.1 upstream that answers one request per connection and then closes it, without
/// announcing it (no `connection: close`), as servers do when they drop idle connections.
async fn closing_upstream() -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 16 * 1024];
            let mut seen = Vec::new();
            while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = socket.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                seen.extend_from_slice(&buf[..n]);
            }
            let answer = b"{\"ok\":true}";
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                answer.len()
            );
            socket.write_all(head.as_bytes()).await.unwrap();
            socket.write_all(answer).await.unwrap();
            drop(socket);
        }
    });
    (addr, task)
}

#[tokio::test]
async fn a_connection_the_upstream_closed_is_not_used_again() {
    let (addr, task) = closing_upstream().await;
    let client = client();
    let endpoint = UpstreamUrl::new(&format!("http://{addr}/v1/x"), Vec::new()).unwrap();
    let timeouts = Timeouts::default();
    for _ in 0..3 {
        let bytes = endpoint
            .get(&client, &timeouts, status_error)
            .await
            .unwrap();
        assert_eq!(&bytes[..], b"{\"ok\":true}");
        // Long enough for the close to arrive; a request racing it is the one case where a
        // call may fail, as with any keep-alive client.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    task.abort();
}

#[tokio::test]
async fn an_unreachable_upstream_is_a_connect_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let endpoint = UpstreamUrl::new(&format!("http://{addr}/v1/x"), Vec::new()).unwrap();
    let err = endpoint
        .get(&client(), &Timeouts::default(), status_error)
        .await
        .unwrap_err();
    assert!(matches!(err, ProviderError::Connect(_)), "{err:?}");
}

/// Consumes a provider's stream to its end.
async fn read_stream(mut stream: gateway_core::ChatStream) -> usize {
    use futures_util::StreamExt;
    let mut events = 0;
    while let Some(event) = stream.next().await {
        event.unwrap();
        events += 1;
    }
    events
}

fn stream_request(model: &str) -> gateway_core::ChatRequest {
    serde_json::from_value(serde_json::json!({
        "model": model,
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 16,
        "stream": true,
    }))
    .unwrap()
}

/// A stream ends at the vendor's end marker (`[DONE]`, `message_stop`); the body's last chunk
/// after it is still read, so the connection is used again instead of being closed.
#[tokio::test]
async fn streams_ended_by_their_marker_keep_their_connection() {
    use gateway_core::Provider;
    use gateway_providers::{AnthropicConfig, AnthropicProvider, OpenAiConfig, OpenAiProvider};
    use gateway_testkit::vendors::{Vendor, VendorServer};

    let mock = MockServer::start().await.unwrap();
    let openai = OpenAiProvider::new(
        OpenAiConfig {
            name: "openai".into(),
            base_url: mock.base_url(),
            api_key: None,
            timeouts: Timeouts::default(),
            headers: Vec::new(),
            passthrough: Default::default(),
        },
        client(),
    )
    .unwrap();
    let vendor = VendorServer::start(Vendor::Anthropic).await.unwrap();
    let mut config = AnthropicConfig::new(
        "anthropic",
        Some(gateway_core::Secret::new("sk-ant-test-key".to_owned())),
    );
    config.base_url = vendor.base_url();
    let anthropic = AnthropicProvider::new(config, client()).unwrap();

    for _ in 0..3 {
        let events = read_stream(openai.chat_stream(&stream_request("m")).await.unwrap()).await;
        assert!(events > 1);
        let events = read_stream(
            anthropic
                .chat_stream(&stream_request("claude-test"))
                .await
                .unwrap(),
        )
        .await;
        assert!(events > 1);
        // The rest of each body is read on a task of its own.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(mock.connections(), 1);
    assert_eq!(vendor.connections(), 1);
}

/// An upstream that accepts TCP but never answers the TLS handshake: the call ends at the
/// client's connect timeout, or at the first-byte bound when that is the shorter one.
#[tokio::test]
async fn a_stalled_handshake_ends_at_the_connect_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let endpoint = chat_endpoint(&format!("https://127.0.0.1:{port}/v1"));
    let call = |connect_ms: u64, first_byte_ms: u64| {
        let client = HttpClient::new(Duration::from_millis(connect_ms)).unwrap();
        let timeouts = Timeouts {
            first_byte: Duration::from_millis(first_byte_ms),
            ..Timeouts::default()
        };
        let endpoint = &endpoint;
        async move {
            let started = tokio::time::Instant::now();
            let err = endpoint
                .post_json(&client, body(false), &timeouts, status_error)
                .await
                .unwrap_err();
            (err, started.elapsed())
        }
    };
    let (err, took) = call(150, 5_000).await;
    assert!(
        matches!(
            err,
            ProviderError::Timeout(gateway_core::TimeoutPhase::Connect)
        ),
        "{err:?}"
    );
    assert!(took < Duration::from_secs(2), "{took:?}");
    let (err, _) = call(5_000, 150).await;
    assert!(
        matches!(
            err,
            ProviderError::Timeout(gateway_core::TimeoutPhase::FirstByte)
        ),
        "{err:?}"
    );
}
