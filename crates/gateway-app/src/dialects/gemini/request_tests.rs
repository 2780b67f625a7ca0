use super::*;
use gateway_core::types::Content;
use gateway_providers::gemini::response::split_call_id;

fn chat(body: Value) -> ChatRequest {
    decode("m", body.to_string().as_bytes(), false).unwrap()
}

fn refused(body: Value) -> String {
    match decode("m", body.to_string().as_bytes(), false) {
        Err(err) => {
            assert_eq!(err.status(), 400, "{err}");
            err.to_string()
        }
        Ok(chat) => panic!("accepted: {chat:?}"),
    }
}

#[test]
fn a_plain_request_with_system_and_settings() {
    let r = chat(json!({
        "system_instruction": {"parts": [{"text": "Be brief."}]},
        "contents": [{"role": "user", "parts": [{"text": "Hi"}]}],
        "generationConfig": {"temperature": 0.2, "topP": 0.9, "topK": 40, "maxOutputTokens": 64,
            "stopSequences": ["END"], "candidateCount": 1,
            "thinkingConfig": {"thinkingBudget": 128}},
        "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}]
    }));
    assert_eq!(r.model, "m");
    assert!(!r.stream);
    assert_eq!(r.messages[0].role, Role::System);
    assert_eq!(
        r.messages[0].content,
        Some(Content::Text("Be brief.".into()))
    );
    assert_eq!(r.messages[1].content, Some(Content::Text("Hi".into())));
    assert_eq!(
        (r.temperature, r.top_p, r.max_tokens),
        (Some(0.2), Some(0.9), Some(64))
    );
    assert_eq!(r.stop, Some(Stop::Many(vec!["END".into()])));
    assert_eq!(r.extra["top_k"], 40.0);
    assert_eq!(r.extra["thinking_config"], json!({"thinkingBudget": 128}));
    assert_eq!(r.extra["reasoning_effort"], "low");
    assert_eq!(r.extra["safety_settings"][0]["threshold"], "BLOCK_NONE");
}

#[test]
fn a_streamed_request_asks_for_usage() {
    let body = json!({"contents": [{"parts": [{"text": "Hi"}]}]});
    let r = decode("m", body.to_string().as_bytes(), true).unwrap();
    assert!(r.stream);
    assert_eq!(r.stream_options.and_then(|o| o.include_usage), Some(true));
}

#[test]
fn function_calls_and_responses_pair_up_by_name_or_id() {
    let r = chat(json!({
        "contents": [
            {"role": "user", "parts": [{"text": "Weather in Paris and Rome?"}]},
            {"role": "model", "parts": [
                {"functionCall": {"name": "weather", "args": {"city": "Paris"}}, "thoughtSignature": "AbC+/9=="},
                {"functionCall": {"name": "weather", "args": {"city": "Rome"}, "id": "c2"}}
            ]},
            {"role": "user", "parts": [
                {"functionResponse": {"name": "weather", "id": "c2", "response": {"temp": 20}}},
                {"functionResponse": {"name": "weather", "response": {"temp": 15}}},
                {"text": "Thanks"}
            ]}
        ],
        "tools": [{"functionDeclarations": [{"name": "weather", "description": "Weather",
            "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}}}]}],
        "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["weather"]}}
    }));
    let calls = r.messages[1].tool_calls.as_ref().unwrap();
    assert_eq!(r.messages[1].content, None);
    assert_eq!(calls[0].function.arguments, r#"{"city":"Paris"}"#);
    assert_eq!(split_call_id(&calls[0].id).1.as_deref(), Some("AbC+/9=="));
    assert_eq!(calls[1].id, "c2");
    // The response naming id c2 answers the second call; the other, by name, the first.
    assert_eq!(r.messages[2].role, Role::Tool);
    assert_eq!(r.messages[2].tool_call_id.as_deref(), Some("c2"));
    assert_eq!(
        r.messages[2].content,
        Some(Content::Text(r#"{"temp":20}"#.into()))
    );
    assert_eq!(
        r.messages[3].tool_call_id.as_deref(),
        Some(calls[0].id.as_str())
    );
    assert_eq!(r.messages[4].content, Some(Content::Text("Thanks".into())));
    let tool = r.tools.as_ref().unwrap()[0].function.as_ref().unwrap();
    assert_eq!(
        tool.parameters,
        Some(json!({"type": "object", "properties": {"city": {"type": "string"}}}))
    );
    assert_eq!(
        r.tool_choice,
        Some(json!({"type": "function", "function": {"name": "weather"}}))
    );
}

#[test]
fn media_parts_take_their_canonical_form() {
    let r = chat(json!({"contents": [{"parts": [
        {"text": "What is this?"},
        {"inline_data": {"mime_type": "image/png", "data": "iVBORw0K"}},
        {"inlineData": {"mimeType": "audio/wav", "data": "UklGRg=="}},
        {"inlineData": {"mimeType": "application/pdf", "data": "JVBERi0="}},
        {"fileData": {"mimeType": "image/jpeg", "fileUri": "https://example.com/cat.jpg"}}
    ]}]}));
    let Some(Content::Parts(parts)) = &r.messages[0].content else {
        panic!("{:?}", r.messages[0])
    };
    assert_eq!(
        parts[1].image_url.as_ref().unwrap().url,
        "data:image/png;base64,iVBORw0K"
    );
    assert_eq!(
        parts[2].extra["input_audio"],
        json!({"data": "UklGRg==", "format": "wav"})
    );
    assert_eq!(
        parts[3].extra["file"]["file_data"],
        "data:application/pdf;base64,JVBERi0="
    );
    assert_eq!(
        parts[4].image_url.as_ref().unwrap().url,
        "https://example.com/cat.jpg"
    );
}

#[test]
fn structured_output_becomes_a_response_format() {
    let r = chat(json!({"contents": [{"parts": [{"text": "x"}]}],
        "generationConfig": {"responseMimeType": "application/json",
            "responseSchema": {"type": "OBJECT", "properties": {"a": {"type": "INTEGER"}}}}}));
    assert_eq!(
        r.response_format,
        Some(
            json!({"type": "json_schema", "json_schema": {"name": "response",
            "schema": {"type": "object", "properties": {"a": {"type": "integer"}}}}})
        )
    );
    let r = chat(json!({"contents": [{"parts": [{"text": "x"}]}],
        "generationConfig": {"responseMimeType": "application/json",
            "responseJsonSchema": {"type": "array"}}}));
    assert_eq!(
        r.response_format.unwrap()["json_schema"]["schema"],
        json!({"type": "array"})
    );
    let r = chat(json!({"contents": [{"parts": [{"text": "x"}]}],
        "generationConfig": {"responseMimeType": "application/json"}}));
    assert_eq!(r.response_format, Some(json!({"type": "json_object"})));
}

#[test]
fn what_cannot_be_served_is_a_clear_400() {
    let text = |t: &str| json!([{"parts": [{"text": t}]}]);
    for (body, names) in [
        (json!({}), "contents"),
        (
            json!({"contents": text("x"), "temperature": 1}),
            "temperature",
        ),
        (
            json!({"contents": [{"role": "system", "parts": [{"text": "x"}]}]}),
            "role",
        ),
        (json!({"contents": [{"parts": []}]}), "parts"),
        (
            json!({"contents": text("x"), "generationConfig": {"candidateCount": 2}}),
            "candidateCount",
        ),
        (
            json!({"contents": text("x"), "generationConfig": {"responseMimeType": "text/x.enum"}}),
            "text/x.enum",
        ),
        (
            json!({"contents": text("x"), "tools": [{"googleSearch": {}}]}),
            "googleSearch",
        ),
        (
            json!({"contents": text("x"), "cachedContent": "cachedContents/abc"}),
            "cachedContent",
        ),
        (
            json!({"contents": [{"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {}}}]}]}),
            "functionResponse",
        ),
        (
            json!({"contents": [{"parts": [{"executableCode": {"code": "1"}}]}]}),
            "code execution",
        ),
        (
            json!({"contents": text("x"), "generationConfig": {"responseModalities": ["IMAGE"]}}),
            "text answers",
        ),
    ] {
        let message = refused(body.clone());
        assert!(message.contains(names), "{body}: {message}");
    }
    assert!(decode("m", b"", false).is_err());
    assert!(decode("m", b"{not json", false).is_err());
}

#[test]
fn thinking_config_becomes_a_reasoning_effort_for_other_providers() {
    let effort = |thinking: Value| {
        let r = chat(json!({"contents": [{"parts": [{"text": "x"}]}],
            "generationConfig": {"thinkingConfig": thinking}}));
        r.extra.get("reasoning_effort").cloned()
    };
    assert_eq!(effort(json!({"thinkingBudget": 8192})), Some(json!("high")));
    assert_eq!(
        effort(json!({"thinking_budget": -1})),
        Some(json!("medium"))
    );
    assert_eq!(effort(json!({"thinkingBudget": 0})), None);
    assert_eq!(effort(json!({"thinkingLevel": "LOW"})), Some(json!("low")));
    assert_eq!(effort(json!({"includeThoughts": true})), None);
}
