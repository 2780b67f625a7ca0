use super::*;
use gateway_core::types::{ChunkChoice, Delta, Extra, FunctionCallDelta, ToolCallDelta};

fn chunk(delta: Delta, finish: Option<&str>, usage: Option<Usage>) -> ChatChunk {
    ChatChunk {
        id: "chatcmpl-9".into(),
        object: "chat.completion.chunk".into(),
        created: 0,
        model: "upstream".into(),
        choices: vec![ChunkChoice {
            index: 0,
            delta,
            finish_reason: finish.map(str::to_owned),
            logprobs: None,
            extra: Extra::new(),
        }],
        usage,
        system_fingerprint: None,
        extra: Extra::new(),
    }
}

fn text(t: &str) -> Delta {
    Delta {
        content: Some(t.into()),
        ..Delta::default()
    }
}

fn call_piece(id: Option<&str>, name: Option<&str>, args: &str) -> Delta {
    Delta {
        tool_calls: Some(vec![ToolCallDelta {
            index: 0,
            id: id.map(str::to_owned),
            kind: None,
            function: Some(FunctionCallDelta {
                name: name.map(str::to_owned),
                arguments: Some(args.into()),
            }),
        }]),
        ..Delta::default()
    }
}

#[test]
fn text_streams_and_the_last_event_finishes_with_usage() {
    let mut e = GeminiStreamEncoder::new("public");
    let first = e.push(&chunk(text("Hel"), None, None));
    assert_eq!(first.len(), 1);
    assert_eq!(
        first[0]["candidates"][0]["content"]["parts"],
        json!([{"text": "Hel"}])
    );
    assert_eq!(first[0]["modelVersion"], "public");
    assert_eq!(first[0]["responseId"], "chatcmpl-9");
    assert!(
        e.push(&chunk(Delta::default(), Some("stop"), None))
            .is_empty()
    );
    let usage = ChatChunk {
        choices: Vec::new(),
        ..chunk(Delta::default(), None, Some(Usage::new(4, 2)))
    };
    assert!(e.push(&usage).is_empty());
    let last = e.finish();
    assert_eq!(last[0]["candidates"][0]["finishReason"], "STOP");
    assert_eq!(last[0]["usageMetadata"]["totalTokenCount"], 6);
}

#[test]
fn tool_call_pieces_become_one_function_call() {
    let mut e = GeminiStreamEncoder::new("m");
    assert!(
        e.push(&chunk(
            call_piece(Some("call_1"), Some("weather"), "{\"ci"),
            None,
            None
        ))
        .is_empty()
    );
    assert!(
        e.push(&chunk(
            call_piece(None, None, "ty\":\"Paris\"}"),
            None,
            None
        ))
        .is_empty()
    );
    assert!(
        e.push(&chunk(Delta::default(), Some("tool_calls"), None))
            .is_empty()
    );
    let last = e.finish();
    let candidate = &last[0]["candidates"][0];
    assert_eq!(candidate["finishReason"], "STOP");
    assert_eq!(
        candidate["content"]["parts"],
        json!([{"functionCall": {"name": "weather", "args": {"city": "Paris"}, "id": "call_1"}}])
    );
}

#[test]
fn a_failed_stream_ends_with_googles_error_object() {
    let mut e = GeminiStreamEncoder::new("m");
    e.push(&chunk(text("partial"), Some("content_filter"), None));
    let events = e.fail(&GatewayError::PolicyBlocked {
        guardrail: "g".into(),
        rule: "r".into(),
    });
    assert_eq!(events[0]["candidates"][0]["finishReason"], "SAFETY");
    assert_eq!(events[1]["error"]["status"], "INVALID_ARGUMENT");
    let mut e = GeminiStreamEncoder::new("m");
    let events = e.fail(&GatewayError::Unavailable("gone".into()));
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["error"]["code"], 503);
}

async fn body_of(events: Vec<Result<StreamEvent, GatewayError>>, framing: Framing) -> String {
    use http_body_util::BodyExt;
    let stream: GatewayStream = Box::pin(futures_util::stream::iter(events));
    let body = GeminiStreamBody::new(stream, "m", framing);
    let bytes = body.collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test]
async fn framings() {
    let events = || {
        vec![
            Ok(StreamEvent::Chunk(chunk(text("a"), None, None))),
            Ok(StreamEvent::KeepAlive),
            Ok(StreamEvent::Chunk(chunk(text("b"), Some("stop"), None))),
        ]
    };
    let sse = body_of(events(), Framing::Sse).await;
    let data: Vec<Value> = sse
        .split("\r\n\r\n")
        .filter_map(|e| e.trim().strip_prefix("data: "))
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    assert_eq!(data.len(), 3, "{sse}");
    assert!(
        !sse.lines().any(|l| l.starts_with(':')),
        "no SSE comments: {sse}"
    );
    let array: Vec<Value> =
        serde_json::from_str(&body_of(events(), Framing::JsonArray).await).unwrap();
    assert_eq!(array.len(), 3);
    assert_eq!(array[2]["candidates"][0]["finishReason"], "STOP");
    let empty: Vec<Value> =
        serde_json::from_str(&body_of(Vec::new(), Framing::JsonArray).await).unwrap();
    assert_eq!(empty.len(), 1, "an empty stream still finishes");
}
