//! Loading, overriding and validating the configuration. Every problem is reported at once,
//! each with its dotted key path, so an operator fixes a file in one pass.

mod async_calls;
mod backup;
mod batches;
mod defaults;
mod encryption;
mod env;
mod files;
mod model;
mod quality;
mod responses;
mod server;
mod threat_intel;
mod validate;
mod webhooks;

use std::fmt;
use std::path::Path;

use serde::de::DeserializeOwned;
use toml::Table;

pub use async_calls::AsyncConfig;
pub use backup::BackupConfig;
pub use batches::BatchesConfig;
pub use defaults::{DemoUpstream, add_demo_provider, providers_from_env};
pub use encryption::EncryptionConfig;
pub use files::{FilesBackend, FilesConfig, S3Config};
pub use model::*;
pub use quality::{JudgeConfig, QualityConfig};
pub use responses::ResponsesConfig;
pub use server::{ServerConfig, TlsConfig};
pub use threat_intel::{FeedConfig, FormatName, ThreatIntelConfig};
pub use webhooks::WebhooksConfig;

/// One configuration problem: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl Problem {
    pub fn new(path: &str, message: impl Into<String>) -> Self {
        Problem {
            path: path.to_owned(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Every problem found in a configuration.
#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid configuration:\n{}", .0.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
pub struct ConfigErrors(pub Vec<Problem>);

impl Config {
    /// Read `path`, apply `${VAR}` interpolation and `GATEWAY__*` overrides, type and validate.
    pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigErrors(vec![Problem::new(
                "<file>",
                format!("cannot read {}: {e}", path.display()),
            )])
        })?;
        Config::from_toml_str(&text, &|name| std::env::var(name).ok(), std::env::vars())
    }

    /// With no file: defaults plus `GATEWAY__*` overrides and providers found in the environment.
    pub fn from_environment() -> Result<Config, ConfigErrors> {
        let mut config =
            Config::from_toml_str("", &|name| std::env::var(name).ok(), std::env::vars())?;
        providers_from_env(&mut config, &|name| std::env::var(name).ok());
        Ok(config)
    }

    /// Parse configuration text with an explicit environment (tests pass their own).
    pub fn from_toml_str(
        text: &str,
        lookup: &dyn Fn(&str) -> Option<String>,
        vars: impl Iterator<Item = (String, String)>,
    ) -> Result<Config, ConfigErrors> {
        let mut table: Table = text.parse().map_err(|e: toml::de::Error| {
            ConfigErrors(vec![Problem::new(
                "<file>",
                format!("not valid TOML: {}", e.message()),
            )])
        })?;
        let mut problems = Vec::new();
        env::apply_overrides(&mut table, vars, &mut problems);
        env::interpolate(&mut table, lookup, &mut problems);
        let config = typed(table, &mut problems);
        problems.extend(validate::validate(&config));
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(ConfigErrors(problems))
        }
    }
}

/// Type each section on its own so that a mistake in one does not hide mistakes in others.
fn typed(mut table: Table, problems: &mut Vec<Problem>) -> Config {
    let mut config = Config::default();
    section(&mut table, "server", &mut config.server, problems);
    section(&mut table, "logging", &mut config.logging, problems);
    section(&mut table, "guardrails", &mut config.guardrails, problems);
    section(&mut table, "policies", &mut config.policies, problems);

    section(&mut table, "store", &mut config.store, problems);
    section(&mut table, "auth", &mut config.auth, problems);
    section(&mut table, "admin", &mut config.admin, problems);
    section(&mut table, "ui", &mut config.ui, problems);
    section(&mut table, "query", &mut config.query, problems);
    section(&mut table, "files", &mut config.files, problems);
    section(&mut table, "batches", &mut config.batches, problems);
    section(&mut table, "async", &mut config.async_calls, problems);
    section(&mut table, "responses", &mut config.responses, problems);
    section(&mut table, "webhooks", &mut config.webhooks, problems);
    section(&mut table, "backup", &mut config.backup, problems);
    section(
        &mut table,
        "threat_intel",
        &mut config.threat_intel,
        problems,
    );
    section(&mut table, "anomaly", &mut config.anomaly, problems);
    section(&mut table, "cache", &mut config.cache, problems);
    section(&mut table, "encryption", &mut config.encryption, problems);
    section(&mut table, "limits", &mut config.limits, problems);
    section(&mut table, "telemetry", &mut config.telemetry, problems);
    section(&mut table, "quality", &mut config.quality, problems);
    section(
        &mut table,
        "prompt_routing",
        &mut config.prompt_routing,
        problems,
    );
    if let Some(toml::Value::Table(providers)) = table.remove("providers") {
        for (name, value) in providers {
            if let Some(p) = entry(value, &format!("providers.{name}"), problems) {
                config.providers.insert(name, p);
            }
        }
    }
    if let Some(toml::Value::Table(models)) = table.remove("models") {
        for (name, value) in models {
            if let Some(m) = entry(value, &format!("models.{name}"), problems) {
                config.models.insert(name, m);
            }
        }
    }
    for key in table.keys() {
        problems.push(Problem::new(key, "unknown section"));
    }
    config
}

fn section<T: DeserializeOwned>(
    table: &mut Table,
    key: &str,
    slot: &mut T,
    problems: &mut Vec<Problem>,
) {
    if let Some(value) = table.remove(key)
        && let Some(parsed) = entry(value, key, problems)
    {
        *slot = parsed;
    }
}

fn entry<T: DeserializeOwned>(
    value: toml::Value,
    path: &str,
    problems: &mut Vec<Problem>,
) -> Option<T> {
    match value.try_into::<T>() {
        Ok(v) => Some(v),
        Err(e) => {
            problems.push(Problem::new(path, e.message().trim().to_owned()));
            None
        }
    }
}

#[cfg(test)]
mod tests;
