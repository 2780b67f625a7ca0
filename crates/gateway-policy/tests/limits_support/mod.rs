//! Helpers shared by the limits tests: principals, estimates, a flat price table, and calls.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use gateway_core::phases::account::CostModel;
use gateway_core::phases::admission::{Admission, Admitted, UsageEstimate};
use gateway_core::store::Limits;
use gateway_core::{Endpoint, GatewayError, Principal, RequestContext, TenantId, Usage};
use gateway_policy::limits::{Limiter, LimitsConfig};

pub fn config(text: &str) -> LimitsConfig {
    toml::from_str(text).unwrap()
}

pub fn limiter(text: &str) -> Limiter {
    Limiter::new(&config(text), None).unwrap()
}

pub fn principal(tenant: &str, key: &str) -> Principal {
    Principal {
        tenant: TenantId::new(tenant),
        subject: Arc::from(key),
        ..Principal::anonymous()
    }
}

pub fn with_key_limits(mut p: Principal, limits: Limits) -> Principal {
    p.key_limits = Some(Arc::new(limits));
    p
}

pub fn ctx(p: &Principal) -> RequestContext {
    RequestContext::new("req", p.clone(), Endpoint::ChatCompletions)
}

pub fn est(model: &str, prompt: u64, max_out: u64) -> UsageEstimate {
    UsageEstimate {
        model: model.to_owned(),
        prompt_tokens: prompt,
        max_output_tokens: max_out,
    }
}

/// One request of `prompt + max_out` tokens on `model` by `p`.
pub async fn call(
    l: &Limiter,
    p: &Principal,
    model: &str,
    prompt: u64,
    max_out: u64,
) -> Result<Admitted, GatewayError> {
    l.admit(&ctx(p), &est(model, prompt, max_out)).await
}

/// Admit and complete at once with the given real usage.
pub async fn done(l: &Limiter, p: &Principal, model: &str) -> Result<(), GatewayError> {
    let a = call(l, p, model, 0, 0).await?;
    a.permit.complete(Some(&Usage::new(0, 0)), None);
    Ok(())
}

pub fn message(e: &GatewayError) -> String {
    match e {
        GatewayError::RateLimited { message, .. } => message.clone(),
        other => panic!("expected 429, got {other:?}"),
    }
}

pub fn retry_after(e: &GatewayError) -> Option<Duration> {
    match e {
        GatewayError::RateLimited { retry_after, .. } => *retry_after,
        other => panic!("expected 429, got {other:?}"),
    }
}

/// $1 per 1000 tokens, prompt and completion alike, on every model but `free-*`.
pub struct FlatPrice;

impl CostModel for FlatPrice {
    fn cost_usd(&self, _: &str, model: &str, usage: &Usage) -> Option<f64> {
        (!model.starts_with("unpriced")).then(|| usage.total_tokens as f64 / 1000.0)
    }
}

pub fn priced(text: &str) -> Limiter {
    Limiter::new(&config(text), Some(Arc::new(FlatPrice))).unwrap()
}

/// Let spawned tasks and wake-ups run under paused time.
pub async fn settle() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}
