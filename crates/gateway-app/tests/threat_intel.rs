//! Threat-intelligence feeds through the served gateway, fetched from a local feed server
//! (allowed by `[threat_intel] allow_private`, as webhook tests allow 127.0.0.1) and
//! verified by an Ed25519 signature or a SHA-256 pin: a listed client address gets 403 on
//! every dialect, a prompt signature is blocked (422), a leaked key is refused, each audited
//! and counted; a tenant that opted out passes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use common::*;
use http::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const ADMIN_TOKEN: &str = "admin-token-0123456789abcdef";

/// A tiny HTTP/1.1 server answering GETs from a table of paths.
struct FeedServer {
    addr: SocketAddr,
    files: Arc<Mutex<HashMap<String, Vec<u8>>>>,
}

impl FeedServer {
    async fn start() -> FeedServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let files: Arc<Mutex<HashMap<String, Vec<u8>>>> = Arc::default();
        let table = files.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let table = table.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&head).into_owned();
                    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                    let body = table.lock().unwrap().get(&path).cloned();
                    let response = match body {
                        Some(body) => {
                            let mut r = format!(
                                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                                body.len()
                            )
                            .into_bytes();
                            r.extend_from_slice(&body);
                            r
                        }
                        None => b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_vec(),
                    };
                    let _ = stream.write_all(&response).await;
                });
            }
        });
        FeedServer { addr, files }
    }

    fn put(&self, path: &str, body: &[u8]) {
        self.files
            .lock()
            .unwrap()
            .insert(path.to_owned(), body.to_vec());
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

struct Signer(Ed25519KeyPair);

impl Signer {
    fn new() -> Signer {
        Signer(Ed25519KeyPair::generate().unwrap())
    }
    fn public_key(&self) -> String {
        B64.encode(self.0.public_key().as_ref())
    }
    fn sign(&self, content: &[u8]) -> Vec<u8> {
        B64.encode(self.0.sign(content).as_ref()).into_bytes()
    }
}

async fn admin(gw: &TestGateway, method: Method, path: &str, body: Value) -> Reply {
    let auth = format!("Bearer {ADMIN_TOKEN}");
    send(
        method,
        &gw.url(path),
        if body.is_null() {
            String::new()
        } else {
            body.to_string()
        },
        &[
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
        ],
    )
    .await
}

async fn chat_text(gw: &TestGateway, key: &str, text: &str) -> Reply {
    let auth = format!("Bearer {key}");
    let body = json!({"model": "gpt-test", "messages": [{"role": "user", "content": text}]});
    send(
        Method::POST,
        &gw.url("/v1/chat/completions"),
        body.to_string(),
        &[
            ("content-type", "application/json"),
            ("authorization", auth.as_str()),
        ],
    )
    .await
}

/// A gateway with feeds in `feeds` (TOML), its copies under a temporary data dir.
async fn gateway(feeds: &str, data_dir: &std::path::Path) -> TestGateway {
    TestGateway::start_with_sections(
        &format!("data_dir = {:?}", data_dir.display().to_string()),
        &format!(
            "[admin]\ntoken = \"{ADMIN_TOKEN}\"\n\n[query]\nmodel = \"gpt-test\"\n\n[threat_intel]\nallow_private = [\"127.0.0.1/32\"]\nallow_http = true\n{feeds}"
        ),
    )
    .await
}

async fn opted_out_key(gw: &TestGateway) -> String {
    // Through the store: the admin API itself is screened, and the test's own address is
    // on the blocklist of one of the tests.
    let tenant = gateway_core::store::Tenant {
        threat_intel_opt_out: true,
        ..gateway_core::store::Tenant::new(gateway_core::TenantId::new("lab"), "lab")
    };
    gw.state.store.create_tenant(&tenant).await.unwrap();
    issue_key(&gw.state, "lab").await
}

/// Loads every feed now and waits for it (no waiting on the schedule or the clock).
async fn loaded(gw: &TestGateway) -> Vec<(String, gateway_app::threat_intel::Outcome)> {
    gw.state.threat_intel.refresh_now().await
}

#[tokio::test]
async fn a_blocklisted_address_is_refused_on_every_dialect_unless_opted_out() {
    let server = FeedServer::start().await;
    let signer = Signer::new();
    let list = b"# local test list\n127.0.0.0/8 ; loopback\n";
    server.put("/drop.txt", list);
    server.put("/drop.txt.sig", &signer.sign(list));
    let dir = tempfile::tempdir().unwrap();
    let gw = gateway(
        &format!(
            "[[threat_intel.feeds]]\nname = \"drop\"\nkind = \"ip_blocklist\"\nformat = \"plain\"\nsource = \"{}\"\npublic_key = \"{}\"\nrefresh = \"1h\"\n",
            server.url("/drop.txt"),
            signer.public_key()
        ),
        dir.path(),
    )
    .await;
    loaded(&gw).await;
    assert!(
        gw.state
            .threat_intel
            .intel()
            .blocked_address("127.0.0.1".parse().unwrap())
            .is_some()
    );
    assert_eq!(
        std::fs::read(dir.path().join("threat_intel/drop.feed")).unwrap(),
        list,
        "the last good copy is kept in the data dir"
    );

    let key = gw.key.clone();
    let bearer = format!("Bearer {key}");
    let headers = [
        ("content-type", "application/json"),
        ("authorization", bearer.as_str()),
        ("x-api-key", key.as_str()),
        ("x-goog-api-key", key.as_str()),
    ];
    let calls = [
        ("/v1/chat/completions", chat_body("gpt-test", false)),
        (
            "/v1/messages",
            json!({"model": "gpt-test", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}).to_string(),
        ),
        (
            "/v1beta/models/gpt-test:generateContent",
            json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}).to_string(),
        ),
        ("/query", json!({"prompt": "hi"}).to_string()),
    ];
    for (path, body) in &calls {
        let reply = send(Method::POST, &gw.url(path), body.clone(), &headers).await;
        assert_eq!(reply.status, 403, "{path}: {:?}", reply.body);
        assert!(reply.json()["error"].is_object(), "{path}");
    }
    // An opted-out tenant's key passes.
    let lab = opted_out_key(&gw).await;
    assert_eq!(chat_text(&gw, &lab, "hello").await.status, 200);

    // The admin API screens its callers too, but never the bootstrap admin token: a feed
    // that lists the operator's own address must not lock the operator out.
    let screened = send(
        Method::GET,
        &gw.url("/admin/v1/me"),
        String::new(),
        &[("authorization", bearer.as_str())],
    )
    .await;
    assert_eq!(screened.status, 403, "{:?}", screened.body);
    assert!(
        String::from_utf8_lossy(&screened.body).contains("client address"),
        "{:?}",
        screened.body
    );
    let operator = admin(&gw, Method::GET, "/admin/v1/tenants", Value::Null).await;
    assert_eq!(operator.status, 200, "{:?}", operator.body);

    gw.state.telemetry.flush().await;
    let audit = admin(
        &gw,
        Method::GET,
        "/admin/v1/audit?action=authz.denied",
        Value::Null,
    )
    .await
    .json();
    let events = audit["data"].as_array().unwrap();
    assert!(
        events
            .iter()
            .filter(
                |e| e["details"]["denied_by"] == "threat_intel" && e["details"]["feed"] == "drop"
            )
            .count()
            >= calls.len(),
        "{audit}"
    );
    // The four model calls and the admin call; not the bootstrap admin, not the opted-out tenant.
    let metrics = String::from_utf8_lossy(&gw.get("/metrics").await.body).into_owned();
    assert!(
        metrics
            .contains("gateway_threat_intel_matches_total{kind=\"ip_blocklist\",feed=\"drop\"} 5"),
        "{metrics}"
    );
    assert!(metrics.contains("gateway_threat_intel_entries{feed=\"drop\"} 1"));
}

#[tokio::test]
async fn a_bad_signature_is_never_used() {
    let server = FeedServer::start().await;
    let signer = Signer::new();
    let list = b"127.0.0.0/8\n";
    server.put("/drop.txt", list);
    server.put("/drop.txt.sig", &Signer::new().sign(list));
    let dir = tempfile::tempdir().unwrap();
    let gw = gateway(
        &format!(
            "[[threat_intel.feeds]]\nname = \"drop\"\nkind = \"ip_blocklist\"\nformat = \"plain\"\nsource = \"{}\"\npublic_key = \"{}\"\n",
            server.url("/drop.txt"),
            signer.public_key()
        ),
        dir.path(),
    )
    .await;
    let outcomes = loaded(&gw).await;
    assert!(
        matches!(
            outcomes.as_slice(),
            [(_, gateway_app::threat_intel::Outcome::VerifyFailed(_))]
        ),
        "{outcomes:?}"
    );
    let metrics = String::from_utf8_lossy(&gw.get("/metrics").await.body).into_owned();
    assert!(metrics.contains("outcome=\"verify_failed\""), "{metrics}");
    assert_eq!(chat_text(&gw, &gw.key, "hello").await.status, 200);
    assert!(!dir.path().join("threat_intel/drop.feed").exists());
}

#[tokio::test]
async fn prompt_signatures_block_and_leaked_keys_are_refused() {
    let server = FeedServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let bundle = json!({"type": "bundle", "id": "bundle--1", "objects": [
        {"type": "indicator", "pattern_type": "stix", "pattern": "[x-llm-prompt:value = 'blue falcon protocol seven']"},
        {"type": "indicator", "pattern_type": "stix", "pattern": "[x-llm-prompt:value = 'an expired phrase']", "valid_until": "2020-01-01T00:00:00Z"}
    ]})
    .to_string();
    server.put("/prompts.json", bundle.as_bytes());
    let leaked_file = dir.path().join("leaked.csv");
    std::fs::write(&leaked_file, "sha256,source\n").unwrap();
    let gw = {
        gateway(
            &format!(
                "[[threat_intel.feeds]]\nname = \"jailbreaks\"\nkind = \"prompt_signatures\"\nformat = \"stix2\"\nsource = \"{}\"\nsha256 = \"{}\"\n\n\
                 [[threat_intel.feeds]]\nname = \"leaks\"\nkind = \"leaked_keys\"\nformat = \"csv\"\ncolumn = \"sha256\"\nsource = {:?}\nrefresh = \"10s\"\n",
                server.url("/prompts.json"),
                hex::encode(Sha256::digest(bundle.as_bytes())),
                leaked_file.display().to_string(),
            ),
            dir.path(),
        )
        .await
    };
    loaded(&gw).await;
    assert!(gw.state.threat_intel.intel().has_signatures());
    let blocked = chat_text(
        &gw,
        &gw.key,
        "Please start the BLUE FALCON protocol seven today",
    )
    .await;
    assert_eq!(blocked.status, 422, "{:?}", blocked.body);
    let error = blocked.json();
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("threat_intel"),
        "{error}"
    );
    assert_eq!(
        chat_text(&gw, &gw.key, "an expired phrase").await.status,
        200
    );
    let lab = opted_out_key(&gw).await;
    assert_eq!(
        chat_text(&gw, &lab, "blue falcon protocol seven")
            .await
            .status,
        200,
        "an opted-out tenant passes"
    );

    // The acme key leaks: the feed lists its SHA-256; from the next refresh it is refused.
    let digest = hex::encode(Sha256::digest(gw.key.as_bytes()));
    std::fs::write(
        &leaked_file,
        format!("sha256,source\n{digest},paste site\n"),
    )
    .unwrap();
    let outcomes = loaded(&gw).await;
    assert!(
        outcomes.iter().any(|(name, o)| name == "leaks"
            && matches!(o, gateway_app::threat_intel::Outcome::Updated(1))),
        "{outcomes:?}"
    );
    let refused = chat_text(&gw, &gw.key, "hello").await;
    assert_eq!(refused.status, 403);
    assert!(
        !String::from_utf8_lossy(&refused.body).contains(&gw.key),
        "the secret is not echoed"
    );
    assert_eq!(chat_text(&gw, &lab, "hello").await.status, 200);
    let metrics = String::from_utf8_lossy(&gw.get("/metrics").await.body).into_owned();
    assert!(
        metrics.contains("gateway_guardrail_blocks_total{guardrail=\"threat_intel\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("kind=\"leaked_keys\",feed=\"leaks\""));
}
