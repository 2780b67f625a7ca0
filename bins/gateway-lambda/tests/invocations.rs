//! The function in-process, fed synthetic invocation events as API Gateway (HTTP API and
//! REST) and Function URLs send them: a chat completion reaches the testkit mock through the
//! whole pipeline, a call without a key is refused with 401 in the OpenAI error shape, a
//! stream is answered whole as an event stream, and a named stage is not part of the route.
//! The store is the edge profile's signed file (no database needed here).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use gateway_app::Config;
use gateway_auth::ApiKeys;
use gateway_core::store::Limits;
use gateway_lambda::Function;
use gateway_store::signed_file::{EdgeDocument, KeyEntry, SigningKey, TenantEntry};
use gateway_testkit::MockServer;
use lambda_http::{Body, Response};
use serde_json::{Value, json};

const PEPPER: &str = "lambda-test-pepper-0123456789";

struct Fixture {
    function: Function,
    secret: String,
    mock: MockServer,
    _dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let mock = MockServer::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pepper = gateway_core::Secret::new(PEPPER.to_owned());
    let key = ApiKeys::new(Some(&pepper)).generate();
    let signer = SigningKey::generate().unwrap();
    let document = EdgeDocument {
        serial: 1,
        tenants: vec![TenantEntry {
            id: "acme".into(),
            name: None,
            enabled: true,
            allowed_models: None,
            allowed_regions: None,
            allowed_networks: None,
            threat_intel_opt_out: false,
            limits: Limits::default(),
            keys: vec![KeyEntry {
                id: "fn-key".into(),
                name: None,
                prefix: key.display_prefix.clone(),
                hash: key.hash.to_hex(),
                roles: vec!["developer".into()],
                allowed_models: None,
                allowed_networks: None,
                limits: Limits::default(),
                expires_at: None,
                enabled: true,
            }],
        }],
    };
    let file = dir.path().join("tenants.signed.json");
    std::fs::write(&file, signer.sign(&document).unwrap()).unwrap();
    let text = format!(
        "[auth]\npepper = \"{PEPPER}\"\n\n[store.signed_file]\npath = {file:?}\npublic_key = \"{}\"\n\n\
         [providers.mock]\nkind = \"openai\"\nbase_url = \"{}\"\napi_key = \"sk-upstream-1234567890\"\n\n\
         [models.gpt-test]\nprovider = \"mock\"\nupstream_model = \"gpt-4o-mini\"\n",
        signer.public_key().to_base64(),
        mock.base_url()
    );
    let config = Config::from_toml_str(&text, &|_| None, std::iter::empty()).unwrap();
    let function = Function::new(&config).await.unwrap();
    Fixture {
        function,
        secret: key.secret.expose().clone(),
        mock,
        _dir: dir,
    }
}

/// An HTTP API (payload 2.0) event; Function URLs send the same shape.
fn http_api_event(path: &str, stage: &str, auth: Option<&str>, body: &Value) -> String {
    let mut headers =
        json!({"content-type": "application/json", "host": "abc.lambda-url.eu-west-1.on.aws"});
    if let Some(auth) = auth {
        headers["authorization"] = json!(format!("Bearer {auth}"));
    }
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc",
            "domainName": "abc.lambda-url.eu-west-1.on.aws",
            "domainPrefix": "abc",
            "http": {"method": "POST", "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "203.0.113.7", "userAgent": "openai-python"},
            "requestId": "req-1",
            "routeKey": "$default",
            "stage": stage,
            "time": "06/Dec/2026:12:00:00 +0000",
            "timeEpoch": 1796558400000u64
        },
        "body": body.to_string(),
        "isBase64Encoded": false
    })
    .to_string()
}

/// A REST API (payload 1.0) event on a named stage.
fn rest_api_event(path: &str, stage: &str, auth: &str, body: &Value) -> String {
    json!({
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": "POST",
        "headers": {"Content-Type": "application/json", "Authorization": format!("Bearer {auth}"),
                    "Host": "abc.execute-api.eu-west-1.amazonaws.com"},
        "multiValueHeaders": {"Content-Type": ["application/json"],
                              "Authorization": [format!("Bearer {auth}")],
                              "Host": ["abc.execute-api.eu-west-1.amazonaws.com"]},
        "queryStringParameters": null,
        "multiValueQueryStringParameters": null,
        "pathParameters": {"proxy": path.trim_start_matches('/')},
        "stageVariables": null,
        "requestContext": {
            "accountId": "123456789012",
            "resourceId": "r1",
            "stage": stage,
            "requestId": "req-2",
            "identity": {"sourceIp": "198.51.100.9", "userAgent": "curl"},
            "resourcePath": "/{proxy+}",
            "httpMethod": "POST",
            "apiId": "abc",
            "path": format!("/{stage}{path}")
        },
        "body": body.to_string(),
        "isBase64Encoded": false
    })
    .to_string()
}

async fn invoke(f: &Fixture, event: &str) -> Response<Body> {
    let request = lambda_http::request::from_str(event).expect("a valid invocation event");
    f.function.handle(request).await.unwrap()
}

fn text(resp: &Response<Body>) -> String {
    match resp.body() {
        Body::Text(t) => t.clone(),
        Body::Binary(b) => String::from_utf8_lossy(b).into_owned(),
        _ => String::new(),
    }
}

fn chat(stream: bool) -> Value {
    json!({"model": "gpt-test", "stream": stream,
           "messages": [{"role": "user", "content": "Hello from a function"}]})
}

#[tokio::test]
async fn http_api_and_function_url_events_are_served_by_the_gateway() {
    let f = fixture().await;
    let resp = invoke(
        &f,
        &http_api_event(
            "/v1/chat/completions",
            "$default",
            Some(&f.secret),
            &chat(false),
        ),
    )
    .await;
    assert_eq!(resp.status(), 200, "{}", text(&resp));
    let answer: Value = serde_json::from_str(&text(&resp)).unwrap();
    assert_eq!(answer["object"], "chat.completion");
    assert_eq!(answer["model"], "gpt-test");
    assert!(resp.headers().contains_key("x-request-id"));
    assert_eq!(f.mock.requests().len(), 1, "the call reached the upstream");

    // No key: refused before anything is sent upstream, in the OpenAI error shape.
    let resp = invoke(
        &f,
        &http_api_event("/v1/chat/completions", "$default", None, &chat(false)),
    )
    .await;
    assert_eq!(resp.status(), 401);
    let error: Value = serde_json::from_str(&text(&resp)).unwrap();
    assert_eq!(error["error"]["type"], "authentication_error");
    assert_eq!(f.mock.requests().len(), 1);

    // A stream is answered whole: the complete event stream, ending with [DONE].
    let resp = invoke(
        &f,
        &http_api_event(
            "/v1/chat/completions",
            "$default",
            Some(&f.secret),
            &chat(true),
        ),
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let body = text(&resp);
    assert!(
        body.contains("chat.completion.chunk") && body.trim_end().ends_with("data: [DONE]"),
        "{body}"
    );
}

#[tokio::test]
async fn rest_api_events_on_a_named_stage_reach_the_same_routes() {
    let f = fixture().await;
    let resp = invoke(
        &f,
        &rest_api_event("/v1/chat/completions", "prod", &f.secret, &chat(false)),
    )
    .await;
    assert_eq!(resp.status(), 200, "{}", text(&resp));
    let resp = invoke(
        &f,
        &rest_api_event("/v1/chat/completions", "prod", "sk-gw-wrong", &chat(false)),
    )
    .await;
    assert_eq!(resp.status(), 401);
    // An unknown path is a 404 in the gateway's shape, not a Lambda error.
    let resp = invoke(
        &f,
        &rest_api_event("/v1/nowhere", "prod", &f.secret, &chat(false)),
    )
    .await;
    assert_eq!(resp.status(), 404);
}

#[test]
fn the_embedded_sqlite_store_is_refused() {
    let config = Config::from_toml_str("", &|_| None, std::iter::empty()).unwrap();
    let err = gateway_lambda::check_store(&config).unwrap_err();
    assert!(err.to_string().contains("PostgreSQL"), "{err}");
}
