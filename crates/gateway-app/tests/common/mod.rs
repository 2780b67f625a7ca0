//! Whole-gateway test harness: the real server on 127.0.0.1:0 in front of testkit mocks.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::sync::oneshot;

use gateway_app::{AppState, Config, Server};
use gateway_testkit::MockServer;

pub struct TestGateway {
    pub addr: SocketAddr,
    pub mock: MockServer,
    pub state: Arc<AppState>,
    /// A developer key of tenant `acme`.
    pub key: String,
    shutdown: Option<oneshot::Sender<()>>,
    done: Option<tokio::task::JoinHandle<bool>>,
}

/// Models every test config gets, each pointing at a scripted mock behaviour.
pub const MODELS: [(&str, &str); 8] = [
    ("gpt-test", "gpt-4o-mini"),
    ("upstream-429", "mock-429"),
    ("upstream-500", "mock-500"),
    ("upstream-400", "mock-400"),
    ("upstream-401", "mock-401"),
    ("upstream-malformed", "mock-malformed"),
    ("upstream-slow", "mock-slow-3000"),
    ("stream-gap", "mock-stream-gap-300"),
];

pub fn config_text(mock: &MockServer, extra_server: &str) -> String {
    let mut text = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n{extra_server}\n\n[providers.mock]\nkind = \"openai\"\nbase_url = \"{}\"\napi_key = \"sk-upstream-secret-1234567890\"\nfirst_byte_timeout_secs = 1\n",
        mock.base_url()
    );
    for (name, upstream) in MODELS {
        text.push_str(&format!(
            "\n[models.{name}]\nprovider = \"mock\"\nupstream_model = \"{upstream}\"\n"
        ));
    }
    text
}

impl TestGateway {
    pub async fn start() -> TestGateway {
        TestGateway::start_with("").await
    }

    /// `extra_server` is appended to the `[server]` section.
    pub async fn start_with(extra_server: &str) -> TestGateway {
        TestGateway::start_with_sections(extra_server, "").await
    }

    /// `sections` are extra TOML sections appended to the configuration.
    pub async fn start_with_sections(extra_server: &str, sections: &str) -> TestGateway {
        let mock = MockServer::start().await.expect("mock starts");
        let config = Config::from_toml_str(
            &format!("{}\n{sections}", config_text(&mock, extra_server)),
            &|_| None,
            std::iter::empty(),
        )
        .expect("test config is valid");
        let state: Arc<AppState> = AppState::build_in_memory(&config)
            .await
            .expect("state builds");
        let key = issue_key(&state, "acme").await;
        let server = Server::bind(&config.server).await.expect("binds");
        let addr = server.local_addr().expect("addr");
        let (tx, rx) = oneshot::channel();
        let done = tokio::spawn(server.run(state.clone(), async move {
            let _ = rx.await;
        }));
        TestGateway {
            addr,
            mock,
            state,
            key,
            shutdown: Some(tx),
            done: Some(done),
        }
    }

    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.key)
    }

    /// POST JSON with this gateway's test key.
    pub async fn post(&self, path: &str, body: &str) -> Reply {
        let auth = self.bearer();
        let headers = [
            ("content-type", "application/json"),
            ("authorization", auth.as_str()),
        ];
        send(Method::POST, &self.url(path), body.to_owned(), &headers).await
    }

    /// GET with this gateway's test key.
    pub async fn get(&self, path: &str) -> Reply {
        let auth = self.bearer();
        send(
            Method::GET,
            &self.url(path),
            "",
            &[("authorization", auth.as_str())],
        )
        .await
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Stop accepting and drain; returns whether the drain finished within the grace period.
    pub async fn shutdown(mut self) -> bool {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.done
            .take()
            .expect("running")
            .await
            .expect("server task")
    }
}

pub fn client() -> Client<HttpConnector, Full<Bytes>> {
    Client::builder(TokioExecutor::new()).build(HttpConnector::new())
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
}

pub async fn send(
    method: Method,
    url: &str,
    body: impl Into<Bytes>,
    headers: &[(&str, &str)],
) -> Reply {
    let mut builder = Request::builder().method(method).uri(url);
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let resp = client()
        .request(builder.body(Full::new(body.into())).unwrap())
        .await
        .expect("request");
    let (parts, body) = resp.into_parts();
    let body = body.collect().await.expect("body").to_bytes();
    Reply {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

pub async fn post_json(url: &str, body: &str) -> Reply {
    send(
        Method::POST,
        url,
        body.to_owned(),
        &[("content-type", "application/json")],
    )
    .await
}

pub fn chat_body(model: &str, stream: bool) -> String {
    serde_json::json!({"model": model, "messages": [{"role": "user", "content": "Hello there gateway"}], "stream": stream})
        .to_string()
}

/// The `data:` payloads of an SSE body.
pub fn sse_data(body: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(body)
        .split("\n\n")
        .filter_map(|event| {
            event
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .map(str::to_owned)
        })
        .collect()
}

/// Create tenant `tenant` (if needed) and a developer key in it; returns the secret.
pub async fn issue_key(state: &AppState, tenant: &str) -> String {
    use gateway_core::store::Tenant;
    let id = gateway_core::TenantId::new(tenant);
    if state.store.get_tenant(&id).await.unwrap().is_none() {
        state
            .store
            .create_tenant(&Tenant::new(id.clone(), tenant))
            .await
            .unwrap();
    }
    let manager = state.auth.key_manager.as_ref().unwrap();
    let created = manager
        .create(gateway_auth::NewApiKey::new(id, "test"))
        .await
        .unwrap();
    created.secret.expose().clone()
}
