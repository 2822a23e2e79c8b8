//! `hubhooks send-test`: a realistic webhook of one type through the real
//! delivery path (the delivery queue and the sender), marked
//! `webhook-test: true`, then the receiver's answer from the attempt log.
//!
//! The body is rendered by the same code as real webhooks, in the version
//! the subscription asks for, from the documented sample items of
//! tests/golden (the seeds' examples); with `--case GUID` the real case's
//! guid, ids and data are used instead.
use anyhow::{Context, Result, bail};
use hubhooks::case_update::CaseUpdate;
use hubhooks::config::{ConfigItem, RawConfigItem, Subscription};
use hubhooks::delivery::Delivery;
use hubhooks::event::EventType;
use hubhooks::mapping::StatusView;
use hubhooks::payload::{self, Subject};
use hubhooks::record::{CaseRecord, CostProposal, FileUpload, Invoice, Message, StatusRecord};
use hubhooks::timestamp::Timestamp;
use serde_json::{Value, json};

/// The documented sample items of a type (events/catalogue/<type>.json).
fn sample(event_type: EventType) -> Result<Value> {
    let text = match event_type {
        EventType::NewStatus => include_str!("../../events/catalogue/newStatus.json"),
        EventType::StatusTransition => {
            include_str!("../../events/catalogue/statusTransition.json")
        }
        EventType::NewCostProposal => include_str!("../../events/catalogue/newCostProposal.json"),
        EventType::NewMessage => include_str!("../../events/catalogue/newMessage.json"),
        EventType::MessageConfirmed => {
            include_str!("../../events/catalogue/messageConfirmed.json")
        }
        EventType::NewFile => include_str!("../../events/catalogue/newFile.json"),
        EventType::CaseUpdated => include_str!("../../events/catalogue/caseUpdated.json"),
        EventType::Invoice => include_str!("../../events/catalogue/invoice.json"),
    };
    Ok(serde_json::from_str(text)?)
}

/// The body of a test webhook of `event_type` for `subscription`.
pub fn body(
    subscription: &Subscription,
    event_type: EventType,
    real_case: Option<&CaseRecord>,
) -> Result<String> {
    let route =
        hubhooks::routing::subscription_route(subscription, event_type).with_context(|| {
            format!(
                "subscription `{}` does not send {event_type} (not registered, or disabled)",
                subscription.id
            )
        })?;
    let input = sample(event_type)?;
    let sample_case = input
        .get("case")
        .or(input.get("item"))
        .cloned()
        .unwrap_or_default();
    let case = match real_case {
        Some(c) => c.clone(),
        None => CaseRecord::from_json(sample_case)?,
    };
    // Sample items carry the sample case's guid; a real case's replaces it.
    let mut item = input["item"].clone();
    if real_case.is_some() && item.get("guid").is_some() {
        item["guid"] = json!(case.guid);
        if item.get("caseId").is_some() {
            item["caseId"] = json!(case.id);
        }
    }
    render(event_type, item, &input, &case, real_case, route.version)
}

/// The sample `item` (of the sample `input`) as the webhook of
/// `event_type` in `version`, for `case`.
fn render(
    event_type: EventType,
    item: serde_json::Value,
    input: &serde_json::Value,
    case: &CaseRecord,
    real_case: Option<&CaseRecord>,
    version: payload::Version,
) -> Result<String> {
    let rendered = match event_type {
        EventType::NewStatus | EventType::StatusTransition => {
            let status = StatusRecord::from_json(item)?;
            let view = StatusView {
                provider_key: &status.key,
                key: &status.key,
                name: &status.name,
            };
            let subject = if event_type == EventType::NewStatus {
                Subject::NewStatus {
                    status: &status,
                    view: &view,
                }
            } else {
                Subject::StatusTransition {
                    status: &status,
                    view: &view,
                    prev_key: Some("arrived"),
                    case,
                }
            };
            payload::render(&subject, version)?
        }
        EventType::NewCostProposal => {
            let c = CostProposal::from_json(item)?;
            payload::render(&Subject::NewCostProposal(&c), version)?
        }
        EventType::NewMessage | EventType::MessageConfirmed => {
            let m = Message::from_json(item)?;
            let subject = if event_type == EventType::NewMessage {
                Subject::NewMessage(&m)
            } else {
                Subject::MessageConfirmed(&m)
            };
            payload::render(&subject, version)?
        }
        EventType::NewFile => {
            let u = FileUpload::from_json(item)?;
            payload::render(&Subject::NewFile(&u), version)?
        }
        EventType::CaseUpdated => {
            let update = case_update(item, input, real_case)?;
            payload::render(&Subject::CaseUpdated(&update), version)?
        }
        EventType::Invoice => {
            let invoice = Invoice::from_json(item)?;
            payload::render(
                &Subject::Invoice {
                    invoice: &invoice,
                    case,
                },
                version,
            )?
        }
    };
    Ok(rendered)
}

/// With a real case: its data sections as they are now; else the sample's
/// change.
fn case_update(
    item: serde_json::Value,
    input: &serde_json::Value,
    real_case: Option<&CaseRecord>,
) -> Result<CaseUpdate> {
    Ok(match real_case {
        Some(c) => CaseUpdate {
            guid: c.guid.clone(),
            sections: hubhooks::case_update::SECTIONS
                .iter()
                .filter_map(|s| c.data.get(*s).map(|v| (*s, v.clone())))
                .collect(),
        },
        None => {
            let old = CaseRecord::from_json(input["old"].clone())?;
            let new = CaseRecord::from_json(item)?;
            hubhooks::case_update::diff(&old, &new).context("sample has no change")?
        }
    })
}

/// A one-attempt test delivery of `body` for the subscription.
pub fn delivery(
    subscription: &Subscription,
    event_type: EventType,
    case_guid: &str,
    body: String,
) -> Result<Delivery> {
    let route = hubhooks::routing::subscription_route(subscription, event_type)
        .context("the subscription does not send this type")?;
    Ok(Delivery::new(
        hubhooks::ids::DeliveryId::new(uuid::Uuid::new_v4().to_string()),
        subscription,
        event_type,
        route.destination,
        case_guid,
        body,
        "hubhooks send-test".into(),
        Timestamp::now(),
    )
    .test())
}

/// The subscription stored under `id`.
pub fn parse_subscription(value: Value) -> Result<Subscription> {
    let id = value["id"].as_str().unwrap_or("?").to_owned();
    match ConfigItem::parse(&RawConfigItem { id, value })? {
        ConfigItem::Subscription(s) => Ok(s),
        _ => bail!("not a subscription"),
    }
}
