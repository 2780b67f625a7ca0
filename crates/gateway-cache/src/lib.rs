//! `gateway-cache`: the response cache of the pipeline (phase 6).
//!
//! It will own exact-match cache keys (tenant, model group, normalised request — never
//! credentials), an in-process moka backend bounded by bytes and a shared Redis backend, both
//! implementing [`gateway_core::phases::cache::ResponseCache`], and stream replay of cached
//! answers. It depends only on `gateway-core`. Not yet implemented: no cache is wired into the
//! pipeline, so every request goes upstream.

pub use gateway_core::phases::cache::{CacheKey, ResponseCache};
