//! A delivery: one webhook for one subscription, as it travels on the
//! delivery queue from the router to the sender.
use crate::config::Destination;
use crate::event::EventType;
use crate::party::Party;
use crate::timestamp::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Version of the queue message layout, so a sender can refuse what it
/// does not understand instead of guessing.
pub const ENVELOPE_VERSION: u8 = 1;

/// Everything the sender needs; it reads nothing else.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub v: u8,
    /// Stable across retries and re-processing: the receiver's dedup key.
    pub id: String,
    pub subscription_id: String,
    pub event_type: EventType,
    pub party: Party,
    pub case_guid: String,
    pub destination: Destination,
    /// The rendered webhook body, sent byte for byte.
    pub body: String,
    /// The change that caused it: `<table>/<stream event id>`.
    pub source: String,
    pub created_at: Timestamp,
}

const NAMESPACE: Uuid = Uuid::from_u128(0x6b1f_0e3c_5c2a_4f5e_9a43_8d0b_2f71_c9e4);

/// The same source change, subscription and event type always give the same
/// id, so a re-processed stream batch produces the same deliveries.
pub fn delivery_id(source: &str, subscription_id: &str, event_type: EventType) -> String {
    let name = format!("{source}\n{subscription_id}\n{event_type}");
    Uuid::new_v5(&NAMESPACE, name.as_bytes()).to_string()
}

/// Headers hubhooks sets on every HTTP delivery.
pub mod headers {
    use reqwest::header::HeaderName;

    /// The delivery id (Standard Webhooks' name for it).
    pub const DELIVERY_ID: &str = "webhook-id";
    /// The event type, as seed 004's `Event-Type`.
    pub const EVENT_TYPE: &str = "event-type";
    /// 1 on the first attempt, 2 on the first retry, …
    pub const ATTEMPT: &str = "webhook-attempt";

    const RESERVED: [&str; 10] = [
        DELIVERY_ID,
        EVENT_TYPE,
        ATTEMPT,
        "webhook-timestamp",
        "webhook-signature",
        "content-type",
        "content-length",
        "host",
        "transfer-encoding",
        "connection",
    ];

    pub fn is_reserved(name: &HeaderName) -> bool {
        RESERVED.contains(&name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_deterministic_and_distinct() {
        let a = delivery_id("statuses/e1", "sub-1", EventType::NewStatus);
        assert_eq!(a, delivery_id("statuses/e1", "sub-1", EventType::NewStatus));
        assert_ne!(
            a,
            delivery_id("statuses/e1", "sub-1", EventType::StatusTransition)
        );
        assert_ne!(a, delivery_id("statuses/e1", "sub-2", EventType::NewStatus));
        assert_ne!(a, delivery_id("statuses/e2", "sub-1", EventType::NewStatus));
        assert_eq!(Uuid::parse_str(&a).unwrap().get_version_num(), 5);
    }
}
