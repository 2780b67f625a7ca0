//! Rendering with MiniJinja, bounded: strict undefined, no loader, no autoescape, a fuel
//! budget per render and a cap on the bytes written (the writer refuses past it, so an
//! expanding template stops there instead of filling memory).

use std::io;

use minijinja::{AutoEscape, Environment, ErrorKind, UndefinedBehavior};
use serde::Serialize;
use serde_json::{Map, Value};

use super::{TemplateError, TemplateSource};

/// Bounds of one render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenderLimits {
    /// Engine steps allowed per message (MiniJinja fuel).
    pub fuel: u64,
    /// Bytes all rendered messages may add up to.
    pub max_bytes: usize,
}

impl Default for RenderLimits {
    fn default() -> Self {
        RenderLimits {
            fuel: 50_000,
            max_bytes: 256 * 1024,
        }
    }
}

/// One rendered message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Rendered {
    pub role: String,
    pub content: String,
}

/// The environment every template runs in: nothing but the built-in filters and tests.
fn environment<'source>() -> Environment<'source> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_recursion_limit(64);
    env
}

/// Whether `source` compiles; the engine's message (with its line) when it does not.
pub fn compile_check(source: &str) -> Result<(), String> {
    environment()
        .template_from_str(source)
        .map(|_| ())
        .map_err(|e| describe(&e))
}

/// The top-level variables `source` reads (its globals and functions left out), sorted; none
/// when it does not compile.
pub fn used_variables(source: &str) -> Vec<String> {
    let env = environment();
    let Ok(template) = env.template_from_str(source) else {
        return Vec::new();
    };
    let mut names: Vec<String> = template
        .undeclared_variables(false)
        .into_iter()
        .filter(|name| !env.globals().any(|(g, _)| g == name))
        .collect();
    names.sort();
    names
}

/// Renders `template` with `variables` within `limits`. Every required variable must be
/// given and every given variable declared; anything else undefined at render time fails.
pub fn render(
    template: &TemplateSource,
    variables: &Map<String, Value>,
    limits: &RenderLimits,
) -> Result<Vec<Rendered>, TemplateError> {
    if let Some(missing) = template
        .variables
        .iter()
        .find(|v| v.required && !variables.contains_key(&v.name))
    {
        return Err(TemplateError::MissingVariable(missing.name.clone()));
    }
    if let Some(unknown) = variables
        .keys()
        .find(|k| !template.variables.iter().any(|v| &v.name == *k))
    {
        let declared: Vec<&str> = template.variables.iter().map(|v| v.name.as_str()).collect();
        return Err(TemplateError::UnknownVariable {
            name: unknown.clone(),
            declared: if declared.is_empty() {
                "none".to_owned()
            } else {
                declared.join(", ")
            },
        });
    }
    let mut env = environment();
    env.set_fuel(Some(limits.fuel));
    let context = minijinja::Value::from(minijinja::value::Serde(variables));
    let mut room = limits.max_bytes;
    let mut out = Vec::new();
    for (i, (role, source)) in template.parts().into_iter().enumerate() {
        let part = template.part_name(i);
        let compiled = env
            .template_from_str(source)
            .map_err(|e| render_error(&part, &e, limits))?;
        let mut writer = Capped {
            buf: Vec::new(),
            room,
            over: false,
        };
        if let Err(e) = compiled.render_captured_to(context.clone(), &mut writer) {
            if writer.over {
                return Err(TemplateError::TooLarge(limits.max_bytes));
            }
            return Err(render_error(&part, &e, limits));
        }
        room -= writer.buf.len();
        let content = String::from_utf8(writer.buf).map_err(|_| TemplateError::Render {
            part: part.clone(),
            message: "the output is not UTF-8".to_owned(),
        })?;
        out.push(Rendered {
            role: role.to_owned(),
            content,
        });
    }
    Ok(out)
}

fn render_error(part: &str, e: &minijinja::Error, limits: &RenderLimits) -> TemplateError {
    if e.kind() == ErrorKind::OutOfFuel {
        return TemplateError::OutOfFuel(limits.fuel);
    }
    TemplateError::Render {
        part: part.to_owned(),
        message: describe(e),
    }
}

/// The engine's error as one line: what, where, and for undefined values what to do.
fn describe(e: &minijinja::Error) -> String {
    let mut text = match e.detail() {
        Some(detail) => format!("{}: {detail}", e.kind()),
        None => e.kind().to_string(),
    };
    if e.kind() == ErrorKind::UndefinedError {
        text.push_str(" (a variable or attribute the call did not give)");
    }
    if let Some(line) = e.line() {
        text.push_str(&format!(" at line {line}"));
    }
    text
}

/// A writer that takes at most `room` bytes, then fails (and says so in `over`).
struct Capped {
    buf: Vec<u8>,
    room: usize,
    over: bool,
}

impl io::Write for Capped {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buf.len() + data.len() > self.room {
            self.over = true;
            return Err(io::Error::other("rendered size cap"));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
