//! Configuration reload while serving (SIGHUP): the new file is validated whole; a bad one is
//! rejected with every problem logged and traffic goes on with the old configuration. A good
//! one replaces routes, providers, guardrails, policies and `/query` atomically — requests in
//! flight finish on the configuration they started with. Either way the attempt is audited.
//! [`reload_on_sighup`] runs [`reload`] on every SIGHUP.

use std::sync::Arc;

use arc_swap::ArcSwap;
use serde_json::json;

use gateway_core::phases::account::AuditSink;
use gateway_core::store::{AuditEvent, AuditOutcome};

use crate::config::{Config, ConfigErrors};
use crate::error::{AppError, chain};
use crate::state::AppState;

/// Why a reload did not take effect.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error(transparent)]
    Invalid(#[from] ConfigErrors),
    #[error(transparent)]
    Build(AppError),
}

/// Load a new configuration with `load` and swap it in.
pub fn reload(
    states: &ArcSwap<AppState>,
    load: impl FnOnce() -> Result<Config, ConfigErrors>,
) -> Result<(), ReloadError> {
    let current = states.load_full();
    let result = load()
        .map_err(ReloadError::from)
        .and_then(|config| current.reload(&config).map_err(ReloadError::Build));
    let (outcome, details) = match &result {
        Ok(next) => {
            tracing::info!(models = next.router_models(), "configuration reloaded");
            (
                AuditOutcome::Success,
                json!({ "models": next.router_models() }),
            )
        }
        Err(err) => {
            let error = chain(err);
            tracing::error!(%error, "configuration reload rejected; serving the previous configuration");
            (AuditOutcome::Failure, json!({ "error": error }))
        }
    };
    current.telemetry.audit(AuditEvent {
        at: std::time::SystemTime::now(),
        tenant: None,
        actor: "system".to_owned(),
        action: "config.reload".to_owned(),
        target: None,
        outcome,
        ip: None,
        details,
    });
    let next = result?;
    states.store(next);
    Ok(())
}

/// On each SIGHUP, read the configuration again with `load` and [`reload`] it; a rejected
/// one is logged and audited, and the loop goes on. Runs until the task is aborted.
pub async fn reload_on_sighup(
    states: Arc<ArcSwap<AppState>>,
    load: impl Fn() -> Result<Config, ConfigErrors>,
) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hangups) = signal(SignalKind::hangup()) else {
            tracing::warn!("cannot listen for SIGHUP; configuration reload is off");
            return;
        };
        while hangups.recv().await.is_some() {
            let _ = reload(&states, &load);
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (states, load);
    }
}

impl AppState {
    fn router_models(self: &Arc<Self>) -> usize {
        use gateway_core::phases::route::Router;
        self.router.models().len()
    }
}
