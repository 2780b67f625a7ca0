//! Test support: the mocked Kubernetes API server and the real gateway.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod fake_api;
pub mod gateway;

use std::sync::Arc;
use std::time::Duration;

use gateway_operator::Context;
use serde::de::DeserializeOwned;

pub use fake_api::{FakeApi, path_of};

/// A context over the fake API server.
pub fn context(client: kube::Client) -> Arc<Context> {
    let mut ctx = Context::new(client);
    ctx.resync = Duration::from_secs(30);
    Arc::new(ctx)
}

/// The object at `path`, typed.
pub fn fetch<K: DeserializeOwned>(fake: &FakeApi, path: &str) -> K {
    serde_json::from_value(
        fake.get(path)
            .unwrap_or_else(|| panic!("no object at {path}")),
    )
    .unwrap()
}
