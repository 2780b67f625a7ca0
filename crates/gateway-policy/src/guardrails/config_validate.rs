//! Validation of [`GuardrailConfig`]: every problem, with its dotted key path.

use crate::guardrails::config::{
    GuardrailConfig, InjectionConfig, ModerationConfig, PiiConfig, StreamConfig,
};
use crate::guardrails::finding::Action;
use crate::guardrails::normalize::normalize;
use crate::guardrails::pii::Entity;

type Problems = Vec<(String, String)>;

pub(crate) fn validate(cfg: &GuardrailConfig) -> Problems {
    let mut p = Problems::new();
    section(
        &mut p,
        "guardrails",
        Some(&cfg.injection),
        Some(&cfg.pii),
        Some(&cfg.moderation),
        Some(&cfg.stream),
    );
    if let Some(api) = &cfg.moderation_api {
        p.extend(api.problems("guardrails.moderation_api"));
    }
    for (id, t) in &cfg.tenants {
        let path = format!("guardrails.tenants.{id}");
        if id.trim().is_empty() {
            p.push((path.clone(), "tenant id must not be empty".into()));
        }
        section(
            &mut p,
            &path,
            t.injection.as_ref(),
            t.pii.as_ref(),
            t.moderation.as_ref(),
            t.stream.as_ref(),
        );
    }
    p
}

fn section(
    p: &mut Problems,
    path: &str,
    injection: Option<&InjectionConfig>,
    pii: Option<&PiiConfig>,
    moderation: Option<&ModerationConfig>,
    stream: Option<&StreamConfig>,
) {
    if let Some(i) = injection {
        if !(i.threshold > 0.0 && i.threshold <= 1.0) {
            p.push((
                format!("{path}.injection.threshold"),
                format!("must be in (0, 1], got {}", i.threshold),
            ));
        }
        if i.action == Action::Redact {
            p.push((
                format!("{path}.injection.action"),
                "redact is not supported for injection; use block, flag or allow".into(),
            ));
        }
    }
    if let Some(pii) = pii {
        for name in pii.entities.keys() {
            if Entity::from_name(name).is_none() {
                let known: Vec<&str> = Entity::ALL.iter().map(|e| e.as_str()).collect();
                p.push((
                    format!("{path}.pii.entities.{name}"),
                    format!("unknown entity; expected one of {}", known.join(", ")),
                ));
            }
        }
    }
    if let Some(m) = moderation {
        for (name, cat) in &m.categories {
            let at = format!("{path}.moderation.categories.{name}");
            let valid_name = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !valid_name {
                p.push((
                    at.clone(),
                    "category names use lower-case letters, digits and '_'".into(),
                ));
            }
            if cat.terms.is_empty() {
                p.push((format!("{at}.terms"), "must list at least one term".into()));
            }
            for (i, term) in cat.terms.iter().enumerate() {
                if normalize(term).is_empty() {
                    p.push((
                        format!("{at}.terms[{i}]"),
                        "term has no letters or digits".into(),
                    ));
                }
            }
        }
    }
    if let Some(s) = stream
        && !(16..=65536).contains(&s.window_bytes)
    {
        p.push((
            format!("{path}.stream.window_bytes"),
            format!("must be in 16..=65536, got {}", s.window_bytes),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guardrails::config::{ModerationCategory, TenantGuardrailConfig};

    #[test]
    fn defaults_are_valid_and_secure() {
        let cfg = GuardrailConfig::default();
        assert!(cfg.validate().is_empty());
        assert_eq!(cfg.injection.action, Action::Block);
        assert_eq!(cfg.pii.secrets_action, Action::Block);
        assert_eq!(cfg.pii.default_action, Action::Redact);
    }

    #[test]
    fn every_problem_is_reported_with_its_path() {
        let mut cfg = GuardrailConfig::default();
        cfg.injection.threshold = 1.5;
        cfg.injection.action = Action::Redact;
        cfg.pii.entities.insert("fax".into(), Action::Flag);
        cfg.moderation.categories.insert(
            "Hate Speech".into(),
            ModerationCategory {
                terms: vec!["  ".into()],
                action: Action::Block,
            },
        );
        cfg.stream.window_bytes = 4;
        let tenant = TenantGuardrailConfig {
            injection: Some(InjectionConfig {
                threshold: 0.0,
                ..InjectionConfig::default()
            }),
            ..Default::default()
        };
        cfg.tenants.insert("acme".into(), tenant);
        let paths: Vec<String> = cfg.validate().into_iter().map(|(p, _)| p).collect();
        assert_eq!(
            paths,
            [
                "guardrails.injection.threshold",
                "guardrails.injection.action",
                "guardrails.pii.entities.fax",
                "guardrails.moderation.categories.Hate Speech",
                "guardrails.moderation.categories.Hate Speech.terms[0]",
                "guardrails.stream.window_bytes",
                "guardrails.tenants.acme.injection.threshold",
            ]
        );
    }
}
