//! The Vertex AI adapter end to end against the testkit's Vertex mock (which is also the OAuth
//! token endpoint): a service account's RS256 assertion exchanged for an access token, cached
//! and shared by concurrent calls, fetched again when due; Gemini on Vertex and Claude on
//! Vertex, plain and streamed, at their publisher URLs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use futures_util::StreamExt;
use gateway_core::{ChatRequest, Provider, ProviderError, StreamEvent};
use gateway_providers::vertex::{ServiceAccountKey, VertexConfig, VertexProvider};
use gateway_providers::{HttpClient, Timeouts};
use gateway_testkit::vendors::vertex::{ANTHROPIC_VERSION, assertion_problem};
use gateway_testkit::vendors::{Vendor, VendorServer};
use serde_json::json;

/// A throwaway RSA key of the auth crate's tests (never a real account's).
const TEST_KEY: &str = include_str!("../../gateway-auth/tests/keys/test-only-rsa-1-private.pem");

fn key_for(server: &VendorServer, email: &str) -> ServiceAccountKey {
    let json = json!({
        "type": "service_account", "project_id": "demo-project", "private_key_id": "kid-1",
        "private_key": TEST_KEY, "client_email": email,
        "token_uri": format!("{}/token", server.base_url()),
    });
    ServiceAccountKey::from_json(&json.to_string()).unwrap()
}

async fn vertex(email: &str) -> (VendorServer, VertexProvider) {
    let server = VendorServer::start(Vendor::Vertex).await.unwrap();
    let key = key_for(&server, email);
    let config = VertexConfig {
        name: "vertex".to_owned(),
        project: key.project_id.clone().unwrap(),
        location: "us-east5".to_owned(),
        base_url: Some(format!("{}/v1", server.base_url())),
        key,
        timeouts: Timeouts::default(),
    };
    let client = HttpClient::new(Duration::from_secs(2)).unwrap();
    (server, VertexProvider::new(config, client).unwrap())
}

fn chat(model: &str, stream: bool) -> ChatRequest {
    serde_json::from_value(json!({"model": model, "stream": stream, "max_tokens": 50,
        "stream_options": {"include_usage": true},
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi Vertex"}]}))
    .unwrap()
}

async fn streamed_text(provider: &VertexProvider, model: &str) -> String {
    let stream = provider.chat_stream(&chat(model, true)).await.unwrap();
    let mut text = String::new();
    for event in stream.collect::<Vec<_>>().await {
        if let StreamEvent::Chunk(c) = event.unwrap() {
            for choice in c.choices {
                text.push_str(choice.delta.content.as_deref().unwrap_or_default());
            }
        }
    }
    text
}

#[tokio::test]
async fn gemini_and_claude_on_vertex_plain_and_streamed() {
    let (server, provider) = vertex("gateway@demo-project.iam.gserviceaccount.com").await;
    for model in ["gemini-2.5-flash", "claude-sonnet-4-5@20250929"] {
        let out = provider.chat(&chat(model, false)).await.unwrap();
        assert_eq!(
            out.choices[0]
                .message
                .content
                .as_ref()
                .unwrap()
                .joined_text(),
            "Hello! You said: Hi Vertex",
            "{model}"
        );
        assert!(out.usage.unwrap().prompt_tokens > 0, "{model}");
        assert_eq!(
            streamed_text(&provider, model).await,
            "Hello! You said: Hi Vertex"
        );
    }
    let calls: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path != "/token")
        .collect();
    let paths: Vec<String> = calls
        .iter()
        .map(|r| {
            format!(
                "{}{}",
                r.path,
                r.query
                    .as_deref()
                    .map(|q| format!("?{q}"))
                    .unwrap_or_default()
            )
        })
        .collect();
    let base = "/v1/projects/demo-project/locations/us-east5/publishers";
    assert_eq!(
        paths,
        [
            format!("{base}/google/models/gemini-2.5-flash:generateContent"),
            format!("{base}/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse"),
            format!("{base}/anthropic/models/claude-sonnet-4-5@20250929:rawPredict"),
            format!("{base}/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict"),
        ]
    );
    let claude = calls[2].json();
    assert_eq!(claude["anthropic_version"], ANTHROPIC_VERSION);
    assert!(claude.get("model").is_none());
    assert!(
        claude["system"].to_string().contains("Be brief."),
        "{claude}"
    );
    assert_eq!(
        calls[0].json()["systemInstruction"]["parts"][0]["text"],
        "Be brief."
    );
    for call in &calls {
        assert!(
            call.header("authorization")
                .unwrap()
                .starts_with("Bearer ya29.mock-")
        );
        assert_eq!(call.header("x-goog-api-key"), None);
    }
    // One token for all four calls: cached.
    let tokens: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path == "/token")
        .collect();
    assert_eq!(tokens.len(), 1);
    let form = String::from_utf8_lossy(&tokens[0].body).into_owned();
    let assertion = form.split("assertion=").nth(1).unwrap();
    assert_eq!(assertion_problem(assertion), None);
}

#[tokio::test]
async fn concurrent_calls_share_one_token_fetch_and_due_tokens_are_replaced() {
    let (server, provider) = vertex("gateway@demo-project.iam.gserviceaccount.com").await;
    let request = chat("gemini-2.5-flash", false);
    let calls = (0..8).map(|_| provider.chat(&request));
    for result in futures_util::future::join_all(calls).await {
        result.unwrap();
    }
    let fetches = |s: &VendorServer| s.requests().iter().filter(|r| r.path == "/token").count();
    assert_eq!(fetches(&server), 1, "single-flight");

    // A token that lives no longer than the refresh margin is fetched anew for every call.
    let (server, provider) = vertex("short-lived@demo-project.iam.gserviceaccount.com").await;
    for _ in 0..3 {
        provider
            .chat(&chat("gemini-2.5-flash", false))
            .await
            .unwrap();
    }
    assert_eq!(fetches(&server), 3);
}

#[tokio::test]
async fn a_refused_grant_fails_the_call_without_calling_vertex() {
    let (server, provider) = vertex("").await;
    match provider.chat(&chat("gemini-2.5-flash", false)).await {
        Err(ProviderError::Status {
            status: 502,
            message,
            ..
        }) => {
            assert!(message.contains("invalid_grant"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(server.requests().iter().all(|r| r.path == "/token"));
    assert!(ServiceAccountKey::from_json("{\"client_email\": 1}").is_err());
}
