//! Google's `Schema` (a subset of OpenAPI 3.0: upper-case `type` names, `nullable`,
//! `propertyOrdering`) -> JSON Schema, the form every provider adapter takes.

use serde_json::{Map, Value};

/// Keywords holding one schema.
const ONE: [&str; 2] = ["items", "not"];
/// Keywords holding a list of schemas.
const MANY: [&str; 3] = ["anyOf", "oneOf", "allOf"];
/// Keywords with no JSON Schema meaning, dropped.
const DROPPED: [&str; 2] = ["propertyOrdering", "nullable"];

/// The JSON Schema equivalent of `schema`.
pub fn to_json_schema(schema: Value) -> Value {
    match schema {
        Value::Object(map) => Value::Object(object(map)),
        other => other,
    }
}

fn object(mut map: Map<String, Value>) -> Map<String, Value> {
    let nullable = map.get("nullable").and_then(Value::as_bool) == Some(true);
    for key in DROPPED {
        map.remove(key);
    }
    if let Some(Value::String(kind)) = map.get_mut("type") {
        kind.make_ascii_lowercase();
        if kind == "type_unspecified" {
            map.remove("type");
        }
    }
    if nullable && let Some(Value::String(kind)) = map.remove("type") {
        map.insert(
            "type".into(),
            Value::Array(vec![kind.into(), "null".into()]),
        );
    }
    if let Some(Value::Object(properties)) = map.remove("properties") {
        let properties = properties
            .into_iter()
            .map(|(name, schema)| (name, to_json_schema(schema)))
            .collect();
        map.insert("properties".into(), Value::Object(properties));
    }
    for key in ONE {
        if let Some(schema) = map.remove(key) {
            map.insert(key.into(), to_json_schema(schema));
        }
    }
    for key in MANY {
        if let Some(Value::Array(schemas)) = map.remove(key) {
            let schemas = schemas.into_iter().map(to_json_schema).collect();
            map.insert(key.into(), Value::Array(schemas));
        }
    }
    // Google spells these as int64 strings.
    for key in [
        "minItems",
        "maxItems",
        "minLength",
        "maxLength",
        "minProperties",
        "maxProperties",
    ] {
        if let Some(Value::String(n)) = map.get(key)
            && let Ok(n) = n.parse::<u64>()
        {
            map.insert(key.into(), Value::from(n));
        }
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn openapi_subset_becomes_json_schema() {
        let gemini = json!({
            "type": "OBJECT",
            "properties": {
                "city": {"type": "STRING", "description": "a city"},
                "days": {"type": "INTEGER", "nullable": true, "minimum": 1},
                "tags": {"type": "ARRAY", "items": {"type": "STRING", "enum": ["a", "b"]}, "maxItems": "3"},
                "either": {"anyOf": [{"type": "NUMBER"}, {"type": "BOOLEAN"}]}
            },
            "required": ["city"],
            "propertyOrdering": ["city", "days"]
        });
        assert_eq!(
            to_json_schema(gemini),
            json!({
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "a city"},
                    "days": {"type": ["integer", "null"], "minimum": 1},
                    "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}, "maxItems": 3},
                    "either": {"anyOf": [{"type": "number"}, {"type": "boolean"}]}
                },
                "required": ["city"]
            })
        );
    }

    #[test]
    fn a_property_named_like_a_keyword_is_a_property() {
        let gemini = json!({"type": "OBJECT", "properties": {"nullable": {"type": "BOOLEAN"}, "type": {"type": "STRING"}}});
        let schema = to_json_schema(gemini);
        assert_eq!(schema["properties"]["nullable"], json!({"type": "boolean"}));
        assert_eq!(schema["properties"]["type"], json!({"type": "string"}));
    }
}
