//! The Anthropic adapter end to end against the testkit's Anthropic mock (real HTTP, JSON and
//! SSE), and through the router with a fallback across vendors.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use gateway_core::phases::route::Router;
use gateway_core::{
    ChatRequest, ChatResponse, Endpoint, Principal, Provider, ProviderError, RequestContext,
    Secret, StreamEvent,
};
use gateway_providers::{
    AnthropicConfig, AnthropicProvider, Deployment, GeminiConfig, GeminiProvider, HttpClient,
    ModelGroup, ModelRouter,
};
use gateway_testkit::vendors::{Vendor, VendorServer, anthropic};
use serde_json::json;

const KEY: &str = "sk-ant-test-0123456789";

async fn setup() -> (VendorServer, AnthropicProvider) {
    let server = VendorServer::start(Vendor::Anthropic).await.unwrap();
    let mut config = AnthropicConfig::new("anthropic", Some(Secret::new(KEY.to_owned())));
    config.base_url = server.base_url();
    let provider =
        AnthropicProvider::new(config, HttpClient::new(Duration::from_secs(2)).unwrap()).unwrap();
    (server, provider)
}

fn req(v: serde_json::Value) -> ChatRequest {
    serde_json::from_value(v).unwrap()
}

/// (concatenated text, tool call (id, name, arguments), finish reason, usage chunk present)
async fn collect(
    stream: gateway_core::ChatStream,
) -> (
    String,
    Vec<(String, String, String)>,
    Option<String>,
    Option<gateway_core::Usage>,
) {
    let events: Vec<_> = stream.collect().await;
    let (mut text, mut calls, mut finish, mut usage) = (
        String::new(),
        Vec::<(String, String, String)>::new(),
        None,
        None,
    );
    for e in events {
        let StreamEvent::Chunk(c) = e.unwrap() else {
            continue;
        };
        usage = usage.or(c.usage);
        for choice in c.choices {
            text.push_str(choice.delta.content.as_deref().unwrap_or_default());
            finish = finish.or(choice.finish_reason);
            for d in choice.delta.tool_calls.unwrap_or_default() {
                let i = d.index as usize;
                if calls.len() <= i {
                    calls.resize(i + 1, Default::default());
                }
                let f = d.function.unwrap_or_default();
                calls[i].0.push_str(d.id.as_deref().unwrap_or_default());
                calls[i].1.push_str(f.name.as_deref().unwrap_or_default());
                calls[i]
                    .2
                    .push_str(f.arguments.as_deref().unwrap_or_default());
            }
        }
    }
    (text, calls, finish, usage)
}

#[tokio::test]
async fn chat_sends_anthropic_headers_system_and_default_max_tokens() {
    let (server, provider) = setup().await;
    let out = provider
        .chat(&req(json!({"model":"claude-sonnet-4-5","messages":[
            {"role":"system","content":"Be brief."},{"role":"user","content":"Hello there"}]})))
        .await
        .unwrap();
    assert_eq!(
        out.choices[0]
            .message
            .content
            .as_ref()
            .unwrap()
            .joined_text(),
        "Hello! You said: Hello there"
    );
    assert_eq!(out.choices[0].finish_reason.as_deref(), Some("stop"));
    assert!(out.id.starts_with("msg_mock_"));
    let usage = out.usage.unwrap();
    assert_eq!(
        (usage.prompt_tokens, usage.completion_tokens),
        (2 + 2 + 3, 5)
    );
    let sent = &server.requests()[0];
    assert_eq!(
        (sent.method.as_str(), sent.path.as_str()),
        ("POST", "/v1/messages")
    );
    assert_eq!(sent.header("x-api-key"), Some(KEY));
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
    assert!(sent.header("authorization").is_none());
    let body = sent.json();
    assert_eq!(
        (body["max_tokens"].as_u64(), body["system"].as_str()),
        (Some(4096), Some("Be brief."))
    );
}

#[tokio::test]
async fn tool_use_round_trip() {
    let (server, provider) = setup().await;
    let tools = json!([{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"location":{"type":"string"}}}}}]);
    let first = req(
        json!({"model":"m","tools":tools,"messages":[{"role":"user","content":"please call tool"}]}),
    );
    let out: ChatResponse = provider.chat(&first).await.unwrap();
    let call = &out.choices[0].message.tool_calls.as_ref().unwrap()[0];
    assert_eq!(
        (call.id.as_str(), call.function.name.as_str()),
        (anthropic::TOOL_USE_ID, "get_weather")
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&call.function.arguments).unwrap()["unit"],
        "celsius"
    );
    assert_eq!(out.choices[0].finish_reason.as_deref(), Some("tool_calls"));
    // The mock checks that the tool_result answers the previous tool_use.
    let second = req(json!({"model":"m","tools":tools,"messages":[
        {"role":"user","content":"please call tool"},
        {"role":"assistant","content":null,"tool_calls":[call]},
        {"role":"tool","tool_call_id":call.id,"content":"15 degrees"}]}));
    let out = provider.chat(&second).await.unwrap();
    assert_eq!(out.choices[0].finish_reason.as_deref(), Some("stop"));
    let sent = server.requests()[1].json();
    assert_eq!(sent["messages"][2]["content"][0]["type"], "tool_result");
}

#[tokio::test]
async fn streams_text_with_usage() {
    let (server, provider) = setup().await;
    let r = req(
        json!({"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"one two three"}]}),
    );
    let (text, calls, finish, usage) = collect(provider.chat_stream(&r).await.unwrap()).await;
    assert_eq!(text, "Hello! You said: one two three");
    assert!(calls.is_empty());
    assert_eq!(finish.as_deref(), Some("stop"));
    assert_eq!(usage.unwrap().completion_tokens, 6);
    assert_eq!(server.requests()[0].json()["stream"], true);
}

#[tokio::test]
async fn streams_tool_input_deltas_at_tool_index_zero() {
    let (_server, provider) = setup().await;
    let r = req(
        json!({"model":"mock-thinking","stream":true,"messages":[{"role":"user","content":"call tool"}],
        "tools":[{"type":"function","function":{"name":"get_weather"}}]}),
    );
    let (_, calls, finish, usage) = collect(provider.chat_stream(&r).await.unwrap()).await;
    assert_eq!(
        calls,
        vec![(
            anthropic::TOOL_USE_ID.to_owned(),
            "get_weather".to_owned(),
            anthropic::TOOL_INPUT_PIECES.concat()
        )]
    );
    assert_eq!(finish.as_deref(), Some("tool_calls"));
    assert!(usage.is_none(), "no usage chunk unless asked");
}

#[tokio::test]
async fn an_error_event_fails_the_stream_after_its_first_delta() {
    let (_server, provider) = setup().await;
    let r = req(
        json!({"model":"mock-stream-error","stream":true,"messages":[{"role":"user","content":"hi"}]}),
    );
    let events: Vec<_> = provider.chat_stream(&r).await.unwrap().collect().await;
    assert!(events.iter().any(|e| matches!(e, Ok(StreamEvent::Chunk(c)) if c.choices[0].delta.content.as_deref() == Some("Hello! "))));
    match events.last() {
        Some(Err(ProviderError::Status {
            status: 529,
            message,
            ..
        })) => assert_eq!(message, "Overloaded"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_cut_stream_is_an_error() {
    let (_server, provider) = setup().await;
    let r = req(
        json!({"model":"mock-stream-stop-2","stream":true,"messages":[{"role":"user","content":"hi"}]}),
    );
    let events: Vec<_> = provider.chat_stream(&r).await.unwrap().collect().await;
    assert!(events.last().unwrap().is_err());
}

#[tokio::test]
async fn vendor_errors_map_to_statuses() {
    let (_server, provider) = setup().await;
    let p = &provider;
    let call = |model: &str| {
        let r = req(json!({"model":model,"messages":[{"role":"user","content":"x"}]}));
        async move { p.chat(&r).await }
    };
    match call("mock-429").await {
        Err(ProviderError::Status {
            status: 429,
            retry_after,
            message,
        }) => {
            assert_eq!(retry_after, Some(Duration::from_secs(1)));
            assert!(message.contains("rate limit"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(call("mock-overloaded").await, Err(e @ ProviderError::Status { status: 529, .. }) if e.is_retryable())
    );
    assert!(matches!(
        call("mock-401").await,
        Err(ProviderError::Status { status: 401, .. })
    ));
    assert!(matches!(
        call("mock-malformed").await,
        Err(ProviderError::InvalidResponse(_))
    ));
}

#[tokio::test]
async fn thinking_and_cache_usage() {
    let (server, provider) = setup().await;
    let out = provider
        .chat(&req(
            json!({"model":"mock-thinking","messages":[{"role":"user","content":"x"}]}),
        ))
        .await
        .unwrap();
    let msg = &out.choices[0].message;
    assert_eq!(msg.extra["reasoning_content"], anthropic::THINKING);
    // Sent back next turn, the thinking block keeps its signature.
    let next = req(
        json!({"model":"m","messages":[{"role":"user","content":"x"}, msg, {"role":"user","content":"more"}]}),
    );
    provider.chat(&next).await.unwrap();
    assert_eq!(
        server.requests()[1].json()["messages"][1]["content"][0]["signature"],
        anthropic::SIGNATURE
    );
    let out = provider
        .chat(&req(
            json!({"model":"mock-cache","messages":[{"role":"user","content":"x"}]}),
        ))
        .await
        .unwrap();
    let usage = out.usage.unwrap();
    assert_eq!(
        (
            usage.cached_tokens(),
            usage.prompt_tokens_details.unwrap().cache_write_tokens
        ),
        (2000, Some(1000))
    );
    assert_eq!(usage.prompt_tokens, 3 + 1 + 1000 + 2000);
}

#[tokio::test]
async fn lists_models() {
    let (_server, provider) = setup().await;
    assert_eq!(
        provider.list_models().await.unwrap()[0].id,
        "claude-sonnet-4-5"
    );
}

#[tokio::test]
async fn the_router_falls_back_from_anthropic_to_gemini_on_500() {
    let (_a, anthropic) = setup().await;
    let g = VendorServer::start(Vendor::Gemini).await.unwrap();
    let mut config = GeminiConfig::new("gemini", Some(Secret::new("AIza-test".to_owned())));
    config.base_url = g.base_url();
    let gemini =
        GeminiProvider::new(config, HttpClient::new(Duration::from_secs(2)).unwrap()).unwrap();
    let router = ModelRouter::new([ModelGroup::new(
        "smart",
        vec![
            Deployment::new(Arc::new(anthropic), "mock-500"),
            Deployment::new(Arc::new(gemini), "gemini-2.5-flash").with_priority(1),
        ],
    )]);
    let ctx = RequestContext::new("r", Principal::anonymous(), Endpoint::Messages);
    let r = req(json!({"model":"smart","stream":true,"messages":[{"role":"user","content":"hi"}]}));
    let out = router.chat_stream(r, &ctx).await.unwrap();
    assert_eq!(
        (
            &*out.served_by.provider,
            &*out.served_by.upstream_model,
            out.served_by.attempts
        ),
        ("gemini", "gemini-2.5-flash", 2)
    );
    let (text, ..) = collect(out.value).await;
    assert_eq!(text, "Hello! You said: hi");
}
