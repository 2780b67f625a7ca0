//! The real gateway in-process (`gateway-app`'s server on 127.0.0.1:0, in-memory store, an
//! `[admin] token`) in front of a testkit mock provider: the admin API the operator
//! reconciles against, and the inference API its keys are used on.

use std::sync::Arc;

use bytes::Bytes;
use gateway_app::{AppState, Config, Server};
use gateway_testkit::MockServer;
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::sync::oneshot;

pub const ADMIN_TOKEN: &str = "operator-test-admin-token-0123456789";

pub struct RealGateway {
    pub url: String,
    pub state: Arc<AppState>,
    _mock: MockServer,
    _stop: oneshot::Sender<()>,
}

impl RealGateway {
    pub async fn start() -> RealGateway {
        let mock = MockServer::start().await.unwrap();
        let text = format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n\n[admin]\ntoken = \"{ADMIN_TOKEN}\"\n\n\
             [providers.mock]\nkind = \"openai\"\nbase_url = \"{}\"\napi_key = \"sk-upstream-1234567890\"\n\n\
             [models.gpt-test]\nprovider = \"mock\"\nupstream_model = \"gpt-4o-mini\"\n",
            mock.base_url()
        );
        let config = Config::from_toml_str(&text, &|_| None, std::iter::empty()).unwrap();
        let state = AppState::build_in_memory(&config).await.unwrap();
        let server = Server::bind(&config.server).await.unwrap();
        let url = format!("http://{}", server.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel();
        tokio::spawn(server.run(state.clone(), async move {
            let _ = stopped.await;
        }));
        RealGateway {
            url,
            state,
            _mock: mock,
            _stop: stop,
        }
    }

    /// A chat completion with `key`: the HTTP status.
    pub async fn chat_status(&self, key: &str) -> u16 {
        let request = Request::builder()
            .method(Method::POST)
            .uri(format!("{}/v1/chat/completions", self.url))
            .header("authorization", format!("Bearer {key}"))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from_static(
                br#"{"model":"gpt-test","messages":[{"role":"user","content":"hi"}]}"#,
            )))
            .unwrap();
        let client = Client::builder(TokioExecutor::new()).build_http();
        let response = client.request(request).await.unwrap();
        let status = response.status().as_u16();
        let _ = response.into_body().collect().await;
        status
    }
}
