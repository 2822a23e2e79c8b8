//! The OpenAPI document (`hubhooks::api::openapi`): the published copy is
//! the generated one, an independent validator accepts it and every golden
//! body against its webhook's schema, and every documented operation is
//! routed. (tests/it/api checks every answer of the API against it.)
use hubhooks_tests::*;
use serde_json::Value;

/// docs/openapi.json is what `hubhooks openapi` prints.
#[test]
fn docs_openapi_json_is_the_generated_document() {
    let path = workspace_root().join("docs/openapi.json");
    let published: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(
        published == hubhooks::api::openapi::document(),
        "docs/openapi.json drifted from the code: run `cargo run -q -p hubhooks-cli -- openapi > docs/openapi.json`"
    );
}

/// openapi-spec-validator and Python's jsonschema (not our code): valid
/// OpenAPI 3.1, every golden body valid against its webhook's schema and
/// not without its first required field.
#[test]
fn an_independent_validator_accepts_the_document_and_every_golden_body() {
    let root = workspace_root();
    let out = std::process::Command::new(root.join(".venv/bin/python"))
        .arg(root.join("scripts/check_openapi.py"))
        .arg(root.join("docs/openapi.json"))
        .arg(root.join("tests/golden"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "valid OpenAPI 3.1; 33 paths; 17 webhooks, each golden body valid\n"
    );
}

/// Every webhook type × version has its entry, with the headers a
/// receiver verifies.
#[test]
fn every_webhook_type_and_version_is_documented_with_its_headers() {
    let doc = hubhooks::api::openapi::document();
    let mut want = Vec::new();
    for t in hubhooks::event::EventType::ALL {
        for v in hubhooks::event::Version::of(t) {
            want.push(hubhooks::api::openapi::webhook_name(t, *v));
        }
    }
    want.sort();
    let got: Vec<String> = doc["webhooks"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(got, want);
    let headers: Vec<&str> = doc["webhooks"]["newStatus.v3"]["post"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        headers,
        [
            "webhook-id",
            "event-type",
            "webhook-attempt",
            "webhook-timestamp",
            "webhook-signature",
            "webhook-test",
            "x-token"
        ]
    );
}
