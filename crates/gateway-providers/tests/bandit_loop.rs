//! The loop (`[prompt_routing.bandit]`) end to end over in-process deployments, under paused
//! time with fixed seeds:
//!
//! - the SIMULATION: two scripted deployments; `cheap` answers code prompts well 30 % of the
//!   time (`smart` 90 %) and other prompts 90 % (`smart` 80 %); the bandit, fed the answers' scores and synced
//!   through the store every 5 (virtual) seconds, sends fewer than min_share + 0.05 of the
//!   code prompts to `cheap` within 600 calls (300 code, 300 math), while `cheap` keeps most
//!   math prompts and the never-observed task types keep their prior shares;
//! - the shares survive a restart (a new loop over the same store routes as the old left off);
//! - frozen: no learning, calls shared by the last shares;
//! - the cost ceiling leaves out candidates expected to cost more, unless that leaves none.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use gateway_core::features::{PromptClassifier, RequestFeatures, TaskType};
use gateway_core::phases::route::Router;
use gateway_core::store::{BanditStore, MemoryBanditStore};
use gateway_core::types::{
    Choice, Content, EmbeddingsRequest, EmbeddingsResponse, Extra, ModelInfo,
};
use gateway_core::{ChatRequest, ChatResponse, ChatStream, Message, Provider, ProviderError, Role};
use gateway_providers::auto::bandit::sync::BanditLoop;
use gateway_providers::auto::{AutoRouter, AutoRoutingConfig, Evidence};
use gateway_providers::{Deployment, ModelGroup, ModelRouter};
use support::ctx;

/// The task is the prompt: `task=code`.
struct ByPrompt;

fn prompt_of(req: &ChatRequest) -> &str {
    match req.messages.last().and_then(|m| m.content.as_ref()) {
        Some(Content::Text(t)) => t,
        _ => "",
    }
}

impl PromptClassifier for ByPrompt {
    fn classify(&self, req: &ChatRequest) -> RequestFeatures {
        let task = prompt_of(req)
            .strip_prefix("task=")
            .and_then(TaskType::from_name)
            .unwrap_or(TaskType::Conversation);
        RequestFeatures {
            task,
            language: Some("en"),
            tokens: 1000,
            tools: false,
            images: false,
            json_output: false,
            difficulty: 0.5,
        }
    }
}

/// A deployment that answers `good` with probability `p_code` for code prompts and `p_other`
/// otherwise, and `bad` else (its own seeded sequence).
struct Graded {
    name: String,
    p_code: f64,
    p_other: f64,
    state: AtomicU64,
}

impl Graded {
    fn new(name: &str, p_code: f64, p_other: f64, seed: u64) -> Arc<Graded> {
        Arc::new(Graded {
            name: name.into(),
            p_code,
            p_other,
            state: AtomicU64::new(seed),
        })
    }

    fn unit(&self) -> f64 {
        let mut z = self
            .state
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[async_trait]
impl Provider for Graded {
    fn name(&self) -> &str {
        &self.name
    }

    async fn chat(&self, req: &ChatRequest) -> Result<ChatResponse, ProviderError> {
        // A little upstream time, on the paused clock.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let p = if prompt_of(req) == "task=code" {
            self.p_code
        } else {
            self.p_other
        };
        let text = if self.unit() < p { "good" } else { "bad" };
        Ok(ChatResponse {
            id: "r".into(),
            object: "chat.completion".into(),
            created: 0,
            model: req.model.clone(),
            choices: vec![Choice {
                index: 0,
                message: Message::text(Role::Assistant, text),
                finish_reason: Some("stop".into()),
                logprobs: None,
                extra: Extra::new(),
            }],
            usage: None,
            system_fingerprint: None,
            extra: Extra::new(),
        })
    }

    async fn chat_stream(&self, _req: &ChatRequest) -> Result<ChatStream, ProviderError> {
        Err(ProviderError::Connect("not scripted".into()))
    }

    async fn embeddings(
        &self,
        _r: &EmbeddingsRequest,
    ) -> Result<EmbeddingsResponse, ProviderError> {
        Err(ProviderError::Connect("not scripted".into()))
    }

    async fn list_models(&self) -> Result<Vec<ModelInfo>, ProviderError> {
        Ok(Vec::new())
    }
}

const MIN_SHARE: f64 = 0.05;
const MARGIN: f64 = 0.05;

fn config(extra: &str) -> AutoRoutingConfig {
    toml::from_str(&format!(
        r#"
default = "smart"
[[rules]]
name = "any"
when = "true"
to = ["cheap", "smart"]
[candidates.cheap]
cost = 1.0
quality = {{ default = 0.8 }}
[candidates.smart]
cost = 20.0
quality = {{ default = 0.8 }}
[bandit]
min_share = {MIN_SHARE}
exploration = 0.02
sync_secs = 5
seed = 29
{extra}
"#
    ))
    .unwrap()
}

fn router(config: &AutoRoutingConfig) -> AutoRouter {
    let groups = [
        ("cheap", Graded::new("cheap", 0.3, 0.9, 1)),
        ("smart", Graded::new("smart", 0.9, 0.8, 2)),
    ]
    .map(|(n, p)| ModelGroup::new(n, vec![Deployment::new(p, "up")]));
    let routing = config
        .compile("prompt_routing", &|m| m == "cheap" || m == "smart")
        .unwrap();
    AutoRouter::new(
        Arc::new(ModelRouter::new(groups).with_seed(3)),
        Arc::new(ByPrompt),
        routing,
    )
}

fn auto(task: &str) -> ChatRequest {
    ChatRequest {
        model: "auto".into(),
        messages: vec![Message::text(Role::User, format!("task={task}"))],
        ..ChatRequest::default()
    }
}

/// One call through the router, scored (good 1, bad 0) and fed back as the usage sink
/// does; returns the candidate chosen.
async fn call(router: &AutoRouter, task: &str) -> String {
    let out = router.chat(auto(task), &ctx()).await.unwrap();
    let reason = out.served_by.route_reason.clone().unwrap();
    assert!(
        reason.starts_with(&format!("rule=any bandit task={task} chose=")),
        "{reason}"
    );
    let text = match &out.value.choices[0].message.content {
        Some(Content::Text(t)) => t.clone(),
        _ => String::new(),
    };
    let score = if text == "good" { 1.0 } else { 0.0 };
    let task_type = TaskType::from_name(task).unwrap();
    let bandit = router.routing().bandit().unwrap();
    bandit.observe_reason(&reason, task_type, score, Evidence::Score);
    out.served_by.provider.to_string()
}

/// Runs `rounds` rounds of 10 code and 10 math calls, a sync after each round (the loop's
/// own timer on the paused clock); returns the share of code calls and of math calls sent to
/// `cheap` over the last `tail` rounds.
async fn simulate(router: &AutoRouter, rounds: usize, tail: usize) -> (f64, f64) {
    let (mut code_cheap, mut math_cheap, mut counted) = (0, 0, 0);
    for round in 0..rounds {
        for _ in 0..10 {
            let code = call(router, "code").await == "cheap";
            let math = call(router, "math").await == "cheap";
            if round >= rounds - tail {
                code_cheap += usize::from(code);
                math_cheap += usize::from(math);
                counted += 1;
            }
        }
        // Past the loop's next tick: it stores the round's observations and republishes.
        tokio::time::sleep(Duration::from_secs(6)).await;
    }
    (
        code_cheap as f64 / counted as f64,
        math_cheap as f64 / counted as f64,
    )
}

#[tokio::test(start_paused = true)]
async fn the_simulation_code_prompts_leave_the_deployment_that_is_worse_at_code() {
    let store: Arc<dyn BanditStore> = Arc::new(MemoryBanditStore::default());
    let config = config("");
    let router = router(&config);
    let lp = BanditLoop::open(store.clone()).await;
    lp.install(router.routing().bandit().cloned());
    let _task = lp.spawn();
    let bandit = router.routing().bandit().unwrap().clone();
    let before = bandit.share("any", TaskType::Code, "cheap").unwrap();
    assert!((before - 0.5).abs() < 0.05, "equal priors: {before}");
    let chat_before = bandit
        .share("any", TaskType::Conversation, "cheap")
        .unwrap();

    // 30 rounds: 300 code and 300 math calls; the last 10 rounds are measured.
    let (code, math) = simulate(&router, 30, 10).await;
    let code_share = bandit.share("any", TaskType::Code, "cheap").unwrap();
    let math_share = bandit.share("any", TaskType::Math, "cheap").unwrap();
    println!(
        "after 600 calls: code->cheap drawn {code:.3}, published {code_share:.3}; math->cheap drawn {math:.3}, published {math_share:.3}"
    );
    assert!(
        code < MIN_SHARE + MARGIN,
        "code prompts still sent to cheap: {code}"
    );
    assert!(code_share < MIN_SHARE + MARGIN, "{code_share}");
    assert!(
        code_share >= MIN_SHARE - 1e-9,
        "the minimum share holds: {code_share}"
    );
    // Math: cheap is the better one there (0.9 good against 0.8), and its code answers do
    // not count against it: it keeps most math prompts.
    assert!(
        math > 0.5 && math_share > 0.5,
        "math unaffected: {math} {math_share}"
    );
    // The other tasks, never observed, keep their prior shares.
    let chat = bandit
        .share("any", TaskType::Conversation, "cheap")
        .unwrap();
    assert_eq!(chat, chat_before);
    // The store holds the evidence.
    let arms = store.arm_counts().await.unwrap();
    let code_cheap = arms
        .iter()
        .find(|a| a.task == "code" && a.candidate == "cheap")
        .unwrap();
    assert!(code_cheap.failures > code_cheap.successes, "{code_cheap:?}");
}

#[tokio::test(start_paused = true)]
async fn shares_survive_a_restart_through_the_store() {
    let store: Arc<dyn BanditStore> = Arc::new(MemoryBanditStore::default());
    let config = config("");
    let learned = {
        let router = router(&config);
        let lp = BanditLoop::open(store.clone()).await;
        lp.install(router.routing().bandit().cloned());
        let _task = lp.spawn();
        simulate(&router, 20, 1).await;
        lp.flush().await.unwrap();
        router
            .routing()
            .bandit()
            .unwrap()
            .share("any", TaskType::Code, "cheap")
            .unwrap()
    };
    assert!(learned < MIN_SHARE + MARGIN, "{learned}");
    // A new instance: new router, new loop, same store.
    let router = router(&config);
    let lp = BanditLoop::open(store).await;
    lp.install(router.routing().bandit().cloned());
    let restarted = router
        .routing()
        .bandit()
        .unwrap()
        .share("any", TaskType::Code, "cheap")
        .unwrap();
    assert!(
        (restarted - learned).abs() < 1e-9,
        "{restarted} vs {learned}"
    );
}

#[tokio::test(start_paused = true)]
async fn frozen_keeps_the_last_shares_and_learns_nothing() {
    let store: Arc<dyn BanditStore> = Arc::new(MemoryBanditStore::default());
    {
        let router = router(&config(""));
        let lp = BanditLoop::open(store.clone()).await;
        lp.install(router.routing().bandit().cloned());
        let _task = lp.spawn();
        simulate(&router, 20, 1).await;
        lp.flush().await.unwrap();
    }
    let stored = store.arm_counts().await.unwrap();
    let frozen_config = config("frozen = true");
    let router = router(&frozen_config);
    let lp = BanditLoop::open(store.clone()).await;
    lp.install(router.routing().bandit().cloned());
    let _task = lp.spawn();
    let bandit = router.routing().bandit().unwrap().clone();
    let code = bandit.share("any", TaskType::Code, "cheap").unwrap();
    assert!(code < MIN_SHARE + MARGIN, "the learned shares: {code}");
    // Math answers of cheap are now all bad: a learning bandit would move; a frozen one not.
    for _ in 0..200 {
        bandit.observe("any", TaskType::Math, "cheap", 0.0, Evidence::Feedback);
    }
    let math_before = bandit.share("any", TaskType::Math, "cheap").unwrap();
    let (drawn_code, drawn_math) = simulate(&router, 10, 10).await;
    assert_eq!(
        bandit.share("any", TaskType::Math, "cheap").unwrap(),
        math_before
    );
    assert_eq!(store.arm_counts().await.unwrap(), stored, "nothing stored");
    // Calls follow the frozen shares.
    assert!((drawn_code - code).abs() < 0.05, "{drawn_code} vs {code}");
    assert!(
        (drawn_math - math_before).abs() < 0.1,
        "{drawn_math} vs {math_before}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_cost_ceiling_leaves_out_the_expensive_unless_none_remain() {
    // 1,000 prompt tokens + 256 expected output: cheap ~$0.00126, smart ~$0.0251.
    let r = router(&config("cost_ceiling = 0.01"));
    for _ in 0..100 {
        let d = r.decide(&auto("code"), &ctx());
        assert_eq!(&*d.model, "cheap", "{}", d.reason);
        assert!(d.reason.contains("chose=cheap p=1.00"), "{}", d.reason);
    }
    // Under a ceiling nobody meets, both are used again.
    let r = router(&config("cost_ceiling = 0.0001"));
    let smart = (0..200)
        .filter(|_| &*r.decide(&auto("code"), &ctx()).model == "smart")
        .count();
    assert!((60..=140).contains(&smart), "{smart}");
    // The expected output is the call's max_tokens: with 20, smart costs ~$0.0204, under a
    // ceiling of 0.025; with the default 256 it is over.
    let r = router(&config("cost_ceiling = 0.025"));
    let mut short = auto("code");
    short.max_tokens = Some(20);
    let chosen: std::collections::BTreeSet<String> = (0..200)
        .map(|_| r.decide(&short, &ctx()).model.to_string())
        .collect();
    assert_eq!(chosen.len(), 2, "{chosen:?}");
    assert!((0..100).all(|_| &*r.decide(&auto("code"), &ctx()).model == "cheap"));
}
