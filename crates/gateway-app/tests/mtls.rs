//! Mutual TLS (`[server.tls] client_ca_file`): a client with a certificate from the configured
//! CA is served; one without a certificate, or with one no configured CA issued, never gets
//! an answer. With `client_auth_optional`, a client without a certificate is served too.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use http::Request;
use http_body_util::Empty;
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, pem::PemObject};

use gateway_app::{AppState, Config, Server};

fn tls_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/tls")
}

async fn start(optional: bool) -> std::net::SocketAddr {
    let dir = tls_dir();
    let text = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n[server.tls]\ncert_file = \"{}\"\nkey_file = \"{}\"\n\
         client_ca_file = \"{}\"\nclient_auth_optional = {optional}\n",
        dir.join("cert.pem").display(),
        dir.join("key.pem").display(),
        dir.join("client-ca.pem").display(),
    );
    let config = Config::from_toml_str(&text, &|_| None, std::iter::empty()).unwrap();
    let state = AppState::build_in_memory(&config).await.unwrap();
    let server = Server::bind(&config.server).await.unwrap();
    let addr = server.local_addr().unwrap();
    tokio::spawn(server.run(state, std::future::pending()));
    addr
}

/// A client trusting the server's CA, presenting `identity` (`client` or `rogue`) if any.
fn client(identity: Option<&str>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(tls_dir().join("ca.pem")).unwrap())
        .unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let mut config = match identity {
        None => builder.with_no_client_auth(),
        Some(name) => {
            let certs = vec![
                CertificateDer::from_pem_file(tls_dir().join(format!("{name}-cert.pem"))).unwrap(),
            ];
            let key =
                PrivateKeyDer::from_pem_file(tls_dir().join(format!("{name}-key.pem"))).unwrap();
            builder.with_client_auth_cert(certs, key).unwrap()
        }
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// The status of `GET /health` over a new connection, or `None` when the handshake or the
/// exchange fails (with TLS 1.3 the server's refusal of a certificate arrives after the
/// client thinks the handshake is done, so it surfaces on the first read).
async fn health(addr: std::net::SocketAddr, identity: Option<&str>) -> Option<u16> {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let connector = tokio_rustls::TlsConnector::from(client(identity));
    let stream = connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .ok()?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .ok()?;
    tokio::spawn(conn);
    let req = Request::get("/health")
        .header("host", "localhost")
        .body(Empty::<Bytes>::new())
        .unwrap();
    Some(sender.send_request(req).await.ok()?.status().as_u16())
}

#[tokio::test]
async fn only_clients_with_a_certificate_from_the_configured_ca_are_served() {
    let addr = start(false).await;
    assert_eq!(health(addr, Some("client")).await, Some(200));
    assert_eq!(health(addr, None).await, None, "no certificate");
    assert_eq!(
        health(addr, Some("rogue")).await,
        None,
        "a certificate from another CA"
    );
}

#[tokio::test]
async fn optional_client_auth_admits_anonymous_clients_but_not_bad_certificates() {
    let addr = start(true).await;
    assert_eq!(health(addr, Some("client")).await, Some(200));
    assert_eq!(health(addr, None).await, Some(200));
    assert_eq!(health(addr, Some("rogue")).await, None);
}

#[tokio::test]
async fn an_unreadable_client_ca_is_a_startup_error() {
    let dir = tls_dir();
    let text = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n[server.tls]\ncert_file = \"{}\"\nkey_file = \"{}\"\n\
         client_ca_file = \"{}\"\n",
        dir.join("cert.pem").display(),
        dir.join("key.pem").display(),
        dir.join("README.md").display(),
    );
    let config = Config::from_toml_str(&text, &|_| None, std::iter::empty()).unwrap();
    let err = Server::bind(&config.server).await.err().expect("refused");
    assert!(err.to_string().contains("client_ca_file"), "{err}");
}
