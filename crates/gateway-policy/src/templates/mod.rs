//! Prompt templates and the prompt linter: no I/O, no file or network access.
//!
//! A template ([`TemplateSource`]) is either chat messages (each a MiniJinja source with its
//! role) or one prompt, with the variables it declares. [`render`] turns one into plain chat
//! messages with the caller's variables: undefined variables are errors (strict), every
//! render runs on a fuel budget and writes into a capped buffer ([`RenderLimits`]), there is
//! no loader (no `include`, `import` or `extends`) and no autoescaping (prompts are not HTML).
//!
//! [`builtin`] holds the starter templates every tenant can use (ids `builtin.*`, read-only);
//! [`lint`] reviews a template or a plain prompt and explains what it finds.

pub mod builtin;
pub mod lint;
mod render;
#[cfg(test)]
mod tests;

pub use render::{RenderLimits, Rendered, compile_check, render, used_variables};

use serde::{Deserialize, Serialize};

/// Most messages one template renders.
pub const MAX_MESSAGES: usize = 32;
/// Most declared variables.
pub const MAX_VARIABLES: usize = 64;
/// Largest source of one message or prompt, in bytes.
pub const MAX_SOURCE_BYTES: usize = 64 * 1024;
/// The roles a template message may have.
pub const ROLES: [&str; 4] = ["system", "developer", "user", "assistant"];
/// The id prefix reserved for the built-in templates.
pub const BUILTIN_PREFIX: &str = "builtin.";

/// What a template renders, as created and stored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TemplateSource {
    /// Chat messages, each content a MiniJinja source (give these or `prompt`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<TemplateMessage>,
    /// One prompt (a MiniJinja source), rendered as a single user message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// The variables the template takes. Left empty, they are the ones its sources use,
    /// all required.
    #[serde(default)]
    pub variables: Vec<VariableSpec>,
}

/// One message of a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TemplateMessage {
    /// `system`, `developer`, `user` or `assistant`.
    pub role: String,
    /// A MiniJinja source.
    pub content: String,
}

/// One declared variable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct VariableSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// A required variable missing from a call is a 400 naming it (default true).
    #[serde(default = "yes")]
    pub required: bool,
}

fn yes() -> bool {
    true
}

/// Why a template could not be created or rendered. Each is the caller's to fix (400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// The definition is malformed; `param` names the field.
    #[error("{message}")]
    Invalid { param: String, message: String },
    #[error("Missing template variable '{0}'.")]
    MissingVariable(String),
    #[error("Unknown template variable '{name}'; the template takes: {declared}.")]
    UnknownVariable { name: String, declared: String },
    /// The engine failed while rendering (an undefined attribute, a type error, ...).
    #[error("Template {part} failed to render: {message}")]
    Render { part: String, message: String },
    #[error("Template rendering ran out of fuel (more than {0} steps).")]
    OutOfFuel(u64),
    #[error("Rendered template is larger than {0} bytes.")]
    TooLarge(usize),
}

impl TemplateError {
    /// The request field the error is about, for the error body's `param`.
    pub fn param(&self) -> String {
        match self {
            TemplateError::Invalid { param, .. } => param.clone(),
            TemplateError::MissingVariable(name) | TemplateError::UnknownVariable { name, .. } => {
                format!("template.variables.{name}")
            }
            _ => "template".to_owned(),
        }
    }

    fn invalid(param: impl Into<String>, message: impl Into<String>) -> Self {
        TemplateError::Invalid {
            param: param.into(),
            message: message.into(),
        }
    }
}

/// Whether `id` may name a tenant's template: 1 to 64 of `a-z A-Z 0-9 . _ -`, starting with
/// a letter or digit, and not in the built-in namespace.
pub fn valid_id(id: &str) -> Result<(), TemplateError> {
    let ok_chars = id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    let first_ok = id.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric());
    if !(1..=64).contains(&id.len()) || !ok_chars || !first_ok {
        return Err(TemplateError::invalid(
            "id",
            "'id' must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit.",
        ));
    }
    if id.starts_with(BUILTIN_PREFIX) {
        return Err(TemplateError::invalid(
            "id",
            format!("Ids starting with '{BUILTIN_PREFIX}' are reserved for built-in templates."),
        ));
    }
    Ok(())
}

impl TemplateSource {
    /// The sources in order with their role: each message, or the prompt as `user`.
    pub fn parts(&self) -> Vec<(&str, &str)> {
        match &self.prompt {
            Some(p) => vec![("user", p.as_str())],
            None => self
                .messages
                .iter()
                .map(|m| (m.role.as_str(), m.content.as_str()))
                .collect(),
        }
    }

    /// Checks the shape and bounds, compiles every source, and fills in `variables` from
    /// the sources when none are declared; refuses a used variable that is not declared.
    pub fn validate(&mut self) -> Result<(), TemplateError> {
        match (&self.prompt, self.messages.is_empty()) {
            (Some(_), false) => {
                return Err(TemplateError::invalid(
                    "messages",
                    "Give either 'messages' or 'prompt', not both.",
                ));
            }
            (None, true) => {
                return Err(TemplateError::invalid(
                    "messages",
                    "A template needs 'messages' or a 'prompt'.",
                ));
            }
            _ => {}
        }
        if self.messages.len() > MAX_MESSAGES {
            return Err(TemplateError::invalid(
                "messages",
                format!("A template has at most {MAX_MESSAGES} messages."),
            ));
        }
        for (i, m) in self.messages.iter().enumerate() {
            if !ROLES.contains(&m.role.as_str()) {
                return Err(TemplateError::invalid(
                    format!("messages.{i}.role"),
                    format!("Unknown role '{}'; roles are {}.", m.role, ROLES.join(", ")),
                ));
            }
        }
        self.check_variables()
    }

    fn check_variables(&mut self) -> Result<(), TemplateError> {
        let mut used = Vec::new();
        for (i, (_, source)) in self.parts().into_iter().enumerate() {
            let part = self.part_name(i);
            if source.len() > MAX_SOURCE_BYTES {
                return Err(TemplateError::invalid(
                    part,
                    format!("A template source is at most {MAX_SOURCE_BYTES} bytes."),
                ));
            }
            compile_check(source).map_err(|m| TemplateError::invalid(part, m))?;
            for name in used_variables(source) {
                if !used.contains(&name) {
                    used.push(name);
                }
            }
        }
        if self.variables.is_empty() {
            used.sort();
            self.variables = used
                .into_iter()
                .map(|name| VariableSpec {
                    name,
                    description: String::new(),
                    required: true,
                })
                .collect();
        } else {
            for name in &used {
                if !self.variables.iter().any(|v| &v.name == name) {
                    return Err(TemplateError::invalid(
                        "variables",
                        format!("The template uses '{name}', which 'variables' does not declare."),
                    ));
                }
            }
        }
        if self.variables.len() > MAX_VARIABLES {
            return Err(TemplateError::invalid(
                "variables",
                format!("A template takes at most {MAX_VARIABLES} variables."),
            ));
        }
        for (i, v) in self.variables.iter().enumerate() {
            let ident = v.name.bytes().enumerate().all(|(j, b)| {
                b == b'_' || b.is_ascii_alphabetic() || (j > 0 && b.is_ascii_digit())
            });
            if v.name.is_empty() || v.name.len() > 64 || !ident {
                return Err(TemplateError::invalid(
                    format!("variables.{i}.name"),
                    "A variable name is an identifier of at most 64 characters.",
                ));
            }
            if self.variables[..i].iter().any(|w| w.name == v.name) {
                return Err(TemplateError::invalid(
                    format!("variables.{i}.name"),
                    format!("Variable '{}' is declared twice.", v.name),
                ));
            }
        }
        Ok(())
    }

    /// `prompt` or `messages.N.content`: where a source sits in the definition.
    pub fn part_name(&self, index: usize) -> String {
        if self.prompt.is_some() {
            "prompt".to_owned()
        } else {
            format!("messages.{index}.content")
        }
    }
}
