//! Configuration reload while serving (SIGHUP): the new file is validated whole; a bad one is
//! rejected with every problem logged and traffic goes on with the old configuration. A good
//! one replaces routes, providers, guardrails, policies and `/query` atomically — requests in
//! flight finish on the configuration they started with. Either way the attempt is audited.

use std::sync::Arc;

use arc_swap::ArcSwap;
use serde_json::json;

use gateway_core::phases::account::AuditSink;
use gateway_core::store::{AuditEvent, AuditOutcome};

use crate::config::{Config, ConfigErrors};
use crate::state::AppState;

/// Why a reload did not take effect.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error(transparent)]
    Invalid(#[from] ConfigErrors),
    #[error("{0}")]
    Build(String),
}

/// Load a new configuration with `load` and swap it in.
pub fn reload(
    states: &ArcSwap<AppState>,
    load: impl FnOnce() -> Result<Config, ConfigErrors>,
) -> Result<(), ReloadError> {
    let current = states.load_full();
    let result = load().map_err(ReloadError::from).and_then(|config| {
        current
            .reload(&config)
            .map_err(|e| ReloadError::Build(e.to_string()))
    });
    let (outcome, details) = match &result {
        Ok(next) => {
            tracing::info!(models = next.router_models(), "configuration reloaded");
            (
                AuditOutcome::Success,
                json!({ "models": next.router_models() }),
            )
        }
        Err(err) => {
            tracing::error!(error = %err, "configuration reload rejected; serving the previous configuration");
            (AuditOutcome::Failure, json!({ "error": err.to_string() }))
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

impl AppState {
    fn router_models(self: &Arc<Self>) -> usize {
        use gateway_core::phases::route::Router;
        self.router.models().len()
    }
}
