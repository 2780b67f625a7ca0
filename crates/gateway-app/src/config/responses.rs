//! `[responses]`: how the Responses API (`/v1/responses`) keeps what callers store.
//!
//! ```toml
//! [responses]
//! retention = "30d"                    # stored responses older than this are deleted hourly
//! max_conversation_bytes = 16777216    # longest stored conversation a call may continue
//! ```

use std::time::Duration;

use serde::Deserialize;

use super::Problem;

/// Default `retention`: what OpenAI keeps stored responses for.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(30 * 86_400);

/// Shortest `retention`: a typo such as `"30s"` must not make every conversation vanish.
pub const MIN_RETENTION: Duration = Duration::from_secs(3600);

/// Default `max_conversation_bytes` (16 MiB of JSON: far beyond any model's context).
pub const DEFAULT_MAX_CONVERSATION_BYTES: usize = 16 << 20;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResponsesConfig {
    /// How long stored responses are kept; older ones are deleted once an hour (and at start).
    #[serde(deserialize_with = "gateway_core::duration::deserialize")]
    pub retention: Duration,
    /// A call may continue (`previous_response_id`) a stored conversation of at most this many
    /// bytes of JSON; longer ones are refused with a 400 that says to start anew. Each stored
    /// response keeps its whole conversation, so this also bounds a row.
    pub max_conversation_bytes: usize,
}

impl Default for ResponsesConfig {
    fn default() -> Self {
        ResponsesConfig {
            retention: DEFAULT_RETENTION,
            max_conversation_bytes: DEFAULT_MAX_CONVERSATION_BYTES,
        }
    }
}

impl ResponsesConfig {
    pub(crate) fn validate(&self, problems: &mut Vec<Problem>) {
        if self.retention < MIN_RETENTION {
            problems.push(Problem::new("responses.retention", "must be at least 1h"));
        }
        if self.max_conversation_bytes == 0 {
            problems.push(Problem::new(
                "responses.max_conversation_bytes",
                "must be greater than 0",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::Config;

    fn problems(section: &str) -> Vec<String> {
        match Config::from_toml_str(section, &|_| None, std::iter::empty()) {
            Ok(_) => Vec::new(),
            Err(errors) => errors.0.iter().map(|p| p.path.clone()).collect(),
        }
    }

    #[test]
    fn retention_and_size_are_read_and_bounded() {
        let config = Config::from_toml_str(
            "[responses]\nretention = \"7d\"\nmax_conversation_bytes = 1024\n",
            &|_| None,
            std::iter::empty(),
        )
        .unwrap();
        assert_eq!(config.responses.retention.as_secs(), 7 * 86_400);
        assert_eq!(config.responses.max_conversation_bytes, 1024);
        assert_eq!(
            Config::default().responses.retention,
            super::DEFAULT_RETENTION
        );
        assert_eq!(
            problems("[responses]\nretention = \"30s\"\n"),
            ["responses.retention"]
        );
        assert_eq!(
            problems("[responses]\nmax_conversation_bytes = 0\n"),
            ["responses.max_conversation_bytes"]
        );
        assert!(!problems("[responses]\nkeep = true\n").is_empty());
    }
}
