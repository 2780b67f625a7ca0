//! Marketplace providers through the real server: an AWS Bedrock provider (`kind = "bedrock"`,
//! keys from the configuration) in front of the testkit's Bedrock mock, plain, streamed and
//! with a tool call, priced from Bedrock's model id; and an OpenAI-compatible preset
//! (`kind = "groq"`) keeping its own API path and bearer key.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{TestGateway, sse_data};
use gateway_testkit::vendors::bedrock::signature_problem;
use gateway_testkit::{MockServer, Vendor};
use serde_json::{Value, json};

struct Upstreams {
    gw: TestGateway,
    bedrock: MockServer,
    groq: MockServer,
}

async fn start() -> Upstreams {
    let bedrock = MockServer::start_vendor(Vendor::Bedrock).await.unwrap();
    let groq = MockServer::start().await.unwrap();
    let sections = format!(
        "[providers.aws]\nkind = \"bedrock\"\nbase_url = \"{}\"\nregion = \"eu-west-1\"\n\
         aws_access_key_id = \"AKIDGATEWAYTEST\"\naws_secret_access_key = \"secret-key-0123\"\n\n\
         [models.claude-bedrock]\nprovider = \"aws\"\n\
         upstream_model = \"anthropic.claude-3-5-sonnet-20240620-v1:0\"\n\n\
         [models.bedrock-throttled]\nprovider = \"aws\"\nupstream_model = \"mock-429\"\n\n\
         [providers.groq]\nkind = \"groq\"\nbase_url = \"http://{}/openai/v1\"\napi_key = \"gsk-test-key\"\n\n\
         [models.llama-groq]\nprovider = \"groq\"\nupstream_model = \"llama-3.3-70b-versatile\"\n",
        bedrock.base_url(),
        groq.addr()
    );
    Upstreams {
        gw: TestGateway::start_with_sections("", &sections).await,
        bedrock,
        groq,
    }
}

fn chat(model: &str, text: &str, stream: bool) -> String {
    let mut body = json!({"model": model, "stream": stream,
        "tools": [{"type": "function", "function": {"name": "top_song",
            "parameters": {"type": "object", "properties": {"sign": {"type": "string"}}}}}],
        "messages": [{"role": "user", "content": text}]});
    if stream {
        body["stream_options"] = json!({"include_usage": true});
    }
    body.to_string()
}

#[tokio::test]
async fn bedrock_plain_streamed_and_tool_call_through_the_gateway() {
    let up = start().await;
    let gw = &up.gw;

    let plain = gw
        .post(
            "/v1/chat/completions",
            &chat("claude-bedrock", "Hello via Bedrock", false),
        )
        .await;
    assert_eq!(plain.status, 200, "{:?}", plain.body);
    let answer = plain.json();
    assert_eq!(
        answer["choices"][0]["message"]["content"],
        "Hello! You said: Hello via Bedrock"
    );
    assert_eq!(answer["choices"][0]["finish_reason"], "stop");
    assert!(answer["usage"]["prompt_tokens"].as_u64().unwrap() > 0);
    assert_eq!(plain.headers["x-gateway-provider"], "aws");
    let cost: f64 = plain.headers["x-gateway-cost-usd"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(cost > 0.0, "priced as claude-3-5-sonnet: {cost}");
    let seen = up.bedrock.requests().pop().unwrap();
    assert_eq!(
        seen.path,
        "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse"
    );
    assert_eq!(signature_problem(&seen), None);
    let auth = seen.header("authorization").unwrap();
    assert!(
        auth.contains("Credential=AKIDGATEWAYTEST/") && auth.contains("/eu-west-1/bedrock/"),
        "{auth}"
    );

    let streamed = gw
        .post(
            "/v1/chat/completions",
            &chat("claude-bedrock", "Hello via Bedrock", true),
        )
        .await;
    assert_eq!(streamed.status, 200);
    let data = sse_data(&streamed.body);
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"));
    let chunks: Vec<Value> = data[..data.len() - 1]
        .iter()
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Hello! You said: Hello via Bedrock");
    assert!(
        chunks
            .iter()
            .any(|c| c["usage"]["completion_tokens"].as_u64() == Some(6))
    );
    assert!(
        up.bedrock
            .requests()
            .pop()
            .unwrap()
            .path
            .ends_with("/converse-stream")
    );

    let tool = gw
        .post(
            "/v1/chat/completions",
            &chat("claude-bedrock", "please call tool", false),
        )
        .await;
    assert_eq!(tool.status, 200, "{:?}", tool.body);
    let answer = tool.json();
    assert_eq!(answer["choices"][0]["finish_reason"], "tool_calls");
    let call = &answer["choices"][0]["message"]["tool_calls"][0];
    assert_eq!(call["function"]["name"], "top_song");
    assert_eq!(
        serde_json::from_str::<Value>(call["function"]["arguments"].as_str().unwrap()).unwrap(),
        json!({"sign": "WZPZ"})
    );
}

#[tokio::test]
async fn bedrock_throttling_is_a_429_and_presets_keep_their_path() {
    let up = start().await;
    let gw = &up.gw;
    let throttled = gw
        .post(
            "/v1/chat/completions",
            &chat("bedrock-throttled", "hi", false),
        )
        .await;
    assert_eq!(throttled.status, 429, "{:?}", throttled.body);
    assert!(throttled.json()["error"]["message"].is_string());
    let groq = gw
        .post(
            "/v1/chat/completions",
            &chat("llama-groq", "hi groq", false),
        )
        .await;
    assert_eq!(groq.status, 200, "{:?}", groq.body);
    assert_eq!(
        groq.json()["choices"][0]["message"]["content"],
        "Hello! You said: hi groq"
    );
    let seen = up.groq.requests().pop().unwrap();
    assert_eq!(seen.path, "/openai/v1/chat/completions");
    assert_eq!(seen.header("authorization"), Some("Bearer gsk-test-key"));
    assert!(
        groq.headers.contains_key("x-gateway-cost-usd"),
        "groq model is priced"
    );
}
