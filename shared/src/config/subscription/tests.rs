use super::*;
use crate::config::tests::{parsed, raw};
use crate::config::{ConfigItem, Destination};
use crate::routing::Route;
use serde_json::{Value, json};

#[test]
fn per_type_destinations_and_versions_resolve() {
    let s = parsed(json!({
        "id": "s", "kind": "subscription", "party": {"type": "partner", "id": 1},
        "eventTypes": ["newStatus", "newMessage", "caseUpdated"], "version": "v1",
        "destination": {"method": "POST", "url": "https://a.example/default"},
        "perType": {
            "newMessage": {"destination": {"method": "PUT", "url": "https://a.example/messages"}},
            "caseUpdated": {"version": "v3"}
        }
    }));
    let url = |t| match crate::routing::subscription_route(&s, t) {
        Some(Route {
            version,
            destination: Destination::Http(h),
        }) => (version, h.url.as_str()),
        other => panic!("{t} not routed over HTTP: {other:?}"),
    };
    assert_eq!(
        url(EventType::NewStatus),
        (Version::V1, "https://a.example/default")
    );
    assert_eq!(
        url(EventType::NewMessage),
        (Version::V1, "https://a.example/messages")
    );
    assert_eq!(
        url(EventType::CaseUpdated),
        (Version::V3, "https://a.example/default")
    );
    assert!(crate::routing::subscription_route(&s, EventType::Invoice).is_none());
    assert_eq!(
        s.deprecated_versions(),
        vec![
            (EventType::NewStatus, Version::V1),
            (EventType::NewMessage, Version::V1)
        ]
    );
}

#[test]
fn versions_a_type_does_not_have_are_refused() {
    let base = || {
        json!({"id": "s", "kind": "subscription", "party": {"type": "partner", "id": 1},
               "destination": {"method": "POST", "url": "https://a.example/"}})
    };
    let err = |patch: Value| {
        let mut v = base();
        v.as_object_mut()
            .unwrap()
            .extend(patch.as_object().unwrap().clone());
        ConfigItem::parse(&raw(v)).unwrap_err().to_string()
    };
    assert_eq!(
        err(
            json!({"eventTypes": ["statusTransition"], "transitions": [{"to": "x"}], "version": "v2"})
        ),
        "config item `s`, field `version`: `statusTransition` has no v2 payload (it exists in v3); set its version in perType"
    );
    assert_eq!(
        err(json!({"eventTypes": ["caseUpdated"], "perType": {"caseUpdated": {"version": "v1"}}})),
        "config item `s`, field `perType.caseUpdated.version`: `caseUpdated` has no v1 payload (it exists in v2, v3)"
    );
    assert_eq!(
        err(json!({"eventTypes": ["newStatus"], "version": "v4"})),
        "config item `s`, field `version`: unknown variant `v4`, expected one of `v1`, `v2`, `v3`"
    );
    assert_eq!(
        err(json!({"eventTypes": ["any"], "version": "v1"})),
        "config item `s`, field `version`: `any` also covers types that have no v1 payload; keep v3 here and set older versions in perType"
    );
    assert_eq!(
        err(json!({"eventTypes": ["newStatus"], "perType": {"invoice": {"version": "v3"}}})),
        "config item `s`, field `perType.invoice`: `invoice` is not in eventTypes"
    );
    assert_eq!(
        err(json!({"eventTypes": ["newStatus"], "retry": [10, 0]})),
        "config item `s`, field `retry[1]`: 0 s is outside 1 … 43200 s (12 h, the longest SQS hides a message)"
    );
    assert_eq!(
        err(json!({"eventTypes": ["newStatus"], "retry": [10, 60], "maxAttempts": 8})),
        "config item `s`, field `maxAttempts`: 8 disagrees with retry's 2 delays (3 attempts): drop maxAttempts, retry sets the attempts"
    );
    assert_eq!(
        err(json!({"eventTypes": ["newStatus"], "retry": "30,60"})),
        "config item `s`, field `retry`: invalid type: string \"30,60\", expected a sequence"
    );
    assert_eq!(
        err(
            json!({"eventTypes": ["newStatus"], "filter": {"path": "orderData.region", "equals": "north"}})
        ),
        "config item `s`, field `filter.path`: `orderData.region` is not in a newStatus v3 webhook: `orderData` is not in the body (there: caseId, createdAt, declaredAt, guid, id, key, name, updatedAt)"
    );
    assert_eq!(
        err(json!({"eventTypes": ["newStatus", "caseUpdated"],
                   "filter": {"any": [{"path": "key", "equals": "final"}, {"path": "guid", "prefix": "a"}]}})),
        "config item `s`, field `filter.any[0].path`: `key` is not in a caseUpdated v3 webhook: `key` is not in the body (there: consumer, customer, guid, orderData, pickupDst, productData, returnDst, sender)"
    );
    assert_eq!(
        err(
            json!({"eventTypes": ["newStatus"], "version": "v1", "filter": {"path": "caseId", "equals": 7}})
        ),
        "config item `s`, field `filter.path`: `caseId` is not in a newStatus v1 webhook: `caseId` is not in the body (there: createdAt, guid, key, name, updatedAt)"
    );
    assert_eq!(
        err(json!({"eventTypes": ["newStatus", "caseUpdated"],
                   "filter": {"path": "key", "equals": "final"},
                   "perType": {"caseUpdated": {"filter": {"path": "orderData.region", "in": []}}}})),
        "config item `s`, field `perType.caseUpdated.filter`: `in` lists 1 to 100 values, not 0"
    );
    assert_eq!(
        err(
            json!({"eventTypes": ["newStatus"], "destination": {"method": "POST", "url": "http://a.example/"},
                   "auth": {"mtls": {"certificateSecret": "c", "keySecret": "k"}}})
        ),
        "config item `s`, field `destination.url`: auth.mtls presents a client certificate over TLS: the URL must be https"
    );
    assert_eq!(
        err(json!({"eventTypes": ["newStatus", "any"]})),
        "config item `s`, field `eventTypes[1]`: `any` covers every type: list it alone"
    );
}

#[test]
fn every_type_needs_a_destination() {
    let v = json!({"id": "s", "kind": "subscription", "party": {"type": "partner", "id": 1},
        "eventTypes": ["newStatus", "newFile"],
        "perType": {"newStatus": {"destination": {"method": "POST", "url": "https://a.example/s"}}}});
    assert_eq!(
        ConfigItem::parse(&raw(v)).unwrap_err().to_string(),
        "config item `s`, field `destination`: missing, and perType gives none for `newFile`"
    );
    let v = json!({"id": "s", "kind": "subscription", "party": {"type": "partner", "id": 1},
        "eventTypes": ["newFile"],
        "perType": {"newFile": {"destination": {"method": "POST", "url": "gopher://x"}}}});
    assert_eq!(
        ConfigItem::parse(&raw(v)).unwrap_err().to_string(),
        "config item `s`, field `perType.newFile.destination.url`: scheme must be http or https, got `gopher`"
    );
}

#[test]
fn wildcards_any_and_all_current() {
    let any = parsed(
        json!({"id": "s", "kind": "subscription", "party": {"type": "partner", "id": 1},
        "eventTypes": ["any"], "destination": {"method": "POST", "url": "https://a.example/"}}),
    );
    assert_eq!(any.registered_types(), EventType::ALL.to_vec());
    // Without conditions a transition never fires, but it is no error.
    assert!(any.transitions.is_empty());
    let mut all = parsed(
        json!({"id": "s", "kind": "subscription", "party": {"type": "partner", "id": 1},
        "eventTypes": ["allCurrent"], "destination": {"method": "POST", "url": "https://a.example/"}}),
    );
    assert!(!all.is_expanded());
    let mut with_rules = all.clone();
    all.expand_all_current();
    assert_eq!(
        all.event_types.len(),
        7,
        "no statusTransition without conditions"
    );
    assert!(!all.registers(EventType::StatusTransition));
    all.validate().unwrap();
    with_rules.transitions = vec![serde_json::from_value(json!({"to": "final"})).unwrap()];
    with_rules.expand_all_current();
    assert_eq!(
        with_rules.event_types,
        EventType::ALL.map(Registered::Type).to_vec()
    );
    with_rules.validate().unwrap();
    assert_eq!(
        serde_json::to_value(&all).unwrap()["eventTypes"][6],
        json!("invoice")
    );
    let disabled = parsed(
        json!({"id": "s", "kind": "subscription", "party": {"type": "partner", "id": 1},
        "enabled": false, "eventTypes": ["any"], "destination": {"method": "POST", "url": "https://a.example/"}}),
    );
    assert!(crate::routing::subscription_route(&disabled, EventType::NewStatus).is_none());
}
