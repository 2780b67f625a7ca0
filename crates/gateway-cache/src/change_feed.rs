//! [`RedisChangeFeed`]: the instances' [`ChangeFeed`] over Redis pub/sub. Publishing uses a
//! self-reconnecting multiplexed connection; subscribing holds one dedicated pub/sub
//! connection per process, re-established with exponential backoff after a loss (and then
//! every cached entry is dropped, since messages published meanwhile were lost).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
use gateway_core::GatewayError;
use gateway_core::change_feed::{Change, ChangeFeed, ChangeSink};
use redis::aio::ConnectionManager;

use crate::error::CacheError;
use crate::redis_store::connect_lazy;

/// Backoff between reconnection attempts of the subscriber: doubles up to the maximum.
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(10);

/// Redis pub/sub on one channel. Cheap to clone.
#[derive(Clone)]
pub struct RedisChangeFeed {
    client: redis::Client,
    conn: ConnectionManager,
    channel: Arc<str>,
    timeout: Duration,
}

impl std::fmt::Debug for RedisChangeFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisChangeFeed")
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

impl RedisChangeFeed {
    /// Connects lazily (a Redis down at start-up is retried like one lost later). Must be
    /// called inside a tokio runtime.
    pub fn new(url: &str, channel: &str, timeout: Duration) -> Result<Self, CacheError> {
        Ok(RedisChangeFeed {
            client: redis::Client::open(url)?,
            conn: connect_lazy(url, timeout, BACKOFF_MAX)?,
            channel: Arc::from(channel),
            timeout,
        })
    }

    /// Listens until the connection is lost; `Ok` only after a successful subscription.
    /// With `resync`, every cached entry is dropped once subscribed.
    async fn listen(&self, sink: &dyn ChangeSink, resync: bool) -> redis::RedisResult<()> {
        let mut pubsub = tokio::time::timeout(self.timeout, self.client.get_async_pubsub())
            .await
            .map_err(|_| {
                redis::RedisError::from(std::io::Error::from(std::io::ErrorKind::TimedOut))
            })??;
        pubsub.subscribe(&*self.channel).await?;
        if resync {
            sink.apply(Change::All).await;
        }
        let mut messages = pubsub.into_on_message();
        while let Some(msg) = messages.next().await {
            let Ok(payload) = msg.get_payload::<String>() else {
                continue;
            };
            if let Some(change) = Change::decode(&payload) {
                sink.apply(change).await;
            }
        }
        Ok(())
    }
}

#[async_trait]
impl ChangeFeed for RedisChangeFeed {
    async fn publish(&self, change: &Change) -> Result<(), GatewayError> {
        let mut conn = self.conn.clone();
        let mut cmd = redis::cmd("PUBLISH");
        cmd.arg(&*self.channel).arg(change.encode());
        let send = cmd.query_async::<i64>(&mut conn);
        match tokio::time::timeout(self.timeout, send).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(GatewayError::Unavailable(format!(
                "change feed publish failed: {e}"
            ))),
            Err(_) => Err(GatewayError::Unavailable(
                "change feed publish timed out".to_owned(),
            )),
        }
    }

    fn subscribe(&self, sink: Arc<dyn ChangeSink>) {
        let feed = self.clone();
        tokio::spawn(async move {
            let mut backoff = BACKOFF_MIN;
            // The first attempt needs no resync (nothing was cached before it); any later
            // one follows a gap in which changes may have been published unseen.
            let mut resync = false;
            loop {
                let outcome = feed.listen(sink.as_ref(), resync).await;
                resync = true;
                match outcome {
                    Ok(()) => {
                        tracing::warn!(channel = %feed.channel, "change feed connection lost; reconnecting");
                        backoff = BACKOFF_MIN;
                    }
                    Err(e) => {
                        tracing::warn!(channel = %feed.channel, error = %e, retry_in_ms = backoff.as_millis() as u64, "change feed unavailable; caches fall back to their TTL");
                    }
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
        });
    }
}
