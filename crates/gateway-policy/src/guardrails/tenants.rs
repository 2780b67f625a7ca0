//! [`GuardrailSet`]: the default policy plus one per tenant with overrides.

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::Error;
use crate::guardrails::config::GuardrailConfig;
use crate::guardrails::engine::Guardrails;

/// Engines for every policy of a `[guardrails]` section. Detectors share their compiled
/// patterns process-wide, so a tenant costs little more than its moderation term lists.
#[derive(Debug, Clone)]
pub struct GuardrailSet {
    default: Arc<Guardrails>,
    tenants: HashMap<String, Arc<Guardrails>>,
}

impl GuardrailSet {
    /// Validates the whole section (reporting every problem of every tenant) and builds one
    /// engine per policy.
    pub fn new(config: &GuardrailConfig) -> Result<GuardrailSet, Error> {
        let problems = config.validate();
        if !problems.is_empty() {
            return Err(Error::InvalidConfig(problems));
        }
        let default = Arc::new(Guardrails::new(config)?);
        let tenants = config
            .tenants
            .keys()
            .map(|id| {
                Ok((
                    id.clone(),
                    Arc::new(Guardrails::new(&config.for_tenant(id))?),
                ))
            })
            .collect::<Result<_, Error>>()?;
        Ok(GuardrailSet { default, tenants })
    }

    /// The policy of `tenant` (the default one when it has no overrides).
    pub fn for_tenant(&self, tenant: &str) -> &Arc<Guardrails> {
        self.tenants.get(tenant).unwrap_or(&self.default)
    }

    pub fn default_policy(&self) -> &Arc<Guardrails> {
        &self.default
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guardrails::config::{PiiConfig, TenantGuardrailConfig};
    use crate::guardrails::finding::Action;

    #[test]
    fn tenants_get_their_overrides_and_others_the_default() {
        let mut cfg = GuardrailConfig::default();
        let pii = PiiConfig {
            default_action: Action::Flag,
            ..PiiConfig::default()
        };
        cfg.tenants.insert(
            "acme".into(),
            TenantGuardrailConfig {
                pii: Some(pii),
                ..Default::default()
            },
        );
        let set = GuardrailSet::new(&cfg).unwrap();
        let text = "mail jane@example.com";
        assert_eq!(set.for_tenant("acme").check_text(text).action, Action::Flag);
        assert_eq!(
            set.for_tenant("other").check_text(text).action,
            Action::Redact
        );
        // Sections not overridden are inherited.
        assert_eq!(set.for_tenant("acme").config().injection, cfg.injection);
    }
}
