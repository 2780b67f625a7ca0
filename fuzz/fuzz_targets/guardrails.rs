//! Text through the guardrails' normaliser (both folds) and the secure-default detectors,
//! encoded-payload decoders included, in both directions.
#![no_main]

use std::sync::OnceLock;

use gateway_policy::guardrails::normalize::{Fold, Normalized, normalize_into};
use gateway_policy::{Direction, Guardrails};
use libfuzzer_sys::fuzz_target;

fn guardrails() -> Option<&'static Guardrails> {
    static GUARDRAILS: OnceLock<Option<Guardrails>> = OnceLock::new();
    GUARDRAILS
        .get_or_init(|| Guardrails::secure_default().ok())
        .as_ref()
}

fuzz_target!(|text: &str| {
    let _ = gateway_policy::normalize(text);
    for fold in [Fold::Words, Fold::Leet] {
        let mut out = Normalized::default();
        normalize_into(text, fold, &mut out);
        for token in out.tokens() {
            let _ = out.token_text(token);
        }
        let _ = out.joined();
    }
    if let Some(guardrails) = guardrails() {
        let _ = guardrails.check(text, Direction::Input);
        let _ = guardrails.check(text, Direction::Output);
    }
});
