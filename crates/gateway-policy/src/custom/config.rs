//! The `[policies]` configuration section: Rego files, the rule that decides, and the request
//! headers a policy may see.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// `[policies]`. With no `files` there is no custom policy and every request that passes the
/// other phases proceeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyConfig {
    /// Rego files (v1 syntax), compiled together into one policy at load. Relative paths are
    /// relative to the gateway's working directory.
    pub files: Vec<PathBuf>,
    /// The rule whose value is the decision; default `data.gateway.decision`.
    pub query: String,
    /// Request headers copied into `input.headers` (matched case-insensitively). Credential
    /// headers (`authorization`, `x-api-key`, `cookie`, ...) are refused.
    pub headers: Vec<String>,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            files: Vec::new(),
            query: DEFAULT_QUERY.to_owned(),
            headers: Vec::new(),
        }
    }
}

pub const DEFAULT_QUERY: &str = "data.gateway.decision";

/// Headers a policy is never given: they carry credentials.
const CREDENTIAL_HEADERS: [&str; 7] = [
    "authorization",
    "proxy-authorization",
    "x-api-key",
    "api-key",
    "x-goog-api-key",
    "cookie",
    "set-cookie",
];

impl PolicyConfig {
    /// Every problem of the section with its dotted path, compiling the policy files
    /// (a file that cannot be read or does not compile is reported with its error).
    /// Empty when valid.
    pub fn validate(&self) -> Vec<(String, String)> {
        let mut problems = self.shape_problems();
        if problems.is_empty()
            && let Err(crate::Error::InvalidConfig(p)) = super::CustomPolicy::new(self)
        {
            problems = p;
        }
        problems
    }

    /// The problems that need no compilation.
    pub(super) fn shape_problems(&self) -> Vec<(String, String)> {
        let mut p = Vec::new();
        let valid_query = self
            .query
            .strip_prefix("data.")
            .is_some_and(|rest| rest.split('.').all(is_identifier));
        if !valid_query {
            p.push((
                "policies.query".to_owned(),
                format!(
                    "must be a rule path like 'data.gateway.decision', got '{}'",
                    self.query
                ),
            ));
        }
        for (i, h) in self.headers.iter().enumerate() {
            let lower = h.to_ascii_lowercase();
            let valid = !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !valid {
                p.push((
                    format!("policies.headers[{i}]"),
                    format!("'{h}' is not a header name"),
                ));
            } else if CREDENTIAL_HEADERS.contains(&lower.as_str()) {
                p.push((
                    format!("policies.headers[{i}]"),
                    format!("'{h}' carries credentials and is never given to policies"),
                ));
            }
        }
        p
    }
}

fn is_identifier(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_and_headers_are_checked() {
        let cfg = PolicyConfig {
            query: "gateway.allow".into(),
            headers: vec!["x-team".into(), "Authorization".into(), "bad header".into()],
            ..PolicyConfig::default()
        };
        let paths: Vec<String> = cfg.shape_problems().into_iter().map(|p| p.0).collect();
        assert_eq!(
            paths,
            [
                "policies.query",
                "policies.headers[1]",
                "policies.headers[2]"
            ]
        );
        assert!(PolicyConfig::default().validate().is_empty());
    }
}
