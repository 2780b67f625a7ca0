//! Cache invalidation pushed between instances: a [`Change`] is published by the instance
//! that made it and delivered to every instance (itself included), which drops the cached
//! entries it names. The transport ([`ChangeFeed`]) lives in the crate that owns it (Redis
//! pub/sub in `gateway-cache`, PostgreSQL `LISTEN/NOTIFY` in `gateway-store`); what reacts
//! to a change ([`ChangeSink`]) lives with the cache (`gateway-auth`). No secret ever goes on
//! the channel: keys are named by their stored hash, which only the store and the gateway's
//! keyed hash can produce.

use std::fmt::Display;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::error::GatewayError;
use crate::principal::TenantId;

/// What changed. Small, and encoded as one short line on the wire (see [`Change::encode`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A key was created, updated, disabled, re-enabled or revoked; named by its stored hash
    /// (hex), never by its secret.
    Key { hash: String },
    /// A tenant was created, updated (limits, allow-lists), disabled or deleted.
    Tenant { tenant: TenantId },
    /// Anything may have changed: the feed (re)connected after a gap in which changes may have
    /// been missed, or the whole key set was replaced. Drop everything.
    All,
}

impl Change {
    /// `k:<hash>`, `t:<tenant>` or `*`.
    pub fn encode(&self) -> String {
        match self {
            Change::Key { hash } => format!("k:{hash}"),
            Change::Tenant { tenant } => format!("t:{}", tenant.as_str()),
            Change::All => "*".to_owned(),
        }
    }

    /// The inverse of [`Change::encode`]; `None` for anything else (ignored by subscribers:
    /// a newer instance may publish kinds this one does not know).
    pub fn decode(line: &str) -> Option<Change> {
        if line == "*" {
            return Some(Change::All);
        }
        match line.split_once(':')? {
            ("k", hash) if !hash.is_empty() && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
                Some(Change::Key {
                    hash: hash.to_owned(),
                })
            }
            ("t", tenant) if !tenant.is_empty() => Some(Change::Tenant {
                tenant: TenantId::new(tenant),
            }),
            _ => None,
        }
    }
}

/// Whatever drops cached state on a [`Change`] (the authentication caches).
#[async_trait]
pub trait ChangeSink: Send + Sync {
    async fn apply(&self, change: Change);
}

/// A channel shared by every instance of one deployment.
#[async_trait]
pub trait ChangeFeed: Send + Sync + std::fmt::Debug {
    /// Sends `change` to every subscribed instance. Best effort: an error is reported, and
    /// the caches' time to live bounds staleness when the channel is down.
    async fn publish(&self, change: &Change) -> Result<(), GatewayError>;

    /// Starts delivering every published change to `sink` in the background, for the life of
    /// the process. Lost connections are re-established with backoff; after each reconnection
    /// `sink` receives [`Change::All`], since changes may have been missed in between.
    fn subscribe(&self, sink: Arc<dyn ChangeSink>);
}

/// First and longest wait before a feed's subscription reconnects.
pub const RECONNECT_BACKOFF: (Duration, Duration) =
    (Duration::from_millis(100), Duration::from_secs(10));

/// The reconnect loop of every transport's subscription, for the life of the process:
/// `listen(resync)` runs one connection until it ends (`Ok`: the connection was lost after
/// it worked, so the backoff restarts) or fails (`Err`: the backoff doubles, up to
/// [`RECONNECT_BACKOFF`]'s longest). `resync` is false only on the first attempt: any later
/// one follows a gap in which changes may have been published unseen. `sleep` is the
/// runtime's (this crate owns no runtime): `tokio::time::sleep`.
pub async fn keep_listening<F, Fut, E, S, Wait>(channel: &str, mut listen: F, sleep: S)
where
    F: FnMut(bool) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Display,
    S: Fn(Duration) -> Wait,
    Wait: Future<Output = ()>,
{
    let (min, max) = RECONNECT_BACKOFF;
    let mut backoff = min;
    let mut resync = false;
    loop {
        let outcome = listen(resync).await;
        resync = true;
        match outcome {
            Ok(()) => {
                tracing::warn!(channel, "change feed connection lost; reconnecting");
                backoff = min;
            }
            Err(e) => {
                let retry_in_ms = u64::try_from(backoff.as_millis()).unwrap_or(u64::MAX);
                tracing::warn!(channel, error = %e, retry_in_ms, "change feed unavailable; caches fall back to their TTL");
            }
        }
        sleep(backoff).await;
        backoff = (backoff * 2).min(max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_round_trip_and_junk_is_ignored() {
        for c in [
            Change::Key {
                hash: "ab12".to_owned(),
            },
            Change::Tenant {
                tenant: TenantId::new("acme:eu"),
            },
            Change::All,
        ] {
            assert_eq!(Change::decode(&c.encode()), Some(c));
        }
        for junk in ["", "k:", "k:xyz", "t:", "x:1", "**", "k"] {
            assert_eq!(Change::decode(junk), None, "{junk}");
        }
    }
}
