//! Streamed responses: the typed event sequence, and the stored response it ends with.

use serde_json::{Value, json};

use super::common::TestGateway;
use super::{create, events, retrieve};

#[tokio::test]
async fn a_streamed_response_sends_the_typed_events_and_is_stored() {
    let gw = TestGateway::start().await;
    let reply = create(
        &gw,
        &json!({"model": "gpt-test", "input": "Stream me a greeting", "stream": true}),
    )
    .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.headers["content-type"], "text/event-stream");
    let events = events(&reply.body);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    let deltas = names
        .iter()
        .filter(|n| **n == "response.output_text.delta")
        .count();
    assert!(deltas > 1, "{names:?}");
    let mut expected = vec![
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ];
    expected.extend(std::iter::repeat_n("response.output_text.delta", deltas));
    expected.extend([
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]);
    assert_eq!(names, expected);
    for (i, (name, data)) in events.iter().enumerate() {
        assert_eq!(data["type"], name.as_str());
        assert_eq!(data["sequence_number"], i, "{name}");
    }
    let created = &events[0].1["response"];
    assert_eq!(created["status"], "in_progress");
    assert_eq!(created["output"], json!([]));
    let text: String = events
        .iter()
        .filter(|(n, _)| n == "response.output_text.delta")
        .map(|(_, d)| d["delta"].as_str().unwrap())
        .collect();
    assert_eq!(text, "Hello! You said: Stream me a greeting");
    let item_id = &events[2].1["item"]["id"];
    for (name, data) in &events[3..events.len() - 1] {
        if name != "response.output_item.done" {
            assert_eq!(&data["item_id"], item_id, "{name}");
        }
        assert_eq!(data["output_index"], 0, "{name}");
    }
    assert_eq!(events[events.len() - 4].1["text"], text.as_str());
    let (_, completed) = events.last().unwrap();
    let response = &completed["response"];
    assert_eq!(response["status"], "completed");
    assert_eq!(response["id"], created["id"]);
    assert_eq!(response["output"][0]["content"][0]["text"], text.as_str());
    assert!(
        response["usage"]["output_tokens"].as_u64().unwrap() > 0,
        "{response}"
    );

    // Stored before `response.completed` went out: retrievable at once, identical.
    let id = response["id"].as_str().unwrap();
    let got = retrieve(&gw, id).await;
    assert_eq!(got.status, 200);
    assert_eq!(&got.json(), response);
}

#[tokio::test]
async fn a_stream_cut_by_the_upstream_ends_with_error_and_response_failed() {
    let gw = TestGateway::start_with_sections(
        "",
        "[models.cut]\nprovider = \"mock\"\nupstream_model = \"mock-stream-stop-2\"\n",
    )
    .await;
    let reply = create(
        &gw,
        &json!({"model": "cut", "input": "hello", "stream": true}),
    )
    .await;
    assert_eq!(reply.status, 200);
    let events = events(&reply.body);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        &names[names.len() - 2..],
        ["error", "response.failed"],
        "{names:?}"
    );
    let (_, failed) = events.last().unwrap();
    assert_eq!(failed["response"]["status"], "failed");
    assert!(
        failed["response"]["error"]["message"].is_string(),
        "{failed}"
    );
    let sequence: Vec<&Value> = events.iter().map(|(_, d)| &d["sequence_number"]).collect();
    assert!(
        sequence.iter().enumerate().all(|(i, s)| **s == i),
        "{sequence:?}"
    );
    // A failed response is not stored.
    let id = failed["response"]["id"].as_str().unwrap();
    let got = retrieve(&gw, id).await;
    assert_eq!(got.status, 404);
}
