//! The Bedrock adapter end to end against the testkit's Bedrock mock: SigV4-signed Converse
//! and ConverseStream calls (the binary event stream decoded), tool calls both ways, usage,
//! session tokens and API keys, and Bedrock's errors (HTTP and in-stream).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use futures_util::StreamExt;
use gateway_core::{ChatRequest, ChatStream, Provider, ProviderError, Secret, StreamEvent, Usage};
use gateway_providers::{
    AwsKeys, BedrockAuth, BedrockConfig, BedrockProvider, HttpClient, Timeouts,
};
use gateway_testkit::vendors::bedrock::{TOOL_USE_ID, signature_problem};
use gateway_testkit::vendors::{Vendor, VendorServer};
use serde_json::json;

const MODEL: &str = "anthropic.claude-3-5-sonnet-20240620-v1:0";

fn keys(token: Option<&str>) -> AwsKeys {
    AwsKeys {
        access_key_id: "AKIDEXAMPLE".to_owned(),
        secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".to_owned()),
        session_token: token.map(|t| Secret::new(t.to_owned())),
    }
}

async fn bedrock_with(auth: BedrockAuth) -> (VendorServer, BedrockProvider) {
    let server = VendorServer::start(Vendor::Bedrock).await.unwrap();
    let config = BedrockConfig {
        name: "bedrock".to_owned(),
        region: "us-west-2".to_owned(),
        base_url: Some(server.base_url()),
        auth,
        timeouts: Timeouts::default(),
    };
    let client = HttpClient::new(Duration::from_secs(2)).unwrap();
    (server, BedrockProvider::new(config, client).unwrap())
}

async fn bedrock() -> (VendorServer, BedrockProvider) {
    bedrock_with(BedrockAuth::Keys(keys(None))).await
}

fn req(v: serde_json::Value) -> ChatRequest {
    serde_json::from_value(v).unwrap()
}

fn chat(model: &str, text: &str, stream: bool) -> ChatRequest {
    req(json!({"model": model, "stream": stream, "max_tokens": 64,
        "stream_options": {"include_usage": true},
        "tools": [{"type":"function","function":{"name":"top_song","description":"Most popular song",
            "parameters":{"type":"object","properties":{"sign":{"type":"string"}},"required":["sign"]}}}],
        "messages": [{"role":"system","content":"Be brief."},{"role":"user","content": text}]}))
}

async fn collect(
    stream: ChatStream,
) -> (String, Option<String>, Option<Usage>, Vec<(String, String)>) {
    let (mut text, mut finish, mut usage) = (String::new(), None, None);
    let mut tools: Vec<(String, String)> = Vec::new();
    for e in stream.collect::<Vec<_>>().await {
        let StreamEvent::Chunk(c) = e.unwrap() else {
            continue;
        };
        usage = usage.or(c.usage);
        for choice in c.choices {
            text.push_str(choice.delta.content.as_deref().unwrap_or_default());
            finish = finish.or(choice.finish_reason);
            for t in choice.delta.tool_calls.unwrap_or_default() {
                let f = t.function.unwrap();
                match f.name {
                    Some(name) => tools.push((name, f.arguments.unwrap_or_default())),
                    None => tools.last_mut().unwrap().1.push_str(&f.arguments.unwrap()),
                }
            }
        }
    }
    (text, finish, usage, tools)
}

#[tokio::test]
async fn converse_is_signed_and_translated_both_ways() {
    let (server, provider) = bedrock().await;
    let out = provider
        .chat(&chat(MODEL, "Hello Bedrock", false))
        .await
        .unwrap();
    let choice = &out.choices[0];
    assert_eq!(
        choice.message.content.as_ref().unwrap().joined_text(),
        "Hello! You said: Hello Bedrock"
    );
    assert_eq!(choice.finish_reason.as_deref(), Some("stop"));
    let usage = out.usage.unwrap();
    assert!(
        usage.prompt_tokens > 0 && usage.completion_tokens == 5,
        "{usage:?}"
    );
    assert_eq!(out.model, MODEL);

    let r = server.requests().pop().unwrap();
    assert_eq!(
        r.path,
        "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse"
    );
    assert_eq!(signature_problem(&r), None);
    let auth = r.header("authorization").unwrap();
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"),
        "{auth}"
    );
    assert!(auth.contains("/us-west-2/bedrock/aws4_request"), "{auth}");
    assert!(
        auth.contains("SignedHeaders=content-type;host;x-amz-date,"),
        "{auth}"
    );
    let body = r.json();
    assert_eq!(body["system"], json!([{"text": "Be brief."}]));
    assert_eq!(
        body["messages"],
        json!([{"role":"user","content":[{"text":"Hello Bedrock"}]}])
    );
    assert_eq!(body["inferenceConfig"], json!({"maxTokens": 64}));
    assert_eq!(
        body["toolConfig"]["tools"][0]["toolSpec"]["name"],
        "top_song"
    );
    assert!(body.get("model").is_none() && body.get("stream").is_none());
}

#[tokio::test]
async fn converse_stream_decodes_the_binary_event_stream() {
    let (server, provider) = bedrock().await;
    let stream = provider
        .chat_stream(&chat(
            "meta.llama3-1-70b-instruct-v1:0",
            "Stream it please",
            true,
        ))
        .await
        .unwrap();
    let (text, finish, usage, tools) = collect(stream).await;
    assert_eq!(text, "Hello! You said: Stream it please");
    assert_eq!(finish.as_deref(), Some("stop"));
    assert!(tools.is_empty());
    let usage = usage.expect("the metadata event's usage");
    assert_eq!(usage.completion_tokens, 6);
    let r = server.requests().pop().unwrap();
    assert_eq!(
        r.path,
        "/model/meta.llama3-1-70b-instruct-v1%3A0/converse-stream"
    );
    assert_eq!(
        r.header("accept"),
        Some("application/vnd.amazon.eventstream")
    );
    assert_eq!(signature_problem(&r), None);
}

#[tokio::test]
async fn tool_calls_plain_streamed_and_their_results() {
    let (server, provider) = bedrock().await;
    let out = provider
        .chat(&chat(MODEL, "please call tool", false))
        .await
        .unwrap();
    let choice = &out.choices[0];
    assert_eq!(choice.finish_reason.as_deref(), Some("tool_calls"));
    let call = &choice.message.tool_calls.as_ref().unwrap()[0];
    assert_eq!(
        (call.id.as_str(), call.function.name.as_str()),
        (TOOL_USE_ID, "top_song")
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&call.function.arguments).unwrap(),
        json!({"sign": "WZPZ"})
    );

    let stream = provider
        .chat_stream(&chat(MODEL, "please call tool", true))
        .await
        .unwrap();
    let (_, finish, _, tools) = collect(stream).await;
    assert_eq!(finish.as_deref(), Some("tool_calls"));
    assert_eq!(
        tools,
        [("top_song".to_owned(), "{\"sign\": \"WZPZ\"}".to_owned())]
    );

    // The result goes back as a toolResult block of a user turn.
    let next = req(json!({"model": MODEL, "messages": [
        {"role":"user","content":"please call tool"},
        {"role":"assistant","tool_calls":[{"id":TOOL_USE_ID,"type":"function",
            "function":{"name":"top_song","arguments":"{\"sign\":\"WZPZ\"}"}}]},
        {"role":"tool","tool_call_id":TOOL_USE_ID,"content":"{\"song\":\"Elemental Hotel\"}"}]}));
    server.clear_requests();
    provider.chat(&next).await.unwrap();
    let body = server.requests().pop().unwrap().json();
    assert_eq!(
        body["messages"][1]["content"][0]["toolUse"],
        json!({"toolUseId": TOOL_USE_ID, "name": "top_song", "input": {"sign": "WZPZ"}})
    );
    assert_eq!(
        body["messages"][2],
        json!({"role":"user","content":[{"toolResult":{"toolUseId":TOOL_USE_ID,
            "content":[{"json":{"song":"Elemental Hotel"}}],"status":"success"}}]})
    );
}

#[tokio::test]
async fn session_tokens_and_api_keys() {
    let (server, provider) =
        bedrock_with(BedrockAuth::Keys(keys(Some("FwoGZXIvYXdzEXAMPLE")))).await;
    provider.chat(&chat(MODEL, "hi", false)).await.unwrap();
    let r = server.requests().pop().unwrap();
    assert_eq!(
        r.header("x-amz-security-token"),
        Some("FwoGZXIvYXdzEXAMPLE")
    );
    assert!(
        r.header("authorization")
            .unwrap()
            .contains("x-amz-security-token")
    );
    assert_eq!(signature_problem(&r), None);

    let key = BedrockAuth::ApiKey(Secret::new("bedrock-api-key-123".to_owned()));
    let (server, provider) = bedrock_with(key).await;
    provider.chat(&chat(MODEL, "hi", false)).await.unwrap();
    let r = server.requests().pop().unwrap();
    assert_eq!(
        r.header("authorization"),
        Some("Bearer bedrock-api-key-123")
    );
    assert_eq!(r.header("x-amz-date"), None);
}

#[tokio::test]
async fn bedrock_errors_map_to_gateway_statuses() {
    let (_server, provider) = bedrock().await;
    for (model, status) in [
        ("mock-429", 429),
        ("mock-400", 400),
        ("mock-500", 500),
        ("mock-overloaded", 503),
        ("mock-401", 401),
    ] {
        match provider.chat(&chat(model, "x", false)).await {
            Err(ProviderError::Status {
                status: got,
                message,
                ..
            }) => {
                assert_eq!(got, status, "{model}: {message}");
                assert!(!message.is_empty());
            }
            other => panic!("{model}: {other:?}"),
        }
    }
    let stream = provider
        .chat_stream(&chat("mock-stream-error", "a b c", true))
        .await
        .unwrap();
    let events: Vec<_> = stream.collect().await;
    assert!(
        matches!(
            events.last().unwrap(),
            Err(ProviderError::Status { status: 429, .. })
        ),
        "{events:?}"
    );
    let stream = provider
        .chat_stream(&chat("mock-stream-stop-2", "a b c d", true))
        .await
        .unwrap();
    let events: Vec<_> = stream.collect().await;
    assert!(events.last().unwrap().is_err(), "a cut stream fails");
    assert!(matches!(
        provider.chat(&chat("mock-malformed", "x", false)).await,
        Err(ProviderError::InvalidResponse(_))
    ));
}

#[tokio::test]
async fn unsigned_requests_are_refused_by_the_mock() {
    let server = VendorServer::start(Vendor::Bedrock).await.unwrap();
    let url = format!("{}/model/m/converse", server.base_url());
    let client = HttpClient::new(Duration::from_secs(2)).unwrap();
    let req = http::Request::post(url)
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=x, Signature=y",
        )
        .body(http_body_util::Full::new(bytes::Bytes::from_static(b"{}")))
        .unwrap();
    let resp = client.send(req, &Timeouts::default()).await.unwrap();
    assert_eq!(resp.status(), 403);
    assert!(
        resp.headers()["x-amzn-errortype"]
            .to_str()
            .unwrap()
            .starts_with("IncompleteSignatureException")
    );
}
