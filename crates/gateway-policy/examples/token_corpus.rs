//! The token-estimate corpus tool (docs/limits.md, "Token estimate").
//!
//! `token_corpus count TEXTS OUT`: reads JSON lines `{"kind", "text"}` (made by
//! `corpus/make_token_corpus.py`) and writes them with their real token counts, `o200k` and
//! `cl100k` (tiktoken's tables via tiktoken-rs), to OUT.
//! `token_corpus features CORPUS`: prints each sample's shape features and real counts as JSON
//! lines, the input of `corpus/fit_token_estimate.py`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::io::Write;

use gateway_policy::limits::shape::{NAMES, Shape};
use serde_json::{Value, json};

fn lines(path: &str) -> Vec<Value> {
    std::fs::read_to_string(path)
        .expect("read the input")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["count", texts, out] => {
            let o200k = tiktoken_rs::o200k_base_singleton();
            let cl100k = tiktoken_rs::cl100k_base_singleton();
            let mut file = std::fs::File::create(out).expect("create the output");
            for mut row in lines(texts) {
                let text = row["text"].as_str().expect("a text").to_owned();
                row["o200k"] = json!(o200k.encode_ordinary(&text).len());
                row["cl100k"] = json!(cl100k.encode_ordinary(&text).len());
                writeln!(file, "{}", serde_json::to_string(&row).unwrap()).unwrap();
            }
        }
        ["features", corpus] => {
            for row in lines(corpus) {
                let mut shape = Shape::default();
                shape.add(row["text"].as_str().expect("a text"));
                println!(
                    "{}",
                    json!({"kind": row["kind"], "names": NAMES, "features": shape.counts(),
                           "o200k": row["o200k"], "cl100k": row["cl100k"]})
                );
            }
        }
        _ => {
            eprintln!("usage: token_corpus count TEXTS OUT | token_corpus features CORPUS");
            std::process::exit(2);
        }
    }
}
