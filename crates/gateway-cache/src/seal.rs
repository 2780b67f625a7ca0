//! [`Sealer`]: what both backends store when encryption is on — the entry's JSON sealed with
//! the tenant's data key (a `gateway_core::encryption::ContentCipher`), its cache key bound
//! as authenticated data. A sealed entry that no longer opens (its tenant's keys were
//! destroyed, or it was moved to another key) is a miss, never an error for the caller.

use std::sync::Arc;

use gateway_core::encryption::ContentCipher;

use crate::entry::CachedResponse;
use crate::error::CacheError;
use crate::key::Key;

/// Encodes (and seals, with a cipher) entries. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub(crate) struct Sealer(Option<Arc<dyn ContentCipher>>);

impl Sealer {
    pub(crate) fn new(cipher: Option<Arc<dyn ContentCipher>>) -> Self {
        Sealer(cipher)
    }

    pub(crate) fn is_sealing(&self) -> bool {
        self.0.is_some()
    }

    /// The record id the ciphertext is bound to: model group and request hash (the tenant is
    /// bound separately by the cipher).
    fn record(key: &Key) -> String {
        format!("cache/{}/{}", key.model_group, hex::encode(key.hash))
    }

    pub(crate) async fn encode(
        &self,
        key: &Key,
        entry: &CachedResponse,
    ) -> Result<Vec<u8>, CacheError> {
        let bytes = entry.encode()?;
        match &self.0 {
            None => Ok(bytes),
            Some(c) => Ok(c.seal(&key.tenant, &Self::record(key), &bytes).await?),
        }
    }

    pub(crate) async fn decode(
        &self,
        key: &Key,
        bytes: &[u8],
    ) -> Result<CachedResponse, CacheError> {
        match &self.0 {
            None => CachedResponse::decode(bytes),
            Some(c) => {
                let plain = c.open(&key.tenant, &Self::record(key), bytes).await?;
                CachedResponse::decode(&plain)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use async_trait::async_trait;
    use gateway_core::TenantId;
    use gateway_core::encryption::CipherError;

    use super::*;
    use crate::memory::MemoryCache;
    use crate::testing::{request, response};

    /// A stand-in cipher (the real one is `gateway_store::Keyring`): "seals" by prefixing the
    /// tenant and record and reversing the bytes, and can be told its keys were destroyed.
    #[derive(Debug, Default)]
    struct Toy {
        shredded: AtomicBool,
    }

    #[async_trait]
    impl ContentCipher for Toy {
        async fn seal(&self, t: &TenantId, r: &str, p: &[u8]) -> Result<Vec<u8>, CipherError> {
            let mut out = format!("{t}|{r}|").into_bytes();
            out.extend(p.iter().rev());
            Ok(out)
        }

        async fn open(&self, t: &TenantId, r: &str, s: &[u8]) -> Result<Vec<u8>, CipherError> {
            if self.shredded.load(Ordering::Relaxed) {
                return Err(CipherError::Shredded);
            }
            let head = format!("{t}|{r}|").into_bytes();
            let body = s
                .strip_prefix(head.as_slice())
                .ok_or(CipherError::Corrupt)?;
            Ok(body.iter().rev().copied().collect())
        }

        fn key_version(&self, _: &[u8]) -> Option<u32> {
            Some(1)
        }
    }

    #[tokio::test]
    async fn sealed_memory_entries_open_and_become_misses_once_shredded() {
        let toy = Arc::new(Toy::default());
        let cache = MemoryCache::new(1 << 20).with_cipher(toy.clone());
        let key = Key::derive(&TenantId::new("acme"), "gpt", &request("hi"));
        let entry = CachedResponse::bare(response("the answer"));
        cache
            .put(&key, &entry, Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(cache.get(&key).await.unwrap(), Some(entry));
        // The same bytes under another tenant's key do not open.
        let sealer = Sealer::new(Some(toy.clone()));
        let bytes = sealer
            .encode(&key, &CachedResponse::bare(response("x")))
            .await
            .unwrap();
        let other = Key::derive(&TenantId::new("beta"), "gpt", &request("hi"));
        assert!(matches!(
            sealer.decode(&other, &bytes).await,
            Err(CacheError::Cipher(CipherError::Corrupt))
        ));
        toy.shredded.store(true, Ordering::Relaxed);
        assert_eq!(
            cache.get(&key).await.unwrap(),
            None,
            "a shredded entry is a miss"
        );
        cache.run_pending_tasks().await;
        assert_eq!(cache.stats().entries, 0, "and is dropped");
    }
}
