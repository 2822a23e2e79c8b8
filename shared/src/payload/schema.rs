//! The JSON Schema of every webhook body, per type and version, derived
//! from the very types [`super::render`] serializes: the catalogue the
//! management API publishes and the OpenAPI `webhooks` section are made
//! from these, never from a hand-kept copy. `tests/it/golden.rs` validates
//! every golden body against its schema.
use super::{Version, v1, v2, v3};
use crate::case_update::CaseUpdate;
use crate::event::EventType;
use schemars::{Schema, schema_for};

/// The schema of `event_type`'s body in `version`; none where the type has
/// no such version.
pub fn of(event_type: EventType, version: Version) -> Option<Schema> {
    use EventType::*;
    use Version::*;
    Some(match (event_type, version) {
        (NewStatus, V3) => schema_for!(v3::NewStatus),
        (NewStatus, V2) => schema_for!(v2::NewStatus),
        (NewStatus, V1) => schema_for!(v1::StatusUpdate),
        (StatusTransition, V3) => schema_for!(v3::StatusTransition),
        (NewCostProposal, V3) => schema_for!(v3::CostProposal),
        (NewCostProposal, V2) => schema_for!(v2::CostProposal),
        (NewCostProposal, V1) => schema_for!(v1::CostProposal),
        (NewMessage | MessageConfirmed, V3) => schema_for!(v3::Message),
        (NewMessage, V2) => schema_for!(v2::Message),
        (NewMessage, V1) => schema_for!(v1::Message),
        (NewFile, V3 | V2) => schema_for!(v3::Files),
        (NewFile, V1) => schema_for!(v1::Files),
        (CaseUpdated, V3 | V2) => schema_for!(CaseUpdate),
        (Invoice, V3) => schema_for!(v3::Invoice),
        _ => return None,
    })
}

/// Whether a body of `schema` can hold a value at `path` (dot-separated
/// keys, a number indexing an array): `Err` names the first key it cannot
/// and the keys that are there. An object the schema leaves open (a case
/// section, a map) takes any key below it.
pub fn has_path(schema: &Schema, path: &str) -> Result<(), String> {
    let root = schema.as_value();
    let mut nodes = vec![root];
    let mut at = String::new();
    for key in path.split('.') {
        let mut next = Vec::new();
        let mut known = std::collections::BTreeSet::new();
        for node in nodes.iter().flat_map(|n| alternatives(root, n)) {
            if let Some(props) = node.get("properties").and_then(|p| p.as_object()) {
                known.extend(props.keys().cloned());
                if let Some(child) = props.get(key) {
                    next.push(child);
                    continue;
                }
            }
            match node.get("additionalProperties") {
                Some(serde_json::Value::Bool(false)) => {}
                Some(extra @ serde_json::Value::Object(_)) => next.push(extra),
                _ if is_open_object(node) => return Ok(()),
                _ => {}
            }
            if let Some(items) = node.get("items")
                && key.parse::<usize>().is_ok()
            {
                next.push(items);
            }
        }
        if next.is_empty() {
            let place = if at.is_empty() {
                "the body".to_owned()
            } else {
                format!("`{at}`")
            };
            let there = if known.is_empty() {
                "nothing below it".to_owned()
            } else {
                known.into_iter().collect::<Vec<_>>().join(", ")
            };
            return Err(format!("`{key}` is not in {place} (there: {there})"));
        }
        at = if at.is_empty() {
            key.to_owned()
        } else {
            format!("{at}.{key}")
        };
        nodes = next;
    }
    Ok(())
}

/// `node` with its `$ref` followed and its `anyOf`/`oneOf`/`allOf` spread.
fn alternatives<'a>(
    root: &'a serde_json::Value,
    node: &'a serde_json::Value,
) -> Vec<&'a serde_json::Value> {
    let node = match node.get("$ref").and_then(|r| r.as_str()) {
        Some(r) => r
            .strip_prefix("#/$defs/")
            .and_then(|name| root.get("$defs")?.get(name))
            .unwrap_or(node),
        None => node,
    };
    let mut out = vec![node];
    for k in ["anyOf", "oneOf", "allOf"] {
        if let Some(list) = node.get(k).and_then(|l| l.as_array()) {
            out.extend(list.iter().flat_map(|n| alternatives(root, n)));
        }
    }
    out
}

/// An object whose keys the schema does not list.
fn is_open_object(node: &serde_json::Value) -> bool {
    let object = match node.get("type") {
        Some(serde_json::Value::String(t)) => t == "object",
        Some(serde_json::Value::Array(ts)) => ts.iter().any(|t| t == "object"),
        _ => false,
    };
    object && node.get("properties").is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_through_refs_options_arrays_and_open_sections() {
        let at = |t, v, p| has_path(&of(t, v).unwrap(), p);
        use EventType::*;
        use Version::*;
        assert_eq!(at(NewStatus, V3, "key"), Ok(()));
        assert_eq!(at(CaseUpdated, V3, "orderData.region"), Ok(()));
        assert_eq!(at(NewFile, V3, "files.0.name"), Ok(()));
        assert_eq!(at(NewCostProposal, V3, "details.2.priceNet"), Ok(()));
        assert_eq!(at(NewCostProposal, V3, "dateValidUntil"), Ok(()));
        assert_eq!(
            at(NewStatus, V3, "orderData.region"),
            Err("`orderData` is not in the body (there: caseId, createdAt, declaredAt, guid, id, key, name, updatedAt)".into())
        );
        assert_eq!(
            at(NewFile, V3, "files.0.size"),
            Err("`size` is not in `files.0` (there: name, type, url)".into())
        );
        assert_eq!(
            at(NewStatus, V3, "key.inner"),
            Err("`inner` is not in `key` (there: nothing below it)".into())
        );
        assert_eq!(
            at(CaseUpdated, V3, "region"),
            Err("`region` is not in the body (there: consumer, customer, guid, orderData, pickupDst, productData, returnDst, sender)".into())
        );
    }

    /// Exactly the versions a type exists in have a schema.
    #[test]
    fn every_type_has_a_schema_in_each_of_its_versions_and_no_other() {
        for t in EventType::ALL {
            for v in [Version::V1, Version::V2, Version::V3] {
                assert_eq!(of(t, v).is_some(), Version::of(t).contains(&v), "{t} {v}");
            }
        }
    }
}
