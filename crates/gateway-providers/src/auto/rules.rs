//! Routing rules: CEL expressions over a request's features, compiled once when the
//! configuration is loaded and evaluated in order per request; the first that is true names
//! the candidates. CEL is the Common Expression Language (the `cel` crate of the cel-rust
//! project), not a language of our own: `task == "code" && tokens > 4000`.

use std::sync::Arc;

use cel::{Context, Env, Program, Value};
use gateway_core::features::RequestFeatures;

/// The variables a rule may use, with their CEL types (docs/routing.md lists them too).
pub const VARIABLES: &[(&str, &str)] = &[
    (
        "task",
        "string: code, math, reasoning, creative_writing, conversation, extraction, translation, summarisation",
    ),
    ("language", "string: ISO 639-1 code, \"\" when unknown"),
    ("tokens", "int: the prompt-size estimate"),
    ("tools", "bool: the request offers tools"),
    ("images", "bool: the request carries an image"),
    ("json_output", "bool: JSON output was requested"),
    ("difficulty", "double: 0 (trivial) ..= 1 (hard)"),
    ("tenant", "string: the caller's tenant id"),
];

/// One compiled rule.
pub struct Rule {
    pub name: Arc<str>,
    pub program: Program,
    /// Model groups this rule may send to.
    pub candidates: Vec<Arc<str>>,
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rule")
            .field("name", &self.name)
            .field("candidates", &self.candidates)
            .finish()
    }
}

/// Compile `expression`; the error says what is wrong (a parse error or an unknown variable).
pub fn compile(expression: &str) -> Result<Program, String> {
    let program = Program::compile(expression).map_err(|e| format!("not valid CEL: {e}"))?;
    let refs = program.references();
    let mut unknown: Vec<&str> = refs
        .variables()
        .into_iter()
        .filter(|v| !VARIABLES.iter().any(|(name, _)| name == v))
        .collect();
    unknown.sort_unstable();
    if let Some(first) = unknown.first() {
        let known: Vec<&str> = VARIABLES.iter().map(|(n, _)| *n).collect();
        return Err(format!(
            "unknown variable '{first}' (known: {})",
            known.join(", ")
        ));
    }
    Ok(program)
}

/// Compiled rules, in order, and the shared CEL environment (its standard library).
pub struct RuleSet {
    env: Arc<Env>,
    pub rules: Vec<Rule>,
}

impl std::fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleSet")
            .field("rules", &self.rules)
            .finish()
    }
}

impl RuleSet {
    pub fn new(rules: Vec<Rule>) -> Self {
        RuleSet {
            env: Arc::new(Env::stdlib()),
            rules,
        }
    }

    /// The first rule that holds for `features` (of a call by `tenant`). A rule whose result
    /// is not a boolean, or that fails (a type mismatch such as `tokens > "x"`), does not hold.
    pub fn first_match(&self, features: &RequestFeatures, tenant: &str) -> Option<&Rule> {
        self.first_match_index(features, tenant)
            .map(|i| &self.rules[i])
    }

    /// [`RuleSet::first_match`]'s position in [`RuleSet::rules`].
    pub fn first_match_index(&self, features: &RequestFeatures, tenant: &str) -> Option<usize> {
        if self.rules.is_empty() {
            return None;
        }
        let mut ctx = Context::with_env(self.env.clone());
        ctx.add_variable_from_value("task", features.task.as_str());
        ctx.add_variable_from_value("language", features.language.unwrap_or(""));
        ctx.add_variable_from_value("tokens", i64::try_from(features.tokens).unwrap_or(i64::MAX));
        ctx.add_variable_from_value("tools", features.tools);
        ctx.add_variable_from_value("images", features.images);
        ctx.add_variable_from_value("json_output", features.json_output);
        ctx.add_variable_from_value("difficulty", f64::from(features.difficulty));
        ctx.add_variable_from_value("tenant", tenant);
        self.rules
            .iter()
            .position(|r| matches!(r.program.execute(&ctx), Ok(Value::Bool(true))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gateway_core::features::TaskType;

    #[test]
    fn unknown_variables_and_bad_syntax_are_refused() {
        assert!(compile("task == \"code\" && tokens > 4000").is_ok());
        let err = compile("taks == \"code\"").unwrap_err();
        assert!(err.contains("unknown variable 'taks'"), "{err}");
        let err = compile("task == ").unwrap_err();
        assert!(err.starts_with("not valid CEL"), "{err}");
    }

    #[test]
    fn a_failing_or_non_boolean_rule_does_not_hold() {
        let rule = |name: &str, expr: &str| Rule {
            name: name.into(),
            program: compile(expr).unwrap(),
            candidates: vec![Arc::from(name)],
        };
        let set = RuleSet::new(vec![
            rule("typo", "tokens > \"x\""),
            rule("number", "tokens"),
            rule("real", "task == \"math\""),
        ]);
        let f = RequestFeatures {
            task: TaskType::Math,
            language: None,
            tokens: 10,
            tools: false,
            images: false,
            json_output: false,
            difficulty: 0.2,
        };
        assert_eq!(set.first_match(&f, "t").map(|r| &*r.name), Some("real"));
    }
}
