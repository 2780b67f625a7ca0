//! Human output: tables (comfy-table) and CSV, from the admin API's JSON.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};
use serde_json::Value;

/// One cell: `-` for null or absent, lists comma-joined, objects compact.
pub fn cell(v: &Value) -> String {
    match v {
        Value::Null => "-".to_owned(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.is_empty() => "-".to_owned(),
        Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(","),
        Value::Object(map) if map.is_empty() => "-".to_owned(),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k}={}", cell(v)))
            .collect::<Vec<_>>()
            .join(" "),
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => format!("{f:.4}"),
            _ => n.to_string(),
        },
        Value::Bool(b) => if *b { "yes" } else { "no" }.to_owned(),
    }
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.iter().copied());
    t
}

/// Rows of `data` with `columns` as (header, field).
pub fn list(data: &Value, columns: &[(&str, &str)]) -> String {
    let rows = data["data"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if rows.is_empty() {
        return "(none)".to_owned();
    }
    let headers: Vec<&str> = columns.iter().map(|(h, _)| *h).collect();
    let mut t = table(&headers);
    for row in rows {
        t.add_row(columns.iter().map(|(_, f)| cell(&row[*f])));
    }
    t.to_string()
}

/// One record as FIELD | VALUE, in `fields` order (absent fields skipped).
pub fn record(v: &Value, fields: &[&str]) -> String {
    let mut t = table(&["FIELD", "VALUE"]);
    for f in fields {
        if let Some(value) = v.get(*f) {
            t.add_row([(*f).to_owned(), cell(value)]);
        }
    }
    t.to_string()
}

pub const TENANT_COLUMNS: [(&str, &str); 7] = [
    ("ID", "id"),
    ("NAME", "name"),
    ("ENABLED", "enabled"),
    ("MODELS", "allowed_models"),
    ("REGIONS", "allowed_regions"),
    ("LIMITS", "limits"),
    ("CREATED", "created_at"),
];

pub const TENANT_FIELDS: [&str; 9] = [
    "id",
    "name",
    "enabled",
    "allowed_models",
    "allowed_regions",
    "allowed_networks",
    "threat_intel_opt_out",
    "limits",
    "created_at",
];

pub const KEY_COLUMNS: [(&str, &str); 8] = [
    ("ID", "id"),
    ("TENANT", "tenant"),
    ("NAME", "name"),
    ("PREFIX", "prefix"),
    ("ROLES", "roles"),
    ("STATUS", "status"),
    ("EXPIRES", "expires_at"),
    ("LAST USED", "last_used_at"),
];

pub const KEY_FIELDS: [&str; 16] = [
    "id",
    "tenant",
    "name",
    "prefix",
    "status",
    "roles",
    "allowed_models",
    "allowed_networks",
    "limits",
    "expires_at",
    "metadata",
    "created_at",
    "last_used_at",
    "revoked_at",
    "replaces",
    "secret",
];

pub const AUDIT_COLUMNS: [(&str, &str); 7] = [
    ("SEQ", "seq"),
    ("AT", "at"),
    ("TENANT", "tenant"),
    ("ACTOR", "actor"),
    ("ACTION", "action"),
    ("TARGET", "target"),
    ("OUTCOME", "outcome"),
];

pub const ANOMALY_COLUMNS: [(&str, &str); 6] = [
    ("DETECTED", "detected_at"),
    ("KIND", "kind"),
    ("ID", "id"),
    ("TENANT", "tenant"),
    ("SCORE", "score"),
    ("ACTION", "action"),
];

const USAGE_TOTALS: [(&str, &str); 9] = [
    ("REQUESTS", "requests"),
    ("ERRORS", "errors"),
    ("PROMPT", "prompt_tokens"),
    ("COMPLETION", "completion_tokens"),
    ("TOTAL", "total_tokens"),
    ("COST USD", "cost_usd"),
    ("UNPRICED", "unpriced_requests"),
    ("FINDINGS", "guardrail_findings"),
    ("AVG QUALITY", "avg_quality"),
];

/// The usage columns: the grouped dimensions first, then the totals.
pub fn usage_columns(group_by: &[&'static str]) -> Vec<(&'static str, &'static str)> {
    let dims = group_by.iter().map(|d| match *d {
        "day" => ("DAY", "day"),
        "model" => ("MODEL", "model"),
        "key" => ("KEY", "key"),
        "batch" => ("BATCH", "batch"),
        "task" => ("TASK", "task"),
        _ => ("TENANT", "tenant"),
    });
    dims.chain(USAGE_TOTALS).collect()
}

/// CSV with a header of field names; values quoted when needed.
pub fn csv(data: &Value, columns: &[(&str, &str)]) -> String {
    let quote = |s: String| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s
        }
    };
    let mut out: Vec<String> = vec![
        columns
            .iter()
            .map(|(_, f)| *f)
            .collect::<Vec<_>>()
            .join(","),
    ];
    for row in data["data"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let fields = columns.iter().map(|(_, f)| match &row[*f] {
            Value::Null => String::new(),
            Value::String(s) => quote(s.clone()),
            other => quote(other.to_string()),
        });
        out.push(fields.collect::<Vec<_>>().join(","));
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cells() {
        assert_eq!(cell(&json!(null)), "-");
        assert_eq!(cell(&json!(["a", "b"])), "a,b");
        assert_eq!(cell(&json!({"rpm": 60})), "rpm=60");
        assert_eq!(cell(&json!(0.5)), "0.5000");
        assert_eq!(cell(&json!(true)), "yes");
    }

    #[test]
    fn csv_quotes() {
        let data = json!({"data": [{"model": "a,b", "requests": 2, "cost_usd": null}]});
        let cols = [("M", "model"), ("R", "requests"), ("C", "cost_usd")];
        assert_eq!(csv(&data, &cols), "model,requests,cost_usd\n\"a,b\",2,");
    }

    #[test]
    fn tables_render() {
        let data = json!({"data": [{"id": "acme", "enabled": true}]});
        let out = list(&data, &TENANT_COLUMNS);
        assert!(out.contains("acme") && out.contains("ID"), "{out}");
        assert_eq!(list(&json!({"data": []}), &TENANT_COLUMNS), "(none)");
    }
}
