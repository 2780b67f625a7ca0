//! The crate's error type. The request path never fails because of the cache: lookups and
//! fills that hit a [`CacheError`] are logged, counted and treated as a miss or a skipped fill.
//! Errors surface only where someone asked for them: building a cache from configuration and
//! administrative invalidation.

use gateway_core::GatewayError;

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The configuration cannot be used (e.g. the Redis backend without `redis_url`).
    #[error("invalid cache configuration: {0}")]
    Config(String),
    /// Redis could not be reached or answered with an error.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// Redis did not answer within the deadline (reconnecting included).
    #[error("redis: no answer within {0:?}")]
    Timeout(std::time::Duration),
    /// Redis failed moments ago: the call was skipped rather than waited on.
    #[error("redis: unavailable (failed moments ago; retried shortly)")]
    Unavailable,
    /// A stored value could not be encoded or decoded.
    #[error("cache entry encoding: {0}")]
    Encoding(#[from] serde_json::Error),
    /// A stored value has a format this build does not read (written by another version).
    #[error("cache entry format: {0}")]
    Format(String),
    /// A sealed entry could not be sealed or opened (e.g. its tenant's keys were destroyed).
    #[error("cache entry encryption: {0}")]
    Cipher(#[from] gateway_core::encryption::CipherError),
}

impl CacheError {
    /// Whether this is the operator's mistake (configuration) rather than an unavailable
    /// dependency.
    pub fn is_config(&self) -> bool {
        matches!(self, CacheError::Config(_))
    }
}

impl From<CacheError> for GatewayError {
    /// For the admin API: a configuration problem is the caller's; everything else means the
    /// shared cache is unavailable (503), without Redis' own wording.
    fn from(err: CacheError) -> Self {
        match err {
            CacheError::Config(message) => GatewayError::invalid(message),
            CacheError::Redis(_) | CacheError::Timeout(_) | CacheError::Unavailable => {
                GatewayError::Unavailable("The shared response cache is unavailable.".to_owned())
            }
            CacheError::Encoding(_) | CacheError::Format(_) | CacheError::Cipher(_) => {
                GatewayError::Internal("A cached response could not be read.".to_owned())
            }
        }
    }
}
