//! Prompt-type routing: a table of rules and features -> the rule that holds and the model
//! chosen (cheapest within the quality margin), the route reason on the answer, other models
//! untouched, and configuration problems reported with their paths.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;

use gateway_core::features::{PromptClassifier, RequestFeatures, TaskType};
use gateway_core::phases::route::Router;
use gateway_core::types::{ChatRequest, Content};
use gateway_providers::auto::{AutoRouter, AutoRoutingConfig};
use gateway_providers::{Deployment, ModelGroup, ModelRouter};
use support::{Fake, ctx, request};

/// Reads the features from the prompt itself: `task=code tokens=5000 tools lang=fr d=0.8`.
struct Scripted;

impl PromptClassifier for Scripted {
    fn classify(&self, req: &ChatRequest) -> RequestFeatures {
        let text = match req.messages.last().and_then(|m| m.content.as_ref()) {
            Some(Content::Text(t)) => t.clone(),
            _ => String::new(),
        };
        let mut f = RequestFeatures {
            task: TaskType::Conversation,
            language: Some("en"),
            tokens: 10,
            tools: false,
            images: false,
            json_output: false,
            difficulty: 0.1,
        };
        for word in text.split_whitespace() {
            match word.split_once('=') {
                Some(("task", t)) => f.task = TaskType::from_name(t).unwrap(),
                Some(("tokens", n)) => f.tokens = n.parse().unwrap(),
                Some(("lang", "fr")) => f.language = Some("fr"),
                Some(("d", d)) => f.difficulty = d.parse().unwrap(),
                _ if word == "tools" => f.tools = true,
                _ if word == "images" => f.images = true,
                _ if word == "json" => f.json_output = true,
                _ => {}
            }
        }
        f
    }
}

const CONFIG: &str = r#"
model = "auto"
default = "fast"
quality_margin = 0.05

[[rules]]
name = "long-code"
when = 'task == "code" && tokens > 4000'
to = ["smart"]

[[rules]]
name = "hard"
when = 'difficulty >= 0.7 || task in ["math", "reasoning"]'
to = ["smart", "medium", "fast"]

[[rules]]
name = "agentic"
when = "tools || json_output"
to = ["medium", "smart"]

[[rules]]
name = "french"
when = 'language == "fr"'
to = ["euro"]

[[rules]]
name = "vision"
when = "images"
to = ["smart"]

[candidates.smart]
cost = 10.0
quality = { default = 0.9, math = 0.95 }

[candidates.medium]
cost = 3.0
quality = { default = 0.87, math = 0.80, reasoning = 0.88 }

[candidates.fast]
cost = 0.5
quality = { default = 0.6 }
"#;

fn setup() -> (AutoRouter, Vec<Arc<Fake>>) {
    let names = ["smart", "medium", "fast", "euro", "plain"];
    let fakes: Vec<Arc<Fake>> = names.iter().map(|n| Fake::new(n, [])).collect();
    let groups = names
        .iter()
        .zip(&fakes)
        .map(|(n, f)| ModelGroup::new(*n, vec![Deployment::new(f.clone(), "up")]));
    let inner = Arc::new(ModelRouter::new(groups).with_seed(1));
    let config: AutoRoutingConfig = toml::from_str(CONFIG).unwrap();
    let compiled = config
        .compile("prompt_routing", &|m| names.contains(&m))
        .unwrap();
    (AutoRouter::new(inner, Arc::new(Scripted), compiled), fakes)
}

fn auto(prompt: &str) -> ChatRequest {
    let mut req = request("auto");
    req.messages = vec![gateway_core::Message::text(
        gateway_core::Role::User,
        prompt,
    )];
    req
}

#[tokio::test]
async fn the_table_of_rules() {
    let (router, _) = setup();
    // (prompt features, rule that holds, model chosen)
    let table = [
        ("task=code tokens=5000", "long-code", "smart"),
        ("task=code tokens=4000", "default", "fast"),
        // math: smart 0.95 vs medium 0.80: only smart is within 0.05.
        ("task=math", "hard", "smart"),
        // reasoning: smart 0.90, medium 0.88 (within 0.05, cheaper), fast 0.60.
        ("task=reasoning", "hard", "medium"),
        ("task=creative_writing d=0.75", "hard", "medium"),
        ("task=conversation tools", "agentic", "medium"),
        ("task=extraction json", "agentic", "medium"),
        ("task=translation lang=fr", "french", "euro"),
        ("task=conversation images", "vision", "smart"),
        ("task=summarisation", "default", "fast"),
        // The first rule that holds decides, even when a later one would too.
        ("task=code tokens=9000 tools lang=fr", "long-code", "smart"),
    ];
    for (prompt, rule, model) in table {
        let d = router.decide(&auto(prompt), &ctx());
        assert_eq!(&*d.model, model, "{prompt}: {}", d.reason);
        assert!(
            d.reason.starts_with(&format!("rule={rule} ")),
            "{prompt}: {}",
            d.reason
        );
        assert!(d.reason.contains(&format!("-> {model}")), "{}", d.reason);
        assert!(d.reason.is_ascii());
    }
}

#[tokio::test]
async fn the_answer_names_the_reason_and_named_models_pass_through() {
    let (router, fakes) = setup();
    let out = router
        .chat(auto("task=code tokens=5000"), &ctx())
        .await
        .unwrap();
    assert_eq!(&*out.served_by.provider, "smart");
    let reason = out.served_by.route_reason.unwrap();
    assert!(reason.starts_with("rule=long-code task=code"), "{reason}");
    assert_eq!(fakes[0].calls(), 1);

    let out = router.chat(request("plain"), &ctx()).await.unwrap();
    assert_eq!(&*out.served_by.provider, "plain");
    assert_eq!(out.served_by.route_reason, None);

    assert!(router.knows("auto") && router.knows("plain") && !router.knows("nope"));
    assert!(router.models().iter().any(|m| m.id == "auto"));
}

#[test]
fn configuration_problems_have_their_paths() {
    let config: AutoRoutingConfig = toml::from_str(
        r#"
        model = "smart"
        default = "nowhere"
        quality_margin = 2.0
        cost_tolerance = -1.0
        [[rules]]
        name = "ok"
        when = 'task == "code"'
        to = ["smart"]
        [[rules]]
        name = "bad name!"
        when = 'taks == "code"'
        to = []
        [[rules]]
        name = "syntax"
        when = 'tokens > '
        to = ["ghost"]
        [candidates.smart]
        quality = { poetry = 0.5, code = 1.5 }
        "#,
    )
    .unwrap();
    let problems = config
        .compile("prompt_routing", &|m| m == "smart")
        .unwrap_err();
    let paths: Vec<&str> = problems.iter().map(|(p, _)| p.as_str()).collect();
    for want in [
        "prompt_routing.model",
        "prompt_routing.default",
        "prompt_routing.quality_margin",
        "prompt_routing.cost_tolerance",
        "prompt_routing.rules[1].name",
        "prompt_routing.rules[1].to",
        "prompt_routing.rules[1].when",
        "prompt_routing.rules[2].when",
        "prompt_routing.rules[2].to",
        "prompt_routing.candidates.smart.quality.poetry",
        "prompt_routing.candidates.smart.quality.code",
    ] {
        assert!(paths.contains(&want), "{want} missing from {problems:?}");
    }
    assert!(!paths.contains(&"prompt_routing.rules[0].when"));
    let when = problems
        .iter()
        .find(|(p, _)| p == "prompt_routing.rules[1].when")
        .unwrap();
    assert!(when.1.contains("unknown variable 'taks'"), "{when:?}");
}

/// The choice among a rule's candidates, priced by the price table per expected tokens (the
/// prompt's and `max_tokens`, else `expected_output_tokens`): (prompt, max_tokens, model).
#[tokio::test]
async fn the_table_of_candidate_choices_by_expected_cost() {
    let names = ["reader", "writer", "premium"];
    let groups = names
        .iter()
        .map(|n| ModelGroup::new(*n, vec![Deployment::new(Fake::new(n, []), "up")]));
    let inner = Arc::new(ModelRouter::new(groups).with_seed(1));
    let config: AutoRoutingConfig = toml::from_str(
        r#"
        default = "premium"
        quality_margin = 0.1
        expected_output_tokens = 500
        [[rules]]
        name = "all"
        when = "true"
        to = ["premium", "reader", "writer"]
        [candidates.premium]
        quality = { default = 0.9 }
        [candidates.reader]
        quality = { default = 0.85, math = 0.5 }
        [candidates.writer]
        quality = { default = 0.85, math = 0.5 }
        "#,
    )
    .unwrap();
    let routing = config
        .compile("prompt_routing", &|m| names.contains(&m))
        .unwrap();
    // USD per million tokens (input, output): reader is cheap to read, dear to write; writer
    // the other way round; premium dear both ways.
    let prices = |m: &str| match m {
        "reader" => Some((0.5, 20.0)),
        "writer" => Some((6.0, 2.0)),
        "premium" => Some((30.0, 60.0)),
        _ => None,
    };
    let router = AutoRouter::new(inner, Arc::new(Scripted), routing).with_prices(&prices);
    let table: [(&str, Option<u32>, &str); 6] = [
        // 10 prompt tokens, 500 expected out: writer 0.00106 < reader 0.010005.
        ("task=conversation", None, "writer"),
        // 20,000 in, 500 out: reader 0.02 < writer 0.121.
        ("task=summarisation tokens=20000", None, "reader"),
        // 20,000 in, 5,000 out (max_tokens): reader 0.11 < writer 0.13.
        ("task=summarisation tokens=20000", Some(5_000), "reader"),
        // 20,000 in, 8,000 out: writer 0.136 < reader 0.17.
        ("task=summarisation tokens=20000", Some(8_000), "writer"),
        // Math: only premium is within 0.1 of the best quality.
        ("task=math", None, "premium"),
        ("task=math tokens=20000", Some(10), "premium"),
    ];
    for (prompt, max_tokens, model) in table {
        let mut req = auto(prompt);
        req.max_tokens = max_tokens;
        let d = router.decide(&req, &ctx());
        assert_eq!(&*d.model, model, "{prompt} {max_tokens:?}: {}", d.reason);
        assert!(d.reason.starts_with("rule=all task="), "{}", d.reason);
        assert!(
            d.reason.contains(&format!("-> {model} (cheapest of 3")),
            "{}",
            d.reason
        );
    }
}
