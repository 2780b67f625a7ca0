use std::sync::Mutex;

use super::*;
use gateway_core::types::{Message, Role};
use gateway_core::{Endpoint, Principal};

/// Answers every call with `status` and `body`, remembering the request bodies.
struct Fake {
    status: u16,
    body: String,
    delay: Duration,
    seen: Mutex<Vec<serde_json::Value>>,
}

impl ModerationTransport for Fake {
    fn post<'a>(&'a self, _: &'a ModerationApiConfig, body: Vec<u8>) -> TransportFuture<'a> {
        Box::pin(async move {
            self.seen
                .lock()
                .unwrap()
                .push(serde_json::from_slice(&body).unwrap());
            tokio::time::sleep(self.delay).await;
            Ok((self.status, self.body.clone().into_bytes()))
        })
    }
}

fn config() -> ModerationApiConfig {
    toml::from_str(
        "url = \"https://mod.example/v1/moderations\"\nmodel = \"omni-moderation-latest\"\n\
         categories = { harassment = \"flag\", \"self-harm\" = \"allow\" }\n",
    )
    .unwrap()
}

fn guard(
    status: u16,
    body: &str,
    delay_ms: u64,
    cfg: ModerationApiConfig,
) -> (ExternalModeration, Arc<Fake>) {
    let fake = Arc::new(Fake {
        status,
        body: body.into(),
        delay: Duration::from_millis(delay_ms),
        seen: Mutex::new(Vec::new()),
    });
    (ExternalModeration::new(cfg, fake.clone()), fake)
}

fn request() -> ChatRequest {
    ChatRequest {
        model: "m".into(),
        messages: vec![
            Message::text(Role::System, "You are helpful."),
            Message::text(Role::User, "first"),
            Message::text(Role::User, "second"),
        ],
        ..ChatRequest::default()
    }
}

fn ctx() -> RequestContext {
    RequestContext::new("r", Principal::anonymous(), Endpoint::ChatCompletions)
}

const FLAGGED: &str = r#"{"id": "modr-1", "model": "omni", "results": [
  {"flagged": false, "categories": {"violence": false}, "category_scores": {"violence": 0.01}},
  {"flagged": true, "categories": {"violence": true, "harassment": true, "self-harm": true},
   "category_scores": {"violence": 0.93, "harassment": 0.6, "self-harm": 0.7}}]}"#;

#[tokio::test]
async fn flagged_categories_take_their_actions() {
    let (g, fake) = guard(200, FLAGGED, 0, config());
    let outcome = g.check_request(&request(), &ctx()).await.unwrap();
    assert_eq!(outcome.action, GuardAction::Block);
    let found: Vec<(&str, &str)> = outcome
        .findings
        .iter()
        .map(|f| (f.category.as_str(), f.guardrail.as_str()))
        .collect();
    assert_eq!(
        found,
        [("violence", "moderation"), ("harassment", "moderation")]
    );
    assert_eq!(
        (outcome.findings[0].start, outcome.findings[0].end),
        (0, "second".len())
    );
    let err = outcome.block_error().unwrap().to_string();
    assert!(
        err.contains("moderation") && err.contains("moderation_api"),
        "{err}"
    );
    let sent = fake.seen.lock().unwrap()[0].clone();
    assert_eq!(
        sent,
        serde_json::json!({"input": ["first", "second"], "model": "omni-moderation-latest"})
    );
}

#[tokio::test]
async fn failures_fail_closed_unless_configured_open() {
    for (status, body, delay) in [
        (500, "{}", 0),
        (200, "not json", 0),
        (200, r#"{"results": []}"#, 0),
        (200, FLAGGED, 3000),
    ] {
        let mut cfg = config();
        cfg.timeout_ms = 50;
        let (g, _) = guard(status, body, delay, cfg.clone());
        let err = g.check_request(&request(), &ctx()).await.unwrap_err();
        assert_eq!(err.status(), 503, "{status} {body}");
        cfg.on_error = Action::Allow;
        let (g, _) = guard(status, body, delay, cfg);
        let outcome = g.check_request(&request(), &ctx()).await.unwrap();
        assert_eq!(outcome.action, GuardAction::Allow);
    }
}

#[test]
fn config_problems_have_paths() {
    let mut cfg = config();
    cfg.url = "ftp://x".into();
    cfg.timeout_ms = 0;
    cfg.on_error = Action::Flag;
    cfg.categories.insert("violence".into(), Action::Redact);
    let paths: Vec<String> = cfg
        .problems("guardrails.moderation_api")
        .into_iter()
        .map(|p| p.0)
        .collect();
    assert_eq!(
        paths,
        [
            "guardrails.moderation_api.url",
            "guardrails.moderation_api.timeout_ms",
            "guardrails.moderation_api.action",
            "guardrails.moderation_api.on_error"
        ]
    );
    assert!(config().problems("m").is_empty());
}
