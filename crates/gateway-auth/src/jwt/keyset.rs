//! Verification keys: inline keys from the configuration, and a JWKS fetched from a URL,
//! cached, re-fetched when stale or when a token names an unknown `kid` — at most once per
//! `jwks_min_refresh_secs`, so a stream of forged `kid`s cannot turn into a stream of fetches.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use arc_swap::ArcSwap;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey};
use tokio::time::Instant;

use crate::config::JwtKeyConfig;
use crate::error::AuthError;
use crate::jwt::fetch::JwksFetcher;

/// Upper bound on one JWKS fetch.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// One verification key.
pub(crate) struct KeyEntry {
    pub kid: Option<String>,
    /// When the key is pinned to one algorithm (inline keys always; JWKS keys with `alg`).
    pub alg: Option<Algorithm>,
    pub key: DecodingKey,
}

impl KeyEntry {
    /// Whether this key may verify a token signed with `alg`: same family (no HS/RS confusion)
    /// and, when pinned, the same algorithm.
    pub(crate) fn accepts(&self, alg: Algorithm) -> bool {
        self.key.family() == alg.family() && self.alg.is_none_or(|a| a == alg)
    }

    /// A key without `kid` matches any token; a token without `kid` matches any key.
    pub(crate) fn matches_kid(&self, kid: Option<&str>) -> bool {
        match (self.kid.as_deref(), kid) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        }
    }
}

pub(crate) fn decoding_key_from_pem(alg: Algorithm, pem: &str) -> Result<DecodingKey, String> {
    let bytes = pem.as_bytes();
    let key = match alg.family() {
        AlgorithmFamily::Rsa => DecodingKey::from_rsa_pem(bytes),
        AlgorithmFamily::Ec => DecodingKey::from_ec_pem(bytes),
        AlgorithmFamily::Ed => DecodingKey::from_ed_pem(bytes),
        AlgorithmFamily::Hmac => return Err("HMAC keys are secrets, not PEM".to_owned()),
    };
    key.map_err(|e| {
        format!(
            "public_key_pem is not a valid {:?} public key: {e}",
            alg.family()
        )
    })
}

pub(crate) fn inline_key(cfg: &JwtKeyConfig) -> Result<KeyEntry, AuthError> {
    cfg.check().map_err(AuthError::Config)?;
    let key = match (&cfg.secret, &cfg.public_key_pem) {
        (Some(secret), _) => DecodingKey::from_secret(secret.expose().as_bytes()),
        (None, Some(pem)) => {
            decoding_key_from_pem(cfg.algorithm, pem).map_err(AuthError::Config)?
        }
        (None, None) => return Err(AuthError::Config("key has no material".to_owned())),
    };
    Ok(KeyEntry {
        kid: cfg.kid.clone(),
        alg: Some(cfg.algorithm),
        key,
    })
}

/// The usable signing keys of a JWKS document. Symmetric (`oct`) and encryption keys are
/// skipped: a published key set must never yield an HMAC secret.
pub(crate) fn parse_jwks(text: &str) -> Result<Vec<Arc<KeyEntry>>, AuthError> {
    #[derive(serde::Deserialize)]
    struct Doc {
        keys: Vec<serde_json::Value>,
    }
    let doc: Doc = serde_json::from_str(text)
        .map_err(|e| AuthError::Jwks(format!("not a JWKS document: {e}")))?;
    let entries = doc
        .keys
        .into_iter()
        .filter_map(|v| serde_json::from_value::<Jwk>(v).ok())
        .filter(|jwk| !matches!(jwk.algorithm, AlgorithmParameters::OctetKey(_)))
        .filter(|jwk| jwk.common.public_key_use != Some(PublicKeyUse::Encryption))
        .filter_map(|jwk| {
            let key = DecodingKey::from_jwk(&jwk).ok()?;
            let alg = jwk
                .common
                .key_algorithm
                .and_then(|a| Algorithm::try_from(a).ok());
            Some(Arc::new(KeyEntry {
                kid: jwk.common.key_id.clone(),
                alg,
                key,
            }))
        })
        .collect();
    Ok(entries)
}

struct JwksState {
    keys: Vec<Arc<KeyEntry>>,
    fetched_at: Option<Instant>,
    attempted_at: Option<Instant>,
}

/// A JWKS URL and what was last fetched from it.
pub(crate) struct JwksSource {
    url: String,
    fetcher: Arc<dyn JwksFetcher>,
    state: ArcSwap<JwksState>,
    refresh_lock: tokio::sync::Mutex<()>,
    /// A background refresh is under way (at most one is spawned at a time).
    refreshing: AtomicBool,
    max_age: Duration,
    min_interval: Duration,
}

impl JwksSource {
    pub(crate) fn new(
        url: String,
        fetcher: Arc<dyn JwksFetcher>,
        max_age: Duration,
        min_interval: Duration,
    ) -> Self {
        let empty = JwksState {
            keys: Vec::new(),
            fetched_at: None,
            attempted_at: None,
        };
        JwksSource {
            url,
            fetcher,
            state: ArcSwap::from_pointee(empty),
            refresh_lock: tokio::sync::Mutex::new(()),
            refreshing: AtomicBool::new(false),
            max_age,
            min_interval,
        }
    }

    /// Keys that may match `kid`: fetched on first use, refreshed in the background when
    /// stale, and re-fetched (rate-limited) when `kid` is unknown.
    pub(crate) async fn candidates(
        self: &Arc<Self>,
        kid: Option<&str>,
    ) -> Result<Vec<Arc<KeyEntry>>, AuthError> {
        let mut state = self.state.load_full();
        match state.fetched_at {
            None => state = self.refresh().await?,
            Some(at) if at.elapsed() >= self.max_age => self.refresh_in_background(),
            Some(_) => {}
        }
        let pick = |s: &JwksState| {
            s.keys
                .iter()
                .filter(|k| k.matches_kid(kid))
                .cloned()
                .collect::<Vec<_>>()
        };
        let found = pick(&state);
        if !found.is_empty() || kid.is_none() {
            return Ok(found);
        }
        // Unknown kid: the issuer may have rotated its keys.
        let state = self.refresh().await?;
        Ok(pick(&state))
    }

    fn refresh_in_background(self: &Arc<Self>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if self.refreshing.swap(true, Ordering::AcqRel) {
            return;
        }
        let this = self.clone();
        runtime.spawn(async move {
            let _ = this.refresh().await;
            this.refreshing.store(false, Ordering::Release);
        });
    }

    /// Fetches unless a fetch was attempted within `min_interval`. A failed fetch keeps the
    /// keys already known; it is an error only when none are known.
    async fn refresh(&self) -> Result<Arc<JwksState>, AuthError> {
        let _single_flight = self.refresh_lock.lock().await;
        let current = self.state.load_full();
        if current
            .attempted_at
            .is_some_and(|at| at.elapsed() < self.min_interval)
        {
            return if current.fetched_at.is_some() {
                Ok(current)
            } else {
                Err(AuthError::Jwks(format!(
                    "{}: no keys yet; next fetch attempt is rate-limited",
                    self.url
                )))
            };
        }
        let now = Instant::now();
        let fetched = match tokio::time::timeout(FETCH_TIMEOUT, self.fetcher.fetch(&self.url)).await
        {
            Ok(Ok(text)) => parse_jwks(&text),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(AuthError::Jwks(format!("GET {}: timed out", self.url))),
        };
        let next = match fetched {
            Ok(keys) => {
                tracing::info!(url = %self.url, keys = keys.len(), "JWKS fetched");
                JwksState {
                    keys,
                    fetched_at: Some(now),
                    attempted_at: Some(now),
                }
            }
            Err(e) => {
                tracing::warn!(url = %self.url, error = %e, "JWKS fetch failed");
                if current.fetched_at.is_none() {
                    self.state.store(Arc::new(JwksState {
                        keys: Vec::new(),
                        fetched_at: None,
                        attempted_at: Some(now),
                    }));
                    return Err(e);
                }
                JwksState {
                    keys: current.keys.clone(),
                    fetched_at: current.fetched_at,
                    attempted_at: Some(now),
                }
            }
        };
        let next = Arc::new(next);
        self.state.store(next.clone());
        Ok(next)
    }
}
