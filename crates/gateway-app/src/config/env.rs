//! Environment handling on the raw TOML tree, before it is typed:
//! `${VAR}` interpolation in strings (`$$` for a literal `$`) and overrides of any key by
//! `GATEWAY__SECTION__KEY=value` variables.

use toml::{Table, Value};

use super::Problem;

/// Replace `${VAR}` in every string value; a missing variable is a problem at that key.
pub fn interpolate(
    table: &mut Table,
    lookup: &dyn Fn(&str) -> Option<String>,
    problems: &mut Vec<Problem>,
) {
    for (key, value) in table.iter_mut() {
        interpolate_value(value, key, lookup, problems);
    }
}

fn interpolate_value(
    value: &mut Value,
    path: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    problems: &mut Vec<Problem>,
) {
    match value {
        Value::String(s) if s.contains('$') => match expand(s, lookup) {
            Ok(expanded) => *s = expanded,
            Err(msg) => problems.push(Problem::new(path, msg)),
        },
        Value::Table(t) => {
            for (key, v) in t.iter_mut() {
                interpolate_value(v, &format!("{path}.{key}"), lookup, problems);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                interpolate_value(v, &format!("{path}[{i}]"), lookup, problems);
            }
        }
        _ => {}
    }
}

fn expand(input: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        rest = &rest[pos..];
        if let Some(after) = rest.strip_prefix("$$") {
            out.push('$');
            rest = after;
        } else if let Some(after) = rest.strip_prefix("${") {
            let end = after
                .find('}')
                .ok_or_else(|| "unterminated '${' in value".to_owned())?;
            let name = &after[..end];
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!(
                    "'${{{name}}}' is not a valid environment variable reference"
                ));
            }
            let value =
                lookup(name).ok_or_else(|| format!("environment variable '{name}' is not set"))?;
            out.push_str(&value);
            rest = &after[end + 1..];
        } else {
            out.push('$');
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Apply `GATEWAY__A__B=value` overrides: the key path is lower-cased and split on `__`;
/// the value is read as a TOML scalar (number, boolean) when it parses as one, else a string.
pub fn apply_overrides(
    table: &mut Table,
    vars: impl Iterator<Item = (String, String)>,
    problems: &mut Vec<Problem>,
) {
    for (name, raw) in vars {
        let Some(path) = name.strip_prefix("GATEWAY__") else {
            continue;
        };
        let keys: Vec<String> = path.split("__").map(str::to_ascii_lowercase).collect();
        if keys.iter().any(String::is_empty) {
            problems.push(Problem::new(&name, "malformed override variable name"));
            continue;
        }
        let value = parse_scalar(&raw);
        if let Err(msg) = set_path(table, &keys, value) {
            problems.push(Problem::new(
                &keys.join("."),
                format!("cannot apply {name}: {msg}"),
            ));
        }
    }
}

fn parse_scalar(raw: &str) -> Value {
    if let Ok(i) = raw.parse::<i64>() {
        return Value::Integer(i);
    }
    if let Ok(f) = raw.parse::<f64>()
        && raw.contains('.')
    {
        return Value::Float(f);
    }
    match raw {
        "true" => Value::Boolean(true),
        "false" => Value::Boolean(false),
        _ => Value::String(raw.to_owned()),
    }
}

fn set_path(table: &mut Table, keys: &[String], value: Value) -> Result<(), String> {
    let (last, parents) = keys.split_last().ok_or("empty key")?;
    let mut current = table;
    for key in parents {
        let entry = current
            .entry(key.clone())
            .or_insert_with(|| Value::Table(Table::new()));
        current = entry
            .as_table_mut()
            .ok_or_else(|| format!("'{key}' is not a table"))?;
    }
    current.insert(last.clone(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "KEY" => Some("sk-123".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn expands_vars_and_escapes() {
        assert_eq!(expand("Bearer ${KEY}", &env).unwrap(), "Bearer sk-123");
        assert_eq!(expand("cost $$5 ${EMPTY}x", &env).unwrap(), "cost $5 x");
        assert_eq!(expand("a$b", &env).unwrap(), "a$b");
        assert!(expand("${MISSING}", &env).unwrap_err().contains("MISSING"));
        assert!(expand("${KEY", &env).is_err());
    }

    #[test]
    fn missing_vars_are_reported_with_their_path() {
        let mut t: Table =
            toml::from_str("[providers.a]\napi_key = \"${NOPE}\"\nother = \"${ALSO_NOPE}\"")
                .unwrap();
        let mut problems = Vec::new();
        interpolate(&mut t, &env, &mut problems);
        let paths: Vec<_> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["providers.a.api_key", "providers.a.other"]);
    }

    #[test]
    fn overrides_set_nested_keys_with_types() {
        let mut t: Table = toml::from_str("[server]\nlisten = \"127.0.0.1:1\"").unwrap();
        let vars = vec![
            ("GATEWAY__SERVER__LISTEN".to_owned(), "0.0.0.0:9".to_owned()),
            (
                "GATEWAY__SERVER__MAX_BODY_BYTES".to_owned(),
                "1000".to_owned(),
            ),
            ("OTHER".to_owned(), "x".to_owned()),
        ];
        let mut problems = Vec::new();
        apply_overrides(&mut t, vars.into_iter(), &mut problems);
        assert!(problems.is_empty());
        assert_eq!(t["server"]["listen"].as_str(), Some("0.0.0.0:9"));
        assert_eq!(t["server"]["max_body_bytes"].as_integer(), Some(1000));
    }
}
