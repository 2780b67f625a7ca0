//! The document against the code: every routed method and path is documented, every
//! documented one is routed, and `docs/openapi.json` is the document the code generates.

use std::collections::BTreeSet;
use std::path::PathBuf;

use http::Method;
use serde_json::Value;

use super::{COMMITTED_PATH, document, document_text};
use crate::http::admin::routes::{ADMIN_ROUTES, AdminFound};
use crate::http::routes::{Found, ROUTES, lookup};

/// `METHOD path` of every route in the two tables.
fn routed() -> BTreeSet<String> {
    ROUTES
        .iter()
        .map(|r| (&r.method, r.path))
        .chain(ADMIN_ROUTES.iter().map(|r| (&r.method, r.path)))
        .map(|(m, p)| format!("{m} {p}"))
        .collect()
}

/// `METHOD path` of every operation in the document.
fn documented(doc: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("a path item").keys() {
            out.insert(format!("{} {path}", method.to_ascii_uppercase()));
        }
    }
    out
}

#[test]
fn every_route_is_documented_and_every_documented_path_is_routed() {
    let doc = document();
    let (routed, documented) = (routed(), documented(&doc));
    let undocumented: Vec<&String> = routed.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "routed but not in the OpenAPI document: {undocumented:?}. Describe each in \
         crates/gateway-app/src/openapi/inference.rs (`describe`, or `model_call` for a new \
         dialect's endpoint) or openapi/admin.rs, then run `cargo xtask openapi` \
         (docs/development.md, \"Adding an endpoint\")."
    );
    let unrouted: Vec<&String> = documented.difference(&routed).collect();
    assert!(
        unrouted.is_empty(),
        "in the OpenAPI document but not routed: {unrouted:?}"
    );
    // And the dispatchers agree: a request on each documented path (parameters filled in)
    // reaches a route.
    for entry in &documented {
        let (method, pattern) = entry.split_once(' ').expect("METHOD path");
        let method: Method = method.parse().expect("a method");
        let path = example_path(pattern);
        let reached = match lookup(&method, &path).found {
            Found::Route(route, _) => route.path == pattern,
            Found::Admin => matches!(
                crate::http::admin::routes::lookup(&method, &path),
                AdminFound::Route(..)
            ),
            Found::WrongMethod | Found::Unknown => false,
        };
        assert!(
            reached,
            "{method} {path} (documented as {pattern}) is not routed"
        );
    }
}

/// `pattern` with each parameter filled in.
fn example_path(pattern: &str) -> String {
    pattern
        .split('/')
        .map(|segment| match segment.strip_prefix('{') {
            Some(rest) => format!("p-1{}", rest.split_once('}').expect("closed").1),
            None => segment.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[test]
fn the_committed_document_is_the_generated_one() {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(COMMITTED_PATH);
    let committed = std::fs::read_to_string(&file).unwrap_or_default();
    let generated = document_text();
    if committed != generated {
        let first_difference = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .map_or_else(
                || "one is a prefix of the other".to_owned(),
                |i| format!("first difference at line {}", i + 1),
            );
        panic!(
            "{COMMITTED_PATH} is not the document the code generates ({first_difference}): run \
             `cargo xtask openapi` and commit the file"
        );
    }
}

#[test]
fn every_reference_resolves_and_operations_are_unique() {
    let doc = document();
    let text = doc.to_string();
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    for piece in text.split("\"$ref\":\"").skip(1) {
        let target = piece.split('"').next().expect("a ref");
        let known = match target.strip_prefix("#/components/") {
            Some(rest) => {
                let (kind, name) = rest.split_once('/').expect("kind/name");
                if kind == "schemas" {
                    schemas.contains_key(name)
                } else {
                    doc["components"][kind].get(name).is_some()
                }
            }
            None => false,
        };
        assert!(known, "dangling $ref {target}");
    }
    let mut ids = BTreeSet::new();
    for item in doc["paths"].as_object().expect("paths").values() {
        for op in item.as_object().expect("item").values() {
            let id = op["operationId"].as_str().expect("an operationId");
            assert!(ids.insert(id.to_owned()), "operationId {id} twice");
            assert!(op["responses"].as_object().is_some_and(|r| !r.is_empty()));
        }
    }
}

#[test]
fn links_name_existing_operations() {
    let doc = document();
    let ids: BTreeSet<&str> = doc["paths"]
        .as_object()
        .expect("paths")
        .values()
        .flat_map(|item| item.as_object().expect("item").values())
        .filter_map(|op| op["operationId"].as_str())
        .collect();
    let text = doc.to_string();
    let mut links = 0;
    for piece in text.split("\"operationId\":\"").skip(1) {
        let id = piece.split('"').next().expect("an id");
        assert!(ids.contains(id), "a link names the unknown operation {id}");
        links += 1;
    }
    assert!(links > ids.len(), "the key and tenant links are there");
}
