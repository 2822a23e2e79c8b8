//! The webhook types of the contract (seed 000).
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A webhook type. The wire names are what subscriptions list in `eventTypes`
/// and what the `Event-Type` header carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum EventType {
    /// A status record was added to a case.
    NewStatus,
    /// A status record matched one of the subscription's transition conditions.
    StatusTransition,
}

impl EventType {
    pub const ALL: [EventType; 2] = [EventType::NewStatus, EventType::StatusTransition];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::NewStatus => "newStatus",
            EventType::StatusTransition => "statusTransition",
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown event type `{0}` (known: newStatus, statusTransition)")]
pub struct UnknownEventType(pub String);

impl FromStr for EventType {
    type Err = UnknownEventType;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| UnknownEventType(s.to_owned()))
    }
}
