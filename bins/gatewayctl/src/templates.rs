//! `gatewayctl templates ...` (prompt templates over `/admin/v1/templates`: create or add a
//! version from a JSON file, list, get, render as a dry run, delete) and `gatewayctl prompts
//! lint FILE` (`/admin/v1/prompts/lint`), see docs/templates.md.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use http::Method;
use serde_json::{Map, Value, json};

use crate::client::{Client, CtlError, encode, query};
use crate::commands::Outcome;
use crate::output;

#[derive(Debug, Subcommand)]
pub enum TemplatesCmd {
    /// Create a template, or a new version of it, from a JSON file (`messages` or `prompt`,
    /// `variables`, `description`, `id`); the flags override the file.
    Create {
        /// The definition, JSON.
        file: PathBuf,
        #[arg(long)]
        id: Option<String>,
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long)]
        description: Option<String>,
    },
    /// List the tenant's templates (latest versions) and the built-in ones.
    List {
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Show a template (its latest version and history), or one version.
    Get {
        id: String,
        #[arg(long)]
        version: Option<u32>,
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Render a template with variables, as a call would (nothing is sent to a model).
    Render {
        id: String,
        #[arg(long)]
        version: Option<u32>,
        #[arg(long)]
        tenant: Option<String>,
        /// `name=value`, repeatable; a value starting with `[` or `{` is read as JSON.
        #[arg(long = "var", value_name = "NAME=VALUE")]
        vars: Vec<String>,
        /// A JSON object of variables (`--var` adds to it).
        #[arg(long)]
        vars_file: Option<PathBuf>,
    },
    /// Delete a template (every version).
    Delete {
        id: String,
        #[arg(long)]
        tenant: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum PromptsCmd {
    /// Lint a template definition, a chat request's messages (JSON) or a plain-text prompt;
    /// exits 1 when a finding has severity `error`.
    Lint { file: PathBuf },
}

/// The fields of a lint request; a chat request's other fields are left out.
const LINT_FIELDS: [&str; 8] = [
    "messages",
    "prompt",
    "variables",
    "max_tokens",
    "response_format",
    "id",
    "description",
    "tenant",
];
/// (header, field).
const COLUMNS: [(&str, &str); 5] = [
    ("ID", "id"),
    ("VERSION", "version"),
    ("TENANT", "tenant"),
    ("BUILTIN", "builtin"),
    ("DESCRIPTION", "description"),
];
const FIELDS: [&str; 7] = [
    "id",
    "version",
    "tenant",
    "description",
    "variables",
    "created_at",
    "created_by",
];

fn read(file: &Path) -> Result<String, CtlError> {
    std::fs::read_to_string(file)
        .map_err(|e| CtlError::Usage(format!("cannot read {}: {e}", file.display())))
}

fn read_object(file: &Path) -> Result<Map<String, Value>, CtlError> {
    match serde_json::from_str(&read(file)?) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(CtlError::Usage(format!(
            "{} is not a JSON object",
            file.display()
        ))),
    }
}

/// `name=value` pairs over the `--vars-file` object.
pub fn variables(vars: &[String], file: Option<&Path>) -> Result<Map<String, Value>, CtlError> {
    let mut out = match file {
        Some(f) => read_object(f)?,
        None => Map::new(),
    };
    for pair in vars {
        let Some((name, value)) = pair.split_once('=') else {
            return Err(CtlError::Usage(format!(
                "--var {pair}: expected NAME=VALUE"
            )));
        };
        let parsed = if value.starts_with(['[', '{']) {
            serde_json::from_str(value)
                .map_err(|e| CtlError::Usage(format!("--var {name}: not JSON: {e}")))?
        } else {
            Value::from(value)
        };
        out.insert(name.to_owned(), parsed);
    }
    Ok(out)
}

/// The lint request of a file: JSON as it is (a template or a chat request's fields), any
/// other text as a plain prompt.
pub fn lint_body(text: &str) -> Value {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(mut map)) => {
            // A chat request lints by its prompt-shaping fields only.
            map.retain(|k, _| LINT_FIELDS.contains(&k.as_str()));
            Value::Object(map)
        }
        _ => json!({ "prompt": text }),
    }
}

fn shown(json: bool, v: &Value, human: impl FnOnce(&Value) -> String) -> Outcome {
    Outcome::ok(if json {
        serde_json::to_string_pretty(v).unwrap_or_default()
    } else {
        human(v)
    })
}

fn path(id: &str, rest: &str, tenant: &Option<String>) -> String {
    format!(
        "/admin/v1/templates/{}{rest}{}",
        encode(id),
        query(&[("tenant", tenant.clone())])
    )
}

fn messages_text(v: &Value) -> String {
    let mut out = String::new();
    for m in v["messages"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "--- {}\n{}\n",
            m["role"].as_str().unwrap_or_default(),
            m["content"].as_str().unwrap_or_default()
        ));
    }
    if let Some(p) = v["prompt"].as_str() {
        out.push_str(&format!("--- prompt\n{p}\n"));
    }
    out
}

fn template_view(v: &Value) -> String {
    format!("{}\n{}", output::record(v, &FIELDS), messages_text(v))
}

pub async fn run(client: &Client, json: bool, cmd: &TemplatesCmd) -> Result<Outcome, CtlError> {
    match cmd {
        TemplatesCmd::Create {
            file,
            id,
            tenant,
            description,
        } => {
            let mut body = read_object(file)?;
            for (k, v) in [("id", id), ("tenant", tenant), ("description", description)] {
                if let Some(v) = v {
                    body.insert(k.to_owned(), Value::from(v.as_str()));
                }
            }
            let body = Value::Object(body);
            let v = client
                .call(Method::POST, "/admin/v1/templates", Some(&body))
                .await?;
            Ok(shown(json, &v, template_view))
        }
        TemplatesCmd::List { tenant } => {
            let p = format!(
                "/admin/v1/templates{}",
                query(&[("tenant", tenant.clone())])
            );
            let v = client.call(Method::GET, &p, None).await?;
            Ok(shown(json, &v, |v| output::list(v, &COLUMNS)))
        }
        TemplatesCmd::Get {
            id,
            version,
            tenant,
        } => {
            let rest = version.map_or(String::new(), |n| format!("/versions/{n}"));
            let v = client
                .call(Method::GET, &path(id, &rest, tenant), None)
                .await?;
            Ok(shown(json, &v, template_view))
        }
        TemplatesCmd::Render {
            id,
            version,
            tenant,
            vars,
            vars_file,
        } => {
            let mut body = json!({ "variables": variables(vars, vars_file.as_deref())? });
            if let (Some(n), Value::Object(map)) = (version, &mut body) {
                map.insert("version".to_owned(), Value::from(*n));
            }
            let p = path(id, "/render", tenant);
            let v = client.call(Method::POST, &p, Some(&body)).await?;
            Ok(shown(json, &v, messages_text))
        }
        TemplatesCmd::Delete { id, tenant } => {
            let v = client
                .call(Method::DELETE, &path(id, "", tenant), None)
                .await?;
            Ok(shown(json, &v, |v| {
                format!("deleted template {id} ({} versions)", v["versions"])
            }))
        }
    }
}

/// One line per finding, then its suggestion.
fn findings_text(v: &Value) -> String {
    let findings = v["findings"].as_array().cloned().unwrap_or_default();
    if findings.is_empty() {
        return "no findings".to_owned();
    }
    let mut out = String::new();
    for f in &findings {
        let at = &f["location"];
        out.push_str(&format!(
            "{} {} {}:{}:{} {}\n  suggestion: {}\n",
            f["severity"].as_str().unwrap_or_default(),
            f["rule"].as_str().unwrap_or_default(),
            at["part"].as_str().unwrap_or_default(),
            at["line"],
            at["column"],
            f["message"].as_str().unwrap_or_default(),
            f["suggestion"].as_str().unwrap_or_default(),
        ));
    }
    out.trim_end().to_owned()
}

pub async fn prompts(client: &Client, json: bool, cmd: &PromptsCmd) -> Result<Outcome, CtlError> {
    let PromptsCmd::Lint { file } = cmd;
    let body = lint_body(&read(file)?);
    let v = client
        .call(Method::POST, "/admin/v1/prompts/lint", Some(&body))
        .await?;
    let mut outcome = shown(json, &v, findings_text);
    outcome.failed = v["summary"]["errors"].as_u64().unwrap_or(0) > 0;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{lint_body, variables};

    #[test]
    fn variables_from_flags() {
        let vars = variables(&["text=hi".into(), "labels=[\"a\",\"b\"]".into()], None).unwrap();
        assert_eq!(vars["text"], json!("hi"));
        assert_eq!(vars["labels"], json!(["a", "b"]));
        assert!(variables(&["novalue".into()], None).is_err());
    }

    #[test]
    fn lint_bodies() {
        assert_eq!(
            lint_body("Summarise this."),
            json!({ "prompt": "Summarise this." })
        );
        let chat = r#"{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":5}"#;
        assert_eq!(
            lint_body(chat),
            json!({ "messages": [{"role": "user", "content": "x"}], "max_tokens": 5 })
        );
    }
}
