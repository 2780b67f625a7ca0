//! HTTP/2 upstreams: over TLS the client offers h2 by ALPN, and when the upstream takes it
//! every call of a thread shares that one connection, streams included, concurrently.
//! The upstream here is a TLS server signed by the test CA of `gateway-app/tests/tls`,
//! trusted through `HttpClient::with_root_certificates`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode, Version};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;

use gateway_core::ProviderError;
use gateway_providers::upstream_url::UpstreamUrl;
use gateway_providers::{HttpClient, Timeouts};

fn tls_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../gateway-app/tests/tls")
}

/// What the upstream saw: one entry per request, and the TLS connections it accepted.
#[derive(Default)]
struct Seen {
    requests: Mutex<Vec<(Version, String, Option<String>)>>,
    connections: AtomicUsize,
}

const ANSWER: &str = r#"{"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hello over h2"},"finish_reason":"stop"}]}"#;
const EVENTS: &str = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},\"finish_reason\":null}]}\n\ndata: [DONE]\n\n";

async fn answer(
    req: Request<Incoming>,
    seen: Arc<Seen>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let stream = String::from_utf8_lossy(&body).contains("\"stream\":true");
    let authority = parts.uri.authority().map(ToString::to_string);
    seen.requests
        .lock()
        .unwrap()
        .push((parts.version, parts.uri.path().to_owned(), authority));
    let (content_type, text) = if stream {
        ("text/event-stream", EVENTS)
    } else {
        ("application/json", ANSWER)
    };
    Ok(Response::builder()
        .header("content-type", content_type)
        .body(Full::new(Bytes::from(text)))
        .unwrap())
}

/// An HTTP/2-only TLS upstream on 127.0.0.1 for `localhost`.
async fn h2_upstream() -> (u16, Arc<Seen>) {
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(tls_dir().join("cert.pem"))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
    let key = PrivateKeyDer::from_pem_file(tls_dir().join("key.pem")).unwrap();
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Seen::default());
    let state = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (acceptor, seen) = (acceptor.clone(), state.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                seen.connections.fetch_add(1, Ordering::SeqCst);
                let service = service_fn(move |req| answer(req, seen.clone()));
                let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    (port, seen)
}

fn trusting_the_test_ca() -> HttpClient {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(tls_dir().join("ca.pem")).unwrap())
        .unwrap();
    HttpClient::with_root_certificates(Duration::from_secs(2), roots).unwrap()
}

fn status_error(status: StatusCode, _: &HeaderMap, _: &Bytes) -> ProviderError {
    ProviderError::InvalidResponse(format!("status {status}"))
}

fn body(stream: bool) -> Bytes {
    Bytes::from(
        serde_json::json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": stream})
            .to_string(),
    )
}

#[tokio::test]
async fn an_h2_upstream_serves_every_call_of_a_thread_on_one_connection() {
    let (port, seen) = h2_upstream().await;
    let client = trusting_the_test_ca();
    let endpoint = UpstreamUrl::new(
        &format!("https://localhost:{port}/v1/chat/completions"),
        Vec::new(),
    )
    .unwrap();
    let timeouts = Timeouts::default();

    for _ in 0..3 {
        let answer = endpoint
            .post_json(&client, body(false), &timeouts, status_error)
            .await
            .unwrap();
        assert_eq!(&answer[..], ANSWER.as_bytes());
    }
    // A stream held open while other calls run: HTTP/2 multiplexes them on the same
    // connection, where HTTP/1.1 would have opened a second one.
    let open = endpoint
        .post_stream(&client, body(true), &timeouts, status_error)
        .await
        .unwrap();
    let (first, second) = tokio::join!(
        endpoint.post_json(&client, body(false), &timeouts, status_error),
        endpoint.post_json(&client, body(false), &timeouts, status_error),
    );
    assert_eq!(
        (&first.unwrap()[..], &second.unwrap()[..]),
        (ANSWER.as_bytes(), ANSWER.as_bytes())
    );
    let events = open.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&events[..], EVENTS.as_bytes());

    assert_eq!(seen.connections.load(Ordering::SeqCst), 1);
    let requests = seen.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 6);
    let authority = format!("localhost:{port}");
    for (version, path, host) in &requests {
        assert_eq!(*version, Version::HTTP_2);
        assert_eq!(path, "/v1/chat/completions");
        assert_eq!(host.as_deref(), Some(authority.as_str()));
    }
}

#[tokio::test]
async fn an_upstream_the_client_does_not_trust_is_refused() {
    let (port, seen) = h2_upstream().await;
    // Web PKI roots only: the test CA is not among them.
    let client = HttpClient::new(Duration::from_secs(2)).unwrap();
    let endpoint = UpstreamUrl::new(
        &format!("https://localhost:{port}/v1/chat/completions"),
        Vec::new(),
    )
    .unwrap();
    let err = endpoint
        .post_json(&client, body(false), &Timeouts::default(), status_error)
        .await
        .unwrap_err();
    assert!(matches!(err, ProviderError::Connect(_)), "{err:?}");
    assert!(seen.requests.lock().unwrap().is_empty());
}
