//! The two sides of a case.
use serde::{Deserialize, Serialize};
use std::fmt;

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
pub enum PartyKind {
    /// Orders the service.
    Partner,
    /// Performs the service.
    Provider,
}

/// A party to a case: a partner or a service provider, with its hub id.
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
pub struct Party {
    #[serde(rename = "type")]
    pub kind: PartyKind,
    pub id: i64,
}

impl Party {
    pub fn partner(id: i64) -> Self {
        Self {
            kind: PartyKind::Partner,
            id,
        }
    }
    pub fn provider(id: i64) -> Self {
        Self {
            kind: PartyKind::Provider,
            id,
        }
    }
}

/// `partner:1413` or `provider:1004`, as the CLI and the admin routes take
/// a party.
impl std::str::FromStr for Party {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let expected = || format!("`{s}`: expected partner:ID or provider:ID");
        let (kind, id) = s.split_once(':').ok_or_else(expected)?;
        let id: i64 = id
            .parse()
            .map_err(|_| format!("`{s}`: the id must be a number"))?;
        match kind {
            "partner" => Ok(Party::partner(id)),
            "provider" => Ok(Party::provider(id)),
            _ => Err(expected()),
        }
    }
}

impl fmt::Display for PartyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PartyKind::Partner => "partner",
            PartyKind::Provider => "provider",
        })
    }
}

impl fmt::Display for Party {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.id)
    }
}

/// How a change was made in the hub: informational, never used for routing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Channel {
    Api,
    Web,
}

/// Who made a change, as the hub records it on an item (`changedBy`): the
/// side whose user made it. The case says which partner and provider that
/// is, so the side is enough; no party ever receives a webhook about its own
/// change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Actor {
    #[serde(rename = "type")]
    pub kind: PartyKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<Channel>,
}

impl PartyKind {
    pub fn other(self) -> PartyKind {
        match self {
            PartyKind::Partner => PartyKind::Provider,
            PartyKind::Provider => PartyKind::Partner,
        }
    }
}
