//! Golden tests: for every webhook type and every payload version it exists
//! in, a table item goes in and the seed's example body comes out.
//!
//! The items come from the event catalogue, events/catalogue/<type>.json
//! (the items, the recipient, extra config), which `hubhooks send-test` and
//! the docs use too; tests/golden/<type>/<version>.json hold the expected
//! bodies, copied from the seed example of that version (see
//! tests/golden/README.md). Items
//! make the round trip through DynamoDB's attribute format first, as stream
//! images do.
use hubhooks::case_update;
use hubhooks::config::{ConfigItem, ConfigSet, RawConfigItem};
use hubhooks::event::EventType;
use hubhooks::payload::Version;
use hubhooks::record::{CaseRecord, CostProposal, FileUpload, Invoice, Message, StatusRecord};
use hubhooks::routing::{self, Change};
use hubhooks_tests::workspace_root;
use serde::Deserialize;
use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde_json::{Value, json};
use std::path::PathBuf;

fn dir(t: EventType) -> PathBuf {
    workspace_root().join("tests/golden").join(t.as_str())
}

/// The documented sample items of `t`.
fn catalogue(t: EventType) -> PathBuf {
    workspace_root()
        .join("events/catalogue")
        .join(format!("{}.json", t.as_str()))
}

fn read(path: PathBuf) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// What a stream image holds after DynamoDB: the same JSON, numbers as N.
fn via_dynamo(v: &Value) -> Value {
    let item: serde_dynamo::Item = serde_dynamo::to_item(v).expect("to item");
    serde_dynamo::from_item(item).expect("from item")
}

/// The top-level keys of a JSON object, in document order.
struct Keys(Vec<String>);

impl<'de> Deserialize<'de> for Keys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Keys;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Keys, A::Error> {
                let mut keys = Vec::new();
                while let Some(k) = m.next_key::<String>()? {
                    m.next_value::<IgnoredAny>()?;
                    keys.push(k);
                }
                Ok(Keys(keys))
            }
        }
        d.deserialize_map(V)
    }
}

/// The JSON text without the whitespace between tokens.
fn minified(text: &str) -> String {
    let (mut out, mut in_string, mut escaped) = (String::new(), false, false);
    for c in text.chars() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

/// Every field that differs, by path.
fn differences(path: &str, want: &Value, got: &Value, out: &mut Vec<String>) {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (k, wv) in w {
                let p = format!("{path}.{k}");
                match g.get(k) {
                    Some(gv) => differences(&p, wv, gv, out),
                    None => out.push(format!("{p}: missing (want {wv})")),
                }
            }
            for k in g.keys().filter(|k| !w.contains_key(*k)) {
                out.push(format!("{path}.{k}: not in the seed (got {})", g[k]));
            }
        }
        (Value::Array(w), Value::Array(g)) if w.len() == g.len() => {
            for (i, (wv, gv)) in w.iter().zip(g).enumerate() {
                differences(&format!("{path}[{i}]"), wv, gv, out);
            }
        }
        _ if want != got => out.push(format!("{path}: want {want}, got {got}")),
        _ => {}
    }
}

/// The body the router renders for the fixture of `t`, for a subscription
/// of the fixture's recipient asking for `version`.
fn render(t: EventType, version: Version) -> String {
    let input: Value =
        serde_json::from_str(&read(catalogue(t)).expect("events/catalogue/<type>.json")).unwrap();
    let mut sub = json!({
        "id": "golden", "kind": "subscription", "party": input["recipient"],
        "eventTypes": [t], "version": version,
        "destination": {"method": "POST", "url": "https://golden.example/hook"}
    });
    if let Some(rules) = input.get("transitions") {
        sub["transitions"] = rules.clone();
    }
    let mut raw = vec![sub];
    raw.extend(input["config"].as_array().cloned().unwrap_or_default());
    let config = ConfigSet::from_raw(
        raw.into_iter()
            .map(|v| RawConfigItem {
                id: v["id"].as_str().unwrap().to_owned(),
                value: v,
            })
            .collect(),
    );
    assert!(config.errors.is_empty(), "{:?}", config.errors);

    let item = via_dynamo(&input["item"]);
    let case = |v: &Value| CaseRecord::from_json(via_dynamo(v)).unwrap();
    let planned = match t {
        EventType::NewStatus | EventType::StatusTransition => {
            let status = StatusRecord::from_json(item).unwrap();
            let previous: Vec<StatusRecord> = input["previous"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| StatusRecord::from_json(via_dynamo(p)).unwrap())
                .collect();
            let change = Change::StatusAdded {
                status: &status,
                previous: &previous,
            };
            routing::route(&config, &case(&input["case"]), &change)
        }
        EventType::NewCostProposal => {
            let c = CostProposal::from_json(item).unwrap();
            routing::route(
                &config,
                &case(&input["case"]),
                &Change::CostProposalAdded(&c),
            )
        }
        EventType::NewMessage => {
            let m = Message::from_json(item).unwrap();
            routing::route(&config, &case(&input["case"]), &Change::MessageAdded(&m))
        }
        EventType::MessageConfirmed => {
            let m = Message::from_json(item).unwrap();
            assert!(input["old"]["confirmedAt"].is_null() && m.confirmed_at.is_some());
            routing::route(
                &config,
                &case(&input["case"]),
                &Change::MessageConfirmed(&m),
            )
        }
        EventType::NewFile => {
            let u = FileUpload::from_json(item).unwrap();
            routing::route(&config, &case(&input["case"]), &Change::FilesUploaded(&u))
        }
        EventType::CaseUpdated => {
            let new = CaseRecord::from_json(item).unwrap();
            let update = case_update::diff(&case(&input["old"]), &new).expect("a change");
            routing::route(&config, &new, &Change::CaseUpdated(&update))
        }
        EventType::Invoice => {
            let i = Invoice::from_json(item).unwrap();
            routing::route(&config, &case(&input["case"]), &Change::InvoiceSaved(&i))
        }
    }
    .unwrap();
    let mut mine: Vec<_> = planned
        .into_iter()
        .filter(|p| p.subscription.id == "golden" && p.event_type == t)
        .collect();
    assert_eq!(
        mine.len(),
        1,
        "{t} {version}: one webhook for the recipient"
    );
    assert_eq!(mine[0].version, version);
    mine.remove(0).body
}

/// Types whose bodies hold no map copied from an item: byte for byte.
fn is_struct_only(t: EventType) -> bool {
    !matches!(
        t,
        EventType::StatusTransition | EventType::CaseUpdated | EventType::Invoice
    )
}

#[test]
fn every_type_in_every_version_is_the_seed_example() {
    let mut checked = Vec::new();
    for t in EventType::ALL {
        for version in [Version::V1, Version::V2, Version::V3] {
            let file = dir(t).join(format!("{version}.json"));
            if !version.supports(t) {
                assert!(
                    !file.exists(),
                    "{} exists but {t} has no {version}",
                    file.display()
                );
                continue;
            }
            let expected_text = read(file.clone())
                .unwrap_or_else(|| panic!("missing golden file {}", file.display()));
            let expected: Value = serde_json::from_str(&expected_text).unwrap();
            let body = render(t, version);
            let got: Value = serde_json::from_str(&body).unwrap();

            let mut diffs = Vec::new();
            differences("", &expected, &got, &mut diffs);
            assert!(diffs.is_empty(), "{t} {version}:\n{}", diffs.join("\n"));
            let want_order = serde_json::from_str::<Keys>(&expected_text).unwrap().0;
            let got_order = serde_json::from_str::<Keys>(&body).unwrap().0;
            assert_eq!(got_order, want_order, "{t} {version}: field order");
            if is_struct_only(t) {
                assert_eq!(body, minified(&expected_text), "{t} {version}: bytes");
            }
            checked.push(format!("{t}/{version}"));
        }
    }
    assert_eq!(
        checked,
        [
            "newStatus/v1",
            "newStatus/v2",
            "newStatus/v3",
            "statusTransition/v3",
            "newCostProposal/v1",
            "newCostProposal/v2",
            "newCostProposal/v3",
            "newMessage/v1",
            "newMessage/v2",
            "newMessage/v3",
            "messageConfirmed/v3",
            "newFile/v1",
            "newFile/v2",
            "newFile/v3",
            "caseUpdated/v2",
            "caseUpdated/v3",
            "invoice/v3"
        ]
    );
}

#[test]
fn versions_a_type_lacks_are_refused_when_configured() {
    for t in EventType::ALL {
        for version in [Version::V1, Version::V2] {
            if version.supports(t) {
                continue;
            }
            let mut v = json!({
                "id": "s", "kind": "subscription", "party": {"type": "partner", "id": 1},
                "eventTypes": [t], "perType": {t.as_str(): {"version": version}},
                "destination": {"method": "POST", "url": "https://a.example/"}
            });
            if t == EventType::StatusTransition {
                v["transitions"] = json!([{"to": "final"}]);
            }
            let err = ConfigItem::parse(&RawConfigItem {
                id: "s".into(),
                value: v,
            })
            .unwrap_err();
            assert_eq!(err.field, format!("perType.{t}.version"));
            assert!(
                err.message
                    .starts_with(&format!("`{t}` has no {version} payload")),
                "{err}"
            );
        }
    }
}

/// docs/receiving-webhooks.md shows each type's v3 body; where it is not
/// shortened it must be the golden body, so what integrators read is true.
#[test]
fn documented_examples_are_the_golden_bodies() {
    let readme =
        std::fs::read_to_string(workspace_root().join("docs/receiving-webhooks.md")).unwrap();
    for t in EventType::ALL {
        let heading = format!("— `{t}`\n");
        let at = readme
            .find(&heading)
            .unwrap_or_else(|| panic!("docs/receiving-webhooks.md has no section for {t}"));
        let rest = &readme[at..];
        let start = rest.find("```json\n").expect("an example") + 8;
        let end = start + rest[start..].find("```").unwrap();
        let shown: Value = serde_json::from_str(&rest[start..end])
            .unwrap_or_else(|e| panic!("documented example of {t}: {e}"));
        if matches!(t, EventType::StatusTransition | EventType::Invoice) {
            // Shortened (`case`): the same fields in the same order.
            let golden = read(dir(t).join("v3.json")).unwrap();
            let want = serde_json::from_str::<Keys>(&golden).unwrap().0;
            let got = serde_json::from_str::<Keys>(&rest[start..end]).unwrap().0;
            assert_eq!(got, want, "documented example of {t}");
        } else {
            let golden: Value =
                serde_json::from_str(&read(dir(t).join("v3.json")).unwrap()).unwrap();
            assert_eq!(shown, golden, "documented example of {t}");
        }
    }
}

/// Every golden body is valid against the schema derived from the type
/// that renders it (`hubhooks::payload::schema`), and the schema is not
/// vacuous: the body with a required field dropped, or with its first
/// field given another type, is refused.
#[test]
fn every_golden_body_is_valid_against_its_schema_and_a_broken_one_is_not() {
    let mut checked = 0;
    for t in EventType::ALL {
        for v in hubhooks::event::Version::of(t) {
            let schema = hubhooks::payload::schema::of(t, *v)
                .unwrap_or_else(|| panic!("{t} {v}: no schema"));
            let schema = serde_json::to_value(&schema).unwrap();
            let validator = jsonschema::validator_for(&schema)
                .unwrap_or_else(|e| panic!("{t} {v}: not a schema: {e}"));
            let file = dir(t).join(format!("{}.json", v.as_str()));
            let body: Value = serde_json::from_str(&read(file).unwrap()).unwrap();
            let problems: Vec<String> = validator
                .iter_errors(&body)
                .map(|e| e.to_string())
                .collect();
            assert!(problems.is_empty(), "{t} {v}: {problems:?}");
            let required = schema["required"].as_array().expect("required fields");
            let first = required[0].as_str().unwrap();
            let mut dropped = body.clone();
            dropped.as_object_mut().unwrap().remove(first);
            assert!(!validator.is_valid(&dropped), "{t} {v} without {first}");
            let mut retyped = body.clone();
            retyped[first] = json!([]);
            assert!(!validator.is_valid(&retyped), "{t} {v} with {first}: []");
            checked += 1;
        }
    }
    assert_eq!(checked, 17, "every type in every version it exists in");
}
