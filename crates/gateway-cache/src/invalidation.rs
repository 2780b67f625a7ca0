//! Invalidation across instances: an instance that invalidates publishes the scope on the Redis
//! channel `{prefix}invalidate`; every instance with an in-process cache listens and applies it.
//! A listener that loses its subscription clears its whole cache once it is back, since it may
//! have missed messages meanwhile: a stale answer is worse than a cold cache.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::ConnectionManager;

use crate::backend::CacheBackend;
use crate::entry::Invalidation;
use crate::error::CacheError;

/// How often an idle subscription is checked with `PING` (a silent peer is a dead peer).
const PING_EVERY: Duration = Duration::from_secs(30);
const PING_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The pub/sub channel of invalidations for `prefix`.
pub fn invalidation_channel(prefix: &str) -> String {
    format!("{prefix}invalidate")
}

/// Publishes invalidations to the other instances.
#[derive(Clone)]
pub struct InvalidationBus {
    conn: ConnectionManager,
    channel: Arc<str>,
    timeout: Duration,
}

impl std::fmt::Debug for InvalidationBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InvalidationBus")
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

impl InvalidationBus {
    /// A bus over `url` that dials on first use (a Redis that is down at start-up is not an
    /// error here). Must be called inside a tokio runtime.
    pub fn new(url: &str, prefix: &str, timeout: Duration) -> Result<Self, CacheError> {
        let conn = crate::redis_store::connect_lazy(
            url,
            timeout,
            crate::redis_store::DEFAULT_RETRY_INTERVAL,
        )?;
        Ok(InvalidationBus {
            conn,
            channel: Arc::from(invalidation_channel(prefix)),
            timeout,
        })
    }

    /// Publish `scope` (connecting included, within the timeout); returns how many
    /// listeners received it.
    pub async fn publish(&self, scope: &Invalidation) -> Result<u64, CacheError> {
        let payload = serde_json::to_vec(scope)?;
        let mut conn = self.conn.clone();
        let mut cmd = redis::cmd("PUBLISH");
        cmd.arg(&*self.channel).arg(payload);
        let publish = cmd.query_async::<u64>(&mut conn);
        match tokio::time::timeout(self.timeout, publish).await {
            Ok(receivers) => Ok(receivers?),
            Err(_) => Err(CacheError::Timeout(self.timeout)),
        }
    }
}

/// The running listener; dropping it stops listening.
#[derive(Debug)]
pub struct InvalidationListener {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for InvalidationListener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Subscribe to the invalidations published for `prefix` and apply them to `cache`. Returns
/// once subscribed (so nothing published afterwards is missed) or, when Redis cannot be
/// reached now, at once with the subscription retried in the background (its cache is
/// cleared when it succeeds, as after any lost subscription). Fails only for a bad URL.
pub async fn spawn_invalidation_listener(
    redis_url: &str,
    prefix: &str,
    cache: Arc<dyn CacheBackend>,
) -> Result<InvalidationListener, CacheError> {
    let client = redis::Client::open(redis_url)?;
    let channel = invalidation_channel(prefix);
    let first = match subscribe(&client, &channel).await {
        Ok(pubsub) => Some(pubsub),
        Err(err) => {
            tracing::warn!(%channel, error = %err, "cache invalidation channel unreachable at start; retrying in the background");
            None
        }
    };
    let task = tokio::spawn(listen(client, channel, cache, first));
    Ok(InvalidationListener { task })
}

async fn subscribe(
    client: &redis::Client,
    channel: &str,
) -> Result<redis::aio::PubSub, CacheError> {
    let connecting = async {
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(channel).await?;
        Ok::<_, CacheError>(pubsub)
    };
    match tokio::time::timeout(PING_TIMEOUT, connecting).await {
        Ok(result) => result,
        Err(_) => Err(CacheError::Redis(redis::RedisError::from((
            redis::ErrorKind::Io,
            "timed out subscribing to the invalidation channel",
        )))),
    }
}

async fn listen(
    client: redis::Client,
    channel: String,
    cache: Arc<dyn CacheBackend>,
    first: Option<redis::aio::PubSub>,
) {
    let mut next = first;
    let mut backoff = Duration::from_secs(1);
    loop {
        let pubsub = match next.take() {
            Some(pubsub) => pubsub,
            None => match subscribe(&client, &channel).await {
                Ok(pubsub) => {
                    backoff = Duration::from_secs(1);
                    tracing::warn!(
                        %channel,
                        "cache invalidation subscription restored; clearing the local cache \
                         in case invalidations were missed"
                    );
                    apply(cache.as_ref(), &Invalidation::All).await;
                    pubsub
                }
                Err(err) => {
                    tracing::warn!(%channel, error = %err, "cache invalidation subscription failed; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
            },
        };
        receive(pubsub, cache.as_ref()).await;
        tracing::warn!(%channel, "cache invalidation subscription lost; reconnecting");
    }
}

/// Apply messages until the subscription ends or stops answering pings.
async fn receive(pubsub: redis::aio::PubSub, cache: &dyn CacheBackend) {
    let (mut sink, mut messages) = pubsub.split();
    let mut ticker = tokio::time::interval(PING_EVERY);
    ticker.tick().await;
    loop {
        tokio::select! {
            msg = messages.next() => {
                let Some(msg) = msg else { return };
                match serde_json::from_slice::<Invalidation>(msg.get_payload_bytes()) {
                    Ok(scope) => apply(cache, &scope).await,
                    Err(err) => tracing::warn!(error = %err, "ignoring a malformed cache invalidation message"),
                }
            }
            _ = ticker.tick() => {
                let ping = tokio::time::timeout(PING_TIMEOUT, sink.ping::<redis::Value>()).await;
                if !matches!(ping, Ok(Ok(_))) {
                    return;
                }
            }
        }
    }
}

async fn apply(cache: &dyn CacheBackend, scope: &Invalidation) {
    match cache.invalidate(scope).await {
        Ok(removed) => tracing::debug!(?scope, removed, "applied a cache invalidation"),
        Err(err) => tracing::warn!(?scope, error = %err, "could not apply a cache invalidation"),
    }
}
