//! What prompt-type routing adds to one request, for `cargo xtask bench` (it runs this in
//! release and records the table in docs/benchmarks.md): the classifier plus the CEL rules
//! and the choice ([`AutoRouter::decide`]), on the load bench's prompt and on a 1 KiB one,
//! next to routing off (a named model: nothing runs); and the same with the loop
//! (`[prompt_routing.bandit]`, a last rule sending every other call to three candidates):
//! classify + rules + a Thompson draw per candidate, and the bandit's choice alone. Budget:
//! 10 µs per request at the bench's prompt size (docs/routing.md).
//!
//! Run: `cargo run --release -p gateway-app --example route_cost`

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use gateway_core::types::{ChatRequest, Message, Role};
use gateway_core::{Endpoint, Principal, RequestContext};
use gateway_policy::LocalClassifier;
use gateway_providers::auto::{AutoRouter, AutoRoutingConfig};
use gateway_providers::{ModelGroup, ModelRouter};

/// The rules of the worked example in docs/routing.md.
const RULES: &str = r#"
default = "fast"
[[rules]]
name = "long-code"
when = 'task == "code" && tokens > 4000'
to = ["smart"]
[[rules]]
name = "hard"
when = 'difficulty >= 0.7 || task in ["math", "reasoning"]'
to = ["smart", "medium", "fast"]
[candidates.smart]
cost = 10.0
quality = { default = 0.90, math = 0.95 }
[candidates.medium]
cost = 3.0
quality = { default = 0.87, math = 0.80 }
[candidates.fast]
cost = 0.5
quality = { default = 0.60 }
"#;

/// The same rules, a last one that holds for every call, and the bandit choosing.
const BANDIT: &str = r#"
[[rules]]
name = "rest"
when = "true"
to = ["smart", "medium", "fast"]
[bandit]
min_share = 0.05
exploration = 0.05
"#;

/// Mean and 99th percentile of `f` over 400 batches of 50 calls (after 200 warm-up calls).
fn time<R>(mut f: impl FnMut() -> R) -> (Duration, Duration) {
    for _ in 0..200 {
        black_box(f());
    }
    let mut per_call: Vec<Duration> = (0..400)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..50 {
                black_box(f());
            }
            start.elapsed() / 50
        })
        .collect();
    per_call.sort();
    let mean = per_call.iter().sum::<Duration>() / 400;
    (mean, per_call[396])
}

fn us(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e6)
}

fn request(text: &str) -> ChatRequest {
    ChatRequest {
        model: "auto".into(),
        messages: vec![Message::text(Role::User, text)],
        ..ChatRequest::default()
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let names = ["fast", "medium", "smart"];
    let inner = Arc::new(ModelRouter::new(
        names.iter().map(|n| ModelGroup::new(*n, Vec::new())),
    ));
    let config: AutoRoutingConfig = toml::from_str(RULES)?;
    let routing = config
        .compile("prompt_routing", &|m| names.contains(&m))
        .map_err(|p| format!("{p:?}"))?;
    let router = AutoRouter::new(inner.clone(), Arc::new(LocalClassifier::new()?), routing);
    // TOML tables after [[rules]] entries: the bandit's config is appended at the end.
    let with_bandit: AutoRoutingConfig = toml::from_str(&format!("{RULES}{BANDIT}"))?;
    let routing = with_bandit
        .compile("prompt_routing", &|m| names.contains(&m))
        .map_err(|p| format!("{p:?}"))?;
    let bandit = routing.bandit().cloned().ok_or("no bandit")?;
    let looped = AutoRouter::new(inner, Arc::new(LocalClassifier::new()?), routing);
    let ctx = RequestContext::new("bench", Principal::anonymous(), Endpoint::ChatCompletions);
    let bench_prompt = request("Say hello to the benchmark.");
    let kib = request(&format!(
        "Compare these two plans and tell me which is better for a team of six. {}",
        "Plan A moves the monolith to services one module at a time; plan B rewrites it. "
            .repeat(12)
    ));
    println!("| prompt | bytes | routing | mean µs | p99 µs |");
    println!("|---|---|---|---|---|");
    for (name, req) in [("load bench prompt", &bench_prompt), ("1 KiB prompt", &kib)] {
        let bytes: usize = req
            .messages
            .iter()
            .filter_map(|m| m.content.as_ref())
            .flat_map(|c| c.texts())
            .map(str::len)
            .sum();
        // Routing off: a named model passes straight through; nothing is classified.
        let (mean, p99) = time(|| black_box(req).model == "fast");
        println!(
            "| {name} | {bytes} | off (named model) | {} | {} |",
            us(mean),
            us(p99)
        );
        let (mean, p99) = time(|| router.decide(req, &ctx));
        println!(
            "| {name} | {bytes} | `auto`: classify + CEL rules + choice | {} | {} |",
            us(mean),
            us(p99)
        );
        let (mean, p99) = time(|| looped.decide(req, &ctx));
        println!(
            "| {name} | {bytes} | `auto` + bandit: classify + CEL rules + Thompson draw of 3 | {} | {} |",
            us(mean),
            us(p99)
        );
    }
    let rule = bandit.rules().next().ok_or("no bandit rule")?;
    let (mean, p99) = time(|| bandit.choose(rule, gateway_core::features::TaskType::Code, 0));
    println!(
        "| - | - | the bandit's choice alone (3 candidates) | {} | {} |",
        us(mean),
        us(p99)
    );
    Ok(())
}
