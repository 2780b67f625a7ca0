//! The out-of-tree `acme` kind of `custom_provider.rs`, registered from outside
//! `gateway-providers` and served by the real gateway server in front of the testkit mock.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

use gateway_app::{AppState, Config, Server};
use gateway_testkit::MockServer;

async fn post(addr: SocketAddr, key: &str, body: Value) -> (StatusCode, Bytes) {
    let client = Client::builder(TokioExecutor::new()).build_http();
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("http://{addr}/v1/chat/completions"))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {key}"))
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    let response = client.request(request).await.unwrap();
    let status = response.status();
    (
        status,
        response.into_body().collect().await.unwrap().to_bytes(),
    )
}

fn config(kind: &str, upstream: &MockServer) -> Result<Config, String> {
    let text = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n\
         [providers.inhouse]\nkind = \"{kind}\"\nbase_url = \"{}\"\napi_key = \"acme-upstream-key\"\n\
         [models.assistant]\nprovider = \"inhouse\"\nupstream_model = \"gpt-4o-mini\"\n",
        upstream.base_url()
    );
    Config::from_toml_str(&text, &|_| None, std::iter::empty()).map_err(|e| e.to_string())
}

#[tokio::test]
async fn a_kind_registered_out_of_tree_is_configured_and_served() {
    let upstream = MockServer::start().await.unwrap();
    let unknown = config("acme-never-registered", &upstream).unwrap_err();
    assert!(
        unknown.contains("unknown kind 'acme-never-registered'"),
        "{unknown}"
    );

    gateway_examples::custom_provider::register();
    let config = config(gateway_examples::custom_provider::KIND, &upstream).unwrap();
    let state = AppState::build_in_memory(&config).await.unwrap();
    let key = state.ensure_demo_key(None).await.unwrap().unwrap();
    let key = key.expose().clone();
    let server = Server::bind(&config.server).await.unwrap();
    let addr = server.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run(state.clone(), async move {
        let _ = stopped.await;
    }));

    let ask = |stream: bool| {
        json!({"model": "assistant", "stream": stream,
               "messages": [{"role": "user", "content": "hi acme"}]})
    };
    let (status, body) = post(addr, &key, ask(false)).await;
    assert_eq!(status, StatusCode::OK, "{body:?}");
    let answer: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        answer["choices"][0]["message"]["content"],
        "Hello! You said: hi acme"
    );

    let (status, body) = post(addr, &key, ask(true)).await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8(body.to_vec()).unwrap();
    let streamed: String = text
        .lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .filter(|data| *data != "[DONE]")
        .map(|data| serde_json::from_str::<Value>(data).unwrap())
        .filter_map(|chunk| {
            chunk["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(streamed, "Hello! You said: hi acme");
    assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");

    let seen = upstream.requests();
    assert_eq!(seen.len(), 2);
    for request in &seen {
        assert_eq!(request.path, "/v1/chat/completions");
        assert_eq!(request.header("x-acme-key"), Some("acme-upstream-key"));
        assert_eq!(request.header("authorization"), None);
        assert_eq!(request.json()["model"], "gpt-4o-mini");
    }

    stop.send(()).unwrap();
    assert!(running.await.unwrap(), "the server drained");
}
