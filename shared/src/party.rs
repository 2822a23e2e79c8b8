//! The two sides of a case.
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PartyKind {
    /// Orders the service.
    Partner,
    /// Performs the service.
    Provider,
}

/// A party to a case: a partner or a service provider, with its hub id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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
