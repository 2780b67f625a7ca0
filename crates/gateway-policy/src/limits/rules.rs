//! Which limits apply to one call: the principal's tenant and key (stored limits over config
//! defaults, field by field), the model, and the key on the model — flattened into [`Rule`]s,
//! each naming one counter.

use std::time::Duration;

use gateway_core::{LimitKind, Principal};

use super::config::{LimitSet, LimitsConfig};

/// What a limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dimension {
    Rps,
    Rpm,
    Rpd,
    Tpm,
    Tpd,
    Concurrency,
    SpendDaily,
    SpendMonthly,
}

/// How a dimension is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A rate (GCRA / token bucket): `limit` per `period`, burst `limit`. `tokens`: the
    /// amount is the call's tokens, else 1.
    Rate { period: Duration, tokens: bool },
    /// Calls in flight.
    Concurrency,
    /// Micro-USD per calendar window.
    Spend(Window),
}

/// A calendar budget window, in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    Day,
    Month,
}

impl Dimension {
    pub const ALL: [Dimension; 8] = [
        Dimension::Rps,
        Dimension::Rpm,
        Dimension::Rpd,
        Dimension::Tpm,
        Dimension::Tpd,
        Dimension::Concurrency,
        Dimension::SpendDaily,
        Dimension::SpendMonthly,
    ];

    /// The config field name.
    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Rps => "rps",
            Dimension::Rpm => "rpm",
            Dimension::Rpd => "rpd",
            Dimension::Tpm => "tpm",
            Dimension::Tpd => "tpd",
            Dimension::Concurrency => "max_concurrency",
            Dimension::SpendDaily => "budget_usd_daily",
            Dimension::SpendMonthly => "budget_usd_monthly",
        }
    }

    /// For people, as in "the limit on requests per minute".
    pub fn describe(self) -> &'static str {
        match self {
            Dimension::Rps => "requests per second",
            Dimension::Rpm => "requests per minute",
            Dimension::Rpd => "requests per day",
            Dimension::Tpm => "tokens per minute",
            Dimension::Tpd => "tokens per day",
            Dimension::Concurrency => "concurrent requests",
            Dimension::SpendDaily => "daily spend (USD)",
            Dimension::SpendMonthly => "monthly spend (USD)",
        }
    }

    /// The kind of limit a refusal on this dimension reports (metrics and audit).
    pub fn limit_kind(self) -> LimitKind {
        match self {
            Dimension::Rps | Dimension::Rpm | Dimension::Rpd => LimitKind::Requests,
            Dimension::Tpm | Dimension::Tpd => LimitKind::Tokens,
            Dimension::Concurrency => LimitKind::Concurrency,
            Dimension::SpendDaily | Dimension::SpendMonthly => LimitKind::Budget,
        }
    }

    pub(crate) fn kind(self) -> Kind {
        let rate = |secs: u64, tokens: bool| Kind::Rate {
            period: Duration::from_secs(secs),
            tokens,
        };
        match self {
            Dimension::Rps => rate(1, false),
            Dimension::Rpm => rate(60, false),
            Dimension::Rpd => rate(86_400, false),
            Dimension::Tpm => rate(60, true),
            Dimension::Tpd => rate(86_400, true),
            Dimension::Concurrency => Kind::Concurrency,
            Dimension::SpendDaily => Kind::Spend(Window::Day),
            Dimension::SpendMonthly => Kind::Spend(Window::Month),
        }
    }

    /// The value of this dimension in `set`, in counter units (micro-USD for budgets).
    fn of(self, set: &LimitSet) -> Option<u64> {
        match self {
            Dimension::Rps => set.rps,
            Dimension::Rpm => set.rpm,
            Dimension::Rpd => set.rpd,
            Dimension::Tpm => set.tpm,
            Dimension::Tpd => set.tpd,
            Dimension::Concurrency => set.max_concurrency.map(u64::from),
            Dimension::SpendDaily => set.budget_usd_daily.map(usd_to_micros),
            Dimension::SpendMonthly => set.budget_usd_monthly.map(usd_to_micros),
        }
    }
}

/// USD to whole micro-dollars (rounded up, past float noise, so a reservation is never short;
/// negative and NaN are 0).
pub fn usd_to_micros(usd: f64) -> u64 {
    if usd.is_finite() && usd > 0.0 {
        (usd * 1e6 - 1e-6).ceil().clamp(0.0, u64::MAX as f64) as u64
    } else {
        0
    }
}

/// Whose limit it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    Tenant,
    Key,
    Model,
    KeyModel,
}

/// One limit on one counter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub scope: Scope,
    pub dimension: Dimension,
    /// Requests, tokens or slots; micro-USD for budgets.
    pub limit: u64,
    /// The counter's identity, the same on every instance (e.g. `k/acme/key_1/rpm`).
    pub id: String,
}

/// Append `s` with `%` and `/` escaped, so that ids of different scopes never collide.
fn push_escaped(out: &mut String, s: &str) {
    // Names rarely contain either: copy them whole.
    if !s.contains(['%', '/']) {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '/' => out.push_str("%2F"),
            c => out.push(c),
        }
    }
}

fn push_rules(out: &mut Vec<Rule>, scope: Scope, parts: &[&str], set: &LimitSet) {
    if set.is_empty() {
        return;
    }
    let mut base = String::with_capacity(3 + parts.iter().map(|p| p.len() + 1).sum::<usize>());
    base.push_str(match scope {
        Scope::Tenant => "t",
        Scope::Key => "k",
        Scope::Model => "m",
        Scope::KeyModel => "km",
    });
    for part in parts {
        base.push('/');
        push_escaped(&mut base, part);
    }
    for dimension in Dimension::ALL {
        if let Some(limit) = dimension.of(set) {
            // Built by hand: this runs for every rule of every call.
            let name = dimension.as_str();
            let mut id = String::with_capacity(base.len() + 1 + name.len());
            id.push_str(&base);
            id.push('/');
            id.push_str(name);
            out.push(Rule {
                scope,
                dimension,
                limit,
                id,
            });
        }
    }
}

/// The limit sets of each scope for a call by `principal` on the public model `model`.
pub fn sets(config: &LimitsConfig, principal: &Principal, model: &str) -> [(Scope, LimitSet); 4] {
    let stored = |l: &Option<std::sync::Arc<gateway_core::store::Limits>>| {
        l.as_deref().map(LimitSet::from_stored).unwrap_or_default()
    };
    let named = |map: &std::collections::BTreeMap<String, LimitSet>, name: &str| {
        map.get(name).copied().unwrap_or_default()
    };
    let per_model = |map: &std::collections::BTreeMap<String, LimitSet>| {
        map.get(model)
            .or_else(|| map.get("*"))
            .copied()
            .unwrap_or_default()
    };
    let tenant =
        stored(&principal.tenant_limits)
            .or(named(&config.tenants, principal.tenant.as_str()).or(config.tenant));
    let key =
        stored(&principal.key_limits).or(named(&config.keys, &principal.subject).or(config.key));
    [
        (Scope::Tenant, tenant),
        (Scope::Key, key),
        (Scope::Model, per_model(&config.models)),
        (Scope::KeyModel, per_model(&config.key_models)),
    ]
}

/// Whether a token or spend limit applies to the call (so its tokens must be counted).
pub fn needs_tokens(config: &LimitsConfig, principal: &Principal, model: &str) -> bool {
    sets(config, principal, model)
        .iter()
        .any(|(_, s)| s.counts_tokens())
}

/// The rules of a call by `principal` on the public model `model`.
pub fn resolve(config: &LimitsConfig, principal: &Principal, model: &str) -> Vec<Rule> {
    let tenant = principal.tenant.as_str();
    let subject = &*principal.subject;
    let mut rules = Vec::with_capacity(4);
    for (scope, set) in sets(config, principal, model) {
        let parts: &[&str] = match scope {
            Scope::Tenant => &[tenant],
            Scope::Key => &[tenant, subject],
            Scope::Model => &[model],
            Scope::KeyModel => &[tenant, subject, model],
        };
        push_rules(&mut rules, scope, parts, &set);
    }
    rules
}

/// A batch line's rules: besides the key's and tenant's own limits (which all traffic shares),
/// a counter of each that only batch lines use, at `share` of the limit, so that batch lines
/// together never take more than that share and interactive traffic keeps the rest.
pub fn add_batch_share(rules: &mut Vec<Rule>, share: f64) {
    let share = if share.is_finite() {
        share.clamp(0.0, 1.0)
    } else {
        1.0
    };
    // The whole of the limits (an asynchronous call): the rules themselves hold it already.
    if share >= 1.0 {
        return;
    }
    let shared: Vec<Rule> = rules
        .iter()
        .filter(|r| matches!(r.scope, Scope::Tenant | Scope::Key))
        .map(|r| Rule {
            scope: r.scope,
            dimension: r.dimension,
            // At least one request, token or micro-dollar: a share never forbids everything.
            limit: ((r.limit as f64 * share).floor() as u64).max(1),
            id: format!("{}/batch", r.id),
        })
        .collect();
    rules.extend(shared);
}

/// Who a rule limits, for messages: `key 'key_1' of tenant 'acme'`, `model 'gpt-4o'`, ...
pub fn describe_scope(scope: Scope, principal: &Principal, model: &str) -> String {
    match scope {
        Scope::Tenant => format!("tenant '{}'", principal.tenant),
        Scope::Key => format!("key '{}'", principal.subject),
        Scope::Model => format!("model '{model}' (all callers)"),
        Scope::KeyModel => format!("key '{}' on model '{model}'", principal.subject),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use gateway_core::TenantId;
    use gateway_core::store::Limits;

    use super::*;

    fn principal() -> Principal {
        Principal {
            tenant: TenantId::new("acme"),
            subject: Arc::from("key/1"),
            key_limits: Some(Arc::new(Limits {
                rpm: Some(5),
                ..Limits::default()
            })),
            ..Principal::anonymous()
        }
    }

    #[test]
    fn every_level_resolves_with_stored_limits_first() {
        let config: LimitsConfig = toml::from_str(
            "[key]\nrpm = 60\ntpm = 100\n[tenant]\nrpd = 1000\n[tenants.acme]\nrpd = 10\n[models.\"*\"]\nmax_concurrency = 3\n[key_models.m]\nbudget_usd_daily = 1.5\n",
        )
        .unwrap();
        let rules = resolve(&config, &principal(), "m");
        let got: Vec<(&str, u64)> = rules.iter().map(|r| (r.id.as_str(), r.limit)).collect();
        assert_eq!(
            got,
            [
                ("t/acme/rpd", 10),
                ("k/acme/key%2F1/rpm", 5),
                ("k/acme/key%2F1/tpm", 100),
                ("m/m/max_concurrency", 3),
                ("km/acme/key%2F1/m/budget_usd_daily", 1_500_000),
            ]
        );
        let other = resolve(&config, &principal(), "other");
        assert!(other.iter().all(|r| r.scope != Scope::KeyModel));
        assert!(resolve(&LimitsConfig::default(), &Principal::anonymous(), "m").is_empty());
    }

    #[test]
    fn batch_lines_get_their_own_share_of_key_and_tenant_limits() {
        let config: LimitsConfig =
            toml::from_str("[tenant]\nrpm = 100\n[models.\"*\"]\nmax_concurrency = 3\n").unwrap();
        let mut rules = resolve(&config, &principal(), "m");
        add_batch_share(&mut rules, 0.5);
        let got: Vec<(&str, u64)> = rules.iter().map(|r| (r.id.as_str(), r.limit)).collect();
        assert_eq!(
            got,
            [
                ("t/acme/rpm", 100),
                ("k/acme/key%2F1/rpm", 5),
                ("m/m/max_concurrency", 3),
                ("t/acme/rpm/batch", 50),
                ("k/acme/key%2F1/rpm/batch", 2),
            ]
        );
        let mut tiny = resolve(&config, &principal(), "m");
        add_batch_share(&mut tiny, 0.01);
        assert_eq!(tiny.last().map(|r| r.limit), Some(1), "never zero");
        let mut whole = resolve(&config, &principal(), "m");
        let before = whole.len();
        add_batch_share(&mut whole, 1.0);
        assert_eq!(whole.len(), before, "the whole share adds no counter");
    }

    #[test]
    fn micros_round_up_and_clamp() {
        assert_eq!(usd_to_micros(0.000_000_1), 1);
        assert_eq!(usd_to_micros(-1.0), 0);
        assert_eq!(usd_to_micros(f64::NAN), 0);
        assert_eq!(usd_to_micros(2.5), 2_500_000);
    }
}
