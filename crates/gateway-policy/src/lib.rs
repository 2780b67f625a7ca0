//! `gateway-policy`: the policy phases of the gateway. Today it owns the guardrails of
//! phases 5 and 8 (inspect input, inspect output): prompt-injection scoring, PII and secret
//! detection with typed redaction, term-list content moderation, and incremental scanning of
//! streamed responses with a bounded hold-back window. Every decision is explained by
//! [`Finding`]s that name guardrail, category and rule, carry a score and byte offsets into
//! the inspected text, and never contain the matched text itself.
//!
//! It depends on `gateway-core` only (for the [`gateway_core::phases::guard`] traits it
//! implements) and never on a sibling crate (`gateway-app`, `gateway-store`, ...); it does no
//! I/O. The optional external `/v1/moderations` provider is not here.
//!
//! Entry points: [`GuardrailConfig`] (the `[guardrails]` config section; its `Default` is the
//! secure default), [`Guardrails::new`] and [`Guardrails::check_text`] for one policy,
//! [`StreamScanner`] for streams, [`GuardrailSet`] for per-tenant policies, and
//! [`PolicyGuardrail`], the adapter that plugs a [`GuardrailSet`] into the
//! `gateway-core` pipeline. The detectors are usable alone: [`InjectionDetector`],
//! [`PiiDetector`], [`ModerationMatcher`].

pub mod error;
pub mod guardrails;

pub use error::Error;
pub use guardrails::config::{
    GuardrailConfig, InjectionConfig, ModerationCategory, ModerationConfig, PiiConfig,
    StreamConfig, TenantGuardrailConfig,
};
pub use guardrails::engine::{Direction, Guardrails};
pub use guardrails::finding::{Action, Finding, Verdict};
pub use guardrails::injection::{Family, InjectionDetector, InjectionReport, Signal};
pub use guardrails::moderation::ModerationMatcher;
pub use guardrails::normalize::normalize;
pub use guardrails::pii::{Entity, PiiDetector, PiiMatch};
pub use guardrails::pipeline::PolicyGuardrail;
pub use guardrails::stream_scan::{ScanStep, StreamScanner};
pub use guardrails::tenants::GuardrailSet;
