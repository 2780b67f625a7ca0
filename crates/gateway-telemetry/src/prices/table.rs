//! The price table shipped with the gateway: USD per million tokens, public list prices of
//! the providers' standard (non-batch, non-priority) tiers as of [`PRICES_AS_OF`]. Where a
//! provider prices long prompts higher (Gemini Pro above 200k tokens), the lower tier is
//! listed. Operators override or extend it under `[telemetry.prices]`.

use super::ModelPrice;

/// The date the shipped prices were checked.
pub const PRICES_AS_OF: &str = "2025-11-01";

const fn p(input: f64, output: f64, cached: Option<f64>, cache_write: Option<f64>) -> ModelPrice {
    ModelPrice {
        input_per_mtok: input,
        output_per_mtok: output,
        cached_input_per_mtok: cached,
        cache_write_per_mtok: cache_write,
    }
}

/// Anthropic: cache reads at 0.1x input, cache writes (5-minute TTL) at 1.25x input.
const fn anthropic(input: f64, output: f64) -> ModelPrice {
    p(input, output, Some(input * 0.1), Some(input * 1.25))
}

/// `(model, price)`; names are the providers' undated model ids (dated snapshots such as
/// `gpt-4o-2024-08-06` or `claude-sonnet-4-5-20250929` resolve to them).
pub const SHIPPED: &[(&str, ModelPrice)] = &[
    // OpenAI
    ("gpt-5", p(1.25, 10.0, Some(0.125), None)),
    ("gpt-5.1", p(1.25, 10.0, Some(0.125), None)),
    ("gpt-5-chat", p(1.25, 10.0, Some(0.125), None)),
    ("gpt-5-mini", p(0.25, 2.0, Some(0.025), None)),
    ("gpt-5-nano", p(0.05, 0.40, Some(0.005), None)),
    ("gpt-5-pro", p(15.0, 120.0, None, None)),
    ("gpt-4.1", p(2.0, 8.0, Some(0.50), None)),
    ("gpt-4.1-mini", p(0.40, 1.60, Some(0.10), None)),
    ("gpt-4.1-nano", p(0.10, 0.40, Some(0.025), None)),
    ("gpt-4o", p(2.50, 10.0, Some(1.25), None)),
    ("chatgpt-4o", p(5.0, 15.0, None, None)),
    ("gpt-4o-mini", p(0.15, 0.60, Some(0.075), None)),
    ("gpt-4-turbo", p(10.0, 30.0, None, None)),
    ("gpt-4", p(30.0, 60.0, None, None)),
    ("gpt-3.5-turbo", p(0.50, 1.50, None, None)),
    ("o1", p(15.0, 60.0, Some(7.50), None)),
    ("o1-pro", p(150.0, 600.0, None, None)),
    ("o1-mini", p(1.10, 4.40, Some(0.55), None)),
    ("o3", p(2.0, 8.0, Some(0.50), None)),
    ("o3-pro", p(20.0, 80.0, None, None)),
    ("o3-mini", p(1.10, 4.40, Some(0.55), None)),
    ("o4-mini", p(1.10, 4.40, Some(0.275), None)),
    ("text-embedding-3-small", p(0.02, 0.0, None, None)),
    ("text-embedding-3-large", p(0.13, 0.0, None, None)),
    ("text-embedding-ada-002", p(0.10, 0.0, None, None)),
    // Anthropic
    ("claude-opus-4-5", anthropic(5.0, 25.0)),
    ("claude-opus-4-1", anthropic(15.0, 75.0)),
    ("claude-opus-4", anthropic(15.0, 75.0)),
    ("claude-sonnet-4-5", anthropic(3.0, 15.0)),
    ("claude-sonnet-4", anthropic(3.0, 15.0)),
    ("claude-haiku-4-5", anthropic(1.0, 5.0)),
    ("claude-3-7-sonnet", anthropic(3.0, 15.0)),
    ("claude-3-5-sonnet", anthropic(3.0, 15.0)),
    ("claude-3-5-haiku", anthropic(0.80, 4.0)),
    ("claude-3-opus", anthropic(15.0, 75.0)),
    ("claude-3-haiku", anthropic(0.25, 1.25)),
    // Google Gemini (prompts up to 200k tokens; output includes thinking tokens)
    ("gemini-3-pro", p(2.0, 12.0, Some(0.20), None)),
    ("gemini-2.5-pro", p(1.25, 10.0, Some(0.125), None)),
    ("gemini-2.5-flash", p(0.30, 2.50, Some(0.03), None)),
    ("gemini-2.5-flash-lite", p(0.10, 0.40, Some(0.01), None)),
    ("gemini-2.0-flash", p(0.10, 0.40, Some(0.025), None)),
    ("gemini-2.0-flash-lite", p(0.075, 0.30, None, None)),
    ("gemini-1.5-pro", p(1.25, 5.0, Some(0.3125), None)),
    ("gemini-1.5-flash", p(0.075, 0.30, Some(0.01875), None)),
    ("gemini-embedding-001", p(0.15, 0.0, None, None)),
    // OpenAI-compatible marketplaces (the `groq`, `together`, ... presets), by their own
    // model ids (vendor prefixes such as `meta-llama/` or `accounts/fireworks/models/` are
    // dropped at lookup). OpenRouter's ids (`openai/gpt-4o`) resolve to the vendors' entries.
    // Groq
    ("llama-3.3-70b-versatile", p(0.59, 0.79, None, None)),
    ("llama-3.1-8b-instant", p(0.05, 0.08, None, None)),
    // Together AI
    ("llama-3.3-70b-instruct-turbo", p(0.88, 0.88, None, None)),
    (
        "meta-llama-3.1-8b-instruct-turbo",
        p(0.18, 0.18, None, None),
    ),
    // Fireworks AI
    ("llama-v3p3-70b-instruct", p(0.90, 0.90, None, None)),
    ("llama-v3p1-8b-instruct", p(0.20, 0.20, None, None)),
    // Mistral AI (`-latest` aliases resolve here)
    ("mistral-large", p(2.0, 6.0, None, None)),
    ("mistral-medium", p(0.40, 2.0, None, None)),
    ("mistral-small", p(0.10, 0.30, None, None)),
    ("codestral", p(0.30, 0.90, None, None)),
    // DeepSeek (cache hits at the cached price)
    ("deepseek-chat", p(0.28, 0.42, Some(0.028), None)),
    ("deepseek-reasoner", p(0.28, 0.42, Some(0.028), None)),
    // AWS Bedrock (on-demand, us-east-1) by the model part of Bedrock's ids
    // (`meta.llama3-1-70b-instruct-v1:0`); Anthropic models on Bedrock cost as Anthropic's own.
    ("llama3-3-70b-instruct", p(0.72, 0.72, None, None)),
    ("llama3-1-70b-instruct", p(0.72, 0.72, None, None)),
    ("llama3-1-8b-instruct", p(0.22, 0.22, None, None)),
    ("mistral-large-2402", p(4.0, 12.0, None, None)),
    ("mistral-large-2407", p(2.0, 6.0, None, None)),
    ("mistral-7b-instruct", p(0.15, 0.20, None, None)),
    ("mixtral-8x7b-instruct", p(0.45, 0.70, None, None)),
    ("titan-text-premier", p(0.50, 1.50, None, None)),
    ("titan-text-express", p(0.20, 0.60, None, None)),
    ("titan-text-lite", p(0.15, 0.20, None, None)),
    ("nova-pro", p(0.80, 3.20, None, None)),
    ("nova-lite", p(0.06, 0.24, None, None)),
    ("nova-micro", p(0.035, 0.14, None, None)),
];
