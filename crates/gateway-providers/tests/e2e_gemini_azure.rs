//! The Gemini and Azure adapters end to end against the testkit's vendor mocks: where the key
//! travels, URLs, generation config placement, safety blocks, thinking usage, embeddings and
//! each vendor's error bodies.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use futures_util::StreamExt;
use gateway_core::types::EmbeddingsRequest;
use gateway_core::{ChatRequest, ChatStream, Provider, ProviderError, Secret, StreamEvent, Usage};
use gateway_providers::{AzureConfig, AzureProvider, GeminiConfig, GeminiProvider, HttpClient};
use gateway_testkit::vendors::{Vendor, VendorServer};
use serde_json::json;

const GEMINI_KEY: &str = "AIzaSyTestKey0123456789";
const AZURE_KEY: &str = "azure-key-0123456789abcdef";

fn client() -> HttpClient {
    HttpClient::new(Duration::from_secs(2)).unwrap()
}

fn req(v: serde_json::Value) -> ChatRequest {
    serde_json::from_value(v).unwrap()
}

async fn gemini_with_key(key: &str) -> (VendorServer, GeminiProvider) {
    let server = VendorServer::start(Vendor::Gemini).await.unwrap();
    let mut config = GeminiConfig::new("gemini", Some(Secret::new(key.to_owned())));
    config.base_url = server.base_url();
    (server, GeminiProvider::new(config, client()).unwrap())
}

async fn gemini() -> (VendorServer, GeminiProvider) {
    gemini_with_key(GEMINI_KEY).await
}

async fn azure() -> (VendorServer, AzureProvider) {
    let server = VendorServer::start(Vendor::Azure).await.unwrap();
    let config = AzureConfig::new(
        "azure",
        server.base_url(),
        Some(Secret::new(AZURE_KEY.to_owned())),
    );
    (server, AzureProvider::new(config, client()).unwrap())
}

async fn collect(stream: ChatStream) -> (String, Option<String>, Option<Usage>, Vec<String>) {
    let (mut text, mut finish, mut usage, mut tools) = (String::new(), None, None, Vec::new());
    for e in stream.collect::<Vec<_>>().await {
        let StreamEvent::Chunk(c) = e.unwrap() else {
            continue;
        };
        usage = usage.or(c.usage);
        for choice in c.choices {
            text.push_str(choice.delta.content.as_deref().unwrap_or_default());
            finish = finish.or(choice.finish_reason);
            tools.extend(
                choice
                    .delta
                    .tool_calls
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|t| t.function?.name),
            );
        }
    }
    (text, finish, usage, tools)
}

#[tokio::test]
async fn gemini_key_goes_in_the_header_never_the_url() {
    let (server, provider) = gemini().await;
    let r = req(
        json!({"model":"gemini-2.5-flash","temperature":0.3,"max_tokens":50,
        "messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello there"}]}),
    );
    let out = provider.chat(&r).await.unwrap();
    assert_eq!(
        out.choices[0]
            .message
            .content
            .as_ref()
            .unwrap()
            .joined_text(),
        "Hello! You said: Hello there"
    );
    let stream = provider
        .chat_stream(&req(
            json!({"model":"models/gemini-2.5-flash","stream":true,
        "messages":[{"role":"user","content":"Hi"}]}),
        ))
        .await
        .unwrap();
    assert_eq!(collect(stream).await.0, "Hello! You said: Hi");
    let sent = server.requests();
    assert_eq!(
        sent[0].path,
        "/v1beta/models/gemini-2.5-flash:generateContent"
    );
    assert_eq!(sent[0].query, None);
    assert_eq!(
        sent[1].path,
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    );
    assert_eq!(sent[1].query.as_deref(), Some("alt=sse"));
    for s in &sent {
        assert_eq!(s.header("x-goog-api-key"), Some(GEMINI_KEY));
        assert!(!s.query.as_deref().unwrap_or_default().contains(GEMINI_KEY));
        assert!(s.header("authorization").is_none());
    }
    let body = sent[0].json();
    assert_eq!(
        body["generationConfig"],
        json!({"temperature":0.3,"maxOutputTokens":50})
    );
    assert_eq!(body["systemInstruction"]["parts"][0]["text"], "Be brief.");
}

#[tokio::test]
async fn gemini_safety_blocks() {
    let (_server, provider) = gemini().await;
    let msg = json!([{"role":"user","content":"something dangerous"}]);
    match provider
        .chat(&req(json!({"model":"mock-safety","messages":msg})))
        .await
    {
        Err(ProviderError::Status {
            status: 400,
            message,
            ..
        }) => assert!(message.contains("content filter (SAFETY)"), "{message}"),
        other => panic!("{other:?}"),
    }
    match provider
        .chat_stream(&req(
            json!({"model":"mock-safety","stream":true,"messages":msg}),
        ))
        .await
    {
        Ok(stream) => assert!(matches!(
            stream.collect::<Vec<_>>().await.first(),
            Some(Err(ProviderError::Status { status: 400, .. }))
        )),
        Err(e) => panic!("{e:?}"),
    }
    let out = provider
        .chat(&req(
            json!({"model":"mock-safety-candidate","messages":msg}),
        ))
        .await
        .unwrap();
    assert_eq!(
        out.choices[0].finish_reason.as_deref(),
        Some("content_filter")
    );
    let stream = provider
        .chat_stream(&req(
            json!({"model":"mock-safety-candidate","stream":true,"messages":msg}),
        ))
        .await
        .unwrap();
    assert_eq!(collect(stream).await.1.as_deref(), Some("content_filter"));
}

#[tokio::test]
async fn gemini_thinking_tokens_in_usage() {
    let (_server, provider) = gemini().await;
    let r = req(
        json!({"model":"mock-thinking","stream":true,"stream_options":{"include_usage":true},
        "thinking_config":{"includeThoughts":true},"messages":[{"role":"user","content":"a b"}]}),
    );
    let (text, finish, usage, _) = collect(provider.chat_stream(&r).await.unwrap()).await;
    let usage = usage.unwrap();
    assert_eq!(
        (text.as_str(), finish.as_deref()),
        ("Hello! You said: a b", Some("stop"))
    );
    assert_eq!(
        (usage.reasoning_tokens(), usage.completion_tokens),
        (7, 5 + 7)
    );
    let out = provider
        .chat(&req(
            json!({"model":"mock-thinking","messages":[{"role":"user","content":"a b"}]}),
        ))
        .await
        .unwrap();
    assert_eq!(out.usage.unwrap().reasoning_tokens(), 7);
}

#[tokio::test]
async fn gemini_function_call_round_trip() {
    let (server, provider) = gemini().await;
    let tools = json!([{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"location":{"type":"string"}}}}}]);
    let out = provider.chat(&req(json!({"model":"g","tools":tools,"tool_choice":"auto","messages":[{"role":"user","content":"call tool"}]}))).await.unwrap();
    assert_eq!(out.choices[0].finish_reason.as_deref(), Some("tool_calls"));
    let call = out.choices[0].message.tool_calls.clone().unwrap().remove(0);
    let next = req(
        json!({"model":"g","tools":tools,"messages":[{"role":"user","content":"call tool"},
        {"role":"assistant","tool_calls":[call]},{"role":"tool","tool_call_id":call.id,"content":"{\"temp\":15}"}]}),
    );
    provider.chat(&next).await.unwrap();
    let sent = server.requests()[1].json();
    assert_eq!(
        sent["contents"][2]["parts"][0]["functionResponse"],
        json!({"name":"get_weather","response":{"temp":15}})
    );
    let r = req(
        json!({"model":"g","stream":true,"tools":tools,"messages":[{"role":"user","content":"call tool"}]}),
    );
    let (_, finish, _, names) = collect(provider.chat_stream(&r).await.unwrap()).await;
    assert_eq!(
        (finish.as_deref(), names),
        (Some("tool_calls"), vec!["get_weather".to_owned()])
    );
}

#[tokio::test]
async fn gemini_errors() {
    let (_server, provider) = gemini().await;
    let p = &provider;
    let call = |model: &str| {
        let r = req(json!({"model":model,"messages":[{"role":"user","content":"x"}]}));
        async move { p.chat(&r).await }
    };
    assert!(matches!(
        call("mock-429").await,
        Err(ProviderError::Status {
            status: 429,
            retry_after: Some(_),
            ..
        })
    ));
    assert!(matches!(
        call("mock-overloaded").await,
        Err(ProviderError::Status { status: 503, .. })
    ));
    let r = req(
        json!({"model":"mock-stream-error","stream":true,"messages":[{"role":"user","content":"x"}]}),
    );
    let events = provider
        .chat_stream(&r)
        .await
        .unwrap()
        .collect::<Vec<_>>()
        .await;
    assert!(matches!(
        events.last(),
        Some(Err(ProviderError::Status { status: 503, .. }))
    ));
    let (_server, bad_key) = gemini_with_key("invalid").await;
    match bad_key
        .chat(&req(
            json!({"model":"g","messages":[{"role":"user","content":"x"}]}),
        ))
        .await
    {
        Err(ProviderError::Status { status: 401, .. }) => {}
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn gemini_embeddings_single_and_batch() {
    let (server, provider) = gemini().await;
    let p = &provider;
    let embed = |input: serde_json::Value, format: Option<&str>| {
        let r: EmbeddingsRequest = serde_json::from_value(
            json!({"model":"text-embedding-004","input":input,"encoding_format":format}),
        )
        .unwrap();
        async move { p.embeddings(&r).await.unwrap() }
    };
    let one = embed(json!("hello world"), None).await;
    assert_eq!(
        (
            one.data.len(),
            one.data[0].embedding.as_array().unwrap().len()
        ),
        (1, 8)
    );
    let many = embed(json!(["a", "b", "c"]), Some("base64")).await;
    assert_eq!(many.data.len(), 3);
    assert!(many.data[2].embedding.is_string());
    let sent = server.requests();
    assert_eq!(
        sent[0].path,
        "/v1beta/models/text-embedding-004:embedContent"
    );
    assert_eq!(
        sent[1].path,
        "/v1beta/models/text-embedding-004:batchEmbedContents"
    );
}

#[tokio::test]
async fn azure_deployment_urls_api_version_and_key_header() {
    let (server, provider) = azure().await;
    let out = provider
        .chat(&req(
            json!({"model":"gpt4o-prod","messages":[{"role":"user","content":"Hi Azure"}]}),
        ))
        .await
        .unwrap();
    assert_eq!(
        out.choices[0]
            .message
            .content
            .as_ref()
            .unwrap()
            .joined_text(),
        "Hello! You said: Hi Azure"
    );
    let stream = provider
        .chat_stream(&req(
            json!({"model":"gpt4o-prod","stream":true,"stream_options":{"include_usage":true},
        "messages":[{"role":"user","content":"Hi"}]}),
        ))
        .await
        .unwrap();
    let (text, finish, usage, _) = collect(stream).await;
    assert_eq!(
        (text.as_str(), finish.as_deref()),
        ("Hello! You said: Hi", Some("stop"))
    );
    assert!(usage.is_some());
    let r: EmbeddingsRequest =
        serde_json::from_value(json!({"model":"embed-prod","input":["a b","c"]})).unwrap();
    assert_eq!(
        provider.embeddings(&r).await.unwrap().usage.prompt_tokens,
        3
    );
    let sent = server.requests();
    assert_eq!(
        sent[0].path,
        "/openai/deployments/gpt4o-prod/chat/completions"
    );
    assert_eq!(sent[2].path, "/openai/deployments/embed-prod/embeddings");
    for s in &sent {
        assert_eq!(s.query.as_deref(), Some("api-version=2024-10-21"));
        assert_eq!(s.header("api-key"), Some(AZURE_KEY));
        assert!(s.header("authorization").is_none());
    }
}

#[tokio::test]
async fn azure_errors() {
    let (_server, provider) = azure().await;
    let p = &provider;
    let call = |model: &str| {
        let r = req(json!({"model":model,"messages":[{"role":"user","content":"x"}]}));
        async move { p.chat(&r).await }
    };
    assert!(matches!(
        call("mock-429").await,
        Err(ProviderError::Status {
            status: 429,
            retry_after: Some(_),
            ..
        })
    ));
    match call("mock-400").await {
        Err(ProviderError::Status {
            status: 400,
            message,
            ..
        }) => assert!(message.contains("content management policy"), "{message}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        call("bad/name").await,
        Err(ProviderError::Unsupported(_))
    ));
}
