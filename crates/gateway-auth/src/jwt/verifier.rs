//! [`JwtAuthenticator`]: selects the issuer by `iss`, checks the algorithm against that
//! issuer's allow-list, verifies the signature with a key of the same family, then `exp`,
//! `nbf`, `iss` and `aud` (with leeway), and maps the claims to a principal.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use gateway_core::phases::auth::Authenticator;
use gateway_core::store::TenantStore;
use gateway_core::{AuthMethod, GatewayError, GatewayRole, Principal, TenantId};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde_json::{Map, Value};

use crate::config::JwtIssuerConfig;
use crate::error::{AuthError, refuse};
use crate::jwt::claims::identity;
use crate::jwt::fetch::JwksFetcher;
use crate::jwt::keyset::{JwksSource, KeyEntry, inline_key};
use crate::tenants::{TenantGate, narrow};

/// Keys tried per token at most (a token without `kid` against a large key set).
const MAX_CANDIDATES: usize = 8;

struct Issuer {
    config: JwtIssuerConfig,
    inline: Vec<Arc<KeyEntry>>,
    jwks: Option<Arc<JwksSource>>,
    validations: HashMap<Algorithm, Validation>,
}

/// Verifies bearer JWTs from the configured issuers.
pub struct JwtAuthenticator {
    issuers: HashMap<String, Issuer>,
    tenants: Option<TenantGate>,
}

impl std::fmt::Debug for JwtAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtAuthenticator")
            .field("issuers", &self.issuers.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl JwtAuthenticator {
    /// `fetcher` serves the issuers with a `jwks_url` (e.g. [`crate::HttpJwksFetcher`]).
    pub fn new(
        issuers: &[JwtIssuerConfig],
        fetcher: Arc<dyn JwksFetcher>,
    ) -> Result<Self, AuthError> {
        let mut map = HashMap::new();
        for cfg in issuers {
            if let Some((path, message)) = cfg.problems().into_iter().next() {
                return Err(AuthError::Config(format!(
                    "issuer '{}': {path}: {message}",
                    cfg.issuer
                )));
            }
            let inline = cfg
                .keys
                .iter()
                .map(|k| inline_key(k).map(Arc::new))
                .collect::<Result<Vec<_>, _>>()?;
            let jwks = cfg.jwks_url.as_ref().map(|url| {
                Arc::new(JwksSource::new(
                    url.clone(),
                    fetcher.clone(),
                    Duration::from_secs(cfg.jwks_refresh_secs),
                    Duration::from_secs(cfg.jwks_min_refresh_secs),
                ))
            });
            let validations = cfg
                .algorithms
                .iter()
                .map(|alg| (*alg, validation(cfg, *alg)))
                .collect();
            let issuer = Issuer {
                config: cfg.clone(),
                inline,
                jwks,
                validations,
            };
            if map.insert(cfg.issuer.clone(), issuer).is_some() {
                return Err(AuthError::Config(format!(
                    "issuer '{}' is configured twice",
                    cfg.issuer
                )));
            }
        }
        Ok(JwtAuthenticator {
            issuers: map,
            tenants: None,
        })
    }

    /// Also require each token's tenant to exist and be enabled in `store` (cached for
    /// `ttl`), and narrow the token's models and regions by the tenant's — for the issuers
    /// with `require_registered_tenant` (the default).
    pub fn with_tenant_store(mut self, store: Arc<dyn TenantStore>, ttl: Duration) -> Self {
        self.tenants = Some(TenantGate::new(store, ttl, 10_000));
        self
    }

    /// Forgets the cached state of `tenant` (after a local tenant change), so that tokens of
    /// a tenant just disabled are refused at once on this instance, not within the TTL.
    pub async fn invalidate_tenant(&self, tenant: &TenantId) {
        if let Some(gate) = &self.tenants {
            gate.invalidate(tenant).await;
        }
    }

    /// Forgets every cached tenant (after the whole tenant set was replaced).
    pub fn invalidate_all_tenants(&self) {
        if let Some(gate) = &self.tenants {
            gate.invalidate_all();
        }
    }

    /// Like [`Authenticator::authenticate`], with the precise reason of a refusal (for
    /// audit and metrics; never for the caller).
    pub async fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        // `alg: none` (and any algorithm jsonwebtoken does not know) fails right here.
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Malformed)?;
        #[derive(serde::Deserialize)]
        struct Iss {
            iss: Option<String>,
        }
        // Only to pick the issuer; nothing else is trusted before the signature is checked.
        let iss = jsonwebtoken::dangerous::insecure_decode_claims::<Iss>(token)
            .map_err(|_| AuthError::Malformed)?
            .iss
            .ok_or_else(|| AuthError::MissingClaim("iss".to_owned()))?;
        let issuer = self.issuers.get(&iss).ok_or(AuthError::UnknownIssuer)?;
        let validation = issuer
            .validations
            .get(&header.alg)
            .ok_or(AuthError::AlgorithmNotAllowed)?;

        let kid = header.kid.as_deref();
        let mut candidates: Vec<Arc<KeyEntry>> = issuer
            .inline
            .iter()
            .filter(|k| k.matches_kid(kid))
            .cloned()
            .collect();
        if let Some(jwks) = &issuer.jwks
            && (candidates.is_empty() || kid.is_none())
        {
            candidates.extend(jwks.candidates(kid).await?);
        }
        candidates.retain(|k| k.accepts(header.alg));
        candidates.truncate(MAX_CANDIDATES);
        if candidates.is_empty() {
            return Err(AuthError::NoMatchingKey);
        }
        let mut last = AuthError::NoMatchingKey;
        for key in &candidates {
            match jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, validation) {
                Ok(data) => return self.principal(issuer, &data.claims).await,
                // Not this key: try the next.
                Err(e) if is_key_mismatch(e.kind()) => {
                    last = AuthError::InvalidToken(format!("{:?}", e.kind()))
                }
                // The signature verified but a claim did not (or the token is malformed).
                Err(e) => return Err(AuthError::InvalidToken(format!("{:?}", e.kind()))),
            }
        }
        Err(last)
    }

    async fn principal(
        &self,
        issuer: &Issuer,
        claims: &Map<String, Value>,
    ) -> Result<Principal, AuthError> {
        let id = identity(&issuer.config, claims)?;
        let gate = self
            .tenants
            .as_ref()
            .filter(|_| issuer.config.require_registered_tenant);
        let mut tenant_limits = None;
        let mut client_networks = None;
        let mut threat_intel_opt_out = false;
        let (models, regions) = match gate {
            Some(gate) => {
                let tenant = gate.admit(&id.tenant).await?;
                tenant_limits = Some(Arc::new(tenant.limits.clone()));
                client_networks = gateway_core::client_networks::ClientNetworks::from_lists(
                    None,
                    tenant.allowed_networks.as_deref(),
                );
                threat_intel_opt_out = tenant.threat_intel_opt_out;
                (
                    narrow(tenant.allowed_models.as_deref(), id.models.as_deref()),
                    narrow(tenant.allowed_regions.as_deref(), id.regions.as_deref()),
                )
            }
            None => (id.models, id.regions),
        };
        Ok(Principal {
            tenant: id.tenant,
            subject: Arc::from(id.subject),
            roles: Arc::from(id.roles.as_slice()) as Arc<[GatewayRole]>,
            allowed_models: models.map(Arc::from),
            allowed_regions: regions.map(Arc::from),
            method: AuthMethod::Jwt,
            key_limits: None,
            tenant_limits,
            client_networks,
            threat_intel_opt_out,
        })
    }
}

fn validation(cfg: &JwtIssuerConfig, alg: Algorithm) -> Validation {
    let mut v = Validation::new(alg);
    v.leeway = cfg.leeway_secs;
    v.validate_exp = true;
    v.validate_nbf = true;
    v.validate_aud = true;
    v.set_issuer(&[&cfg.issuer]);
    v.set_audience(&cfg.audiences);
    v.set_required_spec_claims(&["exp", "iss", "aud"]);
    v
}

fn is_key_mismatch(kind: &ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::InvalidSignature
            | ErrorKind::InvalidKeyFormat
            | ErrorKind::InvalidRsaKey(_)
            | ErrorKind::InvalidEcdsaKey
            | ErrorKind::InvalidEddsaKey
    )
}

#[async_trait]
impl Authenticator for JwtAuthenticator {
    async fn authenticate(&self, token: &str) -> Result<Principal, GatewayError> {
        self.verify(token).await.map_err(refuse)
    }
}
