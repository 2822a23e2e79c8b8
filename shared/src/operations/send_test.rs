//! Send-test: a realistic webhook of one type through the real delivery
//! path (the delivery queue and the sender: its signing, auth and egress
//! rules), marked `webhook-test: true`, and the receiver's answer read back
//! from the attempt log.
//!
//! The body is rendered by the same code as real webhooks, in the version
//! the subscription asks for, from the documented sample items (the seeds'
//! examples), or from a real case's data when an operator names one.
use super::deliveries::enqueue_one;
use super::{OpError, Scope, subscriptions};
use crate::attempt::{AttemptRecord, Filter};
use crate::config::Subscription;
use crate::delivery::Delivery;
use crate::event::EventType;
use crate::ids::DeliveryId;
use crate::ports::{AttemptSearch, ConfigStore, DeliveryQueue};
use crate::record::CaseRecord;
use crate::timestamp::Timestamp;
use std::time::{Duration, Instant};

/// What a test is of.
pub struct TestSend<'a> {
    pub subscription: &'a str,
    /// The type to send; none: the first the subscription sends.
    pub event_type: Option<EventType>,
    /// A real case to build it from (operators only: a case is the hub's,
    /// not a party's).
    pub case: Option<&'a CaseRecord>,
    /// Who sent it, kept in the envelope (`hubhooks send-test`, `api`).
    pub source: &'a str,
    pub now: Timestamp,
}

/// Renders and enqueues a test webhook; the delivery as enqueued.
pub async fn send(
    store: &dyn ConfigStore,
    queue: &dyn DeliveryQueue,
    scope: Scope,
    test: TestSend<'_>,
) -> Result<Delivery, OpError> {
    let stored = subscriptions::get(store, scope, test.subscription).await?;
    let subscription = subscriptions::parse(&stored)?;
    let event_type = match test.event_type {
        Some(t) => t,
        None => first_type(&subscription)?,
    };
    let delivery = delivery(&subscription, event_type, test.case, test.source, test.now)?;
    enqueue_one(queue, &delivery).await?;
    Ok(delivery)
}

/// The first type (in the contract's order) the subscription sends.
fn first_type(subscription: &Subscription) -> Result<EventType, OpError> {
    EventType::ALL
        .into_iter()
        .find(|t| subscription.wants(*t))
        .ok_or_else(|| {
            OpError::Refused(format!(
                "subscription `{}` sends nothing (disabled, or no type registered)",
                subscription.id
            ))
        })
}

/// A one-attempt test delivery of `event_type` for the subscription: the
/// documented sample (or `case`'s data) in the version it asks for.
pub fn delivery(
    subscription: &Subscription,
    event_type: EventType,
    case: Option<&CaseRecord>,
    source: &str,
    now: Timestamp,
) -> Result<Delivery, OpError> {
    let route = crate::routing::subscription_route(subscription, event_type).ok_or_else(|| {
        OpError::Refused(format!(
            "subscription `{}` does not send {event_type} (not registered, or disabled)",
            subscription.id
        ))
    })?;
    let body = crate::payload::sample::body(event_type, route.version, case)
        .map_err(|e| OpError::Refused(format!("the {event_type} sample: {e}")))?;
    let guid = case.map(|c| c.guid.as_str()).unwrap_or_default();
    Ok(Delivery::new(
        DeliveryId::new(uuid::Uuid::new_v4().to_string()),
        subscription,
        event_type,
        route.destination,
        guid,
        body,
        source.to_owned(),
        now,
    )
    .test())
}

/// The attempt of delivery `id` once the attempt log has it, waiting at
/// most `wait` (none: the sender has not tried it yet).
pub async fn answer(
    search: &dyn AttemptSearch,
    id: &DeliveryId,
    wait: Duration,
) -> Result<Option<AttemptRecord>, OpError> {
    let deadline = Instant::now() + wait;
    let filter = Filter::Delivery(id.to_string());
    loop {
        let found = search.attempts(&filter, chrono::Duration::hours(1)).await?;
        if let Some(last) = found.into_iter().max_by_key(|a| (a.at, a.attempt)) {
            return Ok(Some(last));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
