//! Create, retrieve, list input items, delete; continuation and tenant isolation.

use http::Method;
use serde_json::{Value, json};

use super::common::{TestGateway, issue_key};
use super::{call, create, last_upstream, retrieve};

#[tokio::test]
async fn a_response_is_created_stored_listed_and_deleted() {
    let gw = TestGateway::start().await;
    let reply = create(
        &gw,
        &json!({"model": "gpt-test", "instructions": "Be brief.", "input": "Hello Responses",
                "metadata": {"ticket": "T-1"}, "temperature": 0.5, "max_output_tokens": 64}),
    )
    .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let created = reply.json();
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("resp_"), "{id}");
    assert_eq!(created["object"], "response");
    assert_eq!(created["status"], "completed");
    assert_eq!(created["model"], "gpt-test");
    assert_eq!(created["instructions"], "Be brief.");
    assert_eq!(created["metadata"], json!({"ticket": "T-1"}));
    assert_eq!(created["temperature"], 0.5);
    assert_eq!(created["max_output_tokens"], 64);
    assert_eq!(created["store"], true);
    let message = &created["output"][0];
    assert_eq!(message["type"], "message");
    assert_eq!(message["role"], "assistant");
    assert_eq!(message["content"][0]["type"], "output_text");
    assert_eq!(
        message["content"][0]["text"],
        "Hello! You said: Hello Responses"
    );
    let usage = &created["usage"];
    assert!(usage["input_tokens"].as_u64().unwrap() > 0, "{usage}");
    assert!(usage["output_tokens"].as_u64().unwrap() > 0, "{usage}");
    assert_eq!(
        usage["total_tokens"].as_u64(),
        Some(usage["input_tokens"].as_u64().unwrap() + usage["output_tokens"].as_u64().unwrap())
    );
    assert_eq!(usage["input_tokens_details"]["cached_tokens"], 0);
    assert_eq!(usage["output_tokens_details"]["reasoning_tokens"], 0);

    // The upstream got the instructions as a system message, then the input; the settings
    // were translated to chat's names.
    let sent = last_upstream(&gw);
    assert_eq!(
        sent["messages"][0],
        json!({"role": "system", "content": "Be brief."})
    );
    assert_eq!(
        sent["messages"][1],
        json!({"role": "user", "content": "Hello Responses"})
    );
    assert_eq!(sent["max_completion_tokens"], 64);
    assert!(sent.get("metadata").is_none(), "{sent}");

    let got = retrieve(&gw, &id).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json(), created);

    let items = call(
        &gw,
        &gw.key,
        Method::GET,
        &format!("/v1/responses/{id}/input_items"),
        None,
    )
    .await;
    assert_eq!(items.status, 200, "{:?}", items.body);
    let items = items.json();
    assert_eq!(items["object"], "list");
    assert_eq!(items["has_more"], false);
    let item = &items["data"][0];
    assert_eq!(item["type"], "message");
    assert_eq!(item["role"], "user");
    assert_eq!(
        item["content"],
        json!([{"type": "input_text", "text": "Hello Responses"}])
    );
    assert_eq!(items["first_id"], item["id"]);

    let deleted = call(
        &gw,
        &gw.key,
        Method::DELETE,
        &format!("/v1/responses/{id}"),
        None,
    )
    .await;
    assert_eq!(deleted.status, 200);
    assert_eq!(
        deleted.json(),
        json!({"id": id, "object": "response.deleted", "deleted": true})
    );
    for (method, path) in [
        (Method::GET, format!("/v1/responses/{id}")),
        (Method::DELETE, format!("/v1/responses/{id}")),
        (Method::GET, format!("/v1/responses/{id}/input_items")),
    ] {
        let gone = call(&gw, &gw.key, method.clone(), &path, None).await;
        assert_eq!(gone.status, 404, "{method} {path}");
        assert_eq!(gone.json()["error"]["type"], "invalid_request_error");
    }
}

#[tokio::test]
async fn a_conversation_continues_within_its_tenant_only() {
    let gw = TestGateway::start().await;
    let first = create(
        &gw,
        &json!({"model": "gpt-test", "instructions": "Old rules.", "input": "My name is Ada"}),
    )
    .await
    .json();
    let id = first["id"].as_str().unwrap();
    let second = create(
        &gw,
        &json!({"model": "gpt-test", "previous_response_id": id, "instructions": "New rules.",
                "input": [{"role": "user", "content": [{"type": "input_text", "text": "What is my name?"}]}]}),
    )
    .await;
    assert_eq!(second.status, 200, "{:?}", second.body);
    assert_eq!(second.json()["previous_response_id"], id);
    // The earlier turn is replayed; its instructions are not (they apply to their own call).
    let sent = last_upstream(&gw);
    assert_eq!(
        sent["messages"],
        json!([
            {"role": "system", "content": "New rules."},
            {"role": "user", "content": "My name is Ada"},
            {"role": "assistant", "content": "Hello! You said: My name is Ada"},
            {"role": "user", "content": "What is my name?"},
        ])
    );

    // Another tenant can neither read nor continue nor delete it: to them it does not exist.
    let other = issue_key(&gw.state, "other-tenant").await;
    let upstream_before = gw.mock.requests().len();
    let continued = call(
        &gw,
        &other,
        Method::POST,
        "/v1/responses",
        Some(&json!({"model": "gpt-test", "previous_response_id": id, "input": "hi"})),
    )
    .await;
    assert_eq!(continued.status, 404, "{:?}", continued.body);
    assert_eq!(
        gw.mock.requests().len(),
        upstream_before,
        "nothing went upstream"
    );
    for (method, path) in [
        (Method::GET, format!("/v1/responses/{id}")),
        (Method::GET, format!("/v1/responses/{id}/input_items")),
        (Method::DELETE, format!("/v1/responses/{id}")),
    ] {
        let reply = call(&gw, &other, method.clone(), &path, None).await;
        assert_eq!(reply.status, 404, "{method} {path}");
    }
    // ...and it is still there for its own tenant.
    let own = retrieve(&gw, id).await;
    assert_eq!(own.status, 200);

    // Without a credential, every route is a 401.
    for (method, path) in [
        (Method::GET, format!("/v1/responses/{id}")),
        (Method::DELETE, format!("/v1/responses/{id}")),
    ] {
        let reply = super::common::send(method, &gw.url(&path), "", &[]).await;
        assert_eq!(reply.status, 401);
    }
}

#[tokio::test]
async fn store_false_keeps_nothing_and_unknown_ids_are_404() {
    let gw = TestGateway::start().await;
    let reply = create(
        &gw,
        &json!({"model": "gpt-test", "input": "hello", "store": false}),
    )
    .await;
    assert_eq!(reply.status, 200);
    let body = reply.json();
    assert_eq!(body["store"], false);
    let id = body["id"].as_str().unwrap();
    let got = retrieve(&gw, id).await;
    assert_eq!(got.status, 404);
    let continued = create(
        &gw,
        &json!({"model": "gpt-test", "input": "more", "previous_response_id": id}),
    )
    .await;
    assert_eq!(continued.status, 404);
    for bad in ["resp_nope", "..%2F..%2Fetc", &"x".repeat(300)] {
        let got = call(
            &gw,
            &gw.key,
            Method::GET,
            &format!("/v1/responses/{bad}"),
            None,
        )
        .await;
        assert_eq!(got.status, 404, "{bad}");
    }
}

#[tokio::test]
async fn unsupported_parameters_are_refused_by_name() {
    let gw = TestGateway::start().await;
    let cases: [(Value, &str); 9] = [
        (json!({"tools": [{"type": "web_search"}]}), "tools[0].type"),
        (
            json!({"tools": [{"type": "function", "name": "f"}, {"type": "file_search", "vector_store_ids": []}]}),
            "tools[1].type",
        ),
        (json!({"background": true}), "background"),
        (json!({"conversation": "conv_1"}), "conversation"),
        (json!({"prompt": {"id": "pmpt_1"}}), "prompt"),
        (json!({"include": ["file_search_call.results"]}), "include"),
        (
            json!({"text": {"format": {"type": "yaml"}}}),
            "text.format.type",
        ),
        (
            json!({"input": [{"type": "web_search_call", "id": "ws_1"}]}),
            "input[0].type",
        ),
        (
            json!({"input": [{"role": "user", "content": [{"type": "input_image", "file_id": "file_1"}]}]}),
            "input[0].content[0].file_id",
        ),
    ];
    let upstream_before = gw.mock.requests().len();
    for (fields, param) in cases {
        let mut body = json!({"model": "gpt-test", "input": "hello"});
        for (k, v) in fields.as_object().unwrap() {
            body[k] = v.clone();
        }
        let reply = create(&gw, &body).await;
        assert_eq!(reply.status, 400, "{param}: {:?}", reply.body);
        let error = &reply.json()["error"];
        assert_eq!(error["param"], param, "{error}");
        assert_eq!(error["type"], "invalid_request_error");
    }
    let unknown = create(
        &gw,
        &json!({"model": "gpt-test", "input": "hello", "frobnicate": 1}),
    )
    .await;
    assert_eq!(unknown.status, 400);
    assert!(
        unknown.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("frobnicate")
    );
    let empty = create(&gw, &json!({"model": "gpt-test", "input": []})).await;
    assert_eq!(empty.status, 400);
    assert_eq!(
        gw.mock.requests().len(),
        upstream_before,
        "nothing went upstream"
    );
}

#[tokio::test]
async fn structured_output_and_reasoning_effort_are_translated() {
    let gw = TestGateway::start().await;
    let schema =
        json!({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]});
    let reply = create(
        &gw,
        &json!({"model": "gpt-test", "input": "json please", "reasoning": {"effort": "low"},
                "text": {"format": {"type": "json_schema", "name": "thing", "schema": schema, "strict": true}}}),
    )
    .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let body = reply.json();
    assert_eq!(body["text"]["format"]["name"], "thing");
    assert_eq!(body["reasoning"]["effort"], "low");
    let sent = last_upstream(&gw);
    assert_eq!(
        sent["response_format"],
        json!({"type": "json_schema", "json_schema": {"name": "thing", "schema": schema, "strict": true}})
    );
    assert_eq!(sent["reasoning_effort"], "low");
    create(
        &gw,
        &json!({"model": "gpt-test", "input": "x", "text": {"format": {"type": "json_object"}}}),
    )
    .await;
    assert_eq!(
        last_upstream(&gw)["response_format"],
        json!({"type": "json_object"})
    );
}

#[tokio::test]
async fn retention_purges_expired_responses_only() {
    use gateway_app::responses_retention::purge_responses;
    use gateway_core::TenantId;
    use gateway_core::store::StoredResponse;
    use std::time::{Duration, SystemTime};

    let gw = TestGateway::start_with_sections("", "[responses]\nretention = \"2h\"\n").await;
    assert_eq!(
        gw.state.responses_config.retention,
        Duration::from_secs(7200)
    );
    let fresh = create(&gw, &json!({"model": "gpt-test", "input": "keep me"}))
        .await
        .json();
    let store = gw.state.responses.as_ref().unwrap().store.clone();
    let old = StoredResponse {
        id: "resp_old".to_owned(),
        tenant: TenantId::new("acme"),
        created_at: SystemTime::now() - Duration::from_secs(3 * 3600),
        response: "{}".to_owned(),
        input_items: "[]".to_owned(),
        conversation: "[]".to_owned(),
    };
    store.put_response(&old).await.unwrap();
    let deleted = purge_responses(&*store, gw.state.responses_config.retention)
        .await
        .unwrap();
    assert_eq!(deleted, 1);
    let gone = call(&gw, &gw.key, Method::GET, "/v1/responses/resp_old", None).await;
    assert_eq!(gone.status, 404);
    let id = fresh["id"].as_str().unwrap();
    let kept = retrieve(&gw, id).await;
    assert_eq!(kept.status, 200);
}
