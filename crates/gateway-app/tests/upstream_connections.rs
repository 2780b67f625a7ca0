//! How the gateway connects to upstreams, per provider: `ca_file` for an upstream behind a
//! private certificate authority (here a second gateway serving HTTPS with the test CA's
//! certificate from `tests/tls`, so a call goes gateway -> TLS, HTTP/2 by ALPN -> gateway ->
//! mock), and `connect_timeout_ms`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::PathBuf;

use common::{TestGateway, chat_body};
use gateway_app::{AppState, Config};

fn tls_file(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/tls")
        .join(name)
        .display()
        .to_string()
}

/// A gateway serving HTTPS for `localhost` with the test CA's certificate.
async fn tls_upstream() -> TestGateway {
    TestGateway::start_with(&format!(
        "[server.tls]\ncert_file = \"{}\"\nkey_file = \"{}\"\n",
        tls_file("cert.pem"),
        tls_file("key.pem")
    ))
    .await
}

/// A provider section for `upstream`, with `ca_file` when given.
fn inner_provider(upstream: &TestGateway, ca_file: Option<&str>) -> String {
    let ca = ca_file.map_or(String::new(), |f| format!("ca_file = \"{f}\"\n"));
    format!(
        "[providers.inner]\nkind = \"openai\"\nbase_url = \"https://localhost:{}/v1\"\napi_key = \"{}\"\n{ca}\n\
         [models.via-tls]\nprovider = \"inner\"\nupstream_model = \"gpt-test\"\n",
        upstream.addr.port(),
        upstream.key
    )
}

#[tokio::test]
async fn an_upstream_signed_by_the_configured_ca_is_trusted() {
    let upstream = tls_upstream().await;
    let front =
        TestGateway::start_with_sections("", &inner_provider(&upstream, Some(&tls_file("ca.pem"))))
            .await;
    let reply = front
        .post("/v1/chat/completions", &chat_body("via-tls", false))
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.headers["x-gateway-provider"], "inner");
    let content = reply.json()["choices"][0]["message"]["content"].clone();
    assert!(content.as_str().is_some_and(|c| !c.is_empty()), "{content}");
    // The inner gateway served it: its mock saw the call.
    assert_eq!(upstream.mock.requests().len(), 1);

    // Without the CA, the same upstream is not trusted: an upstream error, no answer.
    let untrusting = TestGateway::start_with_sections("", &inner_provider(&upstream, None)).await;
    let refused = untrusting
        .post("/v1/chat/completions", &chat_body("via-tls", false))
        .await;
    assert!(refused.status.is_server_error(), "{:?}", refused.status);
    assert_eq!(upstream.mock.requests().len(), 1);
}

#[tokio::test]
async fn ca_file_problems_are_named_before_any_call() {
    let base = "[models.m]\nprovider = \"inner\"\nupstream_model = \"x\"\n";
    let config = |provider: &str| {
        Config::from_toml_str(
            &format!("{provider}\n{base}"),
            &|_| None,
            std::iter::empty(),
        )
    };
    // Plain HTTP has no certificate to check.
    let err = config(
        "[providers.inner]\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:1/v1\"\nca_file = \"/etc/hosts\"\n",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("providers.inner.ca_file: needs an https:// base_url"),
        "{err}"
    );
    let err = config(
        "[providers.inner]\nkind = \"openai\"\nbase_url = \"https://h/v1\"\nca_file = \"/nonexistent/ca.pem\"\n",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("providers.inner.ca_file: file /nonexistent/ca.pem does not exist"),
        "{err}"
    );
    // A file that holds no certificate passes validation but stops the start, naming it.
    let not_pem = config(&format!(
        "[providers.inner]\nkind = \"openai\"\nbase_url = \"https://h/v1\"\nca_file = \"{}\"\n",
        tls_file("README.md")
    ))
    .unwrap();
    let Err(err) = AppState::build_in_memory(&not_pem).await else {
        panic!("a gateway started with a ca_file that holds no certificate");
    };
    let err = err.to_string();
    assert!(err.contains("providers.inner.ca_file"), "{err}");
    assert!(err.contains("no certificate in"), "{err}");
}

/// A provider's own `connect_timeout_ms` bounds its connects: an upstream that accepts TCP
/// but never completes the TLS handshake answers 504 at 150 ms, not at the default 5 s.
#[tokio::test]
async fn a_providers_connect_timeout_is_its_own() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let front = TestGateway::start_with_sections(
        "",
        &format!(
            "[providers.stalled]\nkind = \"openai\"\nbase_url = \"https://127.0.0.1:{port}/v1\"\n\
             connect_timeout_ms = 150\n\n[models.stalled]\nprovider = \"stalled\"\nupstream_model = \"x\"\n"
        ),
    )
    .await;
    let started = std::time::Instant::now();
    let reply = front
        .post("/v1/chat/completions", &chat_body("stalled", false))
        .await;
    assert_eq!(reply.status, 504, "{:?}", reply.body);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}
