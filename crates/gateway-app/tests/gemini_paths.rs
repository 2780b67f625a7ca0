//! Google's model resources through the real server: `GET /v1beta/models` (paged, the same
//! allow-lists as `/v1/models`) and `GET /v1beta/models/{model}`; model names holding `/` and
//! `:` (`ollama/llama3:8b`), plain or percent-encoded, in every Gemini method; and hostile
//! paths, each answered in Google's error shape with its status. The same names on OpenAI's
//! `GET /v1/models/{id}` (the OpenAI SDK's `models.retrieve`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Reply, TestGateway, send};
use http::Method;
use serde_json::{Value, json};

/// Public names with a namespace and a tag, as Ollama's and vLLM's models have.
const SECTIONS: &str = "[models.\"ollama/llama3:8b\"]\nprovider = \"mock\"\nupstream_model = \"gpt-4o-mini\"\n\n\
     [models.\"my-model:v2\"]\nprovider = \"mock\"\nupstream_model = \"gpt-4o-mini\"\n";

async fn start() -> TestGateway {
    TestGateway::start_with_sections("", SECTIONS).await
}

async fn google(gw: &TestGateway, method: Method, path: &str, body: &str) -> Reply {
    let headers = [
        ("content-type", "application/json"),
        ("x-goog-api-key", gw.key.as_str()),
    ];
    send(method, &gw.url(path), body.to_owned(), &headers).await
}

/// Google's error shape, with `status` and `name`.
fn assert_google_error(reply: &Reply, status: u16, name: &str, what: &str) {
    assert_eq!(reply.status, status, "{what}: {:?}", reply.body);
    let body = reply.json();
    let error = &body["error"];
    assert_eq!(error["code"], status, "{what}: {body}");
    assert_eq!(error["status"], name, "{what}: {body}");
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{what}: {body}"
    );
}

const HELLO: &str = r#"{"contents":[{"role":"user","parts":[{"text":"Hello"}]}]}"#;

#[tokio::test]
async fn model_names_with_slashes_and_colons_reach_every_method() {
    let gw = start().await;
    let embed =
        r#"{"requests":[{"model":"models/ollama/llama3:8b","content":{"parts":[{"text":"a"}]}}]}"#;
    for (path, body, what) in [
        (
            "/v1beta/models/ollama/llama3:8b:generateContent",
            HELLO,
            "candidates",
        ),
        (
            "/v1/models/ollama/llama3:8b:generateContent",
            HELLO,
            "candidates",
        ),
        (
            "/v1beta/models/ollama%2Fllama3%3A8b:generateContent",
            HELLO,
            "candidates",
        ),
        (
            "/v1beta/models/ollama/llama3:8b:countTokens",
            HELLO,
            "totalTokens",
        ),
        (
            "/v1beta/models/ollama/llama3:8b:batchEmbedContents",
            embed,
            "embeddings",
        ),
        (
            "/v1beta/models/my-model:v2:generateContent",
            HELLO,
            "candidates",
        ),
        (
            "/v1beta/models/my-model%3Av2:generateContent",
            HELLO,
            "candidates",
        ),
    ] {
        let reply = google(&gw, Method::POST, path, body).await;
        assert_eq!(reply.status, 200, "{path}: {:?}", reply.body);
        let answer = reply.json();
        assert!(answer.get(what).is_some(), "{path}: {answer}");
        if what == "candidates" {
            let want = if path.contains("my-model") {
                "my-model:v2"
            } else {
                "ollama/llama3:8b"
            };
            assert_eq!(answer["modelVersion"], want, "{path}");
        }
    }
    let streamed = google(
        &gw,
        Method::POST,
        "/v1beta/models/ollama/llama3:8b:streamGenerateContent?alt=sse",
        HELLO,
    )
    .await;
    assert_eq!(streamed.status, 200, "{:?}", streamed.body);
    assert!(
        String::from_utf8_lossy(&streamed.body).contains("\"modelVersion\":\"ollama/llama3:8b\"")
    );
}

#[tokio::test]
async fn hostile_paths_answer_in_googles_shape() {
    let gw = start().await;
    let long_model = "x".repeat(8 * 1024);
    let long = format!("/v1beta/models/{long_model}:generateContent");
    let long_get = format!("/v1beta/models/{long_model}");
    let cases: Vec<(Method, &str, u16, &str)> = vec![
        (
            Method::POST,
            "/v1beta/models/:generateContent",
            400,
            "INVALID_ARGUMENT",
        ),
        (
            Method::POST,
            "/v1beta/models/:countTokens",
            400,
            "INVALID_ARGUMENT",
        ),
        (
            Method::POST,
            "/v1beta/models/%3A:generateContent",
            404,
            "NOT_FOUND",
        ),
        (Method::POST, "/v1beta/models/:", 404, "NOT_FOUND"),
        (Method::POST, "/v1beta/models/::", 404, "NOT_FOUND"),
        (Method::POST, "/v1beta/models/gpt-test:", 404, "NOT_FOUND"),
        (
            Method::POST,
            "/v1beta/models/gpt-test:predict",
            404,
            "NOT_FOUND",
        ),
        (
            Method::POST,
            "/v1beta/models/gpt-test:generateContent:x",
            404,
            "NOT_FOUND",
        ),
        (Method::POST, "/v1beta/models/gpt-test", 404, "NOT_FOUND"),
        (
            Method::POST,
            "/v1beta/models/%FF%FE:generateContent",
            404,
            "NOT_FOUND",
        ),
        (
            Method::POST,
            "/v1beta/tunedModels/t-1:generateContent",
            404,
            "NOT_FOUND",
        ),
        (Method::POST, &long, 404, "NOT_FOUND"),
        (Method::POST, "/v1beta/models", 405, "INVALID_ARGUMENT"),
        (
            Method::GET,
            "/v1beta/models/gpt-test:generateContent",
            405,
            "INVALID_ARGUMENT",
        ),
        (Method::GET, "/v1beta/models/", 400, "INVALID_ARGUMENT"),
        (Method::GET, "/v1beta/models/:", 404, "NOT_FOUND"),
        (Method::GET, "/v1beta/models/%00", 404, "NOT_FOUND"),
        (Method::GET, &long_get, 404, "NOT_FOUND"),
        (
            Method::GET,
            "/v1beta/models?pageSize=many",
            400,
            "INVALID_ARGUMENT",
        ),
        (
            Method::GET,
            "/v1beta/models?pageSize=-3",
            400,
            "INVALID_ARGUMENT",
        ),
        (
            Method::GET,
            "/v1beta/models?pageToken=%FF",
            400,
            "INVALID_ARGUMENT",
        ),
        (Method::DELETE, "/v1beta/models/gpt-test", 404, "NOT_FOUND"),
    ];
    for (method, path, status, name) in cases {
        let what = format!("{method} {}", &path[..path.len().min(80)]);
        let reply = google(&gw, method, path, HELLO).await;
        assert_google_error(&reply, status, name, &what);
    }
    // Nothing above reached the upstream, and the server still answers.
    assert_eq!(gw.mock.requests_seen(), 0);
    let ok = google(
        &gw,
        Method::POST,
        "/v1beta/models/gpt-test:generateContent",
        HELLO,
    )
    .await;
    assert_eq!(ok.status, 200);
}

#[tokio::test]
async fn the_model_list_is_paged_and_follows_the_allow_lists() {
    let gw = start().await;
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..20 {
        let path = match &token {
            Some(t) => format!("/v1beta/models?pageSize=3&pageToken={t}"),
            None => "/v1beta/models?pageSize=3".to_owned(),
        };
        let page = google(&gw, Method::GET, &path, "").await;
        assert_eq!(page.status, 200, "{path}: {:?}", page.body);
        let page = page.json();
        let models = page["models"].as_array().unwrap();
        assert!(models.len() <= 3, "{page}");
        names.extend(
            models
                .iter()
                .map(|m| m["name"].as_str().unwrap().to_owned()),
        );
        token = page["nextPageToken"].as_str().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert!(token.is_none(), "the pages never ended");
    // Every model of /v1/models, once, in name order.
    let mut expected: Vec<String> = gw.get("/v1/models").await.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| format!("models/{}", m["id"].as_str().unwrap()))
        .collect();
    expected.sort();
    assert_eq!(names, expected);
    assert!(names.contains(&"models/ollama/llama3:8b".to_owned()));

    let one = google(&gw, Method::GET, "/v1beta/models/ollama/llama3:8b", "").await;
    assert_eq!(one.status, 200, "{:?}", one.body);
    let one = one.json();
    assert_eq!(one["name"], "models/ollama/llama3:8b");
    assert_eq!(one["displayName"], "ollama/llama3:8b");
    assert!(
        one["supportedGenerationMethods"]
            .as_array()
            .unwrap()
            .contains(&json!("countTokens"))
    );
    let by_query = send(
        Method::GET,
        &gw.url(&format!("/v1beta/models/my-model%3Av2?key={}", gw.key)),
        "",
        &[],
    )
    .await;
    assert_eq!(by_query.status, 200, "{:?}", by_query.body);
    assert_eq!(by_query.json()["name"], "models/my-model:v2");

    // A key allowed one model lists that one and sees no other, as if it did not exist.
    let manager = gw.state.auth.key_manager.as_ref().unwrap();
    let mut restricted = gateway_auth::NewApiKey::new(gateway_core::TenantId::new("acme"), "one");
    restricted.allowed_models = Some(vec!["my-model:v2".into()]);
    let key = manager
        .create(restricted)
        .await
        .unwrap()
        .secret
        .expose()
        .clone();
    let get = |path: &str| {
        let url = gw.url(path);
        let key = key.clone();
        async move { send(Method::GET, &url, "", &[("x-goog-api-key", key.as_str())]).await }
    };
    let listed = get("/v1beta/models").await.json();
    assert_eq!(
        listed,
        json!({"models": [one_named(&listed, "models/my-model:v2")]})
    );
    assert_eq!(get("/v1beta/models/my-model:v2").await.status, 200);
    let hidden = get("/v1beta/models/gpt-test").await;
    assert_google_error(&hidden, 404, "NOT_FOUND", "a model the key may not use");
    let missing = get("/v1beta/models/no-such-model").await;
    assert_eq!(
        hidden.json()["error"]["status"],
        missing.json()["error"]["status"]
    );

    for path in ["/v1beta/models", "/v1beta/models/gpt-test"] {
        let keyless = send(Method::GET, &gw.url(path), "", &[]).await;
        assert_google_error(&keyless, 401, "UNAUTHENTICATED", path);
        let bad = send(
            Method::GET,
            &gw.url(&format!("{path}?key=sk-gw-not-a-key")),
            "",
            &[],
        )
        .await;
        assert_google_error(&bad, 401, "UNAUTHENTICATED", path);
        assert!(!String::from_utf8_lossy(&bad.body).contains("sk-gw-not-a-key"));
    }
}

/// The model of `list` named `name` (the whole object, to compare lists exactly).
fn one_named(list: &Value, name: &str) -> Value {
    list["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .cloned()
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn openai_model_retrieve_takes_ids_with_slashes_and_colons() {
    let gw = start().await;
    let listed = gw.get("/v1/models").await.json();
    let listed = listed["data"].as_array().unwrap().clone();
    for (path, id) in [
        ("/v1/models/ollama/llama3:8b", "ollama/llama3:8b"),
        ("/v1/models/ollama%2Fllama3%3A8b", "ollama/llama3:8b"),
        ("/v1/models/ollama%2fllama3%3a8b", "ollama/llama3:8b"),
        ("/v1/models/ollama/llama3%3A8b", "ollama/llama3:8b"),
        ("/v1/models/my-model:v2", "my-model:v2"),
        ("/v1/models/my-model%3Av2", "my-model:v2"),
        ("/v1/models/gpt-test", "gpt-test"),
    ] {
        let reply = gw.get(path).await;
        assert_eq!(reply.status, 200, "{path}: {:?}", reply.body);
        let model = reply.json();
        assert_eq!(model["id"], id, "{path}");
        assert_eq!(model["object"], "model", "{path}");
        assert!(listed.contains(&model), "{path}: {model}");
    }
    // Unknown names, with or without the separators, are OpenAI's 404.
    for path in [
        "/v1/models/ollama/llama3:70b",
        "/v1/models/ollama",
        "/v1/models/llama3:8b",
        "/v1/models/ollama/llama3:8b/extra",
        "/v1/models/",
        "/v1/models/%FF",
    ] {
        let reply = gw.get(path).await;
        assert_eq!(reply.status, 404, "{path}: {:?}", reply.body);
        let error = &reply.json()["error"];
        assert!(error["message"].as_str().is_some(), "{path}: {error}");
        assert!(error.get("status").is_none(), "{path}: not Google's shape");
    }

    // A key allowed one of them sees it and no other, as if it did not exist.
    let manager = gw.state.auth.key_manager.as_ref().unwrap();
    let mut restricted = gateway_auth::NewApiKey::new(gateway_core::TenantId::new("acme"), "one");
    restricted.allowed_models = Some(vec!["my-model:v2".into()]);
    let key = manager
        .create(restricted)
        .await
        .unwrap()
        .secret
        .expose()
        .clone();
    let auth = format!("Bearer {key}");
    let get = |path: &str| {
        let url = gw.url(path);
        let auth = auth.clone();
        async move { send(Method::GET, &url, "", &[("authorization", auth.as_str())]).await }
    };
    assert_eq!(get("/v1/models/my-model%3Av2").await.status, 200);
    let hidden = get("/v1/models/ollama/llama3:8b").await;
    assert_eq!(hidden.status, 404);
    let missing = gw.get("/v1/models/ollama/llama3:70b").await;
    assert_eq!(hidden.json()["error"]["code"], "model_not_found");
    assert_eq!(
        hidden.json()["error"]["code"],
        missing.json()["error"]["code"]
    );
    let keyless = send(Method::GET, &gw.url("/v1/models/ollama/llama3:8b"), "", &[]).await;
    assert_eq!(keyless.status, 401);
    // Another method on a model is the wrong method, in OpenAI's shape.
    let delete = send(Method::DELETE, &gw.url("/v1/models/gpt-test"), "", &[]).await;
    assert_eq!(delete.status, 405);
    assert!(delete.json()["error"]["message"].as_str().is_some());
}
