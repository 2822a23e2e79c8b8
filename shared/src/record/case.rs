//! A `Cases` item: the case, with its data sections kept as they are.
use super::RecordError;
use crate::ids::{CaseId, PartnerId, ProviderId};
use crate::party::{Actor, Party};
use serde_json::{Map, Value};

/// The attribute in which the hub records who made the case's last change.
pub const CHANGED_BY: &str = "changedBy";

/// One case (`Cases` table): the ids the router needs, who made the last
/// change, and the case data as webhooks carry it (`case` of a status
/// transition and an invoice, the sections of a case update).
#[derive(Debug, Clone, PartialEq)]
pub struct CaseRecord {
    pub guid: String,
    pub id: CaseId,
    pub partner_id: PartnerId,
    pub service_provider_id: ProviderId,
    /// From `changedBy`; bookkeeping, so not part of `data`.
    pub changed_by: Option<Actor>,
    pub data: Map<String, Value>,
}

impl CaseRecord {
    pub fn from_json(value: Value) -> Result<Self, RecordError> {
        const ITEM: &str = "case";
        let Value::Object(mut data) = value else {
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
        let (id, partner_id, service_provider_id) =
            (int("id")?, int("partnerId")?, int("serviceProviderId")?);
        let changed_by = match data.remove(CHANGED_BY) {
            None | Some(Value::Null) => None,
            Some(v) => Some(serde_json::from_value(v).map_err(|_| RecordError::WrongType {
                item: ITEM,
                field: CHANGED_BY,
                expected: "a map {\"type\": \"partner\"|\"provider\", \"via\": \"api\"|\"web\"}",
            })?),
        };
        Ok(CaseRecord {
            id: CaseId(id),
            partner_id: PartnerId(partner_id),
            service_provider_id: ProviderId(service_provider_id),
            guid,
            changed_by,
            data,
        })
    }

    pub fn partner(&self) -> Party {
        Party::partner(self.partner_id.0)
    }

    pub fn provider(&self) -> Party {
        Party::provider(self.service_provider_id.0)
    }

    /// The case's two parties, partner first.
    pub fn parties(&self) -> [Party; 2] {
        [self.partner(), self.provider()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::party::{Channel, PartyKind};
    use serde_json::json;

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
        assert_eq!(ok.changed_by, None);
    }

    #[test]
    fn changed_by_is_read_and_kept_out_of_the_case_data() {
        let c = CaseRecord::from_json(
            json!({"guid": "g", "id": 1, "partnerId": 2, "serviceProviderId": 3,
            "changedBy": {"type": "provider", "via": "web"}}),
        )
        .unwrap();
        assert_eq!(
            c.changed_by,
            Some(Actor {
                kind: PartyKind::Provider,
                via: Some(Channel::Web)
            })
        );
        assert!(!c.data.contains_key(CHANGED_BY));
        let err = CaseRecord::from_json(
            json!({"guid": "g", "id": 1, "partnerId": 2, "serviceProviderId": 3,
            "changedBy": "provider"}),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("case: attribute `changedBy` must be a map"),
            "{err}"
        );
    }
}
