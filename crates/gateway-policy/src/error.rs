//! The crate's error type.

/// One configuration problem: the dotted key path and what is wrong with it.
pub type ConfigProblem = (String, String);

/// Errors of `gateway-policy`. All of them happen while building an engine from
/// configuration (at startup or reload), never while checking a request.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration was rejected; every problem is listed with its key path.
    #[error("invalid guardrail configuration: {}", format_problems(.0))]
    InvalidConfig(Vec<ConfigProblem>),
    /// A built-in pattern failed to compile (a defect in this crate, caught by its tests).
    #[error("built-in guardrail pattern '{name}' failed to compile: {message}")]
    Pattern { name: &'static str, message: String },
    /// The term matcher of a moderation category could not be built.
    #[error("moderation matcher could not be built: {0}")]
    Matcher(String),
}

impl Error {
    /// Whether the error is the operator's (bad configuration) rather than a defect here.
    pub fn is_config_error(&self) -> bool {
        matches!(self, Error::InvalidConfig(_) | Error::Matcher(_))
    }
}

fn format_problems(problems: &[ConfigProblem]) -> String {
    let parts: Vec<String> = problems
        .iter()
        .map(|(path, problem)| format!("{path}: {problem}"))
        .collect();
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_config_lists_every_problem_with_its_path() {
        let err = Error::InvalidConfig(vec![
            (
                "guardrails.injection.threshold".into(),
                "must be in (0, 1]".into(),
            ),
            (
                "guardrails.pii.entities.fax".into(),
                "unknown entity".into(),
            ),
        ]);
        let text = err.to_string();
        assert!(text.contains("guardrails.injection.threshold: must be in (0, 1]"));
        assert!(text.contains("guardrails.pii.entities.fax: unknown entity"));
        assert!(err.is_config_error());
    }
}
