//! Which subscriptions a change fires, and with which body.
use crate::blacklist;
use crate::config::{ConfigSet, Subscription};
use crate::event::EventType;
use crate::mapping::{self, StatusView};
use crate::payload::v3;
use crate::record::{CaseRecord, StatusRecord};

/// A webhook to send: the subscription, its type and the rendered body.
#[derive(Debug)]
pub struct Planned<'a> {
    pub subscription: &'a Subscription,
    pub event_type: EventType,
    pub body: String,
}

const STATUS_TYPES: [EventType; 2] = [EventType::NewStatus, EventType::StatusTransition];

/// Whether any enabled subscription of the case's parties cares about
/// statuses; when none does, the router need not read the status history.
pub fn wants_statuses(config: &ConfigSet, case: &CaseRecord) -> bool {
    case.parties().into_iter().any(|p| {
        config
            .subscriptions_for(p)
            .iter()
            .any(|s| STATUS_TYPES.iter().any(|t| s.wants(*t)))
    })
}

/// Routes a new status record.
///
/// `previous` holds the case's earlier status records, newest first. For each
/// party the status is seen through its mapping; a black-listed status fires
/// nothing and is skipped when looking for the previous one.
pub fn route_new_status<'a>(
    config: &'a ConfigSet,
    case: &'a CaseRecord,
    status: &'a StatusRecord,
    previous: &'a [StatusRecord],
) -> Result<Vec<Planned<'a>>, serde_json::Error> {
    let mut planned = Vec::new();
    for party in case.parties() {
        let subs: Vec<&Subscription> = config
            .subscriptions_for(party)
            .iter()
            .filter(|s| STATUS_TYPES.iter().any(|t| s.wants(*t)))
            .collect();
        if subs.is_empty() {
            continue;
        }
        let view = mapping::view(config, party, case, status);
        if blacklist::hides(config, party, &view) {
            continue;
        }
        let prev: Option<StatusView<'_>> = previous
            .iter()
            .map(|p| mapping::view(config, party, case, p))
            .find(|v| !blacklist::hides(config, party, v));
        let prev_key = prev.as_ref().map(|v| v.key);
        let repeated = prev_key == Some(view.key);

        // Rendered once per party; every subscription of the party shares it.
        let mut new_status_body = None;
        let mut transition_body = None;
        for sub in subs {
            if sub.wants(EventType::NewStatus) && !repeated {
                let body = match &new_status_body {
                    Some(b) => b,
                    None => new_status_body
                        .insert(serde_json::to_string(&v3::NewStatus::new(status, &view))?),
                };
                planned.push(Planned {
                    subscription: sub,
                    event_type: EventType::NewStatus,
                    body: body.clone(),
                });
            }
            if sub.wants(EventType::StatusTransition)
                && sub
                    .transitions
                    .iter()
                    .any(|r| r.matches(prev_key, view.key))
            {
                let body = match &transition_body {
                    Some(b) => b,
                    None => transition_body.insert(serde_json::to_string(
                        &v3::StatusTransition::new(status, &view, prev_key, &case.data),
                    )?),
                };
                planned.push(Planned {
                    subscription: sub,
                    event_type: EventType::StatusTransition,
                    body: body.clone(),
                });
            }
        }
    }
    Ok(planned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConfigItem, RawConfigItem};
    use serde_json::{Value, json};

    const PARTNER: i64 = 1413;
    const PROVIDER: i64 = 1004;

    fn config(items: Value) -> ConfigSet {
        let raw = items
            .as_array()
            .unwrap()
            .iter()
            .map(|v| RawConfigItem {
                id: v["id"].as_str().unwrap().to_owned(),
                value: v.clone(),
            })
            .collect();
        let set = ConfigSet::from_raw(raw);
        assert!(set.errors.is_empty(), "{:?}", set.errors);
        set
    }

    fn sub(id: &str, party: (&str, i64), types: Value, transitions: Value) -> Value {
        json!({
            "id": id, "kind": "subscription", "party": {"type": party.0, "id": party.1},
            "eventTypes": types, "transitions": transitions,
            "destination": {"method": "POST", "url": format!("https://example.com/{id}")}
        })
    }

    fn standard() -> ConfigSet {
        config(json!([
            sub("p-new", ("partner", PARTNER), json!(["newStatus"]), json!([])),
            sub("p-final", ("partner", PARTNER), json!(["statusTransition"]), json!([{"from": "arrived", "to": "final"}])),
            sub("s-new", ("provider", PROVIDER), json!(["newStatus"]), json!([])),
            sub("other-partner", ("partner", 9), json!(["newStatus"]), json!([])),
            {"id": "map", "kind": "statusMapping", "partnerId": PARTNER,
             "statuses": {"prov_arrived": {"key": "arrived", "name": "Product arrived"}, "prov_done": {"key": "final"}}},
            {"id": "bl", "kind": "blackList", "party": {"type": "partner", "id": PARTNER}, "keys": ["internal_check"]}
        ]))
    }

    fn case() -> CaseRecord {
        CaseRecord::from_json(json!({"guid": "g-1", "id": 77, "partnerId": PARTNER, "serviceProviderId": PROVIDER, "currentStatus": "x"})).unwrap()
    }

    fn status(id: i64, key: &str) -> StatusRecord {
        StatusRecord::from_json(json!({
            "id": id, "caseId": 77, "guid": "g-1", "name": format!("Name of {key}"), "key": key,
            "createdAt": "2024-05-01T10:00:00.000Z", "updatedAt": "2024-05-01T10:00:00.000Z", "declaredAt": null
        }))
        .unwrap()
    }

    /// (subscription id, event type, key, prevKey) of each planned webhook.
    fn fired(
        config: &ConfigSet,
        new: &StatusRecord,
        previous: &[StatusRecord],
    ) -> Vec<(String, EventType, String, Option<String>)> {
        let case = case();
        route_new_status(config, &case, new, previous)
            .unwrap()
            .into_iter()
            .map(|p| {
                let body: Value = serde_json::from_str(&p.body).unwrap();
                (
                    p.subscription.id.clone(),
                    p.event_type,
                    body["key"].as_str().unwrap().to_owned(),
                    body.get("prevKey")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                )
            })
            .collect()
    }

    #[test]
    fn partner_sees_mapped_keys_provider_sees_its_own() {
        let cfg = standard();
        let got = fired(&cfg, &status(2, "prov_arrived"), &[status(1, "registered")]);
        assert_eq!(
            got,
            vec![
                ("p-new".into(), EventType::NewStatus, "arrived".into(), None),
                (
                    "s-new".into(),
                    EventType::NewStatus,
                    "prov_arrived".into(),
                    None
                ),
            ]
        );
        let case = case();
        let s = status(2, "prov_arrived");
        let body = &route_new_status(&cfg, &case, &s, &[]).unwrap()[0].body;
        assert!(
            body.contains(r#""name":"Product arrived","key":"arrived""#),
            "{body}"
        );
    }

    #[test]
    fn unmapped_keys_pass_as_is_and_names_default_to_the_provider_name() {
        let cfg = standard();
        let case = case();
        let s = status(3, "prov_done");
        let planned = route_new_status(&cfg, &case, &s, &[]).unwrap();
        assert!(
            planned[0]
                .body
                .contains(r#""name":"Name of prov_done","key":"final""#)
        );
        assert_eq!(fired(&cfg, &status(3, "diagnosed"), &[])[0].2, "diagnosed");
    }

    #[test]
    fn transition_and_new_status_fire_together_with_mapped_prev_key() {
        let cfg = standard();
        let got = fired(
            &cfg,
            &status(3, "prov_done"),
            &[status(2, "prov_arrived"), status(1, "registered")],
        );
        assert_eq!(
            got,
            vec![
                (
                    "p-final".into(),
                    EventType::StatusTransition,
                    "final".into(),
                    Some("arrived".into())
                ),
                ("p-new".into(), EventType::NewStatus, "final".into(), None),
                (
                    "s-new".into(),
                    EventType::NewStatus,
                    "prov_done".into(),
                    None
                ),
            ]
        );
    }

    #[test]
    fn repeated_status_fires_no_new_status() {
        let cfg = standard();
        let got = fired(
            &cfg,
            &status(3, "prov_arrived"),
            &[status(2, "prov_arrived")],
        );
        assert!(got.is_empty(), "{got:?}");
    }

    #[test]
    fn repeat_is_judged_on_mapped_keys() {
        // Two provider keys mapping to one partner key repeat for the partner
        // but not for the provider.
        let cfg = config(json!([
            sub("p-new", ("partner", PARTNER), json!(["newStatus"]), json!([])),
            sub("s-new", ("provider", PROVIDER), json!(["newStatus"]), json!([])),
            {"id": "map", "kind": "statusMapping", "partnerId": PARTNER,
             "statuses": {"a1": {"key": "A"}, "a2": {"key": "A"}}}
        ]));
        let got = fired(&cfg, &status(3, "a2"), &[status(2, "a1")]);
        assert_eq!(
            got,
            vec![("s-new".into(), EventType::NewStatus, "a2".into(), None)]
        );
    }

    #[test]
    fn black_listed_status_fires_nothing_and_is_skipped_for_prev_key() {
        let cfg = standard();
        assert_eq!(
            fired(
                &cfg,
                &status(3, "internal_check"),
                &[status(2, "prov_arrived")]
            ),
            vec![(
                "s-new".into(),
                EventType::NewStatus,
                "internal_check".into(),
                None
            )],
            "only the provider, who has no black list, hears of it"
        );
        let got = fired(
            &cfg,
            &status(4, "prov_done"),
            &[status(3, "internal_check"), status(2, "prov_arrived")],
        );
        assert!(
            got.contains(&(
                "p-final".into(),
                EventType::StatusTransition,
                "final".into(),
                Some("arrived".into())
            )),
            "{got:?}"
        );
        // A status repeated around a hidden one is still a repeat for the partner.
        let got = fired(
            &cfg,
            &status(5, "prov_arrived"),
            &[status(4, "internal_check"), status(3, "prov_arrived")],
        );
        assert_eq!(
            got,
            vec![(
                "s-new".into(),
                EventType::NewStatus,
                "prov_arrived".into(),
                None
            )]
        );
    }

    #[test]
    fn black_list_may_name_the_mapped_key() {
        let cfg = config(json!([
            sub("p-new", ("partner", PARTNER), json!(["newStatus"]), json!([])),
            {"id": "map", "kind": "statusMapping", "partnerId": PARTNER, "statuses": {"x": {"key": "hidden"}}},
            {"id": "bl", "kind": "blackList", "party": {"type": "partner", "id": PARTNER}, "keys": ["hidden"]}
        ]));
        assert!(fired(&cfg, &status(1, "x"), &[]).is_empty());
    }

    #[test]
    fn provider_specific_mapping_wins() {
        let cfg = config(json!([
            sub("p-new", ("partner", PARTNER), json!(["newStatus"]), json!([])),
            {"id": "map-any", "kind": "statusMapping", "partnerId": PARTNER, "statuses": {"x": {"key": "generic"}}},
            {"id": "map-1004", "kind": "statusMapping", "partnerId": PARTNER, "providerId": PROVIDER, "statuses": {"x": {"key": "specific"}}}
        ]));
        assert_eq!(fired(&cfg, &status(1, "x"), &[])[0].2, "specific");
    }

    #[test]
    fn disabled_subscriptions_and_other_parties_get_nothing() {
        let mut disabled = sub(
            "p-new",
            ("partner", PARTNER),
            json!(["newStatus"]),
            json!([]),
        );
        disabled["enabled"] = json!(false);
        let cfg = config(json!([
            disabled,
            sub("x", ("partner", 5), json!(["newStatus"]), json!([]))
        ]));
        assert!(fired(&cfg, &status(1, "a"), &[]).is_empty());
        assert!(!wants_statuses(&cfg, &case()));
    }

    #[test]
    fn every_transition_condition_kind() {
        let cfg = config(json!([
            sub(
                "to",
                ("partner", PARTNER),
                json!(["statusTransition"]),
                json!([{"to": "final"}])
            ),
            sub(
                "from",
                ("partner", PARTNER),
                json!(["statusTransition"]),
                json!([{"from": "arrived"}])
            ),
            sub(
                "from-to",
                ("partner", PARTNER),
                json!(["statusTransition"]),
                json!([{"from": "repair", "to": "final"}])
            ),
        ]));
        let ids = |new: &str, prev: &[&str]| -> Vec<String> {
            let previous: Vec<StatusRecord> = prev
                .iter()
                .enumerate()
                .map(|(i, k)| status(10 - i as i64, k))
                .collect();
            fired(&cfg, &status(20, new), &previous)
                .into_iter()
                .map(|f| f.0)
                .collect()
        };
        assert_eq!(ids("final", &["arrived"]), vec!["from", "to"]);
        assert_eq!(ids("final", &["repair"]), vec!["from-to", "to"]);
        assert_eq!(ids("repair", &["arrived"]), vec!["from"]);
        assert_eq!(ids("final", &[]), vec!["to"]);
        assert!(ids("final", &["final"]).is_empty());
    }

    #[test]
    fn config_items_round_trip_through_json() {
        for s in standard().subscriptions() {
            let item = ConfigItem::Subscription(s.clone());
            let back: ConfigItem =
                serde_json::from_value(serde_json::to_value(&item).unwrap()).unwrap();
            assert_eq!(back, item);
        }
    }
}
