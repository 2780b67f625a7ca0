//! The `input` document a policy is evaluated against (see `docs/policies.md`).

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use regorus::Value;

use gateway_core::RequestContext;
use gateway_core::gateway::estimate_prompt_tokens;
use gateway_core::principal::AuthMethod;
use gateway_core::types::ChatRequest;

use crate::guardrails::finding::{Action, Finding};

/// One deployment of a public model, as the policy sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentInfo {
    pub provider: String,
    pub region: Option<String>,
}

/// The combined result of the input guardrails over the request's untrusted text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GuardrailSummary {
    pub action: Action,
    pub findings: Vec<Finding>,
}

/// Everything the input document is built from.
pub struct InputParts<'a> {
    pub ctx: &'a RequestContext,
    pub req: &'a ChatRequest,
    /// Deployments of `req.model` (empty when unknown).
    pub deployments: &'a [DeploymentInfo],
    /// `None` when no policy reads `input.guardrails` (then it is not computed).
    pub guardrails: Option<&'a GuardrailSummary>,
    /// The configured headers the request carried (lower-case names).
    pub headers: &'a [(String, String)],
    pub now: SystemTime,
}

/// Builds the `input` document, directly as a `regorus` value (going through
/// `serde_json::Value` would cost more than evaluating a small policy).
pub fn build(p: &InputParts<'_>) -> Value {
    let principal = &p.ctx.principal;
    let constraint = p.ctx.constraints.regions.as_deref();
    let servable = |d: &&DeploymentInfo| match (constraint, &d.region) {
        (None, _) => true,
        (Some(allowed), Some(r)) => allowed.iter().any(|a| a == r),
        (Some(_), None) => false,
    };
    let mut providers: Vec<&str> = Vec::new();
    let mut regions: Vec<&str> = Vec::new();
    for d in p.deployments.iter().filter(servable) {
        if !providers.contains(&d.provider.as_str()) {
            providers.push(&d.provider);
        }
        if let Some(r) = d.region.as_deref().filter(|r| !regions.contains(r)) {
            regions.push(r);
        }
    }
    let max_output = p
        .req
        .max_completion_tokens
        .or(p.req.max_tokens)
        .map(u64::from);
    let prompt = estimate_prompt_tokens(p.req);
    let headers = p
        .headers
        .iter()
        .map(|(k, v)| (Value::from(k.as_str()), Value::from(v.as_str())))
        .collect::<BTreeMap<_, _>>();
    let guardrails = p.guardrails.map_or(Value::Null, |g| {
        let findings = g.findings.iter().map(|f| {
            obj([
                ("guardrail", Value::from(f.guardrail)),
                ("category", Value::from(f.category.as_str())),
                ("rule", Value::from(f.rule.as_str())),
                ("score", Value::from(f64::from(f.score))),
                ("action", Value::from(f.action.as_str())),
            ])
        });
        obj([
            ("action", Value::from(g.action.as_str())),
            ("findings", Value::from(findings.collect::<Vec<_>>())),
        ])
    });
    let deployments = p.deployments.iter().map(|d| {
        obj([
            ("provider", Value::from(d.provider.as_str())),
            (
                "region",
                d.region.as_deref().map_or(Value::Null, Value::from),
            ),
        ])
    });
    obj([
        (
            "principal",
            obj([
                ("tenant", Value::from(principal.tenant.as_str())),
                ("subject", Value::from(&*principal.subject)),
                ("method", Value::from(method(principal.method))),
                ("roles", strings(principal.roles.iter().map(|r| r.as_str()))),
                (
                    "allowed_models",
                    optional_strings(principal.allowed_models.as_deref()),
                ),
                (
                    "allowed_regions",
                    optional_strings(principal.allowed_regions.as_deref()),
                ),
            ]),
        ),
        ("tenant", Value::from(principal.tenant.as_str())),
        ("endpoint", Value::from(p.ctx.endpoint.as_str())),
        ("request_id", Value::from(&*p.ctx.request_id)),
        ("model", Value::from(p.req.model.as_str())),
        ("stream", Value::from(p.req.stream)),
        ("message_count", Value::from(p.req.messages.len())),
        (
            "tools",
            Value::from(p.req.tools.as_ref().map_or(0, Vec::len)),
        ),
        ("deployments", Value::from(deployments.collect::<Vec<_>>())),
        ("providers", strings(providers)),
        ("regions", strings(regions)),
        ("region_constraint", optional_strings(constraint)),
        (
            "estimated_tokens",
            obj([
                ("prompt", Value::from(prompt)),
                ("max_output", max_output.map_or(Value::Null, Value::from)),
                ("total", Value::from(prompt + max_output.unwrap_or(0))),
            ]),
        ),
        ("guardrails", guardrails),
        ("time", time(p.now)),
        ("headers", Value::from(headers)),
    ])
}

fn obj<const N: usize>(fields: [(&str, Value); N]) -> Value {
    Value::from(
        fields
            .into_iter()
            .map(|(k, v)| (Value::from(k), v))
            .collect::<BTreeMap<_, _>>(),
    )
}

fn strings<'a>(items: impl IntoIterator<Item = &'a str>) -> Value {
    Value::from(items.into_iter().map(Value::from).collect::<Vec<_>>())
}

fn optional_strings(items: Option<&[String]>) -> Value {
    items.map_or(Value::Null, |l| strings(l.iter().map(String::as_str)))
}

fn method(m: AuthMethod) -> &'static str {
    match m {
        AuthMethod::ApiKey => "api_key",
        AuthMethod::Jwt => "jwt",
        AuthMethod::None => "none",
    }
}

const WEEKDAYS: [&str; 7] = [
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
];

/// `{"unix": s, "date": "YYYY-MM-DD", "hour": 0..23, "minute": 0..59, "weekday": "monday"}`,
/// all UTC: Rego policies compare these without date builtins.
fn time(now: SystemTime) -> Value {
    let secs = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let weekday = WEEKDAYS
        .get(days.rem_euclid(7) as usize)
        .copied()
        .unwrap_or("");
    obj([
        ("unix", Value::from(secs)),
        ("date", Value::from(format!("{y:04}-{m:02}-{d:02}"))),
        ("hour", Value::from(of_day / 3600)),
        ("minute", Value::from(of_day % 3600 / 60)),
        ("weekday", Value::from(weekday)),
    ])
}

/// Gregorian date of a day count since 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn utc_calendar_fields() {
        let t = UNIX_EPOCH + Duration::from_secs(1_767_225_600 + 13 * 3600 + 5 * 60); // 2026-01-01
        let v = time(t);
        assert_eq!(v["date"], Value::from("2026-01-01"));
        assert_eq!(
            (v["hour"].as_i64().unwrap(), v["minute"].as_i64().unwrap()),
            (13, 5)
        );
        assert_eq!(v["weekday"], Value::from("thursday"));
        let leap = time(UNIX_EPOCH + Duration::from_secs(951_782_400));
        assert_eq!(leap["date"], Value::from("2000-02-29"));
    }
}
