//! `hubhooks send-test`: a realistic webhook of one type through the real
//! delivery path (the delivery queue and the sender), marked
//! `webhook-test: true`, then the receiver's answer from the attempt log.
//!
//! The body is rendered by the same code as real webhooks, in the version
//! the subscription asks for, from the documented sample items of
//! tests/golden (the seeds' examples); with `--case GUID` the real case's
//! guid, ids and data are used instead.
use anyhow::{Context, Result, bail};
use hubhooks::config::{ConfigItem, RawConfigItem, Subscription};
use hubhooks::delivery::Delivery;
use hubhooks::event::EventType;
use hubhooks::record::CaseRecord;
use hubhooks::timestamp::Timestamp;
use serde_json::Value;

/// The body of a test webhook of `event_type` for `subscription`: the
/// documented sample (or `real_case`'s data) in the version it asks for.
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
    Ok(hubhooks::payload::sample::body(
        event_type,
        route.version,
        real_case,
    )?)
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
