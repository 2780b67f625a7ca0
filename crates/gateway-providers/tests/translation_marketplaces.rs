//! Bedrock (Converse, ConverseStream) and Vertex AI (Gemini `generateContent`, Claude
//! `rawPredict`) against the vendors' documented examples (sources in
//! `tests/fixtures/bedrock/README.md` and `tests/fixtures/vertex/README.md`): the gateway's
//! request translated to the documented request body, the documented answers and stream events
//! decoded into the gateway's response with content, finish reason, usage and the price the
//! shipped price table gives them; the documented error types mapped to statuses; and the
//! Bedrock signer against AWS's SigV4 test-suite vectors (`tests/fixtures/sigv4/`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod golden;

use std::collections::VecDeque;
use std::time::Duration;

use gateway_core::phases::account::CostModel;
use gateway_core::types::Content;
use gateway_core::{ChatRequest, ChatResponse, StreamEvent, Usage};
use gateway_providers::bedrock::eventstream::EventStreamParser;
use gateway_providers::bedrock::{self, BedrockAuth, BedrockConfig, BedrockProvider};
use gateway_providers::sse::EventParser;
use gateway_providers::vendor_stream::{SseDecoder, decode_text};
use gateway_providers::vertex::{ServiceAccountKey, VertexConfig, VertexProvider};
use gateway_providers::{AwsKeys, HttpClient, Timeouts, VendorCodec, gemini};
use gateway_telemetry::prices::PriceTable;
use gateway_testkit::vendors::bedrock::event;
use golden::{json, text};
use serde_json::{Value, json};

/// A throwaway RSA key of the auth crate's tests (never a real account's).
const TEST_KEY: &str = include_str!("../../gateway-auth/tests/keys/test-only-rsa-1-private.pem");

fn request(name: &str) -> ChatRequest {
    serde_json::from_value(json(name)).unwrap()
}

fn client() -> HttpClient {
    HttpClient::new(Duration::from_secs(1)).unwrap()
}

fn bedrock() -> BedrockProvider {
    let keys = AwsKeys {
        access_key_id: "AKIDEXAMPLE".to_owned(),
        secret_access_key: gateway_core::Secret::new("secret".to_owned()),
        session_token: None,
    };
    let config = BedrockConfig {
        name: "bedrock".to_owned(),
        region: "us-east-1".to_owned(),
        base_url: None,
        auth: BedrockAuth::Keys(keys),
        timeouts: Timeouts::default(),
    };
    BedrockProvider::new(config, client()).unwrap()
}

fn vertex() -> VertexProvider {
    let key = json!({
        "type": "service_account", "project_id": "my-project", "private_key_id": "kid-1",
        "private_key": TEST_KEY, "client_email": "gateway@my-project.iam.gserviceaccount.com",
        "token_uri": "https://oauth2.googleapis.com/token",
    });
    let config = VertexConfig {
        name: "vertex".to_owned(),
        project: "my-project".to_owned(),
        location: "us-east5".to_owned(),
        base_url: None,
        key: ServiceAccountKey::from_json(&key.to_string()).unwrap(),
        timeouts: Timeouts::default(),
    };
    VertexProvider::new(config, client()).unwrap()
}

/// The URL and JSON body `codec` sends for `req`.
fn encoded(codec: &impl VendorCodec, req: &ChatRequest, stream: bool) -> (String, Value) {
    let call = codec.encode_chat(req, stream).unwrap();
    let body = serde_json::from_slice(&call.body).unwrap();
    (call.url.uri.to_string(), body)
}

/// The price the shipped table gives `usage` of `model`, in micro-dollars (rounded, so that
/// float noise does not matter).
fn micro_usd(provider: &str, model: &str, usage: &Usage) -> i64 {
    let usd = PriceTable::shipped()
        .cost_usd(provider, model, usage)
        .unwrap_or_else(|| panic!("no price for {model}"));
    (usd * 1e6).round() as i64
}

fn answer_text(r: &ChatResponse) -> &str {
    match &r.choices[0].message.content {
        Some(Content::Text(t)) => t,
        other => panic!("not text: {other:?}"),
    }
}

/// Text, finish reason and usage of a stream's chunks.
fn collect(events: &[StreamEvent]) -> (String, Option<String>, Option<Usage>) {
    let (mut text, mut finish, mut usage) = (String::new(), None, None);
    for e in events {
        let StreamEvent::Chunk(c) = e else { continue };
        for choice in &c.choices {
            text.push_str(choice.delta.content.as_deref().unwrap_or_default());
            finish = choice.finish_reason.clone().or(finish);
        }
        usage = c.usage.clone().or(usage);
    }
    (text, finish, usage)
}

/// `v` with every number as a float: `1` and `1.0` are the same temperature.
fn floats(mut v: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Number(n) => {
                if let Some(f) = n.as_f64().and_then(serde_json::Number::from_f64) {
                    *n = f;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            Value::Object(map) => map.values_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    v
}

/// Anthropic's `content` as blocks: a string is the one text block it stands for.
fn anthropic_blocks(body: &mut Value) {
    for m in body["messages"].as_array_mut().into_iter().flatten() {
        if let Some(t) = m["content"].as_str() {
            m["content"] = json!([{"type": "text", "text": t}]);
        }
    }
}

#[test]
fn bedrock_converse_request_is_the_documented_one() {
    let p = bedrock();
    for name in ["converse_text", "converse_tool", "converse_tool_result"] {
        let req = request(&format!("bedrock/{name}.openai.json"));
        let (url, body) = encoded(p.codec(), &req, false);
        assert_eq!(
            body,
            json(&format!("bedrock/{name}.request.json")),
            "{name}"
        );
        let model = req.model.replace(':', "%3A");
        assert_eq!(
            url,
            format!("https://bedrock-runtime.us-east-1.amazonaws.com/model/{model}/converse")
        );
    }
    let req = request("bedrock/converse_text.openai.json");
    let (url, body) = encoded(p.codec(), &req, true);
    assert!(url.ends_with("/model/anthropic.claude-3-sonnet-20240229-v1%3A0/converse-stream"));
    assert_eq!(body, json("bedrock/converse_text.request.json"));
}

#[test]
fn bedrock_converse_answers_decode_with_usage_and_cost() {
    let model = "anthropic.claude-3-haiku-20240307-v1:0";
    let body = text("bedrock/converse_text.response.json");
    let r = bedrock::response::decode(body.as_bytes(), model).unwrap();
    assert!(answer_text(&r).starts_with("Here is a list of 3 pop songs"));
    assert!(answer_text(&r).ends_with("\"Don't Look Back in Anger\" by Oasis"));
    assert_eq!(r.choices[0].finish_reason.as_deref(), Some("stop"));
    assert_eq!(r.model, model);
    let usage = r.usage.clone().unwrap();
    assert_eq!((usage.prompt_tokens, usage.completion_tokens), (125, 60));
    assert_eq!(usage.total_tokens, 185);
    assert_eq!(r.extra.get("bedrock_latency_ms"), Some(&json!(1175)));
    // Claude 3 Haiku: $0.25 in, $1.25 out per million tokens.
    assert_eq!(micro_usd("bedrock", model, &usage), 106); // 31.25 + 75

    let body = text("bedrock/converse_tool.response.json");
    let r = bedrock::response::decode(body.as_bytes(), model).unwrap();
    let choice = &r.choices[0];
    assert_eq!(choice.finish_reason.as_deref(), Some("tool_calls"));
    assert!(choice.message.content.is_none());
    let calls = choice.message.tool_calls.as_ref().unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].id, "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q");
    assert_eq!(calls[0].function.name, "top_song");
    let args: Value = serde_json::from_str(&calls[0].function.arguments).unwrap();
    assert_eq!(args, json!({"sign": "WZPZ"}));
    // The documented tool answer carries no usage: zero tokens, a zero cost, never a guess.
    let usage = r.usage.unwrap();
    assert_eq!((usage.prompt_tokens, usage.completion_tokens), (0, 0));
}

/// The documented ConverseStream events, each framed as the binary event stream Bedrock
/// sends (`:event-type` header, JSON payload, CRCs), parsed and decoded.
fn bedrock_stream(include_usage: bool) -> Vec<StreamEvent> {
    let mut wire = Vec::new();
    for line in text("bedrock/converse_stream.events.jsonl").lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let (kind, payload) = v.as_object().unwrap().iter().next().unwrap();
        wire.extend_from_slice(&event(kind, payload));
    }
    let mut parser = EventStreamParser::new(1 << 20);
    let mut events = Vec::new();
    // Odd-sized pieces: frames split anywhere must still parse.
    for piece in wire.chunks(7) {
        parser.push(piece, &mut events).unwrap();
    }
    parser.finish(&mut events).unwrap();
    assert_eq!(events.len(), 7);
    let model = "anthropic.claude-3-haiku-20240307-v1:0";
    let mut decoder = bedrock::stream::StreamDecoder::new(model, include_usage, 0);
    let mut out = VecDeque::new();
    let mut ended = false;
    for e in &events {
        assert!(!ended, "events after the end");
        ended = decoder.on_event(e, &mut out).unwrap();
    }
    assert!(ended, "metadata after messageStop ends the stream");
    out.into()
}

#[test]
fn bedrock_converse_stream_decodes_with_usage_and_cost() {
    let events = bedrock_stream(true);
    let (text, finish, usage) = collect(&events);
    assert_eq!(text, " Title: The");
    assert_eq!(finish.as_deref(), Some("length"));
    let usage = usage.unwrap();
    assert_eq!((usage.prompt_tokens, usage.completion_tokens), (47, 20));
    assert_eq!(usage.total_tokens, 67);
    let model = "anthropic.claude-3-haiku-20240307-v1:0";
    assert_eq!(micro_usd("bedrock", model, &usage), 37); // 11.75 + 25
    // The first chunk names the role; usage only when the client asked for it.
    let StreamEvent::Chunk(first) = &events[0] else {
        panic!()
    };
    assert_eq!(
        first.choices[0].delta.role,
        Some(gateway_core::Role::Assistant)
    );
    let (_, _, none) = collect(&bedrock_stream(false));
    assert!(none.is_none());
}

#[test]
fn vertex_claude_raw_predict_is_the_documented_one() {
    let p = vertex();
    let req = request("vertex/claude_rawpredict.openai.json");
    let base = "https://us-east5-aiplatform.googleapis.com/v1/projects/my-project/locations/us-east5/publishers/anthropic/models/claude-3-7-sonnet@20250219";
    let (url, mut body) = encoded(p.codec(), &req, false);
    assert_eq!(url, format!("{base}:rawPredict"));
    let mut expected = json("vertex/claude_rawpredict.request.json");
    anthropic_blocks(&mut body);
    anthropic_blocks(&mut expected);
    assert_eq!(body, expected);
    let (url, body) = encoded(p.codec(), &req, true);
    assert_eq!(url, format!("{base}:streamRawPredict"));
    assert_eq!(body["stream"], true);
    assert_eq!(body["anthropic_version"], "vertex-2023-10-16");
    assert!(body.get("model").is_none());
}

#[test]
fn vertex_claude_answer_decodes_with_usage_and_cost() {
    let p = vertex();
    let req = request("vertex/claude_rawpredict.openai.json");
    let body = text("vertex/claude_rawpredict.response.json");
    let r = p.codec().decode_chat(&req, body.as_bytes()).unwrap();
    assert_eq!(answer_text(&r), "Hi! My name is Claude.");
    assert_eq!(r.id, "msg_013Zva2CMHLNnXjNJJKqJ2EF");
    assert_eq!(r.choices[0].finish_reason.as_deref(), Some("stop"));
    let usage = r.usage.unwrap();
    assert_eq!((usage.prompt_tokens, usage.completion_tokens), (2095, 503));
    // Claude 3.7 Sonnet: $3 in, $15 out per million tokens (`@20250219` dropped at lookup).
    assert_eq!(micro_usd("vertex", &req.model, &usage), 13_830); // 6285 + 7545
}

#[test]
fn vertex_gemini_generate_content_is_the_documented_one() {
    let p = vertex();
    let req = request("vertex/gemini_generate.openai.json");
    let base = "https://us-east5-aiplatform.googleapis.com/v1/projects/my-project/locations/us-east5/publishers/google/models/gemini-2.0-flash-001";
    let (url, body) = encoded(p.codec(), &req, false);
    let expected = floats(json("vertex/gemini_generate.request.json"));
    assert_eq!(url, format!("{base}:generateContent"));
    assert_eq!(floats(body), expected);
    let (url, body) = encoded(p.codec(), &req, true);
    assert_eq!(url, format!("{base}:streamGenerateContent?alt=sse"));
    assert_eq!(floats(body), expected);
}

#[test]
fn vertex_gemini_answer_and_stream_decode_with_usage_and_cost() {
    let p = vertex();
    let req = request("vertex/gemini_generate.openai.json");
    let body = text("vertex/gemini_generate.response.json");
    let r = p.codec().decode_chat(&req, body.as_bytes()).unwrap();
    assert_eq!(answer_text(&r), "Hello there! How can I help you today?\n");
    assert_eq!(r.choices[0].finish_reason.as_deref(), Some("stop"));
    let usage = r.usage.unwrap();
    assert_eq!(
        (
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.total_tokens
        ),
        (2, 11, 13)
    );
    // Gemini 2.0 Flash: $0.10 in, $0.40 out per million tokens (`-001` dropped at lookup).
    let micro = PriceTable::shipped()
        .cost_usd("vertex", &req.model, &usage)
        .unwrap()
        * 1e6;
    assert!((micro - 4.6).abs() < 1e-9, "{micro}");

    let sse = text("vertex/gemini_stream.sse");
    let mut decoder = gemini::stream::StreamDecoder::new(&req.model, true, 0);
    let events = decode_text(&mut decoder, &sse).unwrap();
    let (text, finish, usage) = collect(&events);
    assert_eq!(text, "Hello there! How can I help you today?\n");
    assert_eq!(finish.as_deref(), Some("stop"));
    let usage = usage.unwrap();
    assert_eq!((usage.prompt_tokens, usage.completion_tokens), (2, 11));
}

/// AWS's SigV4 test suite vectors (`tests/fixtures/sigv4/`, copied unchanged from the
/// aws-sigv4 crate): each `request.txt` signed by the Bedrock signer with the vector's
/// credentials, region, service and time gives the `Authorization` of
/// `header-signed-request.txt` (and its `X-Amz-Security-Token` when the vector has a token).
#[test]
fn sigv4_test_suite_vectors() {
    use gateway_providers::bedrock::sign::Signer;
    const VECTORS: [&str; 12] = [
        "get-vanilla",
        "get-vanilla-query-order-key-case",
        "get-vanilla-query-unreserved",
        "get-vanilla-with-session-token",
        "get-unreserved",
        "get-utf8",
        "get-slash-dot-slash-normalized",
        "post-vanilla",
        "post-vanilla-query",
        "post-header-key-sort",
        "post-header-value-case",
        "double-encode-path",
    ];
    // 2015-08-30T12:36:00Z, every vector's timestamp.
    let time = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160);
    for name in VECTORS {
        let context = json(&format!("sigv4/{name}/context.json"));
        assert_eq!(context["timestamp"], "2015-08-30T12:36:00Z", "{name}");
        assert_eq!(context["sign_body"], false, "{name}");
        let creds = &context["credentials"];
        let keys = AwsKeys {
            access_key_id: creds["access_key_id"].as_str().unwrap().to_owned(),
            secret_access_key: gateway_core::Secret::new(
                creds["secret_access_key"].as_str().unwrap().to_owned(),
            ),
            session_token: creds["token"]
                .as_str()
                .map(|t| gateway_core::Secret::new(t.to_owned())),
        };
        let service: &'static str = match context["service"].as_str().unwrap() {
            "service" => "service",
            other => panic!("{name}: service {other}"),
        };
        let signer = Signer::new(&keys, context["region"].as_str().unwrap(), service);

        let raw = text(&format!("sigv4/{name}/request.txt"));
        let (head, body) = raw.split_once("\n\n").unwrap_or((raw.as_str(), ""));
        let mut lines = head.lines();
        let request_line = lines.next().unwrap();
        let mut parts = request_line.splitn(2, ' ');
        let method = parts.next().unwrap();
        let path = parts.next().unwrap().trim_end_matches(" HTTP/1.1");
        // The signer sets `x-amz-date` from the time it is given.
        let headers: Vec<(String, String)> = lines
            .filter(|l| !l.to_ascii_lowercase().starts_with("x-amz-date:"))
            .map(|l| {
                let (n, v) = l.split_once(':').unwrap();
                (n.to_ascii_lowercase(), v.to_owned())
            })
            .collect();
        let host = &headers.iter().find(|(n, _)| n == "host").unwrap().1;
        let uri = format!("https://{host}{path}");
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let signed = signer
            .sign(method, &uri, &headers, body.as_bytes(), time)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let got = |header: &str| {
            signed
                .iter()
                .find(|(n, _)| n == header)
                .map(|(_, v)| v.to_str().unwrap().to_owned())
        };
        let expected_text = text(&format!("sigv4/{name}/header-signed-request.txt"));
        // Header names as the vector writes them (`X-amz-date` in one of them).
        let expected = |header: &str| {
            expected_text.lines().find_map(|l| {
                let (n, v) = l.split_once(':')?;
                n.eq_ignore_ascii_case(header).then(|| v.to_owned())
            })
        };
        assert_eq!(got("authorization"), expected("Authorization"), "{name}");
        assert_eq!(got("x-amz-date"), expected("X-Amz-Date"), "{name}");
        assert_eq!(
            got("x-amz-security-token"),
            expected("X-Amz-Security-Token"),
            "{name}"
        );
    }
}

/// The status and message the gateway reports for an upstream error.
fn status_of(e: gateway_core::ProviderError) -> (u16, String) {
    match e {
        gateway_core::ProviderError::Status {
            status, message, ..
        } => (status, message),
        other => panic!("not a status error: {other:?}"),
    }
}

#[test]
fn bedrock_documented_errors_map_to_statuses() {
    use gateway_providers::bedrock::BedrockCodec;
    use gateway_providers::http::{HeaderMap, HeaderValue, StatusCode};
    for case in json("bedrock/errors.json").as_array().unwrap() {
        let kind = case["type"].as_str().unwrap();
        let upstream = StatusCode::from_u16(case["status"].as_u64().unwrap() as u16).unwrap();
        let expected = case["expected"].as_u64().unwrap() as u16;
        let message = case["body"]["message"].as_str().unwrap();
        // restJson1: the type in `x-amzn-ErrorType` (with the service's namespace suffix)...
        let mut headers = HeaderMap::new();
        let header = format!("{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/");
        headers.insert("x-amzn-errortype", HeaderValue::from_str(&header).unwrap());
        let body = bytes::Bytes::from(case["body"].to_string());
        let got = status_of(BedrockCodec::decode_error(upstream, &headers, &body));
        assert_eq!(got, (expected, message.to_owned()), "{kind}");
        // ... or in the body's `__type`.
        let mut typed = case["body"].clone();
        typed["__type"] = json!(format!("com.amazon.bedrock#{kind}"));
        let body = bytes::Bytes::from(typed.to_string());
        let got = status_of(BedrockCodec::decode_error(
            upstream,
            &HeaderMap::new(),
            &body,
        ));
        assert_eq!(got.0, expected, "{kind} in __type");
    }
}

#[test]
fn vertex_documented_errors_map_to_statuses() {
    use gateway_providers::http::{HeaderMap, StatusCode};
    use gateway_providers::vertex::VertexCodec;
    for case in json("vertex/errors.json").as_array().unwrap() {
        let upstream = StatusCode::from_u16(case["status"].as_u64().unwrap() as u16).unwrap();
        let body = bytes::Bytes::from(case["body"].to_string());
        let got = status_of(VertexCodec::decode_error(
            upstream,
            &HeaderMap::new(),
            &body,
        ));
        let expected = case["expected"].as_u64().unwrap() as u16;
        assert_eq!(
            got,
            (expected, case["message"].as_str().unwrap().to_owned()),
            "{case}"
        );
    }
}
