//! Limits that hold: per-key, per-tenant, per-model and per-key+model rate (requests per
//! second/minute/day), token (per minute/day), concurrency and spend (USD per UTC day/month)
//! limits, in-process or across instances in Redis, with a fair per-tenant queue for
//! concurrency. See `docs/limits.md` for the semantics and the proven overshoot bounds.
//!
//! - [`LimitsConfig`] is the `[limits]` section: defaults per tenant/key, per tenant/key id,
//!   per model and per key on a model. Limits stored on a tenant or key (admin API, carried on
//!   the [`gateway_core::Principal`]) win over config, field by field.
//! - [`Limiter`] implements [`gateway_core::phases::admission::Admission`]: it counts prompt
//!   tokens with a table-free estimate (or the real tokenizer, `token_count`), reserves `prompt + max_tokens` (and its price)
//!   on every rule at once, and reconciles with real usage when the call completes.
//! - Backends: in-process (GCRA on atomics, lock-free) or Redis (one atomic Lua script per
//!   admission). [`FailMode`] says what happens when Redis is unreachable; [`LimitEvents`] and
//!   [`LimiterStats`] report it.

mod allowance;
mod backend;
mod clock;
pub mod config;
pub mod estimate;
pub mod events;
mod lease;
mod limiter;
mod memory;
mod messages;
mod permit;
mod queue;
mod redis_backend;
pub mod rules;
pub mod shape;

pub use config::{
    BackendKind, FailMode, LimitSet, LimitsConfig, QueueConfig, RedisLimitsConfig, TokenCount,
    UnpricedMode,
};
pub use estimate::Family;
pub use events::{BudgetSpend, LimitEvents, LimiterStats, Rejection, StatsSnapshot, TracingEvents};
pub use gateway_core::duration::parse_duration;
pub use limiter::{Limiter, LimiterBuilder, LimitsError, Target};
pub use rules::{Dimension, Rule, Scope};
