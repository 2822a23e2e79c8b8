//! Config items and files: the example config's items with any field
//! removed or given any JSON value, and files of any text. A refusal names
//! the field it refused (or its parent); an item that parses round-trips.
use crate::strategies::{Bend, bend, json_value, text};
use hubhooks::config::{ConfigItem, RawConfigItem};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::Value;

fn examples() -> Vec<Value> {
    let path = hubhooks_tests::workspace_root().join("docs/example-config.json");
    match serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap() {
        Value::Array(items) => items,
        other => vec![other],
    }
}

/// Every path to a field in `v` (`destination.url`, `statuses.0.key`).
fn paths(v: &Value, prefix: &str, out: &mut Vec<String>) {
    let children: Vec<(String, &Value)> = match v {
        Value::Object(m) => m.iter().map(|(k, v)| (k.clone(), v)).collect(),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v))
            .collect(),
        _ => return,
    };
    for (k, child) in children {
        let path = if prefix.is_empty() {
            k
        } else {
            format!("{prefix}.{k}")
        };
        out.push(path.clone());
        paths(child, &path, out);
    }
}

fn bend_at(v: &mut Value, path: &str, how: &Bend) {
    let (parent, last) = match path.rsplit_once('.') {
        Some((p, l)) => (p.split('.').collect::<Vec<_>>(), l),
        None => (Vec::new(), path),
    };
    let mut at = v;
    for seg in parent {
        at = match at {
            Value::Object(m) => m.get_mut(seg).unwrap(),
            Value::Array(a) => &mut a[seg.parse::<usize>().unwrap()],
            _ => return,
        };
    }
    match (at, how) {
        (Value::Object(m), Bend::Remove) => {
            m.remove(last);
        }
        (Value::Object(m), Bend::Replace(x)) => {
            m.insert(last.to_owned(), x.clone());
        }
        (Value::Array(a), Bend::Remove) => {
            a.remove(last.parse::<usize>().unwrap());
        }
        (Value::Array(a), Bend::Replace(x)) => a[last.parse::<usize>().unwrap()] = x.clone(),
        _ => {}
    }
}

/// The refusal is about `bent` (the field, a parent, or a field inside it:
/// `destination` for `destination.url`, `party.id` for `party`). Array
/// indexes are compared as they are written (`eventTypes[1]`).
fn names(field: &str, message: &str, bent: &str) -> bool {
    let field = field.replace('[', ".").replace(']', "");
    let first = |p: &str| p.split('.').next().unwrap_or_default().to_owned();
    let last = bent.rsplit('.').next().unwrap_or(bent);
    first(&field) == first(bent)
        || message.contains(&first(bent))
        || message.contains(&format!("`{last}`"))
}

proptest! {
    #![proptest_config(crate::strategies::cases())]

    #[test]
    fn a_bent_config_item_is_refused_naming_the_field_or_round_trips(
        which in any::<Index>(),
        at in any::<Index>(),
        how in bend(json_value(3)),
    ) {
        let items = examples();
        let mut item = items[which.index(items.len())].clone();
        let mut all = Vec::new();
        paths(&item, "", &mut all);
        let path = all[at.index(all.len())].clone();
        bend_at(&mut item, &path, &how);
        let id = item.get("id").and_then(Value::as_str).unwrap_or("?").to_owned();
        match ConfigItem::parse(&RawConfigItem { id, value: item }) {
            Err(e) => prop_assert!(
                names(&e.field, &e.message, &path),
                "bent `{path}`, refused naming `{}`: {}", e.field, e.message
            ),
            Ok(parsed) => {
                let written = serde_json::to_value(&parsed).unwrap();
                let id = parsed.id().to_owned();
                let again = ConfigItem::parse(&RawConfigItem { id, value: written });
                prop_assert_eq!(again.as_ref().ok(), Some(&parsed), "{:?}", again);
            }
        }
    }

    #[test]
    fn a_config_item_of_any_json_is_parsed_or_refused_with_a_reason(
        id in text(),
        value in json_value(4),
    ) {
        if let Err(e) = ConfigItem::parse(&RawConfigItem { id, value }) {
            prop_assert!(!e.message.is_empty());
        }
    }

    #[test]
    fn a_config_file_of_any_text_is_read_or_refused_naming_the_file(
        body in prop_oneof![
            3 => text(),
            2 => json_value(4).prop_map(|v| v.to_string()),
            1 => Just("a: &a [*a]".to_owned()),
            1 => Just("x: &x\n  - *x\n  - *x\n".to_owned()),
            1 => Just("{\"id\": \"a\", \"id\": \"b\"}".to_owned()),
            1 => Just("[".repeat(10_000)),
        ],
        yaml in any::<bool>(),
    ) {
        let dir = std::env::temp_dir().join(format!("hubhooks-props-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join(if yaml { "items.yaml" } else { "items.json" });
        std::fs::write(&file, &body).unwrap();
        if let Err(e) = hubhooks_cli::config::read_items(&file) {
            prop_assert!(format!("{e:#}").contains(&file.display().to_string()), "{e:#}");
        }
    }
}
