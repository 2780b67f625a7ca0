//! Accuracy of the local prompt classifier on the labelled prompts in `tests/data`:
//! `prompts_tune.jsonl` (the cues were tuned on it) and `prompts_heldout.jsonl` (written with
//! it, never used for tuning). Per task, precision and recall on each split must be at least
//! the figures published in docs/routing.md (the test reads them from there, so the published
//! table and the floors cannot drift apart). Run with `--nocapture` to see the measured table.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers

use std::collections::BTreeMap;

use gateway_core::features::{PromptClassifier, TaskType};
use gateway_core::types::{ChatRequest, Message, Role};
use gateway_policy::LocalClassifier;

struct Labelled {
    task: TaskType,
    lang: String,
    prompt: String,
}

fn load(name: &str) -> Vec<Labelled> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            Labelled {
                task: TaskType::from_name(v["task"].as_str().unwrap()).unwrap(),
                lang: v["lang"].as_str().unwrap().to_owned(),
                prompt: v["prompt"].as_str().unwrap().to_owned(),
            }
        })
        .collect()
}

/// Per task: (precision, recall), and the language accuracy, of the classifier on `set`.
/// `show` prints the misses (only ever set for the tuning split).
fn measure(set: &[Labelled], show: bool) -> (BTreeMap<TaskType, (f64, f64)>, f64) {
    let classifier = LocalClassifier::new().unwrap();
    let mut tp = BTreeMap::<TaskType, u32>::new();
    let mut predicted = BTreeMap::<TaskType, u32>::new();
    let mut actual = BTreeMap::<TaskType, u32>::new();
    let mut lang_ok = 0;
    for item in set {
        let req = ChatRequest {
            model: "auto".into(),
            messages: vec![Message::text(Role::User, item.prompt.as_str())],
            ..ChatRequest::default()
        };
        let f = classifier.classify(&req);
        *predicted.entry(f.task).or_default() += 1;
        *actual.entry(item.task).or_default() += 1;
        if f.task == item.task {
            *tp.entry(f.task).or_default() += 1;
        } else if show {
            println!("want {} got {}: {}", item.task, f.task, item.prompt);
        }
        if f.language == Some(item.lang.as_str()) {
            lang_ok += 1;
        } else if show {
            println!(
                "language {} got {:?}: {}",
                item.lang, f.language, item.prompt
            );
        }
    }
    let ratio = |a: u32, b: u32| {
        if b == 0 {
            0.0
        } else {
            f64::from(a) / f64::from(b)
        }
    };
    let per_task = TaskType::ALL
        .into_iter()
        .map(|t| {
            let hit = tp.get(&t).copied().unwrap_or(0);
            let p = ratio(hit, predicted.get(&t).copied().unwrap_or(0));
            let r = ratio(hit, actual.get(&t).copied().unwrap_or(0));
            (t, (p, r))
        })
        .collect();
    (per_task, ratio(lang_ok, set.len() as u32))
}

/// The published table of docs/routing.md: per split ("held-out", "tuning") and task,
/// (precision, recall); and per split the language accuracy (row "language").
fn published() -> BTreeMap<(String, String), (f64, f64)> {
    let path = format!("{}/../../docs/routing.md", env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(path).unwrap();
    let start = doc.find("<!-- classifier-figures -->").unwrap();
    let end = doc.find("<!-- /classifier-figures -->").unwrap();
    let mut rows = BTreeMap::new();
    for line in doc[start..end].lines().filter(|l| l.starts_with("| ")) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        let (Ok(p), Ok(r)) = (cells[2].parse::<f64>(), cells[3].parse::<f64>()) else {
            continue; // the header
        };
        rows.insert((cells[0].to_owned(), cells[1].to_owned()), (p, r));
    }
    rows
}

#[test]
fn every_task_is_in_both_splits_and_the_set_is_large_enough() {
    let (tune, held) = (load("prompts_tune.jsonl"), load("prompts_heldout.jsonl"));
    assert!(tune.len() + held.len() >= 300);
    for t in TaskType::ALL {
        assert!(held.iter().filter(|i| i.task == t).count() >= 10, "{t}");
        assert!(tune.iter().filter(|i| i.task == t).count() >= 20, "{t}");
    }
    // Several languages in each split, not English only.
    for set in [&tune, &held] {
        let mut langs: Vec<&str> = set.iter().map(|i| i.lang.as_str()).collect();
        langs.sort_unstable();
        langs.dedup();
        assert!(langs.len() >= 5, "{langs:?}");
    }
}

#[test]
fn precision_and_recall_meet_the_published_figures() {
    let floors = published();
    // Figures print rounded down, as published: a floor never exceeds what was measured.
    let down = |x: f64| (x * 100.0 + 1e-9).floor() / 100.0;
    let mut measured = Vec::new();
    for (split, file) in [
        ("tuning", "prompts_tune.jsonl"),
        ("held-out", "prompts_heldout.jsonl"),
    ] {
        // Misses are shown for the tuning split only: the held-out one is never looked into.
        let show = split == "tuning" && std::env::var_os("CLASSIFIER_EVAL_SHOW").is_some();
        let (per_task, lang) = measure(&load(file), show);
        println!(
            "| {split} | language | {:.2} | {:.2} |",
            down(lang),
            down(lang)
        );
        for (t, (p, r)) in &per_task {
            println!("| {split} | {t} | {:.2} | {:.2} |", down(*p), down(*r));
        }
        measured.push((split, per_task, lang));
    }
    assert_eq!(floors.len(), 2 * (TaskType::ALL.len() + 1), "{floors:?}");
    for (split, per_task, lang) in measured {
        for (t, (p, r)) in per_task {
            let (fp, fr) = floors[&(split.to_owned(), t.as_str().to_owned())];
            assert!(p + 1e-9 >= fp, "{split} {t}: precision {p:.3} < {fp}");
            assert!(r + 1e-9 >= fr, "{split} {t}: recall {r:.3} < {fr}");
        }
        let (fl, _) = floors[&(split.to_owned(), "language".to_owned())];
        assert!(
            lang + 1e-9 >= fl,
            "{split} language accuracy {lang:.3} < {fl}"
        );
    }
}
