//! A `CaseStatuses` item.
use super::{RecordError, parse};
use crate::ids::{CaseId, StatusId};
use crate::party::Actor;
use crate::timestamp::Timestamp;
use serde::Deserialize;
use serde_json::Value;

/// One status record of a case (`CaseStatuses` table).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusRecord {
    pub id: StatusId,
    pub case_id: CaseId,
    pub guid: String,
    pub name: String,
    /// The key as the service provider set it (before any partner mapping).
    pub key: String,
    pub created_at: Timestamp,
    /// Absent means "same as createdAt", as the contract describes it.
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
    #[serde(default)]
    pub declared_at: Option<Timestamp>,
    /// Who added it; that side is not told about its own status.
    #[serde(default)]
    pub changed_by: Option<Actor>,
}

impl StatusRecord {
    pub fn from_json(value: Value) -> Result<Self, RecordError> {
        parse("status record", value)
    }

    pub fn updated_at(&self) -> Timestamp {
        self.updated_at.unwrap_or(self.created_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn status_record_names_the_missing_field() {
        let err = StatusRecord::from_json(json!({"id": 1, "caseId": 2, "guid": "g", "name": "n", "createdAt": "2019-01-22T11:29:38.258Z"})).unwrap_err();
        assert_eq!(err.to_string(), "status record: missing field `key`");
        let err = StatusRecord::from_json(json!({"id": 1, "caseId": 2, "guid": "g", "name": "n", "key": "k", "createdAt": "yesterday"})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "status record: attribute `createdAt`: invalid timestamp `yesterday`: premature end of input"
        );
    }
}
