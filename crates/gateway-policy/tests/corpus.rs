//! Precision and recall of the injection detector over the labelled corpus
//! `corpus/injection.jsonl`. Run with output to see the figures:
//!
//! ```text
//! cargo test -p gateway-policy --test corpus -- --nocapture
//! ```
//!
//! The test fails when precision or recall at the default threshold drops below the floors
//! of [`SETS`] (documented in `docs/guardrails.md`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers

use std::collections::BTreeMap;

use gateway_core::phases::guard::{GuardAction, Guardrail};
use gateway_core::types::{ChatRequest, Message, Role};
use gateway_core::{Endpoint, Principal, RequestContext};
use gateway_policy::guardrails::config::GuardrailConfig;
use gateway_policy::guardrails::injection::DEFAULT_THRESHOLD;
use gateway_policy::{InjectionDetector, PolicyGuardrail};
use serde_json::Value;

struct Example {
    text: String,
    malicious: bool,
    family: String,
}

fn corpus() -> Vec<Example> {
    load("injection.jsonl")
}

fn load(name: &str) -> Vec<Example> {
    let path = format!("{}/corpus/{name}", env!("CARGO_MANIFEST_DIR"));
    let raw = std::fs::read_to_string(path).unwrap();
    raw.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let v: Value = serde_json::from_str(line).unwrap();
            let label = v["label"].as_str().unwrap();
            assert!(
                label == "malicious" || label == "benign",
                "bad label in {line}"
            );
            Example {
                text: v["text"].as_str().unwrap().to_owned(),
                malicious: label == "malicious",
                family: v["family"].as_str().unwrap().to_owned(),
            }
        })
        .collect()
}

#[derive(Default, Clone, Copy)]
struct Counts {
    tp: usize,
    fp: usize,
    tn: usize,
    fn_: usize,
}

impl Counts {
    fn add(&mut self, malicious: bool, flagged: bool) {
        match (malicious, flagged) {
            (true, true) => self.tp += 1,
            (true, false) => self.fn_ += 1,
            (false, true) => self.fp += 1,
            (false, false) => self.tn += 1,
        }
    }
    fn precision(&self) -> f64 {
        self.tp as f64 / (self.tp + self.fp).max(1) as f64
    }
    fn recall(&self) -> f64 {
        self.tp as f64 / (self.tp + self.fn_).max(1) as f64
    }
}

#[test]
fn corpus_is_large_balanced_and_diverse() {
    let c = corpus();
    let malicious = c.iter().filter(|e| e.malicious).count();
    let benign = c.len() - malicious;
    assert!(c.len() >= 150, "corpus has {} lines", c.len());
    assert!(
        malicious * 10 >= c.len() * 4 && benign * 10 >= c.len() * 4,
        "{malicious} malicious / {benign} benign"
    );
    let families: std::collections::BTreeSet<&str> = c.iter().map(|e| e.family.as_str()).collect();
    assert!(families.len() >= 10, "{families:?}");
}

/// Every labelled set with the floors its precision and recall must keep at the default
/// threshold. The sets and the history behind their floors are described in
/// `docs/guardrails.md`; in short:
///
/// - `injection.jsonl`: the main corpus, written before the detector (in-sample: the rules
///   were designed against it);
/// - `injection_holdout.jsonl`, `injection_holdout2.jsonl`: written later, each measured once
///   (recall 0.457 and 0.400) and then used to broaden the rules, so now in-sample too;
/// - `injection_holdout3.jsonl`: written after the last revision and never used for tuning:
///   the honest out-of-sample estimate (precision 0.900, recall 0.600 when first measured).
///   Its floors guard against regressions only.
const SETS: &[(&str, f64, f64)] = &[
    ("injection.jsonl", 0.95, 0.90),
    ("injection_holdout.jsonl", 0.95, 0.90),
    ("injection_holdout2.jsonl", 0.95, 0.90),
    ("injection_holdout3.jsonl", 0.85, 0.55),
];

#[test]
fn injection_precision_and_recall_meet_the_floors() {
    let mut failures = Vec::new();
    for (name, min_p, min_r) in SETS {
        let (p, r) = measure(name);
        if p < *min_p || r < *min_r {
            failures.push(format!(
                "{name}: precision {p:.3} (floor {min_p}), recall {r:.3} (floor {min_r})"
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

fn measure(name: &str) -> (f64, f64) {
    let detector = InjectionDetector::new().unwrap();
    let examples = load(name);
    let scores: Vec<f32> = examples
        .iter()
        .map(|e| detector.score(&e.text).score)
        .collect();

    let mut total = Counts::default();
    let mut by_family: BTreeMap<&str, Counts> = BTreeMap::new();
    for (e, s) in examples.iter().zip(&scores) {
        let flagged = *s >= DEFAULT_THRESHOLD;
        total.add(e.malicious, flagged);
        by_family
            .entry(&e.family)
            .or_default()
            .add(e.malicious, flagged);
        if e.malicious != flagged {
            let kind = if flagged {
                "false positive"
            } else {
                "false negative"
            };
            println!("{kind} ({:.2}, {}): {:?}", s, e.family, e.text);
        }
    }
    println!("\nthreshold sweep:");
    for t in [0.3f32, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8] {
        let mut c = Counts::default();
        for (e, s) in examples.iter().zip(&scores) {
            c.add(e.malicious, *s >= t);
        }
        println!(
            "  threshold {t:.2}: precision {:.3} recall {:.3} (fp {}, fn {})",
            c.precision(),
            c.recall(),
            c.fp,
            c.fn_
        );
    }
    println!("\nper family at {DEFAULT_THRESHOLD}:");
    for (family, c) in &by_family {
        println!(
            "  {family:<22} flagged {:>3} of {:>3}",
            c.tp + c.fp,
            c.tp + c.fp + c.tn + c.fn_
        );
    }
    let (p, r) = (total.precision(), total.recall());
    println!(
        "\n{name}: {} examples, threshold {DEFAULT_THRESHOLD}: precision {p:.3}, recall {r:.3} (tp {}, fp {}, tn {}, fn {})\n",
        examples.len(),
        total.tp,
        total.fp,
        total.tn,
        total.fn_
    );
    (p, r)
}

/// Requests are also checked with their texts joined (a payload split across messages is
/// seen whole). That must not make benign conversations look malicious: every run of four
/// consecutive benign prompts of each set is sent as one request of four user messages, and
/// at most 2% of the runs in which no prompt is blocked on its own may be blocked joined.
#[test]
fn benign_prompts_joined_into_conversations_stay_benign() {
    let guardrail = PolicyGuardrail::from_config(&GuardrailConfig::default()).unwrap();
    let ctx = RequestContext::new("corpus", Principal::anonymous(), Endpoint::ChatCompletions);
    let blocked = |texts: &[String]| {
        let mut req = ChatRequest {
            model: "m".into(),
            messages: texts
                .iter()
                .map(|t| Message::text(Role::User, t.as_str()))
                .collect(),
            ..ChatRequest::default()
        };
        guardrail.check_request(&mut req, &ctx).action == GuardAction::Block
    };
    let (mut runs, mut flagged) = (0usize, 0usize);
    for (name, _, _) in SETS {
        let benign: Vec<String> = load(name)
            .into_iter()
            .filter(|e| !e.malicious)
            .map(|e| e.text)
            .collect();
        for window in benign.windows(4) {
            if window.iter().any(|t| blocked(std::slice::from_ref(t))) {
                continue;
            }
            runs += 1;
            if blocked(window) {
                println!("benign run blocked when joined: {window:?}");
                flagged += 1;
            }
        }
    }
    let rate = flagged as f64 / runs.max(1) as f64;
    println!("benign runs of four: {flagged} of {runs} blocked joined ({rate:.3})");
    assert!(runs >= 100, "{runs} runs");
    assert!(
        rate <= 0.02,
        "{flagged} of {runs} benign runs blocked joined"
    );
}
