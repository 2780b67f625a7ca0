//! The per-model unsupported-parameter policy through the whole gateway: `drop` names what was
//! left out in `x-gateway-dropped-params` (plain and streamed), `reject` answers 400 naming the
//! parameter before any upstream call, and a provider's `passthrough_params` sends `top_k`
//! to an OpenAI-compatible server that takes it.

// Test helpers outside #[test] functions may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use gateway_testkit::{MockServer, Vendor};

/// An Anthropic mock, models `claude-drop` (default policy) and `claude-reject` on it, and
/// `vllm` on the OpenAI mock through a provider that passes `top_k`.
async fn gateway() -> (TestGateway, MockServer) {
    let claude = MockServer::start_vendor(Vendor::Anthropic).await.unwrap();
    let sections = format!(
        r#"
[providers.claude]
kind = "anthropic"
base_url = "{claude}"
api_key = "sk-ant-upstream-secret"

[models.claude-drop]
provider = "claude"
upstream_model = "claude-sonnet-4-5"

[models.claude-reject]
provider = "claude"
upstream_model = "claude-sonnet-4-5"
unsupported_params = "reject"

[models.gpt-reject]
provider = "mock"
upstream_model = "gpt-4o-mini"
unsupported_params = "reject"
"#,
        claude = claude.base_url()
    );
    let gw = TestGateway::start_with_sections("", &sections).await;
    (gw, claude)
}

fn with_params(model: &str, stream: bool, params: serde_json::Value) -> String {
    let mut body: serde_json::Value = serde_json::from_str(&chat_body(model, stream)).unwrap();
    body.as_object_mut()
        .unwrap()
        .extend(params.as_object().unwrap().clone());
    body.to_string()
}

fn dropped(reply: &Reply) -> Option<&str> {
    reply
        .headers
        .get("x-gateway-dropped-params")
        .map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn drop_leaves_them_out_and_names_them_in_a_header() {
    let (gw, claude) = gateway().await;
    let params = serde_json::json!({"seed": 7, "logit_bias": {"50256": -100},
        "frequency_penalty": 0.5, "temperature": 0.2});
    for stream in [false, true] {
        claude.clear_requests();
        let reply = gw
            .post(
                "/v1/chat/completions",
                &with_params("claude-drop", stream, params.clone()),
            )
            .await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        assert_eq!(
            dropped(&reply),
            Some("seed, frequency_penalty, logit_bias"),
            "stream={stream}"
        );
        let sent = claude.requests().last().unwrap().json();
        for param in ["seed", "logit_bias", "frequency_penalty"] {
            assert!(
                sent.get(param).is_none(),
                "{param} reached Anthropic: {sent}"
            );
        }
        assert_eq!(sent["temperature"], 0.2, "a supported parameter goes on");
    }
    // Nothing dropped, no header.
    let plain = gw
        .post("/v1/chat/completions", &chat_body("claude-drop", false))
        .await;
    assert_eq!(plain.status, 200);
    assert_eq!(dropped(&plain), None);
}

#[tokio::test]
async fn reject_answers_400_naming_the_parameter_without_calling_upstream() {
    let (gw, claude) = gateway().await;
    for stream in [false, true] {
        let reply = gw
            .post(
                "/v1/chat/completions",
                &with_params(
                    "claude-reject",
                    stream,
                    serde_json::json!({"logprobs": true}),
                ),
            )
            .await;
        assert_eq!(reply.status, 400, "stream={stream}: {:?}", reply.body);
        let error = &reply.json()["error"];
        assert_eq!(error["type"], "invalid_request_error");
        assert_eq!(error["param"], "logprobs");
        assert_eq!(error["code"], "unsupported_parameter");
        let message = error["message"].as_str().unwrap();
        assert!(
            message.contains("'logprobs'") && message.contains("claude-reject"),
            "{message}"
        );
        assert!(!message.contains("sk-ant-upstream-secret"));
    }
    assert!(claude.requests().is_empty(), "no upstream call was made");
    // What the upstream supports passes under reject too.
    let ok = gw
        .post(
            "/v1/chat/completions",
            &with_params(
                "claude-reject",
                false,
                serde_json::json!({"temperature": 0.1}),
            ),
        )
        .await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    assert_eq!(dropped(&ok), None);
}

#[tokio::test]
async fn anthropic_clients_get_the_refusal_in_their_error_shape() {
    let (gw, _claude) = gateway().await;
    // top_k is Anthropic's own parameter; an OpenAI upstream has no form for it.
    let body = r#"{"model":"gpt-reject","max_tokens":32,"top_k":5,"messages":[{"role":"user","content":"hi"}]}"#;
    let auth = gw.key.clone();
    let headers = [
        ("content-type", "application/json"),
        ("x-api-key", auth.as_str()),
        ("anthropic-version", "2023-06-01"),
    ];
    let reply = send(
        http::Method::POST,
        &gw.url("/v1/messages"),
        body.to_owned(),
        &headers,
    )
    .await;
    assert_eq!(reply.status, 400, "{:?}", reply.body);
    let v = reply.json();
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "invalid_request_error");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("'top_k'"),
        "{v}"
    );
    assert!(gw.mock.requests().is_empty());
}

#[tokio::test]
async fn top_k_is_dropped_for_openai_and_passed_where_the_provider_accepts_it() {
    let mock = MockServer::start().await.unwrap();
    let sections = format!(
        r#"
[providers.vllm]
kind = "openai"
base_url = "{}"
passthrough_params = ["top_k"]

[models.vllm]
provider = "vllm"
upstream_model = "meta-llama/Llama-3.1-8B-Instruct"
"#,
        mock.base_url()
    );
    let gw = TestGateway::start_with_sections("", &sections).await;
    let top_k = serde_json::json!({"top_k": 20});
    let openai = gw
        .post(
            "/v1/chat/completions",
            &with_params("gpt-test", false, top_k.clone()),
        )
        .await;
    assert_eq!(openai.status, 200);
    assert_eq!(dropped(&openai), Some("top_k"));
    assert!(
        gw.mock
            .requests()
            .last()
            .unwrap()
            .json()
            .get("top_k")
            .is_none()
    );
    let vllm = gw
        .post("/v1/chat/completions", &with_params("vllm", true, top_k))
        .await;
    assert_eq!(vllm.status, 200);
    assert_eq!(dropped(&vllm), None);
    assert_eq!(mock.requests().last().unwrap().json()["top_k"], 20);
}
