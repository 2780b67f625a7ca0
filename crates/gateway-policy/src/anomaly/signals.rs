//! The signals an entity is scored on, and what each one needs from the baseline.

use serde::{Deserialize, Serialize};

use super::counters::{EntityKind, Sample};

/// One scored signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    Requests,
    Tokens,
    CostUsd,
    Errors,
    Refusals,
    GuardrailFindings,
    DistinctAddresses,
    AuthFailures,
    DistinctCredentials,
    /// Client networks (/24, /48) the key was never used from.
    NewNetworks,
    /// Models the key never used.
    NewModels,
}

impl Signal {
    pub fn as_str(self) -> &'static str {
        match self {
            Signal::Requests => "requests",
            Signal::Tokens => "tokens",
            Signal::CostUsd => "cost_usd",
            Signal::Errors => "errors",
            Signal::Refusals => "refusals",
            Signal::GuardrailFindings => "guardrail_findings",
            Signal::DistinctAddresses => "distinct_addresses",
            Signal::AuthFailures => "auth_failures",
            Signal::DistinctCredentials => "distinct_credentials",
            Signal::NewNetworks => "new_networks",
            Signal::NewModels => "new_models",
        }
    }

    /// The rate signals (with a seasonal baseline) an entity of `kind` is scored on.
    pub fn rates_of(kind: EntityKind) -> &'static [Signal] {
        const CALLS: &[Signal] = &[
            Signal::Requests,
            Signal::Tokens,
            Signal::CostUsd,
            Signal::Errors,
            Signal::Refusals,
            Signal::GuardrailFindings,
            Signal::DistinctAddresses,
        ];
        const TENANT: &[Signal] = &[
            Signal::Requests,
            Signal::Tokens,
            Signal::CostUsd,
            Signal::Errors,
            Signal::Refusals,
            Signal::GuardrailFindings,
            Signal::DistinctAddresses,
            Signal::AuthFailures,
            Signal::DistinctCredentials,
        ];
        const AUTH: &[Signal] = &[Signal::AuthFailures, Signal::DistinctCredentials];
        match kind {
            EntityKind::Key => CALLS,
            EntityKind::Tenant => TENANT,
            EntityKind::Network | EntityKind::Gateway => AUTH,
        }
    }

    /// This signal's value in one interval's sample.
    pub fn value(self, s: &Sample) -> f64 {
        match self {
            Signal::Requests => s.requests as f64,
            Signal::Tokens => s.tokens as f64,
            Signal::CostUsd => s.cost_usd,
            Signal::Errors => s.errors as f64,
            Signal::Refusals => s.refusals as f64,
            Signal::GuardrailFindings => s.findings as f64,
            Signal::DistinctAddresses => s.distinct_addresses,
            Signal::AuthFailures => s.auth_failures as f64,
            Signal::DistinctCredentials => s.distinct_credentials,
            Signal::NewNetworks | Signal::NewModels => 0.0,
        }
    }

    /// The smallest excess over a window, in events, that can score: a handful of extra
    /// requests at night is not an incident however unusual.
    pub fn min_excess_events(self) -> f64 {
        match self {
            Signal::Requests | Signal::Tokens | Signal::CostUsd => 20.0,
            Signal::DistinctAddresses => 8.0,
            Signal::AuthFailures | Signal::DistinctCredentials => 12.0,
            _ => 10.0,
        }
    }

    /// Whether the signal is a sum of per-request sizes (its variance floor scales with the
    /// entity's usual request size).
    pub fn is_size(self) -> bool {
        matches!(self, Signal::Tokens | Signal::CostUsd)
    }
}
