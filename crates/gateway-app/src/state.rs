//! The application state: the assembled pipeline plus what the edge needs from the config.
//! This is the one documented place where phases are put together.

use std::sync::Arc;
use std::time::Duration;

use gateway_auth::{AuthStack, NewApiKey};
use gateway_core::store::{Store, Tenant};
use gateway_core::{Gateway, Secret, TenantId};
use gateway_providers::{
    Deployment, HttpClient, ModelGroup, ModelRouter, ProviderRegistry, ProviderSpec, Timeouts,
};
use gateway_store::{SignedFileStore, SqlStore};

use crate::config::{Config, ProviderConfig};
use crate::error::AppError;

pub struct AppState {
    pub gateway: Arc<Gateway>,
    pub router: Arc<ModelRouter>,
    pub providers: Vec<String>,
    pub store: Arc<dyn Store>,
    /// The concrete store, kept to close it on shutdown or reload it with the configuration.
    backing: Backing,
    /// Stored Responses API answers, in the SQL store (`None` in the edge profile, which has
    /// no database: responses are then answered but not stored).
    pub responses: Option<crate::responses_retention::StoredResponses>,
    /// `[responses]`: how stored responses are kept.
    pub responses_config: crate::config::ResponsesConfig,
    pub auth: AuthStack,
    pub admin_token: Option<Secret<String>>,
    /// The response cache, when enabled (the admin API invalidates through it).
    pub cache: Option<Arc<gateway_cache::Cache>>,
    /// The limits phase (its `stats()` feed metrics).
    pub limiter: gateway_policy::Limiter,
    /// The guardrails of every tenant (`POST /v1/guardrails/check` runs them).
    pub guardrails: gateway_policy::GuardrailSet,
    /// The custom Rego policy of `[policies]`, if any (the edge captures its headers).
    pub policy: Option<Arc<gateway_policy::CustomPolicy>>,
    /// Metrics, usage and audit writers, prices: flush it on shutdown before `close`.
    pub telemetry: Arc<gateway_telemetry::Telemetry>,
    /// The public model `POST /query` calls.
    pub query_model: Option<String>,
    pub max_body_bytes: usize,
    pub body_timeout: Duration,
    pub request_timeout: Duration,
    /// The web console's settings (`[ui]`).
    pub ui: crate::config::UiConfig,
    /// The Files API's metadata and bytes; `None` on the signed-file store.
    pub files: Option<crate::files::Files>,
    /// Webhook endpoints, events and their delivery; `None` on the signed-file store.
    pub webhooks: Option<crate::webhooks::Webhooks>,
    /// Asynchronous single calls (`Prefer: respond-async`); `None` on the signed-file store,
    /// where the preference is ignored and calls are answered synchronously.
    pub async_calls: Option<crate::async_calls::AsyncCalls>,
    /// Backups of the SQL store, when `[backup] key` is set.
    pub backups: Option<crate::backups::Backups>,
    /// The per-tenant data keys, when `[encryption] kek` is set (the admin API rotates and
    /// shreds through it).
    pub keyring: Option<Arc<gateway_store::Keyring>>,
    /// `[encryption] passthrough_tenants`: content never stored, logged or cached for them.
    pub passthrough_tenants: Arc<[String]>,
    /// The configuration this state was built from, secrets redacted (`GET /admin/v1/config`).
    pub config_view: ConfigView,
    /// The threat-intelligence feeds in force (`[threat_intel]`).
    pub threat_intel: crate::threat_intel::ThreatIntelFeeds,
    /// Behavioural anomaly detection (`[anomaly]`): the counters the edge and the usage sink
    /// feed, the recent anomalies, the watcher task.
    pub anomalies: crate::anomaly::Anomalies,
    /// The routing bandit's link to the store (kept across reloads).
    pub bandit: crate::routing_bandit::RoutingBandit,
    /// Whose forwarding headers name the client (`[server] trusted_proxies`).
    pub trusted_proxies: gateway_core::client_address::TrustedProxies,
    /// The optional LLM judge of quality scoring (`[quality.judge]`).
    pub judge: Option<crate::quality_judge::Judge>,
    /// The `[server]` section the process started with (a reload keeps it).
    server: crate::config::ServerConfig,
}

/// A configuration as the admin API shows it: every field, with every secret redacted.
#[derive(Debug, Clone)]
pub struct ConfigView {
    pub text: Arc<str>,
    pub loaded_at: std::time::SystemTime,
}

impl ConfigView {
    /// `Secret` fields print as redacted already; the secrets the log mask knows (URL
    /// passwords, credential headers) are taken out of the text as well.
    pub fn of(config: &Config) -> Self {
        let mut text = format!("{config:#?}");
        for secret in crate::log_secrets::secrets(config) {
            if !secret.is_empty() {
                text = text.replace(&secret, "[redacted]");
            }
        }
        ConfigView {
            text: Arc::from(text),
            loaded_at: std::time::SystemTime::now(),
        }
    }
}

/// The concrete store behind [`AppState::store`].
#[derive(Clone)]
enum Backing {
    /// SQLite or PostgreSQL.
    Sql(Arc<SqlStore>),
    /// The edge profile: tenants and keys from a signed file, re-read on reload.
    SignedFile(Arc<SignedFileStore>),
}

/// What lives as long as the process: kept across configuration reloads.
struct Lasting {
    backing: Backing,
    store: Arc<dyn Store>,
    responses: Option<crate::responses_retention::StoredResponses>,
    auth: AuthStack,
    cache: Option<Arc<gateway_cache::Cache>>,
    telemetry: Arc<gateway_telemetry::Telemetry>,
    limiter: gateway_policy::Limiter,
    admin_token: Option<Secret<String>>,
    server: crate::config::ServerConfig,
    files: Option<crate::files::Files>,
    webhooks: Option<crate::webhooks::Webhooks>,
    async_calls: Option<crate::async_calls::AsyncCalls>,
    backups: Option<crate::backups::Backups>,
    keyring: Option<Arc<gateway_store::Keyring>>,
    threat_intel: crate::threat_intel::ThreatIntelFeeds,
    anomalies: crate::anomaly::Anomalies,
    bandit: crate::routing_bandit::RoutingBandit,
    judge: Option<crate::quality_judge::Judge>,
}

impl Lasting {
    /// Routes, guardrails and policies from `config`, over the lasting parts: the one place
    /// where the pipeline's phases are put together.
    fn assemble(self, config: &Config) -> Result<AppState, AppError> {
        crate::log_secrets::register(config);
        let client = HttpClient::new(Duration::from_millis(crate::config::DEFAULT_CONNECT_MS))
            .map_err(|e| AppError::startup("HTTP client", e))?;
        let kinds = gateway_providers::factory::registry();
        let mut providers = std::collections::BTreeMap::new();
        for (name, p) in &config.providers {
            providers.insert(name.clone(), build_provider(&kinds, name, p, &client)?);
        }
        let groups = config.models.iter().map(|(name, m)| {
            let deployments = m
                .all_deployments()
                .into_iter()
                .filter_map(|d| {
                    let provider = providers.get(&d.provider)?.clone();
                    let deployment = Deployment::new(provider, &d.upstream_model)
                        .with_weight(d.weight)
                        .with_priority(d.priority);
                    Some(match &d.region {
                        Some(region) => deployment.with_region(region),
                        None => deployment,
                    })
                })
                .collect();
            ModelGroup::new(name.clone(), deployments)
                .with_routing(m.routing.clone())
                .with_unsupported_params(m.unsupported_params)
        });
        let mut router = ModelRouter::new(groups);
        if let Some(hooks) = &self.webhooks {
            router = router.with_circuit_observer(hooks.circuit.clone());
        }
        let router = Arc::new(router);
        let guardrails = gateway_policy::PolicyGuardrail::from_config(&config.guardrails)
            .map_err(|e| AppError::startup("guardrails", e))?;
        let guardrail_set = guardrails.set().clone();
        let policy = build_policy(config, &guardrail_set)?;
        let (routed, bandit) = with_prompt_routing(config, &router, &*self.telemetry.cost_model())?;
        let mut sink = self.anomalies.sink(self.telemetry.clone());
        if bandit.is_some() {
            sink = self.bandit.sink(sink);
        }
        self.bandit.install(bandit);
        let mut builder = Gateway::builder(routed)
            .authenticator(self.auth.authenticator.clone())
            .admission(Arc::new(self.limiter.clone()))
            .guardrail(Arc::new(guardrails))
            .usage_sink(sink)
            .cost_model(self.telemetry.cost_model())
            .quality_scorer(Arc::new(
                gateway_policy::HeuristicScorer::new()
                    .map_err(|e| AppError::startup("quality scorer", e))?,
            ));
        if let Some(cache) = &self.cache {
            builder = builder.cache(cache.clone());
        }
        if let Some(judge) = &self.judge {
            builder = builder.quality_judge(judge.sampler());
        }
        if let Some(keyring) = &self.keyring {
            builder = builder.content_log(Arc::new(
                crate::encryption::content_log::SealedContentLog::new(keyring.clone()),
            ));
        }
        if let Some(policy) = &policy {
            builder = builder.policy(policy.clone());
        }
        if !config.threat_intel.feeds.is_empty() {
            builder = builder.guardrail(Arc::new(
                gateway_policy::threat_intel::ThreatIntelGuardrail::new(
                    self.threat_intel.intel().clone(),
                ),
            ));
        }
        if let Some(api) = &config.guardrails.moderation_api {
            let transport = Arc::new(ModerationHttp {
                client: client.clone(),
            });
            let external = gateway_policy::guardrails::external::ExternalModeration::new(
                api.clone(),
                transport,
            );
            builder = builder.async_guardrail(Arc::new(external));
        }
        let server = self.server;
        let trusted_proxies =
            gateway_core::client_address::TrustedProxies::parse(&server.trusted_proxies)
                .map_err(|e| AppError::startup("server.trusted_proxies", e))?
                .with_header(server.forwarded_header);
        let gateway = Arc::new(builder.build());
        if let Some(judge) = &self.judge {
            judge.attach(&gateway);
        }
        Ok(AppState {
            trusted_proxies,
            threat_intel: self.threat_intel,
            anomalies: self.anomalies,
            bandit: self.bandit,
            judge: self.judge,
            gateway,
            router,
            providers: providers.keys().cloned().collect(),
            store: self.store,
            backing: self.backing,
            responses: self.responses,
            responses_config: config.responses.clone(),
            auth: self.auth,
            admin_token: self.admin_token,
            cache: self.cache,
            limiter: self.limiter,
            guardrails: guardrail_set,
            policy,
            telemetry: self.telemetry,
            query_model: config.query_model(),
            max_body_bytes: server.max_body_bytes,
            body_timeout: Duration::from_secs(server.body_timeout_secs),
            request_timeout: Duration::from_secs(server.request_timeout_secs),
            ui: config.ui,
            files: self.files,
            webhooks: self.webhooks,
            async_calls: self.async_calls,
            backups: self.backups,
            keyring: self.keyring,
            passthrough_tenants: config.encryption.passthrough_tenants.clone().into(),
            config_view: ConfigView::of(config),
            server,
        })
    }
}

/// The router the pipeline calls.
type Routed = Arc<dyn gateway_core::phases::route::Router>;

/// The router the pipeline calls: with `[prompt_routing]`, the virtual model in front of the
/// model router (its rules were compiled by validation already; compiled again here), its
/// candidates priced by the price table; and its bandit, if configured.
fn with_prompt_routing(
    config: &Config,
    router: &Arc<ModelRouter>,
    costs: &dyn gateway_core::phases::account::CostModel,
) -> Result<(Routed, Option<Arc<gateway_providers::auto::Bandit>>), AppError> {
    let Some(routing) = &config.prompt_routing else {
        return Ok((router.clone(), None));
    };
    let compiled = routing
        .compile("prompt_routing", &|m| config.models.contains_key(m))
        .map_err(|problems| {
            let text: Vec<String> = problems.iter().map(|(p, m)| format!("{p}: {m}")).collect();
            AppError::startup("prompt_routing", text.join("; "))
        })?;
    let classifier = gateway_policy::LocalClassifier::new()
        .map_err(|e| AppError::startup("prompt classifier", e))?;
    let bandit = compiled.bandit().cloned();
    // USD per million input and output tokens of a group's first deployment.
    let price_of = |model: &str| {
        let d = config
            .models
            .get(model)?
            .all_deployments()
            .into_iter()
            .next()?;
        let per_million = |prompt, completion| {
            let usage = gateway_core::types::Usage {
                prompt_tokens: prompt,
                completion_tokens: completion,
                total_tokens: prompt + completion,
                ..Default::default()
            };
            costs.cost_usd(&d.provider, &d.upstream_model, &usage)
        };
        Some((per_million(1_000_000, 0)?, per_million(0, 1_000_000)?))
    };
    let auto =
        gateway_providers::auto::AutoRouter::new(router.clone(), Arc::new(classifier), compiled)
            .with_prices(&price_of);
    Ok((Arc::new(auto), bandit))
}

impl AppState {
    /// Connect the configured store (creating the data directory for SQLite) and build; with
    /// `[store.signed_file]` (the edge profile), verify and load that file instead.
    pub async fn build(config: &Config) -> Result<Arc<AppState>, AppError> {
        if let Some(file) = &config.store.signed_file {
            let store = SignedFileStore::open(file)
                .map_err(|e| AppError::startup("store.signed_file", e))?;
            return AppState::build_over(config, Backing::SignedFile(Arc::new(store))).await;
        }
        if config.store.database_url.is_none() {
            std::fs::create_dir_all(&config.server.data_dir).map_err(|e| {
                AppError::startup(
                    format!(
                        "cannot create data_dir {}",
                        config.server.data_dir.display()
                    ),
                    e,
                )
            })?;
        }
        let store = SqlStore::from_config(&config.store, &config.server.data_dir)
            .await
            .map_err(|e| AppError::startup("store", e))?;
        AppState::build_with_store(config, store).await
    }

    /// Build over an in-memory store that keeps nothing on disk (`--demo`, tests).
    pub async fn build_in_memory(config: &Config) -> Result<Arc<AppState>, AppError> {
        let store = SqlStore::connect("sqlite::memory:")
            .await
            .map_err(|e| AppError::startup("store", e))?;
        AppState::build_with_store(config, store).await
    }

    /// Build the pipeline from a validated configuration over an already connected store.
    pub async fn build_with_store(
        config: &Config,
        sql: SqlStore,
    ) -> Result<Arc<AppState>, AppError> {
        AppState::build_over(config, Backing::Sql(Arc::new(sql))).await
    }

    async fn build_over(config: &Config, backing: Backing) -> Result<Arc<AppState>, AppError> {
        let (store, audit_store): (Arc<dyn Store>, Option<Arc<dyn Store>>) = match &backing {
            Backing::Sql(sql) => (sql.clone(), Some(sql.clone())),
            // The signed file keeps no audit log: events go to the audit file, if any.
            Backing::SignedFile(file) => (file.clone(), None),
        };
        let auth = AuthStack::build(&config.auth, Some(store.clone()))
            .map_err(|e| AppError::startup("auth", e))?;
        let sql = match &backing {
            Backing::Sql(sql) => Some(sql.as_ref()),
            Backing::SignedFile(_) => None,
        };
        let auth = crate::change_feed::attach(config, sql, auth)?;
        let keyring = crate::encryption::keyring(config, sql)?;
        let cipher = keyring
            .clone()
            .map(|k| k as Arc<dyn gateway_core::encryption::ContentCipher>);
        let cache = gateway_cache::Cache::from_config_sealed(&config.cache, cipher.clone())
            .await
            .map_err(|e| AppError::startup("cache", e))?;
        let telemetry = gateway_telemetry::Telemetry::start(
            &config.telemetry,
            store.clone(),
            audit_store.map(|s| s as Arc<dyn gateway_core::store::AuditStore>),
        )
        .map_err(|e| AppError::startup("telemetry", e))?;

        let responses = match &backing {
            Backing::Sql(sql) => Some(crate::responses_retention::StoredResponses::start(
                sql.clone(),
                config.responses.retention,
            )),
            Backing::SignedFile(_) => None,
        };
        let files = match &backing {
            Backing::Sql(sql) => Some(build_files(config, sql.clone(), cipher.clone())?),
            Backing::SignedFile(_) => None,
        };
        let webhooks = match &backing {
            Backing::Sql(sql) => Some(crate::webhooks::Webhooks::start(
                sql.clone(),
                store.clone(),
                &config.webhooks,
            )),
            Backing::SignedFile(_) => None,
        };
        let async_calls = match &backing {
            Backing::Sql(sql) => Some(crate::async_calls::AsyncCalls::new(
                sql.clone(),
                &config.async_calls,
            )),
            Backing::SignedFile(_) => None,
        };
        let limit_events = webhooks
            .as_ref()
            .map(|h| h.budgets.clone() as Arc<dyn gateway_policy::limits::LimitEvents>);
        let limiter = build_limiter(config, telemetry.cost_model(), limit_events)?;
        let backups = match &backing {
            Backing::Sql(sql) => {
                crate::backups::Backups::start(sql.clone(), &config.backup, &config.server.data_dir)
            }
            Backing::SignedFile(_) => None,
        };
        let threat_intel = crate::threat_intel::ThreatIntelFeeds::start(
            &config.threat_intel,
            Some(config.server.data_dir.join("threat_intel")),
            telemetry.metrics().clone(),
        );
        let anomalies = crate::anomaly::Anomalies::start(
            &config.anomaly,
            crate::anomaly::Actors {
                telemetry: Some(telemetry.clone()),
                keys: sql.and(auth.key_manager.clone()),
                store: match &backing {
                    Backing::Sql(sql) => {
                        Some(sql.clone() as Arc<dyn gateway_core::store::AnomalyStore>)
                    }
                    Backing::SignedFile(_) => None,
                },
                webhooks: webhooks.as_ref().map(|h| h.events.clone()),
                operator_tenant: webhooks
                    .as_ref()
                    .and_then(|h| h.config.operator_tenant.as_deref())
                    .map(gateway_core::TenantId::new),
            },
        );
        let bandit_store: Arc<dyn gateway_core::store::BanditStore> = match &backing {
            Backing::Sql(sql) => sql.clone(),
            Backing::SignedFile(_) => Arc::new(gateway_core::store::MemoryBanditStore::default()),
        };
        let bandit = crate::routing_bandit::RoutingBandit::start(bandit_store).await;
        let judge =
            crate::quality_judge::Judge::start(config.quality.judge.as_ref(), store.clone());
        let lasting = Lasting {
            judge,
            threat_intel,
            anomalies,
            bandit,
            backing,
            store,
            responses,
            auth,
            cache,
            telemetry,
            limiter,
            admin_token: config.admin.token.clone(),
            server: config.server.clone(),
            files,
            webhooks,
            async_calls,
            backups,
            keyring,
        };
        lasting.assemble(config).map(Arc::new)
    }

    /// The SQL store, if the gateway runs on one (not the edge profile's signed file).
    pub fn sql_store(&self) -> Option<&Arc<SqlStore>> {
        match &self.backing {
            Backing::Sql(sql) => Some(sql),
            Backing::SignedFile(_) => None,
        }
    }

    /// A new state for a reloaded configuration: routes, providers, guardrails, policies and
    /// `/query` come from `config`; the store, authentication, cache, limits, telemetry and
    /// server settings are kept (they need a restart), and so are their counters and caches.
    /// The edge profile's signed file is read again (tenants and keys), and the cached key
    /// verdicts forgotten, so a key absent from the new file is refused at once.
    pub fn reload(&self, config: &Config) -> Result<Arc<AppState>, AppError> {
        let lasting = Lasting {
            backing: self.backing.clone(),
            store: self.store.clone(),
            responses: self.responses.clone(),
            auth: self.auth.clone(),
            cache: self.cache.clone(),
            telemetry: self.telemetry.clone(),
            limiter: self.limiter.clone(),
            admin_token: self.admin_token.clone(),
            server: self.server.clone(),
            files: self.files.clone(),
            webhooks: self.webhooks.clone(),
            async_calls: self.async_calls.clone(),
            backups: self.backups.clone(),
            keyring: self.keyring.clone(),
            threat_intel: self.threat_intel.clone(),
            anomalies: self.anomalies.clone(),
            bandit: self.bandit.clone(),
            judge: self.judge.clone(),
        };
        let next = lasting.assemble(config)?;
        // Last, so that a rejected configuration leaves the served file as it was.
        if let Backing::SignedFile(file) = &self.backing {
            let Some(source) = &config.store.signed_file else {
                return Err(AppError::Startup(
                    "store.signed_file was removed: restart the gateway to change stores"
                        .to_owned(),
                ));
            };
            file.reload(source)
                .map_err(|e| AppError::startup("store.signed_file", e))?;
            self.auth.invalidate_all();
        }
        self.anomalies.reconfigure(&config.anomaly);
        if let Some(judge) = &self.judge {
            judge.reconfigure(config.quality.judge.as_ref());
        }
        Ok(Arc::new(next))
    }

    /// `--demo`: a `demo` tenant and one developer key, `secret` if given (it must look like a
    /// gateway key), else generated. Returns the generated secret, to be shown once.
    pub async fn ensure_demo_key(
        &self,
        secret: Option<&str>,
    ) -> Result<Option<Secret<String>>, AppError> {
        let tenant = TenantId::new("demo");
        if self
            .store
            .get_tenant(&tenant)
            .await
            .map_err(startup)?
            .is_none()
        {
            self.store
                .create_tenant(&Tenant::new(tenant.clone(), "Demo"))
                .await
                .map_err(startup)?;
        }
        let manager = self
            .auth
            .key_manager
            .as_ref()
            .ok_or_else(|| AppError::Startup("no key store".to_owned()))?;
        let new = NewApiKey::new(tenant, "demo");
        match secret {
            Some(secret) => match manager.import(new, secret).await {
                Ok(_) => Ok(None),
                // Already registered (a persistent store and a restart): keep it.
                Err(gateway_core::GatewayError::InvalidRequest {
                    code: Some(code), ..
                }) if code == gateway_core::store::CONFLICT_CODE => Ok(None),
                Err(e) => Err(startup(e)),
            },
            None => Ok(Some(manager.create(new).await.map_err(startup)?.secret)),
        }
    }

    /// Flush and close the store (after the server drained).
    pub async fn close(&self) {
        if let Backing::Sql(sql) = &self.backing {
            sql.close().await;
        }
    }
}

/// The Files API over the SQL store and the local directory of `[files] dir` (default
/// `<data_dir>/files`).
fn build_files(
    config: &Config,
    sql: Arc<SqlStore>,
    cipher: Option<Arc<dyn gateway_core::encryption::ContentCipher>>,
) -> Result<crate::files::Files, AppError> {
    let blobs: Arc<dyn crate::files::BlobStorage> = match (&config.files.backend, &config.files.s3)
    {
        (crate::config::FilesBackend::S3, Some(s3)) => {
            let client = HttpClient::new(Duration::from_millis(crate::config::DEFAULT_CONNECT_MS))
                .map_err(|e| AppError::startup("files.s3 HTTP client", e))?;
            Arc::new(
                crate::files::s3::S3Storage::new(s3, client)
                    .map_err(|e| AppError::startup("files.s3", e))?,
            )
        }
        _ => {
            let dir = config
                .files
                .dir
                .clone()
                .unwrap_or_else(|| config.server.data_dir.join("files"));
            Arc::new(
                crate::files::local::LocalDir::open(&dir)
                    .map_err(|e| AppError::startup(format!("files.dir {}", dir.display()), e))?,
            )
        }
    };
    Ok(crate::files::Files {
        meta: sql.clone(),
        blobs,
        batches: sql,
        max_file_bytes: config.files.max_file_bytes,
        quota: crate::files::Quota {
            max_bytes: config.files.tenant_max_bytes,
            max_files: config.files.tenant_max_files,
        },
        cipher,
        batch_wake: Arc::new(tokio::sync::Notify::new()),
    })
}

/// The limits phase over `[limits]`, pricing spend with the model price table when one is
/// wired, and knowing each public model's deployments (price and tokenizer). Redis connects
/// lazily: an unreachable Redis is the configured fail mode, not a startup error.
fn build_limiter(
    config: &Config,
    cost_model: Arc<dyn gateway_core::phases::account::CostModel>,
    events: Option<Arc<dyn gateway_policy::limits::LimitEvents>>,
) -> Result<gateway_policy::Limiter, AppError> {
    let mut builder = gateway_policy::Limiter::builder(&config.limits).cost_model(Some(cost_model));
    if let Some(events) = events {
        builder = builder.events(events);
    }
    for (name, m) in &config.models {
        for d in m.all_deployments() {
            builder = builder.target(name, &d.provider, &d.upstream_model);
        }
    }
    let limiter = builder
        .build()
        .map_err(|e| AppError::startup("limits", e))?;
    if config.limits.has_config_limits() {
        let warm = limiter.clone();
        tokio::task::spawn_blocking(move || warm.warm_up());
    }
    Ok(limiter)
}

/// The external moderation service of `[guardrails.moderation_api]`, over the upstream client.
struct ModerationHttp {
    client: HttpClient,
}

impl gateway_policy::guardrails::external::ModerationTransport for ModerationHttp {
    fn post<'a>(
        &'a self,
        config: &'a gateway_policy::guardrails::external::ModerationApiConfig,
        body: Vec<u8>,
    ) -> gateway_policy::guardrails::external::TransportFuture<'a> {
        Box::pin(async move {
            let mut req = http::Request::post(&config.url)
                .header(http::header::CONTENT_TYPE, "application/json");
            if let Some(key) = &config.api_key {
                req = req.header(
                    http::header::AUTHORIZATION,
                    format!("Bearer {}", key.expose()),
                );
            }
            let req = req
                .body(http_body_util::Full::new(bytes::Bytes::from(body)))
                .map_err(|e| e.to_string())?;
            let limit = Duration::from_millis(config.timeout_ms);
            let timeouts = Timeouts {
                connect: limit,
                first_byte: limit,
                total: limit,
                ..Timeouts::default()
            };
            let resp = self
                .client
                .send(req, &timeouts)
                .await
                .map_err(|e| e.to_string())?;
            let status = resp.status().as_u16();
            let body = gateway_providers::client::read_body(resp.into_body(), limit)
                .await
                .map_err(|e| e.to_string())?;
            Ok((status, body.to_vec()))
        })
    }
}

/// The custom policy of `[policies]`, told each model's deployments and the guardrails.
fn build_policy(
    config: &Config,
    guardrails: &gateway_policy::GuardrailSet,
) -> Result<Option<Arc<gateway_policy::CustomPolicy>>, AppError> {
    let policy = gateway_policy::CustomPolicy::new(&config.policies)
        .map_err(|e| AppError::startup("policies", e))?;
    let Some(policy) = policy else {
        return Ok(None);
    };
    let deployments = config.models.iter().map(|(name, m)| {
        let list =
            m.all_deployments()
                .into_iter()
                .map(|d| gateway_policy::custom::DeploymentInfo {
                    provider: d.provider,
                    region: d.region,
                });
        (name.clone(), list.collect())
    });
    Ok(Some(Arc::new(
        policy
            .with_deployments(deployments.collect())
            .with_guardrails(guardrails.clone()),
    )))
}

fn startup(e: gateway_core::GatewayError) -> AppError {
    AppError::startup("demo key", e)
}

/// The provider of `[providers.NAME]`, built by the factory registered for its kind.
fn build_provider(
    kinds: &ProviderRegistry,
    name: &str,
    p: &ProviderConfig,
    client: &HttpClient,
) -> Result<Arc<dyn gateway_core::Provider>, AppError> {
    let spec = ProviderSpec {
        name: name.to_owned(),
        kind: p.kind.clone(),
        base_url: p.base_url.clone(),
        api_version: p.api_version.clone(),
        api_key: p.api_key.clone(),
        timeouts: Timeouts {
            connect: Duration::from_millis(p.connect_timeout_ms),
            first_byte: Duration::from_secs(p.first_byte_timeout_secs),
            total: Duration::from_secs(p.total_timeout_secs),
            max_stream: Duration::from_secs(p.max_stream_secs),
            max_sse_line: p.max_sse_line_bytes,
        },
        headers: p
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        passthrough_params: p.passthrough_params.clone(),
        region: p.region.clone(),
        aws: match (&p.aws_access_key_id, &p.aws_secret_access_key) {
            (Some(id), Some(secret)) => Some(gateway_providers::AwsKeys {
                access_key_id: id.clone(),
                secret_access_key: secret.clone(),
                session_token: p.aws_session_token.clone(),
            }),
            _ => None,
        },
        project: p.project.clone(),
        service_account: match &p.service_account_file {
            Some(path) => Some(Secret::new(std::fs::read_to_string(path).map_err(|e| {
                AppError::startup(
                    format!("provider '{name}'"),
                    format!("service_account_file {}: {e}", path.display()),
                )
            })?)),
            None => None,
        },
    };
    // Connect timeouts and trusted CAs belong to a client: a provider that sets its own gets
    // a client of its own; the others share one (and its connection pools).
    let client = match &p.ca_file {
        Some(ca_file) => crate::private_ca::client_trusting(name, ca_file, spec.timeouts.connect)?,
        None if spec.timeouts.connect == client.connect_timeout() => client.clone(),
        None => HttpClient::new(spec.timeouts.connect)
            .map_err(|e| AppError::startup(format!("provider '{name}'"), e))?,
    };
    kinds
        .build(&spec, client)
        .map_err(|e| AppError::startup(format!("provider '{name}'"), e))
}
