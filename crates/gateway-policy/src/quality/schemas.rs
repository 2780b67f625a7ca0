//! The JSON Schemas of requests (`response_format.json_schema.schema`, each tool's
//! `parameters`), shared instead of copied: the same application sends the same schemas on
//! every call, so each thread keeps the last [`CACHED`] it saw, found by a hash of the schema
//! and confirmed by comparing it whole (a hash collision can cost a lookup, never a wrong
//! check). A call whose schemas are cached copies nothing. Schemas are compiled on first use
//! by a score, once per cached schema; `jsonschema` is built without its HTTP and file
//! resolvers, so a remote `$ref` fails to compile (the check is then skipped) instead of
//! being fetched.
//!
//! The cache is per thread (no lock shared between threads) and bounded: [`CACHED`] entries,
//! each of at most [`MAX_NODES`] JSON values (a larger schema is copied for its call only).

use std::cell::RefCell;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, OnceLock};

use gateway_core::quality::JsonCheck;
use serde_json::Value;

/// Schemas kept per thread.
const CACHED: usize = 64;
/// Largest schema kept, in JSON values (objects, arrays, scalars).
const MAX_NODES: usize = 4096;

/// A request's schema and, once a score needed it, its compiled validator.
pub(super) struct Schema {
    schema: Value,
    validator: OnceLock<Option<jsonschema::Validator>>,
}

impl std::fmt::Debug for Schema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Schema").finish_non_exhaustive()
    }
}

impl JsonCheck for Schema {
    fn validate(&self, instance: &Value) -> Option<bool> {
        let validator = self.validator.get_or_init(|| {
            jsonschema::options()
                .should_validate_formats(false)
                .build(&self.schema)
                .ok()
        });
        validator.as_ref().map(|v| v.is_valid(instance))
    }
}

/// The schema of a tool without `parameters`: any arguments.
#[derive(Debug)]
struct AnyJson;

impl JsonCheck for AnyJson {
    fn validate(&self, _: &Value) -> Option<bool> {
        Some(true)
    }
}

/// One cached schema: its hash, the tool name it came with (`None` for an output schema).
type Entry = (u64, Option<Arc<str>>, Arc<Schema>);

thread_local! {
    static CACHE: RefCell<Vec<Entry>> = const { RefCell::new(Vec::new()) };
}

/// The output schema of `response_format`.
pub(super) fn output(schema: &Value) -> Arc<dyn JsonCheck> {
    lookup(None, schema).1
}

/// A tool's name and parameter schema.
pub(super) fn tool(name: &str, parameters: Option<&Value>) -> (Arc<str>, Arc<dyn JsonCheck>) {
    match parameters {
        Some(schema) => {
            let (shared, schema) = lookup(Some(name), schema);
            (shared.unwrap_or_else(|| Arc::from(name)), schema)
        }
        None => {
            static ANY: OnceLock<Arc<AnyJson>> = OnceLock::new();
            let any: Arc<dyn JsonCheck> = ANY.get_or_init(|| Arc::new(AnyJson)).clone();
            (Arc::from(name), any)
        }
    }
}

fn name_of(name: Option<&str>) -> &str {
    name.unwrap_or("")
}

fn lookup(name: Option<&str>, schema: &Value) -> (Option<Arc<str>>, Arc<dyn JsonCheck>) {
    let mut hasher = foldhash::fast::FixedState::with_seed(0x5c_4e_3a).build_hasher();
    hasher.write(name_of(name).as_bytes());
    hasher.write_u8(u8::from(name.is_some()));
    let mut nodes = 0;
    hash_value(schema, &mut hasher, &mut nodes);
    let key = hasher.finish();
    let fresh = || {
        Arc::new(Schema {
            schema: schema.clone(),
            validator: OnceLock::new(),
        })
    };
    if nodes > MAX_NODES {
        return (name.map(Arc::from), fresh());
    }
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        let hit = cache
            .iter()
            .find(|(k, n, s)| *k == key && n.as_deref() == name && s.schema == *schema);
        if let Some((_, n, s)) = hit {
            return (n.clone(), s.clone() as Arc<dyn JsonCheck>);
        }
        if cache.len() >= CACHED {
            cache.remove(0);
        }
        let entry = (key, name.map(Arc::from), fresh());
        let out = (entry.1.clone(), entry.2.clone() as Arc<dyn JsonCheck>);
        cache.push(entry);
        out
    })
}

/// Feeds `value` to `hasher` and counts its nodes. Recursion is bounded by the JSON parser's
/// nesting limit (128).
fn hash_value(value: &Value, hasher: &mut impl Hasher, nodes: &mut usize) {
    *nodes += 1;
    match value {
        Value::Null => hasher.write_u8(0),
        Value::Bool(b) => hasher.write_u8(1 + u8::from(*b)),
        Value::Number(n) => {
            hasher.write_u8(3);
            if let Some(i) = n.as_i64() {
                hasher.write_i64(i);
            } else if let Some(u) = n.as_u64() {
                hasher.write_u64(u);
            } else {
                hasher.write_u64(n.as_f64().unwrap_or(0.0).to_bits());
            }
        }
        Value::String(s) => {
            hasher.write_u8(4);
            hasher.write(s.as_bytes());
            hasher.write_u8(0xff);
        }
        Value::Array(items) => {
            hasher.write_u8(5);
            hasher.write_usize(items.len());
            for item in items {
                hash_value(item, hasher, nodes);
            }
        }
        Value::Object(map) => {
            hasher.write_u8(6);
            hasher.write_usize(map.len());
            for (k, v) in map {
                hasher.write(k.as_bytes());
                hasher.write_u8(0xff);
                hash_value(v, hasher, nodes);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_same_schema_is_shared_and_another_is_not() {
        let a = json!({"type": "object", "required": ["city"]});
        let first = lookup(Some("weather"), &a).1;
        let again = lookup(Some("weather"), &a.clone()).1;
        assert!(Arc::ptr_eq(&first, &again));
        // Same schema under another tool name, or another schema: another entry.
        assert!(!Arc::ptr_eq(&first, &lookup(Some("forecast"), &a).1));
        assert!(!Arc::ptr_eq(&first, &lookup(None, &a).1));
        let b = json!({"type": "object", "required": ["town"]});
        assert!(!Arc::ptr_eq(&first, &lookup(Some("weather"), &b).1));
        assert_eq!(first.validate(&json!({"city": "Paris"})), Some(true));
        assert_eq!(first.validate(&json!({"town": "Paris"})), Some(false));
    }

    #[test]
    fn the_cache_is_bounded_and_large_schemas_are_not_kept() {
        for i in 0..CACHED * 3 {
            let _ = output(&json!({"maxLength": i}));
        }
        assert_eq!(CACHE.with(|c| c.borrow().len()), CACHED);
        let big = json!({"enum": (0..MAX_NODES).collect::<Vec<_>>()});
        let one = output(&big);
        assert!(!Arc::ptr_eq(&one, &output(&big)));
        assert_eq!(one.validate(&json!(7)), Some(true));
        assert_eq!(one.validate(&json!(-1)), Some(false));
    }
}
