//! The output allowance of a streamed call under hard token or spend limits
//! ([`gateway_core::phases::admission::OutputAllowance`]): the output its admission reserved,
//! then one more block (`default_max_tokens_reservation` tokens, priced at the dearest
//! deployment) each time the stream reaches it, taken on the call's token and spend rules
//! like an admission. A refused block stops the stream. Blocks stay charged in full; the
//! permit subtracts them from real usage when it reconciles its own reservation.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use gateway_core::phases::admission::{Extension, OutputAllowance};

use super::backend::{Ask, Decision};
use super::config::FailMode;
use super::limiter::Inner;
use super::rules::{Kind, Rule};

/// Output reserved beyond the admission, shared by the allowance and its permit.
#[derive(Debug, Default)]
pub(crate) struct Extended {
    pub tokens: AtomicU64,
    pub cost_micros: AtomicU64,
}

/// What the allowance of one call is made of, fixed at admission.
pub(crate) struct Spec {
    /// The call's token-rate and spend rules (the only ones more output can cross).
    pub rules: Arc<[Rule]>,
    pub prompt_tokens: u64,
    /// Output tokens the admission reserved.
    pub reserved_output: u64,
    pub block_tokens: u64,
    pub block_cost_micros: u64,
    pub fail_mode: FailMode,
}

impl Spec {
    /// The token and spend rules among `rules`; `None` when there are none.
    pub fn hard_rules(rules: &[Rule]) -> Option<Arc<[Rule]>> {
        let hard: Arc<[Rule]> = rules
            .iter()
            .filter(|r| {
                matches!(
                    r.dimension.kind(),
                    Kind::Rate { tokens: true, .. } | Kind::Spend(_)
                )
            })
            .cloned()
            .collect();
        (!hard.is_empty()).then_some(hard)
    }
}

pub(crate) struct Allowance {
    pub limiter: Arc<Inner>,
    pub spec: Arc<Spec>,
    pub extended: Arc<Extended>,
}

impl OutputAllowance for Allowance {
    fn granted(&self) -> u64 {
        self.spec
            .reserved_output
            .saturating_add(self.extended.tokens.load(Ordering::Acquire))
    }

    fn prompt_tokens(&self) -> u64 {
        self.spec.prompt_tokens
    }

    fn extend(&mut self) -> Extension {
        let (limiter, spec, extended) = (
            self.limiter.clone(),
            self.spec.clone(),
            self.extended.clone(),
        );
        Box::pin(async move {
            let ask = Ask {
                rules: &spec.rules,
                tokens: spec.block_tokens,
                cost_micros: spec.block_cost_micros,
            };
            match limiter.backend.acquire(&ask).await {
                // The block stays taken (dropped unsettled); the permit accounts for it.
                Ok(Decision::Granted { .. }) => {
                    extended
                        .cost_micros
                        .fetch_add(spec.block_cost_micros, Ordering::AcqRel);
                    extended
                        .tokens
                        .fetch_add(spec.block_tokens, Ordering::AcqRel);
                    true
                }
                Ok(Decision::Denied(_)) => false,
                Err(_) => spec.fail_mode == FailMode::Open,
            }
        })
    }
}
