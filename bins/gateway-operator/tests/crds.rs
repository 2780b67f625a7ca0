//! The committed CRD manifests are what the Rust types generate: regenerate them with
//! `cargo run -p gateway-operator -- crds > deploy/operator/crds.yaml` when this fails.
//! (deploy/tests/validate.py checks the same file against the Kubernetes schemas.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

#[test]
fn committed_crds_match_the_rust_types() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy/operator/crds.yaml");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let generated = gateway_operator::crd::crds_yaml().unwrap();
    assert!(
        committed == generated,
        "{} is stale: run `cargo run -p gateway-operator -- crds > deploy/operator/crds.yaml`",
        path.display()
    );
}

#[test]
fn the_crds_carry_status_subresources_and_the_schema_of_the_spec() {
    let docs: Vec<serde_json::Value> = gateway_operator::crd::crds_yaml()
        .unwrap()
        .split("\n---\n")
        .filter(|d| d.contains("kind: CustomResourceDefinition"))
        .map(|d| serde_yaml_ng::from_str(d).unwrap())
        .collect();
    let names: Vec<&str> = docs
        .iter()
        .map(|d| d["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "llmgateways.gateway.llm-secure-gateway.io",
            "gatewaytenants.gateway.llm-secure-gateway.io",
            "gatewayapikeys.gateway.llm-secure-gateway.io"
        ]
    );
    for doc in &docs {
        let version = &doc["spec"]["versions"][0];
        assert_eq!(version["name"], "v1alpha1");
        assert!(version["subresources"]["status"].is_object());
        let spec = &version["schema"]["openAPIV3Schema"]["properties"]["spec"];
        assert!(spec["properties"].is_object(), "a structural schema");
    }
    let key_spec =
        &docs[2]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"];
    assert_eq!(
        key_spec["required"],
        serde_json::json!(["gateway", "tenant"])
    );
}
