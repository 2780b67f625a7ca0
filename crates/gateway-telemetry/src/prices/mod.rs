//! The model price table: what a call cost, from its token counts.
//!
//! [`PriceTable`] implements `gateway_core`'s [`CostModel`]. It holds the table shipped with
//! the gateway ([`table::SHIPPED`], as of [`PRICES_AS_OF`]) with the operator's
//! `[telemetry.prices]` entries on top. Lookup is by upstream model name: first
//! `provider/model` (for operator entries naming a deployment), then the model as sent, then
//! with vendor prefixes (`openai/`, `models/`) and snapshot suffixes (`-2024-08-06`,
//! `-20250929`, `@20240620`, `-001`, `-latest`, `-preview-05-20`) removed step by step;
//! Bedrock ids (`us.anthropic.claude-…-v1:0`) lose their region, vendor and version parts. A
//! model not found has an unknown cost (`None`), never zero.

mod table;

use std::collections::HashMap;

use gateway_core::Usage;
use gateway_core::phases::account::CostModel;
use serde::Deserialize;

pub use table::{PRICES_AS_OF, SHIPPED};

/// USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelPrice {
    pub input_per_mtok: f64,
    pub output_per_mtok: f64,
    /// Prompt tokens served from the provider's prompt cache; default: the input price.
    #[serde(default)]
    pub cached_input_per_mtok: Option<f64>,
    /// Prompt tokens written to the provider's prompt cache; default: the input price.
    #[serde(default)]
    pub cache_write_per_mtok: Option<f64>,
}

impl ModelPrice {
    /// Cost in USD of `usage`. Prompt tokens include cached and cache-write tokens (as every
    /// adapter normalises them); completion tokens include reasoning tokens.
    pub fn cost_usd(&self, usage: &Usage) -> f64 {
        let prompt = usage.prompt_tokens;
        let cached = usage.cached_tokens().min(prompt);
        let written = usage
            .prompt_tokens_details
            .as_ref()
            .and_then(|d| d.cache_write_tokens)
            .unwrap_or(0)
            .min(prompt - cached);
        let uncached = prompt - cached - written;
        let micro = uncached as f64 * self.input_per_mtok
            + cached as f64 * self.cached_input_per_mtok.unwrap_or(self.input_per_mtok)
            + written as f64 * self.cache_write_per_mtok.unwrap_or(self.input_per_mtok)
            + usage.completion_tokens as f64 * self.output_per_mtok;
        micro / 1_000_000.0
    }

    /// Every number with its config key, for validation.
    pub fn fields(&self) -> Vec<(&'static str, f64)> {
        let mut out = vec![
            ("input_per_mtok", self.input_per_mtok),
            ("output_per_mtok", self.output_per_mtok),
        ];
        if let Some(v) = self.cached_input_per_mtok {
            out.push(("cached_input_per_mtok", v));
        }
        if let Some(v) = self.cache_write_per_mtok {
            out.push(("cache_write_per_mtok", v));
        }
        out
    }
}

/// Prices by model name, looked up on every call; the names come from the shipped table and
/// the configuration, so foldhash rather than SipHash.
type Prices = HashMap<String, ModelPrice, foldhash::fast::RandomState>;

/// The shipped prices with operator overrides on top.
#[derive(Debug, Clone)]
pub struct PriceTable {
    prices: Prices,
    /// Whether any entry is provider-qualified (`provider/model`); when none is, a lookup
    /// skips building that key (this runs for every call).
    qualified: bool,
}

impl Default for PriceTable {
    fn default() -> Self {
        PriceTable::shipped()
    }
}

impl PriceTable {
    /// The table shipped with the gateway.
    pub fn shipped() -> Self {
        let prices: Prices = SHIPPED
            .iter()
            .map(|(name, price)| ((*name).to_owned(), *price))
            .collect();
        let qualified = prices.keys().any(|name| name.contains('/'));
        PriceTable { prices, qualified }
    }

    /// The shipped table with `overrides` (model or `provider/model` -> price) on top.
    pub fn with_overrides<'a>(
        overrides: impl IntoIterator<Item = (&'a String, &'a ModelPrice)>,
    ) -> Self {
        let mut table = PriceTable::shipped();
        for (name, price) in overrides {
            table.qualified |= name.contains('/');
            table.prices.insert(name.to_ascii_lowercase(), *price);
        }
        table
    }

    pub fn len(&self) -> usize {
        self.prices.len()
    }

    pub fn is_empty(&self) -> bool {
        self.prices.is_empty()
    }

    /// The price of `model` served by `provider`, when known.
    pub fn lookup(&self, provider: &str, model: &str) -> Option<&ModelPrice> {
        let model = model.trim();
        let model: std::borrow::Cow<'_, str> = if model.bytes().any(|b| b.is_ascii_uppercase()) {
            model.to_ascii_lowercase().into()
        } else {
            model.into()
        };
        if self.qualified {
            let qualified = format!("{}/{model}", provider.to_ascii_lowercase());
            if let Some(price) = self.prices.get(&qualified) {
                return Some(price);
            }
        }
        let mut name: &str = &model;
        if let Some(price) = self.prices.get(name) {
            return Some(price);
        }
        if let Some((_, last)) = name.rsplit_once('/') {
            name = last;
        }
        if let Some((base, _)) = name.split_once('@') {
            name = base;
        }
        name = bedrock_name(name);
        loop {
            if let Some(price) = self.prices.get(name) {
                return Some(price);
            }
            name = strip_snapshot_suffix(name)?;
        }
    }
}

impl CostModel for PriceTable {
    fn cost_usd(&self, provider: &str, upstream_model: &str, usage: &Usage) -> Option<f64> {
        self.lookup(provider, upstream_model)
            .map(|p| p.cost_usd(usage))
    }
}

/// Vendors whose models Bedrock names `VENDOR.MODEL-vN:M`.
const BEDROCK_VENDORS: [&str; 10] = [
    "anthropic",
    "meta",
    "mistral",
    "amazon",
    "cohere",
    "ai21",
    "deepseek",
    "writer",
    "qwen",
    "openai",
];

/// A Bedrock model id or inference profile (`us.anthropic.claude-3-5-sonnet-20240620-v1:0`)
/// as the model's own name (`claude-3-5-sonnet-20240620`); any other name unchanged.
fn bedrock_name(name: &str) -> &str {
    let mut rest = name;
    if let Some((geo, after)) = rest.split_once('.')
        && matches!(
            geo,
            "us" | "eu" | "apac" | "global" | "us-gov" | "jp" | "au" | "ca"
        )
    {
        rest = after;
    }
    let Some((vendor, model)) = rest.split_once('.') else {
        return name;
    };
    if !BEDROCK_VENDORS.contains(&vendor) {
        return name;
    }
    let model = model.split_once(':').map_or(model, |(m, _)| m);
    match model.rsplit_once("-v") {
        Some((base, version))
            if !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit()) =>
        {
            base
        }
        _ => model,
    }
}

fn all_digits(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_digit())
}

/// `name` without one trailing snapshot marker, or `None` when it has none.
fn strip_snapshot_suffix(name: &str) -> Option<&str> {
    let (head, last) = name.rsplit_once('-')?;
    // -YYYY-MM-DD (OpenAI) or -MM-DD (Gemini previews): drop the date as a whole.
    if all_digits(last, 2)
        && let Some((head2, mid)) = head.rsplit_once('-')
        && all_digits(mid, 2)
    {
        return Some(match head2.rsplit_once('-') {
            Some((head3, year)) if all_digits(year, 4) => head3,
            _ => head2,
        });
    }
    // -YYYYMMDD (Anthropic), -NNNN (OpenAI's -0613), -NNN (Gemini's -001), tags.
    let dated = all_digits(last, 8) || all_digits(last, 4) || all_digits(last, 3);
    let tag = matches!(last, "latest" | "preview" | "exp" | "experimental");
    (dated || tag).then_some(head)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gateway_core::types::PromptTokensDetails;

    fn price(table: &PriceTable, model: &str) -> Option<f64> {
        table.lookup("openai", model).map(|p| p.input_per_mtok)
    }

    #[test]
    fn snapshot_and_prefix_normalisation() {
        let t = PriceTable::shipped();
        assert_eq!(price(&t, "gpt-4o-2024-08-06"), Some(2.50));
        assert_eq!(price(&t, "gpt-4o-mini-2024-07-18"), Some(0.15));
        assert_eq!(price(&t, "openai/gpt-4o"), Some(2.50));
        assert_eq!(price(&t, "GPT-4o"), Some(2.50));
        assert_eq!(price(&t, "claude-sonnet-4-5-20250929"), Some(3.0));
        assert_eq!(price(&t, "claude-3-5-sonnet@20240620"), Some(3.0));
        assert_eq!(price(&t, "claude-3-5-haiku-latest"), Some(0.80));
        assert_eq!(price(&t, "models/gemini-2.5-pro"), Some(1.25));
        assert_eq!(price(&t, "gemini-2.5-flash-preview-05-20"), Some(0.30));
        assert_eq!(price(&t, "gemini-2.0-flash-001"), Some(0.10));
        assert_eq!(price(&t, "gpt-4-0613"), Some(30.0));
        // Never a guess by prefix: an unknown variant has no price.
        assert_eq!(price(&t, "gpt-4o-audio-preview"), None);
        assert_eq!(price(&t, "my-finetune"), None);
        assert_eq!(price(&t, ""), None);
    }

    #[test]
    fn cost_counts_cached_and_cache_write_tokens_at_their_prices() {
        let t = PriceTable::shipped();
        let mut u = Usage::new(1_000_000, 100_000);
        u.prompt_tokens_details = Some(PromptTokensDetails {
            cached_tokens: Some(400_000),
            cache_write_tokens: Some(100_000),
            ..PromptTokensDetails::default()
        });
        // claude-sonnet-4-5: 0.5M at 3.00 + 0.4M at 0.30 + 0.1M at 3.75 + 0.1M out at 15.00
        let cost = t.cost_usd("anthropic", "claude-sonnet-4-5", &u).unwrap();
        assert!((cost - (1.5 + 0.12 + 0.375 + 1.5)).abs() < 1e-9, "{cost}");
        // gpt-4o-mini: 1000 in, 500 out
        let cost = t
            .cost_usd("openai", "gpt-4o-mini", &Usage::new(1000, 500))
            .unwrap();
        assert!((cost - (1000.0 * 0.15 + 500.0 * 0.60) / 1e6).abs() < 1e-15);
        assert_eq!(
            t.cost_usd("openai", "unknown-model", &Usage::new(1, 1)),
            None
        );
    }

    #[test]
    fn overrides_win_and_may_name_a_deployment() {
        let custom = ModelPrice {
            input_per_mtok: 1.0,
            output_per_mtok: 2.0,
            cached_input_per_mtok: None,
            cache_write_per_mtok: None,
        };
        let overrides = [
            ("GPT-4o".to_owned(), custom),
            ("azure/prod-chat".to_owned(), custom),
        ];
        let t = PriceTable::with_overrides(overrides.iter().map(|(k, v)| (k, v)));
        assert_eq!(price(&t, "gpt-4o-2024-11-20"), Some(1.0));
        assert_eq!(
            t.lookup("azure", "prod-chat").map(|p| p.output_per_mtok),
            Some(2.0)
        );
        assert_eq!(t.lookup("other", "prod-chat"), None);
    }

    #[test]
    fn marketplace_model_ids_resolve_with_their_vendor_prefixes() {
        let table = PriceTable::shipped();
        let at =
            |provider: &str, model: &str| table.lookup(provider, model).map(|p| p.input_per_mtok);
        assert_eq!(at("groq", "llama-3.3-70b-versatile"), Some(0.59));
        assert_eq!(
            at("together", "meta-llama/Llama-3.3-70B-Instruct-Turbo"),
            Some(0.88)
        );
        assert_eq!(
            at(
                "fireworks",
                "accounts/fireworks/models/llama-v3p3-70b-instruct"
            ),
            Some(0.90)
        );
        assert_eq!(at("mistral", "mistral-large-latest"), Some(2.0));
        assert_eq!(at("deepseek", "deepseek-chat"), Some(0.28));
        assert_eq!(at("openrouter", "openai/gpt-4o-mini"), Some(0.15));
        assert_eq!(
            at("ollama", "llama3.2:3b"),
            None,
            "local models have no list price"
        );
        // Bedrock ids and cross-region inference profiles.
        assert_eq!(
            at("aws", "anthropic.claude-3-5-sonnet-20240620-v1:0"),
            Some(3.0)
        );
        assert_eq!(
            at("aws", "us.anthropic.claude-sonnet-4-20250514-v1:0"),
            Some(3.0)
        );
        assert_eq!(at("aws", "meta.llama3-1-70b-instruct-v1:0"), Some(0.72));
        assert_eq!(at("aws", "mistral.mistral-large-2402-v1:0"), Some(4.0));
        assert_eq!(at("aws", "amazon.titan-text-express-v1"), Some(0.20));
        assert_eq!(at("aws", "amazon.unknown-model-v1"), None);
        assert_eq!(
            at("openai", "gpt-3.5-turbo"),
            Some(0.50),
            "dots elsewhere are not Bedrock's"
        );
    }

    #[test]
    fn every_shipped_price_is_sane_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for (name, price) in SHIPPED {
            assert!(seen.insert(*name), "{name} listed twice");
            assert_eq!(*name, name.to_ascii_lowercase());
            for (field, v) in price.fields() {
                assert!(v.is_finite() && v >= 0.0, "{name}.{field}");
            }
        }
    }
}
