//! "Case updated": what changed between the old and the new image of a case,
//! by the rules of docs/data-contract.md ("Case updated").
//!
//! - Only the data sections count ([`SECTIONS`]); bookkeeping such as
//!   `currentStatus`, timestamps or `changedBy` is not a case update.
//! - Unchanged keys are not sent; a changed key carries its new value; a
//!   removed key is sent as `null`. Maps are compared key by key at every
//!   depth, an array counts as one value.
//! - The body always has `guid`, then the changed sections in the order below.
use crate::record::CaseRecord;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

/// The case's data sections, in the order a body lists them.
pub const SECTIONS: [&str; 7] = [
    "orderData",
    "productData",
    "customer",
    "consumer",
    "pickupDst",
    "returnDst",
    "sender",
];

/// The body of a "Case updated" webhook.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseUpdate {
    pub guid: String,
    /// Changed sections with what changed in them, in [`SECTIONS`] order.
    pub sections: Vec<(&'static str, Value)>,
}

/// What changed from `old` to `new`, or `None` when no data section did.
pub fn diff(old: &CaseRecord, new: &CaseRecord) -> Option<CaseUpdate> {
    let sections: Vec<(&'static str, Value)> = SECTIONS
        .iter()
        .filter_map(|&s| change(old.data.get(s), new.data.get(s)).map(|v| (s, v)))
        .collect();
    (!sections.is_empty()).then(|| CaseUpdate {
        guid: new.guid.clone(),
        sections,
    })
}

/// The change from `old` to `new` for one key, or `None` when unchanged.
/// An absent key and a `null` one are the same: nothing to send.
fn change(old: Option<&Value>, new: Option<&Value>) -> Option<Value> {
    let old = old.filter(|v| !v.is_null());
    let new = new.filter(|v| !v.is_null());
    match (old, new) {
        (None, None) => None,
        (Some(_), None) => Some(Value::Null),
        (None, Some(n)) => Some(n.clone()),
        (Some(Value::Object(o)), Some(Value::Object(n))) => {
            let changed = changed_keys(o, n);
            (!changed.is_empty()).then_some(Value::Object(changed))
        }
        (Some(o), Some(n)) => (o != n).then(|| n.clone()),
    }
}

fn changed_keys(old: &Map<String, Value>, new: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, n) in new {
        if let Some(v) = change(old.get(k), Some(n)) {
            out.insert(k.clone(), v);
        }
    }
    for (k, o) in old {
        if !new.contains_key(k)
            && let Some(v) = change(Some(o), None)
        {
            out.insert(k.clone(), v);
        }
    }
    out
}

/// The body's schema: the case's guid and the changed sections, each an
/// object holding the changed fields.
impl schemars::JsonSchema for CaseUpdate {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "CaseUpdated".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let sections: serde_json::Map<String, Value> = SECTIONS
            .iter()
            .map(|s| ((*s).to_owned(), serde_json::json!({"type": "object", "description": "The changed fields of this section, as they are now (null: removed)."})))
            .chain(std::iter::once((
                "guid".to_owned(),
                serde_json::json!({"type": "string", "description": "The case's guid."}),
            )))
            .collect();
        schemars::json_schema!({
            "description": "Case updated: the case's guid and each data section that changed.",
            "type": "object",
            "required": ["guid"],
            "properties": sections,
            "additionalProperties": false,
            "minProperties": 2
        })
    }
}

impl Serialize for CaseUpdate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(1 + self.sections.len()))?;
        map.serialize_entry("guid", &self.guid)?;
        for (k, v) in &self.sections {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn case(extra: Value) -> CaseRecord {
        let mut v = json!({"guid": "989d0f73-f87a-4dfe-98eb-554a44233cef", "id": 1, "partnerId": 2, "serviceProviderId": 3});
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        CaseRecord::from_json(v).unwrap()
    }

    fn body(old: Value, new: Value) -> Option<String> {
        diff(&case(old), &case(new)).map(|u| serde_json::to_string(&u).unwrap())
    }

    #[test]
    fn the_seed_example() {
        let old = json!({
            "orderData": {"refNo": "OLD", "serial": "S1", "bookingType": "x"},
            "productData": {"model": "Model S", "accessory": ["1180", "1181"], "serial": "5"},
            "consumer": {"firstName": "E.", "lastName": "Musk", "email": "e@x"},
            "sender": {"address": "Old street 1"},
            "customer": {"name": "same"}
        });
        let new = json!({
            "orderData": {"refNo": "REF", "bookingType": "x"},
            "productData": {"model": "Tesla Cybertruck", "accessory": ["1180"], "serial": "5"},
            "consumer": {"firstName": "Elon", "lastName": "Musk", "email": "e@x"},
            "sender": {"address": "Somestreet, 123"},
            "customer": {"name": "same"}
        });
        assert_eq!(
            body(old, new).unwrap(),
            r#"{"guid":"989d0f73-f87a-4dfe-98eb-554a44233cef","orderData":{"refNo":"REF","serial":null},"productData":{"accessory":["1180"],"model":"Tesla Cybertruck"},"consumer":{"firstName":"Elon"},"sender":{"address":"Somestreet, 123"}}"#
        );
    }

    #[test]
    fn bookkeeping_alone_is_not_an_update() {
        assert_eq!(
            body(
                json!({"currentStatus": "a", "updatedAt": "2024-01-01T00:00:00Z", "orderData": {"refNo": "R"}}),
                json!({"currentStatus": "b", "updatedAt": "2024-01-02T00:00:00Z", "orderData": {"refNo": "R"},
                       "changedBy": {"type": "partner"}})
            ),
            None
        );
    }

    #[test]
    fn arrays_are_one_value_and_nested_maps_are_compared_by_key() {
        assert_eq!(
            body(
                json!({"orderData": {"files": [{"name": "a"}], "address": {"street": "s", "zip": "1"}}}),
                json!({"orderData": {"files": [{"name": "a"}, {"name": "b"}], "address": {"street": "s"}}})
            )
            .unwrap(),
            r#"{"guid":"989d0f73-f87a-4dfe-98eb-554a44233cef","orderData":{"address":{"zip":null},"files":[{"name":"a"},{"name":"b"}]}}"#
        );
    }

    #[test]
    fn whole_sections_added_and_removed() {
        assert_eq!(
            body(
                json!({"pickupDst": {"city": "Oslo"}, "returnDst": null}),
                json!({"returnDst": {"city": "Bergen"}})
            )
            .unwrap(),
            r#"{"guid":"989d0f73-f87a-4dfe-98eb-554a44233cef","pickupDst":null,"returnDst":{"city":"Bergen"}}"#
        );
        // A map replaced by a scalar (and back) carries the new value whole.
        assert_eq!(
            body(json!({"customer": {"name": "n"}}), json!({"customer": "n"})).unwrap(),
            r#"{"guid":"989d0f73-f87a-4dfe-98eb-554a44233cef","customer":"n"}"#
        );
    }
}
