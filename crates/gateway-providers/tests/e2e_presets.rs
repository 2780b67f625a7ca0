//! Every OpenAI-compatible preset end to end against the testkit's OpenAI mock, built from a
//! spec the way a `[providers.NAME]` section builds it: the preset's own API path (its base
//! URL with the host swapped for the mock's), the bearer key, the preset's extra headers and
//! the configuration's, plain and streamed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use futures_util::StreamExt;
use gateway_core::{ChatRequest, Secret, StreamEvent};
use gateway_providers::openai::presets::{KeyRule, PRESETS};
use gateway_providers::{HttpClient, ProviderRegistry, ProviderSpec};
use gateway_testkit::MockServer;
use serde_json::json;

fn req(stream: bool) -> ChatRequest {
    serde_json::from_value(json!({
        "model": "some-model", "stream": stream,
        "messages": [{"role": "user", "content": "hi preset"}]
    }))
    .unwrap()
}

/// The preset's base URL with its scheme and host replaced by the mock's address.
fn at_mock(base_url: &str, mock: &MockServer) -> String {
    let uri: http::Uri = base_url.parse().unwrap();
    format!("http://{}{}", mock.addr(), uri.path())
}

#[tokio::test]
async fn every_preset_sends_its_path_key_and_headers() {
    let registry = ProviderRegistry::with_builtins();
    let client = HttpClient::new(Duration::from_secs(2)).unwrap();
    for preset in PRESETS {
        let mock = MockServer::start().await.unwrap();
        let mut spec = ProviderSpec::new(format!("my-{}", preset.kind), preset.kind);
        spec.base_url = Some(at_mock(preset.base_url, &mock));
        let key = format!("key-for-{}", preset.kind);
        spec.api_key = Some(Secret::new(key.clone()));
        spec.headers = vec![("x-team".to_owned(), "search".to_owned())];
        let provider = registry.build(&spec, client.clone()).unwrap();

        let out = provider.chat(&req(false)).await.unwrap();
        let text = out.choices[0]
            .message
            .content
            .as_ref()
            .unwrap()
            .joined_text();
        assert_eq!(text, "Hello! You said: hi preset", "{}", preset.kind);
        let mut stream = provider.chat_stream(&req(true)).await.unwrap();
        let mut streamed = String::new();
        while let Some(event) = stream.next().await {
            if let StreamEvent::Chunk(c) = event.unwrap() {
                for choice in c.choices {
                    streamed.push_str(choice.delta.content.as_deref().unwrap_or_default());
                }
            }
        }
        assert_eq!(streamed, "Hello! You said: hi preset", "{}", preset.kind);

        let seen = mock.requests();
        assert_eq!(seen.len(), 2, "{}", preset.kind);
        let expected_path = format!("{}/chat/completions", http_path(preset.base_url));
        for r in &seen {
            assert_eq!(r.method, "POST");
            assert_eq!(r.path, expected_path, "{}", preset.kind);
            assert_eq!(
                r.header("authorization"),
                Some(format!("Bearer {key}").as_str()),
                "{}",
                preset.kind
            );
            assert_eq!(r.header("x-team"), Some("search"), "{}", preset.kind);
            for (name, value) in preset.headers {
                assert_eq!(r.header(name), Some(*value), "{} {name}", preset.kind);
            }
            assert_eq!(r.json()["model"], "some-model");
        }
    }
}

fn http_path(base_url: &str) -> String {
    base_url.parse::<http::Uri>().unwrap().path().to_owned()
}

#[tokio::test]
async fn openrouter_attribution_headers_and_keyless_local_servers() {
    let registry = ProviderRegistry::with_builtins();
    let client = HttpClient::new(Duration::from_secs(2)).unwrap();
    let mock = MockServer::start().await.unwrap();

    let mut openrouter = ProviderSpec::new("or", "openrouter");
    openrouter.base_url = Some(format!("http://{}/api/v1", mock.addr()));
    openrouter.api_key = Some(Secret::new("sk-or-test".to_owned()));
    openrouter.headers = vec![("X-Title".to_owned(), "Team App".to_owned())];
    let provider = registry.build(&openrouter, client.clone()).unwrap();
    provider.chat(&req(false)).await.unwrap();
    let r = mock.requests().pop().unwrap();
    assert_eq!(r.path, "/api/v1/chat/completions");
    assert_eq!(r.header("x-title"), Some("Team App"), "configured wins");
    assert_eq!(
        r.headers.iter().filter(|(n, _)| n == "x-title").count(),
        1,
        "one X-Title"
    );
    assert!(r.header("http-referer").is_some());

    for preset in PRESETS.iter().filter(|p| p.key == KeyRule::Optional) {
        mock.clear_requests();
        let mut spec = ProviderSpec::new("local", preset.kind);
        spec.base_url = Some(at_mock(preset.base_url, &mock));
        let provider = registry.build(&spec, client.clone()).unwrap();
        provider.chat(&req(false)).await.unwrap();
        let r = mock.requests().pop().unwrap();
        assert_eq!(r.header("authorization"), None, "{}", preset.kind);
    }
}
