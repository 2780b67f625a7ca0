//! The `[limits]` configuration section: defaults per tenant, key, model and key+model, the
//! backend (in-process or Redis), what to do when Redis is unreachable, and the queue.
//!
//! ```toml
//! [limits]
//! backend = "redis"                 # memory (one instance, default) | redis (several)
//! on_backend_error = "open"         # open: admit unlimited | closed: answer 503
//! unpriced = "allow"                # allow | reject: a spend-limited caller on an unpriced model
//! token_count = "estimate"          # estimate (no tables, default) | tokenizer (tiktoken, ~35 MiB)
//!
//! [limits.redis]
//! url = "redis://127.0.0.1:6379"
//! key_prefix = "gw:limits:"
//! timeout = "250ms"                 # per admission round trip; slower counts as unreachable
//! lease = "60s"                     # renewed while a call runs; a crashed instance's slots free after this
//!
//! [limits.queue]                    # wait for a concurrency slot instead of an immediate 429
//! max_depth = 16                    # waiting calls per tenant (0: no queue)
//! max_wait = "10s"
//!
//! [limits.tenant]                   # every tenant (the admin API's tenant limits win)
//! rpm = 600
//! [limits.key]                      # every key (the admin API's key limits win)
//! rpm = 60
//! max_concurrency = 4
//! [limits.tenants.acme]             # one tenant, over [limits.tenant]
//! budget_usd_monthly = 500.0
//! [limits.keys.key_0190abcd]        # one key, over [limits.key]
//! tpm = 100000
//! [limits.models.gpt-4o]            # the model as a whole, all callers together ("*": each model)
//! tpm = 2000000
//! [limits.key_models."*"]           # each key on each model (or name one model)
//! rpd = 1000
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use gateway_core::duration::deserialize as duration;

use gateway_core::store::Limits;

/// One set of limits; every field optional (`None`: no limit of that kind at this level).
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitSet {
    /// Requests per second.
    pub rps: Option<u64>,
    /// Requests per minute.
    pub rpm: Option<u64>,
    /// Requests per day (a rolling 24 hours).
    pub rpd: Option<u64>,
    /// Tokens (prompt + completion) per minute.
    pub tpm: Option<u64>,
    /// Tokens per day (a rolling 24 hours).
    pub tpd: Option<u64>,
    /// Requests in flight at once.
    pub max_concurrency: Option<u32>,
    /// Spend per UTC day, in USD.
    pub budget_usd_daily: Option<f64>,
    /// Spend per UTC calendar month, in USD.
    pub budget_usd_monthly: Option<f64>,
}

impl LimitSet {
    /// Field by field: `self` where set, else `fallback`.
    pub fn or(self, fallback: LimitSet) -> LimitSet {
        LimitSet {
            rps: self.rps.or(fallback.rps),
            rpm: self.rpm.or(fallback.rpm),
            rpd: self.rpd.or(fallback.rpd),
            tpm: self.tpm.or(fallback.tpm),
            tpd: self.tpd.or(fallback.tpd),
            max_concurrency: self.max_concurrency.or(fallback.max_concurrency),
            budget_usd_daily: self.budget_usd_daily.or(fallback.budget_usd_daily),
            budget_usd_monthly: self.budget_usd_monthly.or(fallback.budget_usd_monthly),
        }
    }

    /// The limits stored for a tenant or key (admin API), as a set.
    pub fn from_stored(l: &Limits) -> LimitSet {
        LimitSet {
            rps: l.rps,
            rpm: l.rpm,
            rpd: l.rpd,
            tpm: l.tpm,
            tpd: l.tpd,
            max_concurrency: l.max_concurrency,
            budget_usd_daily: l.budget_usd_daily,
            budget_usd_monthly: l.budget_usd_monthly,
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == LimitSet::default()
    }

    /// Whether any token or spend limit is set (those need a token estimate).
    pub fn counts_tokens(&self) -> bool {
        self.tpm.is_some()
            || self.tpd.is_some()
            || self.budget_usd_daily.is_some()
            || self.budget_usd_monthly.is_some()
    }

    fn problems(&self, path: &str, out: &mut Vec<(String, String)>) {
        let zero = |v: Option<u64>| v == Some(0);
        for (name, bad) in [
            ("rps", zero(self.rps)),
            ("rpm", zero(self.rpm)),
            ("rpd", zero(self.rpd)),
            ("tpm", zero(self.tpm)),
            ("tpd", zero(self.tpd)),
            ("max_concurrency", self.max_concurrency == Some(0)),
        ] {
            if bad {
                out.push((
                    format!("{path}.{name}"),
                    "must be at least 1 (leave it out for no limit)".to_owned(),
                ));
            }
        }
        for (name, v) in [
            ("budget_usd_daily", self.budget_usd_daily),
            ("budget_usd_monthly", self.budget_usd_monthly),
        ] {
            if let Some(v) = v
                && !(v.is_finite() && v >= 0.0)
            {
                out.push((
                    format!("{path}.{name}"),
                    "must be a finite amount of at least 0".to_owned(),
                ));
            }
        }
    }
}

/// Where counters live.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// In this process: exact for one instance.
    #[default]
    Memory,
    /// In Redis, shared by every instance using the same `key_prefix`.
    Redis,
}

/// What admission does when the shared backend cannot be reached in time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailMode {
    /// Admit the call without shared limits (availability first).
    #[default]
    Open,
    /// Refuse the call with 503 (limits first).
    Closed,
}

/// How prompt tokens of OpenAI-family models are counted for reservations (the real usage
/// reconciles every reservation after the call either way).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenCount {
    /// From the text's shape (words, digits, punctuation, scripts): no tables in memory;
    /// its error on the committed corpus is in docs/limits.md.
    #[default]
    Estimate,
    /// tiktoken's o200k / cl100k tables, loaded at start when a limit is configured.
    Tokenizer,
}

/// What a spend limit does with a model whose price is unknown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnpricedMode {
    /// Admit; the call costs nothing against the budget (counted in the stats).
    #[default]
    Allow,
    /// Refuse (429): a budget cannot be kept on a model nobody can price.
    Reject,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedisLimitsConfig {
    pub url: String,
    /// Prefix of every key; instances sharing limits use the same one.
    pub key_prefix: String,
    /// Longest an admission waits for Redis before the fail mode applies.
    #[serde(deserialize_with = "duration")]
    pub timeout: Duration,
    /// Concurrency slots are leases, renewed every third of it while their calls run: the
    /// slots of a crashed instance free after this.
    #[serde(deserialize_with = "duration")]
    pub lease: Duration,
    /// While Redis is down, how often one call probes it (the others take the fail mode at once).
    #[serde(deserialize_with = "duration")]
    pub retry_interval: Duration,
}

impl Default for RedisLimitsConfig {
    fn default() -> Self {
        RedisLimitsConfig {
            url: "redis://127.0.0.1:6379".to_owned(),
            key_prefix: "gw:limits:".to_owned(),
            timeout: Duration::from_millis(250),
            lease: Duration::from_secs(60),
            retry_interval: Duration::from_secs(1),
        }
    }
}

/// Waiting for a concurrency slot.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QueueConfig {
    /// Calls of one tenant that may wait at once; more get 429 at once. 0 disables queueing.
    pub max_depth: usize,
    /// Longest a call waits for a slot before it gets 429.
    #[serde(deserialize_with = "duration")]
    pub max_wait: Duration,
    /// How often a waiting call re-checks when no slot was freed on this instance (Redis:
    /// slots freed by other instances are seen this way).
    #[serde(deserialize_with = "duration")]
    pub poll_interval: Duration,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            max_depth: 0,
            max_wait: Duration::from_secs(10),
            poll_interval: Duration::from_millis(50),
        }
    }
}

/// The `[limits]` section.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    pub backend: BackendKind,
    /// Output tokens reserved on token and spend limits for a call without `max_tokens`, and
    /// the block a stream reserves each time its output reaches what it has reserved.
    pub default_max_tokens_reservation: u64,
    pub on_backend_error: FailMode,
    pub unpriced: UnpricedMode,
    pub token_count: TokenCount,
    pub redis: RedisLimitsConfig,
    pub queue: QueueConfig,
    /// Defaults for every tenant; the tenant's stored limits (admin API) win field by field.
    pub tenant: LimitSet,
    /// Defaults for every key (or JWT subject); the key's stored limits win field by field.
    pub key: LimitSet,
    /// Per tenant id, over `tenant`.
    pub tenants: BTreeMap<String, LimitSet>,
    /// Per key id (or JWT subject), over `key`.
    pub keys: BTreeMap<String, LimitSet>,
    /// Per public model, for all callers together; `"*"` applies to each model not named.
    pub models: BTreeMap<String, LimitSet>,
    /// Per key on a public model; `"*"` applies to each model not named.
    pub key_models: BTreeMap<String, LimitSet>,
}

/// Default of `default_max_tokens_reservation`.
pub const DEFAULT_MAX_TOKENS_RESERVATION: u64 = 1024;

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            backend: BackendKind::default(),
            default_max_tokens_reservation: DEFAULT_MAX_TOKENS_RESERVATION,
            on_backend_error: FailMode::default(),
            unpriced: UnpricedMode::default(),
            token_count: TokenCount::default(),
            redis: RedisLimitsConfig::default(),
            queue: QueueConfig::default(),
            tenant: LimitSet::default(),
            key: LimitSet::default(),
            tenants: BTreeMap::new(),
            keys: BTreeMap::new(),
            models: BTreeMap::new(),
            key_models: BTreeMap::new(),
        }
    }
}

impl LimitsConfig {
    /// Every problem as `(dotted key path, message)` under `prefix` (e.g. `limits`).
    pub fn problems(&self, prefix: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if !(1..=1_000_000).contains(&self.default_max_tokens_reservation) {
            out.push((
                format!("{prefix}.default_max_tokens_reservation"),
                "must be between 1 and 1000000".to_owned(),
            ));
        }
        self.tenant.problems(&format!("{prefix}.tenant"), &mut out);
        self.key.problems(&format!("{prefix}.key"), &mut out);
        for (section, map) in [
            ("tenants", &self.tenants),
            ("keys", &self.keys),
            ("models", &self.models),
            ("key_models", &self.key_models),
        ] {
            for (name, set) in map {
                set.problems(&format!("{prefix}.{section}.{name}"), &mut out);
            }
        }
        if self.backend == BackendKind::Redis {
            let r = &self.redis;
            if !(r.url.starts_with("redis://") || r.url.starts_with("rediss://")) {
                out.push((
                    format!("{prefix}.redis.url"),
                    "must be a redis:// or rediss:// URL".to_owned(),
                ));
            }
            if r.timeout.is_zero() {
                out.push((
                    format!("{prefix}.redis.timeout"),
                    "must be greater than zero".to_owned(),
                ));
            }
            if r.lease < Duration::from_secs(1) {
                out.push((
                    format!("{prefix}.redis.lease"),
                    "must be at least 1s".to_owned(),
                ));
            }
        }
        if self.queue.max_depth > 0 && self.queue.max_wait.is_zero() {
            out.push((
                format!("{prefix}.queue.max_wait"),
                "must be greater than zero when max_depth is set".to_owned(),
            ));
        }
        if self.queue.poll_interval.is_zero() {
            out.push((
                format!("{prefix}.queue.poll_interval"),
                "must be greater than zero".to_owned(),
            ));
        }
        out
    }

    /// Whether any limit is configured here (stored limits may still apply).
    pub fn has_config_limits(&self) -> bool {
        !(self.tenant.is_empty()
            && self.key.is_empty()
            && self.tenants.values().all(LimitSet::is_empty)
            && self.keys.values().all(LimitSet::is_empty)
            && self.models.values().all(LimitSet::is_empty)
            && self.key_models.values().all(LimitSet::is_empty))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_shape() {
        let text = r#"
backend = "redis"
on_backend_error = "closed"
[redis]
url = "redis://127.0.0.1:6379"
key_prefix = "t:"
timeout = "100ms"
[queue]
max_depth = 4
max_wait = "2s"
[tenant]
rpm = 600
[key]
rpm = 60
max_concurrency = 2
[tenants.acme]
budget_usd_monthly = 5.0
[models.gpt-4o]
tpm = 1000
[key_models."*"]
rpd = 10
"#;
        let c: LimitsConfig = toml::from_str(text).unwrap();
        assert_eq!(c.backend, BackendKind::Redis);
        assert_eq!(c.on_backend_error, FailMode::Closed);
        assert_eq!(c.redis.timeout, Duration::from_millis(100));
        // A crashed instance's slots free within a minute (running calls renew theirs).
        assert_eq!(c.redis.lease, Duration::from_secs(60));
        assert_eq!(c.queue.max_depth, 4);
        assert_eq!(c.key.max_concurrency, Some(2));
        assert_eq!(c.tenants["acme"].budget_usd_monthly, Some(5.0));
        assert_eq!(c.key_models["*"].rpd, Some(10));
        assert!(c.problems("limits").is_empty());
        assert!(c.has_config_limits());
        assert!(toml::from_str::<LimitsConfig>("[key]\nrpn = 1").is_err());
        assert_eq!(c.default_max_tokens_reservation, 1024);
        assert_eq!(c.token_count, TokenCount::Estimate);
        let exact: LimitsConfig = toml::from_str("token_count = \"tokenizer\"").unwrap();
        assert_eq!(exact.token_count, TokenCount::Tokenizer);
        assert!(toml::from_str::<LimitsConfig>("token_count = \"bytes\"").is_err());
        let zero: LimitsConfig = toml::from_str("default_max_tokens_reservation = 0").unwrap();
        assert_eq!(
            zero.problems("limits")[0].0,
            "limits.default_max_tokens_reservation"
        );
    }

    #[test]
    fn problems_name_their_keys() {
        let text = "[key]\nrpm = 0\n[models.m]\nbudget_usd_daily = -1.0\n[queue]\nmax_depth = 1\nmax_wait = 0\n";
        let c: LimitsConfig = toml::from_str(text).unwrap();
        let keys: Vec<String> = c.problems("limits").into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            keys,
            [
                "limits.key.rpm",
                "limits.models.m.budget_usd_daily",
                "limits.queue.max_wait"
            ]
        );
    }

    #[test]
    fn stored_limits_win_field_by_field() {
        let stored = Limits {
            rpm: Some(5),
            ..Limits::default()
        };
        let config = LimitSet {
            rpm: Some(50),
            tpm: Some(1000),
            ..LimitSet::default()
        };
        let merged = LimitSet::from_stored(&stored).or(config);
        assert_eq!((merged.rpm, merged.tpm), (Some(5), Some(1000)));
    }
}
