//! Prompt token counts for reservations: a real tokenizer where the model family has one
//! (tiktoken's o200k / cl100k for OpenAI-family upstream models), about four bytes a token
//! otherwise. Counting is bounded: the first [`EXACT_BYTES`] of text are tokenized and the
//! rest is extrapolated at the measured ratio, so a 4 MiB prompt costs no more than a 64 KiB one.

use gateway_core::ChatRequest;
use tiktoken_rs::CoreBPE;
use tiktoken_rs::tokenizer::{Tokenizer, get_tokenizer};

/// Text tokenized exactly per call; beyond it, tokens are extrapolated.
pub const EXACT_BYTES: usize = 64 * 1024;
/// OpenAI's chat framing: tokens per message, and the reply priming once per call.
const PER_MESSAGE: u64 = 3;
const REPLY_PRIMING: u64 = 3;

/// How tokens of a model family are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    O200k,
    Cl100k,
    /// No tokenizer known: about four bytes a token.
    Bytes,
}

impl Family {
    /// The family of an upstream model name (`gpt-4o-mini`, `o3`, `gpt-4`, `claude-...`).
    pub fn of(model: &str) -> Family {
        match get_tokenizer(model) {
            Some(Tokenizer::O200kBase | Tokenizer::O200kHarmony) => Family::O200k,
            Some(Tokenizer::Cl100kBase) => Family::Cl100k,
            _ => Family::Bytes,
        }
    }

    fn bpe(self) -> Option<&'static CoreBPE> {
        match self {
            Family::O200k => Some(tiktoken_rs::o200k_base_singleton()),
            Family::Cl100k => Some(tiktoken_rs::cl100k_base_singleton()),
            Family::Bytes => None,
        }
    }

    /// Load the tables now (about a quarter second each), not on the first call.
    pub fn warm_up(self) {
        let _ = self.bpe();
    }
}

/// Counts tokens of many texts within one byte budget.
struct Counter {
    bpe: Option<&'static CoreBPE>,
    budget: usize,
    exact_bytes: u64,
    exact_tokens: u64,
    rest_bytes: u64,
}

impl Counter {
    fn new(family: Family) -> Self {
        Counter {
            bpe: family.bpe(),
            budget: EXACT_BYTES,
            exact_bytes: 0,
            exact_tokens: 0,
            rest_bytes: 0,
        }
    }

    fn add(&mut self, text: &str) {
        let Some(bpe) = self.bpe else {
            self.rest_bytes += text.len() as u64;
            return;
        };
        let cut = text.floor_char_boundary(self.budget.min(text.len()));
        let (head, tail) = text.split_at(cut);
        if !head.is_empty() {
            self.exact_tokens += bpe.encode_ordinary(head).len() as u64;
            self.exact_bytes += head.len() as u64;
            self.budget -= head.len();
        }
        self.rest_bytes += tail.len() as u64;
    }

    fn total(&self) -> u64 {
        let rest = if self.rest_bytes == 0 {
            0
        } else if self.exact_bytes > 0 {
            // Extrapolate at the measured ratio, rounded up.
            (self.rest_bytes * self.exact_tokens).div_ceil(self.exact_bytes)
        } else {
            self.rest_bytes.div_ceil(4)
        };
        self.exact_tokens + rest
    }
}

/// Prompt tokens of `req` for `family`: message texts, names, tool calls and tool
/// definitions, plus OpenAI's per-message framing.
pub fn prompt_tokens(req: &ChatRequest, family: Family) -> u64 {
    let mut c = Counter::new(family);
    for m in &req.messages {
        if let Some(content) = &m.content {
            for text in content.texts() {
                c.add(text);
            }
        }
        if let Some(name) = &m.name {
            c.add(name);
        }
        if let Some(calls) = &m.tool_calls {
            for call in calls {
                c.add(&call.function.name);
                c.add(&call.function.arguments);
            }
        }
    }
    if let Some(tools) = &req.tools
        && let Ok(json) = serde_json::to_string(tools)
    {
        c.add(&json);
    }
    c.total() + PER_MESSAGE * req.messages.len() as u64 + REPLY_PRIMING
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat(text: &str) -> ChatRequest {
        serde_json::from_value(serde_json::json!({
            "model": "gpt-4o",
            "messages": [{"role": "user", "content": text}]
        }))
        .unwrap()
    }

    #[test]
    fn families_follow_the_upstream_model() {
        assert_eq!(Family::of("gpt-4o-mini"), Family::O200k);
        assert_eq!(Family::of("o3"), Family::O200k);
        assert_eq!(Family::of("gpt-4"), Family::Cl100k);
        assert_eq!(Family::of("claude-sonnet-4-5"), Family::Bytes);
    }

    #[test]
    fn counts_with_the_tokenizer_and_framing() {
        // "Hello world" is two o200k tokens; one message adds 3, the reply priming 3.
        assert_eq!(
            prompt_tokens(&chat("Hello world"), Family::O200k),
            2 + 3 + 3
        );
        assert_eq!(prompt_tokens(&chat("abcdefgh"), Family::Bytes), 2 + 3 + 3);
    }

    #[test]
    fn long_prompts_are_extrapolated_not_tokenized_whole() {
        let text = "lorem ipsum dolor sit amet ".repeat(20_000);
        let n = prompt_tokens(&chat(&text), Family::O200k);
        let exact = tiktoken_rs::o200k_base_singleton()
            .encode_ordinary(&text)
            .len() as u64;
        let error = n.abs_diff(exact + 6) as f64 / exact as f64;
        assert!(error < 0.01, "{n} vs {exact}");
    }
}
