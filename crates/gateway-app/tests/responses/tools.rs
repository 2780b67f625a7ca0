//! A function tool over two turns: the call, then its output continued with
//! `previous_response_id`; plain and streamed.

use serde_json::{Value, json};

use super::common::TestGateway;
use super::{create, events, last_upstream};

fn weather_tool() -> Value {
    json!({"type": "function", "name": "get_weather", "description": "Weather of a city",
           "parameters": {"type": "object", "properties": {"location": {"type": "string"}}}})
}

#[tokio::test]
async fn a_function_call_and_its_output_over_two_turns() {
    let gw = TestGateway::start().await;
    let first = create(
        &gw,
        &json!({"model": "gpt-test", "input": "please call tool for Paris", "tools": [weather_tool()],
                "tool_choice": "auto"}),
    )
    .await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let first = first.json();
    let sent = last_upstream(&gw);
    assert_eq!(sent["tools"][0]["type"], "function");
    assert_eq!(sent["tools"][0]["function"]["name"], "get_weather");
    assert_eq!(
        sent["tools"][0]["function"]["parameters"],
        weather_tool()["parameters"]
    );
    assert_eq!(sent["tool_choice"], "auto");
    assert_eq!(first["tools"][0], weather_tool());
    let outputs = first["output"].as_array().unwrap();
    assert_eq!(outputs.len(), 1, "{outputs:?}");
    let call = &outputs[0];
    assert_eq!(call["type"], "function_call");
    assert_eq!(call["name"], "get_weather");
    assert_eq!(call["status"], "completed");
    assert!(call["id"].as_str().unwrap().starts_with("fc_"));
    let call_id = call["call_id"].as_str().unwrap();
    serde_json::from_str::<Value>(call["arguments"].as_str().unwrap()).expect("JSON arguments");

    let second = create(
        &gw,
        &json!({"model": "gpt-test", "previous_response_id": first["id"], "tools": [weather_tool()],
                "input": [{"type": "function_call_output", "call_id": call_id, "output": "{\"temp\": 21}"}]}),
    )
    .await;
    assert_eq!(second.status, 200, "{:?}", second.body);
    assert_eq!(second.json()["output"][0]["type"], "message");
    let sent = last_upstream(&gw);
    let messages = sent["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert_eq!(messages[1]["role"], "assistant");
    assert_eq!(messages[1]["tool_calls"][0]["id"], call_id);
    assert_eq!(
        messages[1]["tool_calls"][0]["function"]["name"],
        "get_weather"
    );
    assert_eq!(
        messages[2],
        json!({"role": "tool", "tool_call_id": call_id, "content": "{\"temp\": 21}"})
    );
}

#[tokio::test]
async fn a_stateless_history_with_function_items_is_replayed_in_order() {
    let gw = TestGateway::start().await;
    let reply = create(
        &gw,
        &json!({"model": "gpt-test", "store": false, "tools": [weather_tool()], "input": [
            {"role": "user", "content": "weather?"},
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Checking."}]},
            {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": "{}"},
            {"type": "function_call", "call_id": "call_2", "name": "get_weather", "arguments": "{\"location\":\"Oslo\"}"},
            {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
            {"type": "function_call_output", "call_id": "call_2", "output": [{"type": "input_text", "text": "rain"}]},
            {"type": "reasoning", "id": "rs_1", "summary": []},
        ]}),
    )
    .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let sent = last_upstream(&gw);
    let messages = sent["messages"].as_array().unwrap();
    let roles: Vec<&str> = messages
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "assistant", "tool", "tool"]);
    assert_eq!(messages[1]["content"], "Checking.");
    assert_eq!(messages[1]["tool_calls"].as_array().unwrap().len(), 2);
    assert_eq!(messages[3]["tool_call_id"], "call_2");
}

#[tokio::test]
async fn a_streamed_function_call_sends_argument_events() {
    let gw = TestGateway::start().await;
    let reply = create(
        &gw,
        &json!({"model": "gpt-test", "input": "call tool now", "tools": [weather_tool()], "stream": true}),
    )
    .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let events = events(&reply.body);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    let added = names
        .iter()
        .position(|n| *n == "response.output_item.added")
        .unwrap();
    assert_eq!(events[added].1["item"]["type"], "function_call");
    assert_eq!(events[added].1["item"]["name"], "get_weather");
    assert_eq!(events[added].1["item"]["arguments"], "");
    let deltas: String = events
        .iter()
        .filter(|(n, _)| n == "response.function_call_arguments.delta")
        .map(|(_, d)| d["delta"].as_str().unwrap())
        .collect();
    let done = events
        .iter()
        .find(|(n, _)| n == "response.function_call_arguments.done")
        .unwrap();
    assert_eq!(done.1["arguments"], deltas.as_str());
    assert_eq!(done.1["name"], "get_weather");
    assert!(!deltas.is_empty());
    let (last, completed) = events.last().unwrap();
    assert_eq!(last, "response.completed");
    let item = &completed["response"]["output"][0];
    assert_eq!(item["type"], "function_call");
    assert_eq!(item["arguments"], deltas.as_str());
    assert_eq!(item["call_id"], events[added].1["item"]["call_id"]);
}
