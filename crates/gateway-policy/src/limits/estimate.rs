//! Prompt token counts for reservations. For OpenAI-family upstream models (tiktoken's o200k
//! / cl100k) the default is the shape-based estimate of [`super::shape`], which needs no
//! tables; `[limits] token_count = "tokenizer"` counts with the real tokenizer instead (its
//! tables, tens of MiB resident, load on first use). Other families: about four bytes a
//! token. Either way the reservation is reconciled with the upstream's real usage after the
//! call. Counting is bounded: the first [`EXACT_BYTES`] of text are counted and the rest is
//! extrapolated at the measured ratio, so a 4 MiB prompt costs no more than a 64 KiB one.

use gateway_core::ChatRequest;
use tiktoken_rs::CoreBPE;
use tiktoken_rs::tokenizer::{Tokenizer, get_tokenizer};

use super::config::TokenCount;
use super::shape::{CL100K, FEATURES, O200K, Shape};

/// Text counted per call; beyond it, tokens are extrapolated.
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

    /// The real tokenizer (its tables load on the first call, about a quarter second).
    fn bpe(self) -> Option<&'static CoreBPE> {
        match self {
            Family::O200k => Some(tiktoken_rs::o200k_base_singleton()),
            Family::Cl100k => Some(tiktoken_rs::cl100k_base_singleton()),
            Family::Bytes => None,
        }
    }

    /// The estimate's coefficients for this family's tokenizer.
    fn coefficients(self) -> Option<&'static [f64; FEATURES]> {
        match self {
            Family::O200k => Some(&O200K),
            Family::Cl100k => Some(&CL100K),
            Family::Bytes => None,
        }
    }

    /// Load the tokenizer tables now, not on the first call (`token_count = "tokenizer"` only).
    pub fn warm_up(self) {
        let _ = self.bpe();
    }
}

/// How one call's texts are counted.
enum Method {
    Tokenizer(&'static CoreBPE),
    Estimate(&'static [f64; FEATURES], Shape),
    Bytes,
}

/// Counts tokens of many texts within one byte budget.
struct Counter {
    method: Method,
    budget: usize,
    exact_bytes: u64,
    exact_tokens: u64,
    rest_bytes: u64,
}

impl Counter {
    fn new(family: Family, how: TokenCount) -> Self {
        let method = match how {
            TokenCount::Tokenizer => family.bpe().map(Method::Tokenizer),
            TokenCount::Estimate => family
                .coefficients()
                .map(|k| Method::Estimate(k, Shape::default())),
        };
        Counter {
            method: method.unwrap_or(Method::Bytes),
            budget: EXACT_BYTES,
            exact_bytes: 0,
            exact_tokens: 0,
            rest_bytes: 0,
        }
    }

    fn add(&mut self, text: &str) {
        if matches!(self.method, Method::Bytes) {
            self.rest_bytes += text.len() as u64;
            return;
        }
        let cut = text.floor_char_boundary(self.budget.min(text.len()));
        let (head, tail) = text.split_at(cut);
        if !head.is_empty() {
            match &mut self.method {
                Method::Tokenizer(bpe) => {
                    self.exact_tokens += bpe.encode_ordinary(head).len() as u64;
                }
                Method::Estimate(_, shape) => shape.add(head),
                Method::Bytes => {}
            }
            self.exact_bytes += head.len() as u64;
            self.budget -= head.len();
        }
        self.rest_bytes += tail.len() as u64;
    }

    fn total(&self) -> u64 {
        let exact = match &self.method {
            Method::Estimate(k, shape) => shape.tokens(k).round() as u64,
            _ => self.exact_tokens,
        };
        let rest = if self.rest_bytes == 0 {
            0
        } else if self.exact_bytes > 0 {
            // Extrapolate at the measured ratio, rounded up.
            (self.rest_bytes * exact).div_ceil(self.exact_bytes)
        } else {
            self.rest_bytes.div_ceil(4)
        };
        exact + rest
    }
}

/// The estimated tokens of one text for `family` (no framing), as the corpus test measures.
pub fn text_tokens(text: &str, family: Family, how: TokenCount) -> u64 {
    let mut c = Counter::new(family, how);
    c.add(text);
    c.total()
}

/// Prompt tokens of `req` for `family`: message texts, names, tool calls and tool
/// definitions, plus OpenAI's per-message framing.
pub fn prompt_tokens(req: &ChatRequest, family: Family, how: TokenCount) -> u64 {
    let mut c = Counter::new(family, how);
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
        let hello = chat("Hello world");
        assert_eq!(
            prompt_tokens(&hello, Family::O200k, TokenCount::Tokenizer),
            2 + 3 + 3
        );
        for how in [TokenCount::Tokenizer, TokenCount::Estimate] {
            assert_eq!(
                prompt_tokens(&chat("abcdefgh"), Family::Bytes, how),
                2 + 3 + 3
            );
        }
        // The estimate of two common words is about two tokens, framing included.
        let est = prompt_tokens(&hello, Family::O200k, TokenCount::Estimate);
        assert!((7..=10).contains(&est), "{est}");
    }

    #[test]
    fn long_prompts_are_extrapolated_not_tokenized_whole() {
        let unit = "lorem ipsum dolor sit amet ";
        let text = unit.repeat(20_000);
        let n = prompt_tokens(&chat(&text), Family::O200k, TokenCount::Tokenizer);
        let exact = tiktoken_rs::o200k_base_singleton()
            .encode_ordinary(&text)
            .len() as u64;
        let error = n.abs_diff(exact + 6) as f64 / exact as f64;
        assert!(error < 0.01, "{n} vs {exact}");
        // The estimate scans the first 64 KiB and extrapolates the rest at the same ratio.
        let n = prompt_tokens(&chat(&text), Family::O200k, TokenCount::Estimate);
        let mut shape = Shape::default();
        shape.add(&text);
        let whole = shape.tokens(&O200K);
        let error = (n as f64 - 6.0 - whole).abs() / whole;
        assert!(error < 0.01, "{n} vs {whole}");
    }
}
