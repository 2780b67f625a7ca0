//! The cost of prompt templates on the call path and of the linter (not part of `cargo xtask
//! bench`: run it by hand, in release, and quote the table in docs/templates.md). Prints a
//! Markdown table of the mean and p99 time of rendering the built-in
//! `builtin.answer-with-citations` (three sources) and `builtin.summarise` (a 2 KB text), and
//! of linting each.
//!
//! Run: `cargo run --release -p gateway-policy --example template_cost`

use std::hint::black_box;
use std::time::{Duration, Instant};

use gateway_policy::templates::lint::{LintInput, lint};
use gateway_policy::templates::{RenderLimits, builtin, render};
use serde_json::{Map, Value, json};

const BATCH: u32 = 50;
const BATCHES: usize = 200;

fn measure(mut f: impl FnMut()) -> (Duration, Duration) {
    let mut per_call = Vec::with_capacity(BATCHES);
    for _ in 0..BATCHES {
        let start = Instant::now();
        for _ in 0..BATCH {
            f();
        }
        per_call.push(start.elapsed() / BATCH);
    }
    per_call.sort();
    let mean = per_call.iter().sum::<Duration>() / u32::try_from(per_call.len()).unwrap_or(1);
    (mean, per_call[per_call.len() * 99 / 100])
}

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn main() {
    let cases = [
        (
            "builtin.answer-with-citations",
            object(json!({"question": "Who wrote it?",
                          "sources": ["Ann wrote the report in 2024.", "Bob reviewed it.", "It has 12 pages."]})),
        ),
        (
            "builtin.summarise",
            object(json!({"text": "Rust is a systems programming language. ".repeat(50)})),
        ),
    ];
    println!("| template | render mean | render p99 | lint mean | lint p99 |");
    println!("|---|---|---|---|---|");
    for (id, vars) in &cases {
        let Some(b) = builtin::get(id) else { continue };
        let limits = RenderLimits::default();
        let (rm, rp) = measure(|| {
            black_box(render(black_box(&b.source), black_box(vars), &limits).ok());
        });
        let parts = b.source.parts();
        let input = LintInput {
            parts: parts
                .iter()
                .enumerate()
                .map(|(i, (role, text))| (b.source.part_name(i), *role, *text))
                .collect(),
            variables: b.source.variables.iter().map(|v| v.name.clone()).collect(),
            max_tokens: None,
            response_format: false,
        };
        let (lm, lp) = measure(|| {
            black_box(lint(black_box(&input)));
        });
        println!("| `{id}` | {rm:.1?} | {rp:.1?} | {lm:.1?} | {lp:.1?} |");
    }
}
