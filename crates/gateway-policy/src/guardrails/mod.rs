//! Guardrails: detection engines (injection, PII and secrets, moderation), the policy that
//! turns their findings into one action, and stream scanning. See `docs/guardrails.md`.
//!
//! Layout: [`finding`] (the explanation types), [`normalize`] (text folding shared by the
//! word-level detectors), [`injection`], [`pii`], [`moderation`], [`config`], [`engine`]
//! (one policy), [`tenants`] (per-tenant policies), [`stream_scan`], `inspected` (which text
//! of a request or response is inspected) and [`pipeline`] (the `gateway-core` adapter).

pub mod config;
mod config_validate;
mod encoded;
pub mod engine;
pub mod external;

pub mod finding;
pub mod injection;
pub(crate) mod inspected;
pub mod moderation;
pub mod normalize;
pub mod pii;
pub mod pipeline;
mod stream_hold;
pub mod stream_scan;

pub mod tenants;
