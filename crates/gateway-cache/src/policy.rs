//! When the cache applies: per tenant and model group from configuration, the request's
//! temperature, and what the caller asked for in its headers.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use gateway_core::{ChatRequest, TenantId};
use http::HeaderMap;

use crate::config::CacheConfig;

/// The response header that reports what the cache did (`hit`, `miss` or `bypass`).
pub const CACHE_STATUS_HEADER: &str = "x-gateway-cache";
/// The request header that sets the TTL (seconds) of the entry a miss creates.
pub const CACHE_TTL_HEADER: &str = "x-gateway-cache-ttl";

pub use gateway_core::phases::cache::{CacheDirectives, CacheStatus};

/// Read the caller's cache directives from request headers. Unknown values are ignored
/// (never an error): a malformed TTL falls back to the configured one.
pub fn directives_from_headers(headers: &HeaderMap) -> CacheDirectives {
    let mut d = CacheDirectives::default();
    for value in headers.get_all(http::header::CACHE_CONTROL) {
        let Ok(value) = value.to_str() else { continue };
        for directive in value.split(',') {
            let name = directive.split('=').next().unwrap_or("").trim();
            if name.eq_ignore_ascii_case("no-cache") {
                d.no_cache = true;
            } else if name.eq_ignore_ascii_case("no-store") {
                d.no_store = true;
            }
        }
    }
    if let Some(value) = headers
        .get(CACHE_STATUS_HEADER)
        .and_then(|v| v.to_str().ok())
    {
        match value.trim().to_ascii_lowercase().as_str() {
            "bypass" | "off" | "no-store" => d.no_store = true,
            "refresh" => d.no_cache = true,
            _ => {}
        }
    }
    d.ttl = headers
        .get(CACHE_TTL_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    d
}

/// What the cache phase should do with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheDecision {
    /// Answer from the cache if possible; on a miss store the fresh answer for `ttl`.
    Lookup { ttl: Duration },
    /// The cache applies to this tenant and model but is not used for this request; the
    /// response says `x-gateway-cache: bypass`.
    Bypass(BypassReason),
    /// Caching is not enabled for this tenant or model group; no cache header.
    Skip,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BypassReason {
    /// `no-store` / `x-gateway-cache: bypass`: neither read nor write.
    Requested,
    /// `no-cache` / `x-gateway-cache: refresh`: do not read, store the fresh answer for `ttl`.
    Refresh { ttl: Duration },
    /// `temperature > 0` and `cache_nonzero_temperature` is off: the answer is meant to vary.
    NonZeroTemperature,
}

impl BypassReason {
    pub fn as_str(self) -> &'static str {
        match self {
            BypassReason::Requested => "requested",
            BypassReason::Refresh { .. } => "refresh",
            BypassReason::NonZeroTemperature => "nonzero_temperature",
        }
    }
}

impl CacheDecision {
    /// How long the fresh answer is stored for, if it is stored.
    pub fn store_ttl(&self) -> Option<Duration> {
        match *self {
            CacheDecision::Lookup { ttl }
            | CacheDecision::Bypass(BypassReason::Refresh { ttl }) => Some(ttl),
            _ => None,
        }
    }
}

/// The `x-gateway-cache` response header value of a status.
pub fn cache_header_value(status: CacheStatus) -> http::HeaderValue {
    http::HeaderValue::from_static(status.as_str())
}

/// The configured rules, resolved once (cheap to evaluate per request).
#[derive(Debug, Clone)]
pub struct CachePolicy {
    enabled: bool,
    default_ttl: Duration,
    max_ttl: Duration,
    cache_nonzero_temperature: bool,
    disabled_models: HashSet<String>,
    model_ttls: BTreeMap<String, Duration>,
    disabled_tenants: HashSet<String>,
}

impl CachePolicy {
    pub fn from_config(cfg: &CacheConfig) -> Self {
        let max_ttl = cfg.max_ttl().max(Duration::from_secs(1));
        CachePolicy {
            enabled: cfg.enabled,
            default_ttl: cfg.default_ttl().clamp(Duration::from_secs(1), max_ttl),
            max_ttl,
            cache_nonzero_temperature: cfg.cache_nonzero_temperature,
            disabled_models: cfg
                .models
                .iter()
                .filter(|(_, m)| m.enabled == Some(false))
                .map(|(name, _)| name.clone())
                .collect(),
            model_ttls: cfg
                .models
                .iter()
                .filter_map(|(name, m)| Some((name.clone(), Duration::from_secs(m.ttl_secs?))))
                .collect(),
            disabled_tenants: cfg
                .tenants
                .iter()
                .filter(|(_, t)| t.enabled == Some(false))
                .map(|(name, _)| name.clone())
                .collect(),
        }
    }

    /// Whether the cache applies at all to this tenant and model group.
    pub fn applies(&self, tenant: &TenantId, model_group: &str) -> bool {
        self.enabled
            && !self.disabled_tenants.contains(tenant.as_str())
            && !self.disabled_models.contains(model_group)
    }

    /// The TTL of a new entry for this model group, before the caller's header.
    pub fn ttl_for(&self, model_group: &str) -> Duration {
        self.model_ttls
            .get(model_group)
            .copied()
            .unwrap_or(self.default_ttl)
            .clamp(Duration::from_secs(1), self.max_ttl)
    }

    pub fn max_ttl(&self) -> Duration {
        self.max_ttl
    }

    pub fn decide(
        &self,
        tenant: &TenantId,
        model_group: &str,
        req: &ChatRequest,
        directives: &CacheDirectives,
    ) -> CacheDecision {
        if !self.applies(tenant, model_group) {
            return CacheDecision::Skip;
        }
        if directives.no_store {
            return CacheDecision::Bypass(BypassReason::Requested);
        }
        // `None` is the provider's default; only an explicit non-zero temperature says the
        // caller wants varied answers.
        if req.temperature.is_some_and(|t| t > 0.0) && !self.cache_nonzero_temperature {
            return CacheDecision::Bypass(BypassReason::NonZeroTemperature);
        }
        let ttl = match directives.ttl {
            Some(ttl) => ttl.clamp(Duration::from_secs(1), self.max_ttl),
            None => self.ttl_for(model_group),
        };
        if directives.no_cache {
            CacheDecision::Bypass(BypassReason::Refresh { ttl })
        } else {
            CacheDecision::Lookup { ttl }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ModelCacheConfig, TenantCacheConfig};
    use http::HeaderValue;

    fn policy(edit: impl FnOnce(&mut CacheConfig)) -> CachePolicy {
        let mut cfg = CacheConfig {
            enabled: true,
            ..CacheConfig::default()
        };
        edit(&mut cfg);
        CachePolicy::from_config(&cfg)
    }

    fn req(temperature: Option<f64>) -> ChatRequest {
        ChatRequest {
            model: "m".into(),
            temperature,
            ..ChatRequest::default()
        }
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> CacheDirectives {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        directives_from_headers(&map)
    }

    fn decide(p: &CachePolicy, temperature: Option<f64>, d: CacheDirectives) -> CacheDecision {
        p.decide(&TenantId::new("t"), "m", &req(temperature), &d)
    }

    const FIVE_MIN: Duration = Duration::from_secs(300);

    #[test]
    fn deterministic_requests_are_looked_up_with_the_default_ttl() {
        let p = policy(|_| {});
        let none = CacheDirectives::default();
        assert_eq!(
            decide(&p, None, none),
            CacheDecision::Lookup { ttl: FIVE_MIN }
        );
        assert_eq!(
            decide(&p, Some(0.0), none),
            CacheDecision::Lookup { ttl: FIVE_MIN }
        );
    }

    #[test]
    fn nonzero_temperature_bypasses_unless_configured() {
        let none = CacheDirectives::default();
        assert_eq!(
            decide(&policy(|_| {}), Some(0.7), none),
            CacheDecision::Bypass(BypassReason::NonZeroTemperature)
        );
        let p = policy(|c| c.cache_nonzero_temperature = true);
        assert_eq!(
            decide(&p, Some(0.7), none),
            CacheDecision::Lookup { ttl: FIVE_MIN }
        );
    }

    #[test]
    fn bypass_headers() {
        let p = policy(|_| {});
        for h in [
            ("cache-control", "no-store"),
            ("x-gateway-cache", "bypass"),
            ("x-gateway-cache", "BYPASS"),
        ] {
            assert_eq!(
                decide(&p, None, headers(&[h])),
                CacheDecision::Bypass(BypassReason::Requested),
                "{h:?}"
            );
        }
        for h in [
            ("cache-control", "max-age=0, No-Cache"),
            ("x-gateway-cache", "refresh"),
        ] {
            let d = decide(&p, None, headers(&[h]));
            assert_eq!(
                d,
                CacheDecision::Bypass(BypassReason::Refresh { ttl: FIVE_MIN })
            );
            assert_eq!(d.store_ttl(), Some(FIVE_MIN));
        }
        assert_eq!(
            decide(&p, None, headers(&[("cache-control", "max-age=60")])),
            CacheDecision::Lookup { ttl: FIVE_MIN }
        );
    }

    #[test]
    fn ttl_header_is_bounded() {
        let p = policy(|c| c.max_ttl_secs = 3600);
        let ttl = |v: &'static str| decide(&p, None, headers(&[("x-gateway-cache-ttl", v)]));
        let secs = |s| CacheDecision::Lookup {
            ttl: Duration::from_secs(s),
        };
        assert_eq!(ttl("60"), secs(60));
        assert_eq!(ttl("999999"), secs(3600));
        assert_eq!(ttl("0"), secs(1));
        assert_eq!(ttl("soon"), secs(300));
        assert_eq!(ttl("-5"), secs(300));
    }

    #[test]
    fn per_model_and_tenant_settings() {
        let p = policy(|c| {
            c.models.insert(
                "off".into(),
                ModelCacheConfig {
                    enabled: Some(false),
                    ttl_secs: None,
                },
            );
            c.models.insert(
                "long".into(),
                ModelCacheConfig {
                    enabled: None,
                    ttl_secs: Some(3600),
                },
            );
            c.tenants.insert(
                "quiet".into(),
                TenantCacheConfig {
                    enabled: Some(false),
                },
            );
        });
        let d = CacheDirectives::default();
        let t = TenantId::new("t");
        let r = req(None);
        assert_eq!(p.decide(&t, "off", &r, &d), CacheDecision::Skip);
        assert_eq!(
            p.decide(&t, "long", &r, &d),
            CacheDecision::Lookup {
                ttl: Duration::from_secs(3600)
            }
        );
        assert_eq!(
            p.decide(&TenantId::new("quiet"), "long", &r, &d),
            CacheDecision::Skip
        );
        let off = policy(|c| c.enabled = false);
        assert_eq!(off.decide(&t, "long", &r, &d), CacheDecision::Skip);
    }

    #[test]
    fn status_header_values() {
        assert_eq!(cache_header_value(CacheStatus::Hit), "hit");
        assert_eq!(CacheStatus::Miss.as_str(), "miss");
        assert_eq!(CacheStatus::Bypass.as_str(), "bypass");
        assert_eq!(
            BypassReason::NonZeroTemperature.as_str(),
            "nonzero_temperature"
        );
    }
}
