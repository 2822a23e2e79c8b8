//! The webhook types of the contract (docs/data-contract.md).
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A webhook type. The wire names are what subscriptions list in `eventTypes`
/// and what the `event-type` header carries.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum EventType {
    /// A status record was added to a case.
    NewStatus,
    /// A status record matched one of the subscription's transition conditions.
    StatusTransition,
    /// A cost proposal was added to a case.
    NewCostProposal,
    /// A message was added to a case (sent to the party receiving it).
    NewMessage,
    /// A message's `confirmedAt` became set (sent to the party that wrote it).
    MessageConfirmed,
    /// Files were uploaded to a case (one webhook per upload).
    NewFile,
    /// A case's data sections changed.
    CaseUpdated,
    /// An invoice was created or updated in a status flagged "send to client".
    Invoice,
}

impl EventType {
    /// Every type hubhooks knows today, in the contract's order.
    pub const ALL: [EventType; 8] = [
        EventType::NewStatus,
        EventType::StatusTransition,
        EventType::NewCostProposal,
        EventType::NewMessage,
        EventType::MessageConfirmed,
        EventType::NewFile,
        EventType::CaseUpdated,
        EventType::Invoice,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::NewStatus => "newStatus",
            EventType::StatusTransition => "statusTransition",
            EventType::NewCostProposal => "newCostProposal",
            EventType::NewMessage => "newMessage",
            EventType::MessageConfirmed => "messageConfirmed",
            EventType::NewFile => "newFile",
            EventType::CaseUpdated => "caseUpdated",
            EventType::Invoice => "invoice",
        }
    }

    /// The list of known names, for error messages.
    pub fn known() -> String {
        EventType::ALL.map(EventType::as_str).join(", ")
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown event type `{0}` (known: {known})", known = EventType::known())]
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

/// A payload version: v3 is the contract, v2 and v1 its older editions
/// (docs/data-contract.md, "Payload versions"). It sits beside [`EventType`] because config, routing and payloads
/// all name it.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Default,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Version {
    V1,
    V2,
    #[default]
    V3,
}

impl Version {
    /// The versions a type's payload exists in.
    pub fn of(event_type: EventType) -> &'static [Version] {
        use EventType::*;
        match event_type {
            NewStatus | NewCostProposal | NewMessage | NewFile => {
                &[Version::V1, Version::V2, Version::V3]
            }
            CaseUpdated => &[Version::V2, Version::V3],
            StatusTransition | MessageConfirmed | Invoice => &[Version::V3],
        }
    }

    pub fn supports(self, event_type: EventType) -> bool {
        Version::of(event_type).contains(&self)
    }

    /// v1 and v2 are deprecated; subscriptions using them are logged.
    pub fn is_deprecated(self) -> bool {
        self != Version::V3
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Version::V1 => "v1",
            Version::V2 => "v2",
            Version::V3 => "v3",
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip() {
        for t in EventType::ALL {
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, format!("\"{}\"", t.as_str()));
            assert_eq!(serde_json::from_str::<EventType>(&json).unwrap(), t);
            assert_eq!(t.as_str().parse::<EventType>().unwrap(), t);
        }
    }
}
