//! Wiring of the cross-instance change feed (`[auth.change_feed]`): Redis pub/sub when a
//! Redis URL is known (`auth.change_feed.redis_url`, else `cache.redis_url`), PostgreSQL
//! `LISTEN`/`NOTIFY` when the store is PostgreSQL, none otherwise (SQLite and the signed
//! file serve one process). Key and tenant changes made through the admin API are published
//! there, and every instance drops the cached verdicts they name.

use std::sync::Arc;
use std::time::Duration;

use gateway_auth::AuthStack;
use gateway_cache::RedisChangeFeed;
use gateway_core::change_feed::ChangeFeed;
use gateway_store::SqlStore;

use crate::config::Config;
use crate::error::AppError;

/// Bound on one publish to Redis (the change itself is already stored when it runs).
const REDIS_TIMEOUT: Duration = Duration::from_secs(2);

/// `auth` with the configured feed attached (and subscribed), or unchanged without one.
pub(crate) fn attach(
    config: &Config,
    sql: Option<&SqlStore>,
    auth: AuthStack,
) -> Result<AuthStack, AppError> {
    let settings = &config.auth.change_feed;
    if !settings.enabled || auth.api_keys.is_none() && auth.jwt.is_none() {
        return Ok(auth);
    }
    let redis_url = settings
        .redis_url
        .as_ref()
        .map(|s| s.expose().as_str())
        .or(config.cache.redis_url.as_deref());
    let feed: Arc<dyn ChangeFeed> = if let Some(url) = redis_url {
        Arc::new(
            RedisChangeFeed::new(url, &settings.channel, REDIS_TIMEOUT)
                .map_err(|e| AppError::startup("auth.change_feed", e))?,
        )
    } else if let Some(pg) = sql.and_then(|s| s.change_feed(&settings.channel)) {
        Arc::new(pg)
    } else {
        return Ok(auth);
    };
    tracing::info!(feed = ?feed, "cache invalidations are pushed between instances");
    Ok(auth.with_change_feed(feed))
}
