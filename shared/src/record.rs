//! The case-table items the router reads, in domain form.
//!
//! Table shapes are documented in docs/data-contract.md. Parsing is strict
//! about what the contract needs and names the field when something is off.
use crate::party::Party;
use crate::timestamp::Timestamp;
use serde::Deserialize;
use serde_json::{Map, Value};

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RecordError {
    #[error("{item}: missing attribute `{field}`")]
    Missing {
        item: &'static str,
        field: &'static str,
    },
    #[error("{item}: attribute `{field}` must be {expected}")]
    WrongType {
        item: &'static str,
        field: &'static str,
        expected: &'static str,
    },
    #[error("{item}: {reason}")]
    Shape { item: &'static str, reason: String },
}

/// One status record of a case (`CaseStatuses` table).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusRecord {
    pub id: i64,
    pub case_id: i64,
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
}

impl StatusRecord {
    pub fn from_json(value: Value) -> Result<Self, RecordError> {
        serde_json::from_value(value).map_err(|e| RecordError::Shape {
            item: "status record",
            reason: e.to_string(),
        })
    }

    pub fn updated_at(&self) -> Timestamp {
        self.updated_at.unwrap_or(self.created_at)
    }
}

/// One case (`Cases` table): the ids the router needs, plus the whole item as
/// the case data sent in `case` of a status transition.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseRecord {
    pub guid: String,
    pub id: i64,
    pub partner_id: i64,
    pub service_provider_id: i64,
    pub data: Map<String, Value>,
}

impl CaseRecord {
    pub fn from_json(value: Value) -> Result<Self, RecordError> {
        const ITEM: &str = "case";
        let Value::Object(data) = value else {
            return Err(RecordError::Shape {
                item: ITEM,
                reason: "not a map".into(),
            });
        };
        let int = |field: &'static str| -> Result<i64, RecordError> {
            match data.get(field) {
                None | Some(Value::Null) => Err(RecordError::Missing { item: ITEM, field }),
                Some(v) => v.as_i64().ok_or(RecordError::WrongType {
                    item: ITEM,
                    field,
                    expected: "an integer number (N)",
                }),
            }
        };
        let guid = match data.get("guid") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            None | Some(Value::Null) => {
                return Err(RecordError::Missing {
                    item: ITEM,
                    field: "guid",
                });
            }
            Some(_) => {
                return Err(RecordError::WrongType {
                    item: ITEM,
                    field: "guid",
                    expected: "a non-empty string (S)",
                });
            }
        };
        Ok(CaseRecord {
            id: int("id")?,
            partner_id: int("partnerId")?,
            service_provider_id: int("serviceProviderId")?,
            guid,
            data,
        })
    }

    pub fn partner(&self) -> Party {
        Party::partner(self.partner_id)
    }

    pub fn provider(&self) -> Party {
        Party::provider(self.service_provider_id)
    }

    /// The case's two parties, partner first.
    pub fn parties(&self) -> [Party; 2] {
        [self.partner(), self.provider()]
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
    }

    #[test]
    fn case_record_requires_numeric_party_ids() {
        let err = CaseRecord::from_json(
            json!({"guid": "g", "id": 1, "partnerId": "x", "serviceProviderId": 3}),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "case: attribute `partnerId` must be an integer number (N)"
        );
        let ok = CaseRecord::from_json(
            json!({"guid": "g", "id": 1, "partnerId": 2, "serviceProviderId": 3}),
        )
        .unwrap();
        assert_eq!(ok.parties(), [Party::partner(2), Party::provider(3)]);
    }
}
