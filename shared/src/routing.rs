//! Which subscriptions a change fires, and with which body.
use crate::audience::Audience;
use crate::blacklist;
use crate::case_update::CaseUpdate;
use crate::classify::Classified;
use crate::config::{ConfigSet, Destination, Subscription};
use crate::event::EventType;
use crate::mapping::{self, StatusView};
use crate::party::{Actor, Party, PartyKind};
use crate::payload::{self, RenderError, Subject, Version};
use crate::record::{CaseRecord, CostProposal, FileUpload, Invoice, Message, StatusRecord};
use std::collections::HashMap;
use std::collections::hash_map::Entry;

/// Where and how one type of a subscription is delivered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Route<'a> {
    pub version: Version,
    pub destination: &'a Destination,
}

/// Destination and version for one type, when the subscription wants it
/// (active and registered): `perType` first, then the subscription's own.
pub fn subscription_route(sub: &Subscription, event_type: EventType) -> Option<Route<'_>> {
    if !sub.wants(event_type) {
        return None;
    }
    let per = sub.per_type.get(&event_type);
    let destination = per
        .and_then(|p| p.destination.as_ref())
        .or(sub.destination.as_ref())?;
    Some(Route {
        version: sub.version_for(event_type),
        destination,
    })
}

/// The subscription `id` as configured now, and where its `event_type`
/// goes, for a delivery about to be attempted; otherwise why it must
/// not be sent (disabled, deleted, refused, the type dropped). Retries
/// and replays follow what the operator just changed.
pub fn current_route<'a>(
    config: &'a ConfigSet,
    id: &str,
    event_type: EventType,
) -> Result<(&'a Subscription, Route<'a>), String> {
    if let Some(sub) = config.subscriptions().find(|s| s.id == id) {
        if !sub.active() {
            let why = match (&sub.disabled_reason, sub.enabled) {
                (Some(r), _) => format!(" ({r})"),
                (None, false) => " (enabled: false in its config)".to_owned(),
                (None, true) => String::new(),
            };
            return Err(format!("subscription `{id}` is disabled{why}; not sent"));
        }
        return subscription_route(sub, event_type)
            .map(|r| (sub, r))
            .ok_or_else(|| {
                format!("subscription `{id}` no longer subscribes to {event_type}; not sent")
            });
    }
    match config.errors.iter().find(|e| e.item == id) {
        Some(e) => Err(format!(
            "subscription `{id}` is refused by validation ({e}); not sent"
        )),
        None => Err(format!("subscription `{id}` no longer exists; not sent")),
    }
}

/// A webhook to send: the subscription, its type, where it goes and the
/// rendered body.
#[derive(Debug)]
pub struct Planned<'a> {
    pub subscription: &'a Subscription,
    pub event_type: EventType,
    pub version: Version,
    pub destination: &'a Destination,
    pub body: String,
}

impl<'a> Planned<'a> {
    fn new(
        subscription: &'a Subscription,
        event_type: EventType,
        route: Route<'a>,
        body: String,
    ) -> Self {
        Planned {
            subscription,
            event_type,
            version: route.version,
            destination: route.destination,
            body,
        }
    }
}

/// A change in the case tables that may fire webhooks. The case is passed
/// beside it (for a case update, the new image).
#[derive(Debug, Clone, Copy)]
pub enum Change<'a> {
    /// A status record was added; `previous` are the case's earlier
    /// records, newest first.
    StatusAdded {
        status: &'a StatusRecord,
        previous: &'a [StatusRecord],
    },
    /// The case's data sections changed.
    CaseUpdated(&'a CaseUpdate),
    CostProposalAdded(&'a CostProposal),
    MessageAdded(&'a Message),
    MessageConfirmed(&'a Message),
    FilesUploaded(&'a FileUpload),
    /// An invoice was created or changed.
    InvoiceSaved(&'a Invoice),
}

impl<'a> Change<'a> {
    /// The change a classified record is. A new status needs the case's
    /// earlier statuses (`previous`, newest first; only read for it);
    /// `None` for what sends nothing.
    pub fn of(classified: &'a Classified, previous: &'a [StatusRecord]) -> Option<Change<'a>> {
        Some(match classified {
            Classified::StatusAdded(status) => Change::StatusAdded { status, previous },
            Classified::CaseUpdated { update, .. } => Change::CaseUpdated(update),
            Classified::CostProposalAdded(p) => Change::CostProposalAdded(p),
            Classified::MessageAdded(m) => Change::MessageAdded(m),
            Classified::MessageConfirmed(m) => Change::MessageConfirmed(m),
            Classified::FilesUploaded(u) => Change::FilesUploaded(u),
            Classified::InvoiceSaved(i) => Change::InvoiceSaved(i),
            Classified::Ignore => return None,
        })
    }

    /// Who may hear of it (see [`crate::audience`]).
    pub fn audience(&self, case: &CaseRecord) -> Audience {
        match self {
            Change::StatusAdded { status, .. } => Audience::AllBut(status.changed_by),
            Change::CaseUpdated(_) => Audience::AllBut(case.changed_by),
            Change::CostProposalAdded(c) => Audience::AllBut(Some(c.changed_by.unwrap_or(Actor {
                kind: PartyKind::Provider,
                via: None,
            }))),
            Change::MessageAdded(m) => Audience::Only(m.sender_type.other()),
            Change::MessageConfirmed(m) => Audience::Only(m.sender_type),
            Change::FilesUploaded(u) => Audience::AllBut(u.changed_by),
            Change::InvoiceSaved(_) => Audience::Only(PartyKind::Partner),
        }
    }

    /// The types this change can fire.
    pub fn event_types(&self) -> &'static [EventType] {
        match self {
            Change::StatusAdded { .. } => &STATUS_TYPES,
            Change::CaseUpdated(_) => &[EventType::CaseUpdated],
            Change::CostProposalAdded(_) => &[EventType::NewCostProposal],
            Change::MessageAdded(_) => &[EventType::NewMessage],
            Change::MessageConfirmed(_) => &[EventType::MessageConfirmed],
            Change::FilesUploaded(_) => &[EventType::NewFile],
            Change::InvoiceSaved(_) => &[EventType::Invoice],
        }
    }
}

const STATUS_TYPES: [EventType; 2] = [EventType::NewStatus, EventType::StatusTransition];

/// Whether any enabled subscription of the case's parties wants one of
/// `types`; when none does, the router need not read more (the status
/// history, say).
pub fn anyone_wants(config: &ConfigSet, case: &CaseRecord, types: &[EventType]) -> bool {
    case.parties().into_iter().any(|p| {
        config
            .subscriptions_for(p)
            .iter()
            .any(|s| types.iter().any(|t| s.wants(*t)))
    })
}

/// Whether any subscription of the case's parties cares about statuses.
pub fn wants_statuses(config: &ConfigSet, case: &CaseRecord) -> bool {
    anyone_wants(config, case, &STATUS_TYPES)
}

/// The webhooks a change fires.
pub fn route<'a>(
    config: &'a ConfigSet,
    case: &CaseRecord,
    change: &Change<'_>,
) -> Result<Vec<Planned<'a>>, RenderError> {
    let parties = change.audience(case).parties(case);
    if let Change::StatusAdded { status, previous } = change {
        return route_status(config, case, &parties, status, previous);
    }
    if let Change::InvoiceSaved(invoice) = change
        && !config.sends_invoice(case.service_provider_id, &invoice.status)
    {
        return Ok(Vec::new());
    }
    let subject = match *change {
        Change::StatusAdded { .. } => unreachable!("handled above"),
        Change::CaseUpdated(u) => Subject::CaseUpdated(u),
        Change::CostProposalAdded(c) => Subject::NewCostProposal(c),
        Change::MessageAdded(m) => Subject::NewMessage(m),
        Change::MessageConfirmed(m) => Subject::MessageConfirmed(m),
        Change::FilesUploaded(u) => Subject::NewFile(u),
        Change::InvoiceSaved(invoice) => Subject::Invoice { invoice, case },
    };
    let event_type = subject.event_type();
    // Every recipient of one version gets the same body: render it once.
    let mut bodies: HashMap<Version, String> = HashMap::new();
    let mut planned = Vec::new();
    for party in parties {
        for sub in config.subscriptions_for(party) {
            if let Some(route) = subscription_route(sub, event_type) {
                let body = rendered(&mut bodies, route.version, || {
                    payload::render(&subject, route.version)
                })?;
                planned.push(Planned::new(sub, event_type, route, body));
            }
        }
    }
    Ok(planned)
}

/// A body from `cache`, rendered on first use: recipients of the same
/// (type and) version share one rendering.
fn rendered<K: std::hash::Hash + Eq>(
    cache: &mut HashMap<K, String>,
    key: K,
    render: impl FnOnce() -> Result<String, RenderError>,
) -> Result<String, RenderError> {
    match cache.entry(key) {
        Entry::Occupied(e) => Ok(e.get().clone()),
        Entry::Vacant(e) => Ok(e.insert(render()?).clone()),
    }
}

/// Routes a new status record.
///
/// For each party the status is seen through its mapping; a black-listed
/// status fires nothing and is skipped when looking for the previous one.
/// A status repeating the previous key fires no "new status"; a transition
/// fires when one of the subscription's conditions matches.
fn route_status<'a>(
    config: &'a ConfigSet,
    case: &CaseRecord,
    parties: &[Party],
    status: &StatusRecord,
    previous: &[StatusRecord],
) -> Result<Vec<Planned<'a>>, RenderError> {
    let mut planned = Vec::new();
    for &party in parties {
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

        // Rendered once per party, type and version.
        let mut bodies: HashMap<(EventType, Version), String> = HashMap::new();
        for sub in subs {
            let fires = |t: EventType| match t {
                EventType::NewStatus => !repeated,
                _ => sub
                    .transitions
                    .iter()
                    .any(|r| r.matches(prev_key, view.key)),
            };
            for event_type in STATUS_TYPES {
                let Some(route) = subscription_route(sub, event_type).filter(|_| fires(event_type))
                else {
                    continue;
                };
                let body = rendered(&mut bodies, (event_type, route.version), || {
                    let subject = match event_type {
                        EventType::NewStatus => Subject::NewStatus {
                            status,
                            view: &view,
                        },
                        _ => Subject::StatusTransition {
                            status,
                            view: &view,
                            prev_key,
                            case,
                        },
                    };
                    payload::render(&subject, route.version)
                })?;
                planned.push(Planned::new(sub, event_type, route, body));
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

    fn route_new_status<'a>(
        config: &'a ConfigSet,
        case: &CaseRecord,
        status: &StatusRecord,
        previous: &[StatusRecord],
    ) -> Result<Vec<Planned<'a>>, RenderError> {
        route(config, case, &Change::StatusAdded { status, previous })
    }
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
                    p.subscription.id.to_string(),
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

    /// (subscription id, event type, version) of each planned webhook.
    fn targets(planned: Vec<Planned<'_>>) -> Vec<(String, EventType, Version)> {
        planned
            .into_iter()
            .map(|p| (p.subscription.id.to_string(), p.event_type, p.version))
            .collect()
    }

    fn every_type_config() -> ConfigSet {
        let any = |id: &str, party: (&str, i64)| {
            json!({"id": id, "kind": "subscription", "party": {"type": party.0, "id": party.1},
                   "eventTypes": ["any"], "destination": {"method": "POST", "url": format!("https://example.com/{id}")}})
        };
        config(json!([
            any("partner-any", ("partner", PARTNER)),
            any("provider-any", ("provider", PROVIDER)),
            {"id": "partner-v1", "kind": "subscription", "party": {"type": "partner", "id": PARTNER},
             "eventTypes": ["newMessage"], "version": "v1",
             "destination": {"method": "POST", "url": "https://example.com/v1"}},
            {"id": "inv", "kind": "invoiceSettings", "providerId": PROVIDER,
             "statuses": {"ready": {"sendToClient": true}, "draft": {"sendToClient": false}}}
        ]))
    }

    fn message(sender: &str, confirmed: bool) -> Message {
        Message::from_json(json!({"id": 5, "guid": "g-1", "content": "hello", "type": "serviceComment",
            "senderType": sender, "createdAt": "2024-05-01T10:00:00.000Z",
            "confirmedAt": if confirmed { json!("2024-05-01T11:00:00.000Z") } else { Value::Null }}))
        .unwrap()
    }

    #[test]
    fn messages_go_to_the_receiver_and_confirmations_to_the_sender() {
        let cfg = every_type_config();
        let case = case();
        let m = message("provider", false);
        assert_eq!(
            targets(route(&cfg, &case, &Change::MessageAdded(&m)).unwrap()),
            vec![
                ("partner-any".into(), EventType::NewMessage, Version::V3),
                ("partner-v1".into(), EventType::NewMessage, Version::V1),
            ]
        );
        let planned = route(&cfg, &case, &Change::MessageAdded(&m)).unwrap();
        assert_eq!(
            planned[1].body,
            r#"{"id":5,"guid":"g-1","content":"hello","messageType":"serviceComment","createdAt":"2024-05-01T10:00:00.000Z","updatedAt":"2024-05-01T10:00:00.000Z"}"#
        );
        let m = message("provider", true);
        assert_eq!(
            targets(route(&cfg, &case, &Change::MessageConfirmed(&m)).unwrap()),
            vec![(
                "provider-any".into(),
                EventType::MessageConfirmed,
                Version::V3
            )]
        );
        let m = message("partner", false);
        assert_eq!(
            targets(route(&cfg, &case, &Change::MessageAdded(&m)).unwrap()),
            vec![("provider-any".into(), EventType::NewMessage, Version::V3)]
        );
    }

    #[test]
    fn invoices_reach_partners_only_in_flagged_statuses() {
        let cfg = every_type_config();
        let case = case();
        let invoice = |status: &str| {
            Invoice::from_json(
                json!({"id": 7, "guid": "g-1", "type": "invoice", "status": status,
                "currency": "NOK", "priceNet": 1080, "createdAt": "2023-01-25T13:11:18.000Z"}),
            )
            .unwrap()
        };
        assert_eq!(
            targets(route(&cfg, &case, &Change::InvoiceSaved(&invoice("ready"))).unwrap()),
            vec![("partner-any".into(), EventType::Invoice, Version::V3)]
        );
        assert!(
            route(&cfg, &case, &Change::InvoiceSaved(&invoice("draft")))
                .unwrap()
                .is_empty()
        );
        assert!(
            route(&cfg, &case, &Change::InvoiceSaved(&invoice("unknown")))
                .unwrap()
                .is_empty()
        );
        let no_settings = config(json!([{"id": "a", "kind": "subscription",
            "party": {"type": "partner", "id": PARTNER}, "eventTypes": ["invoice"],
            "destination": {"method": "POST", "url": "https://example.com/a"}}]));
        assert!(
            route(
                &no_settings,
                &case,
                &Change::InvoiceSaved(&invoice("ready"))
            )
            .unwrap()
            .is_empty()
        );
    }

    #[test]
    fn nobody_hears_of_their_own_change() {
        let cfg = every_type_config();
        let mut case = case();
        let upload = FileUpload::from_json(json!({"guid": "g-1", "uploadId": "u1",
            "files": [{"url": "https://f.example/a.pdf", "name": "a.pdf", "type": "other"}],
            "changedBy": {"type": "partner", "via": "web"}}))
        .unwrap();
        assert_eq!(
            targets(route(&cfg, &case, &Change::FilesUploaded(&upload)).unwrap()),
            vec![("provider-any".into(), EventType::NewFile, Version::V3)]
        );
        let proposal = CostProposal::from_json(json!({"id": 1, "guid": "g-1", "name": "RUR",
            "priceNet": 280, "currency": "SEK", "createdAt": "2019-11-25T11:30:29.000Z",
            "serviceProviderId": PROVIDER}))
        .unwrap();
        assert_eq!(
            targets(route(&cfg, &case, &Change::CostProposalAdded(&proposal)).unwrap()),
            vec![(
                "partner-any".into(),
                EventType::NewCostProposal,
                Version::V3
            )]
        );
        case.changed_by = Some(Actor {
            kind: PartyKind::Provider,
            via: None,
        });
        let update = CaseUpdate {
            guid: "g-1".into(),
            sections: vec![("orderData", json!({"refNo": "R"}))],
        };
        assert_eq!(
            targets(route(&cfg, &case, &Change::CaseUpdated(&update)).unwrap()),
            vec![("partner-any".into(), EventType::CaseUpdated, Version::V3)]
        );
        let mut s = status(2, "prov_arrived");
        s.changed_by = Some(Actor {
            kind: PartyKind::Provider,
            via: None,
        });
        assert_eq!(
            targets(route_new_status(&cfg, &case, &s, &[]).unwrap()),
            vec![("partner-any".into(), EventType::NewStatus, Version::V3)]
        );
    }
}
