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
