//! v3 bodies, field for field as the examples in seed 000: ids are numbers,
//! timestamps ISO 8601 with milliseconds and `Z`, absent values `null`.
use crate::mapping::StatusView;
use crate::record::StatusRecord;
use crate::timestamp::Timestamp;
use serde::Serialize;
use serde_json::{Map, Value};

/// "New status".
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewStatus<'a> {
    pub id: i64,
    pub case_id: i64,
    pub guid: &'a str,
    pub name: &'a str,
    pub key: &'a str,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub declared_at: Option<Timestamp>,
}

impl<'a> NewStatus<'a> {
    pub fn new(status: &'a StatusRecord, view: &StatusView<'a>) -> Self {
        NewStatus {
            id: status.id,
            case_id: status.case_id,
            guid: &status.guid,
            name: view.name,
            key: view.key,
            created_at: status.created_at,
            updated_at: status.updated_at(),
            declared_at: status.declared_at,
        }
    }
}

/// "Status transition": the new-status body plus `prevKey` and `case`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusTransition<'a> {
    pub id: i64,
    pub case_id: i64,
    pub guid: &'a str,
    pub name: &'a str,
    pub key: &'a str,
    pub prev_key: Option<&'a str>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub declared_at: Option<Timestamp>,
    pub case: &'a Map<String, Value>,
}

impl<'a> StatusTransition<'a> {
    pub fn new(
        status: &'a StatusRecord,
        view: &StatusView<'a>,
        prev_key: Option<&'a str>,
        case: &'a Map<String, Value>,
    ) -> Self {
        StatusTransition {
            id: status.id,
            case_id: status.case_id,
            guid: &status.guid,
            name: view.name,
            key: view.key,
            prev_key,
            created_at: status.created_at,
            updated_at: status.updated_at(),
            declared_at: status.declared_at,
            case,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn seed_status() -> StatusRecord {
        StatusRecord::from_json(json!({
            "id": 123456, "caseId": 32242432, "guid": "a7afaf9-7c6e-4d0e-b756-16b4afa1382f",
            "name": "Repair finished", "key": "final",
            "createdAt": "2019-01-22T11:29:38.258Z", "updatedAt": "2019-01-22T11:29:38.258Z",
            "declaredAt": "2019-01-22T11:27:34.233Z"
        }))
        .unwrap()
    }

    fn view(s: &StatusRecord) -> StatusView<'_> {
        StatusView {
            provider_key: &s.key,
            key: &s.key,
            name: &s.name,
        }
    }

    #[test]
    fn new_status_is_the_seed_example_byte_for_byte() {
        let s = seed_status();
        let body = serde_json::to_string(&NewStatus::new(&s, &view(&s))).unwrap();
        assert_eq!(
            body,
            r#"{"id":123456,"caseId":32242432,"guid":"a7afaf9-7c6e-4d0e-b756-16b4afa1382f","name":"Repair finished","key":"final","createdAt":"2019-01-22T11:29:38.258Z","updatedAt":"2019-01-22T11:29:38.258Z","declaredAt":"2019-01-22T11:27:34.233Z"}"#
        );
    }

    #[test]
    fn transition_adds_prev_key_and_case_in_seed_order() {
        let s = seed_status();
        let case = json!({"guid": "a7afaf9-7c6e-4d0e-b756-16b4afa1382f", "id": 32242432});
        let body = serde_json::to_value(StatusTransition::new(
            &s,
            &view(&s),
            Some("arrived"),
            case.as_object().unwrap(),
        ))
        .unwrap();
        let keys: Vec<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            body,
            json!({
                "id": 123456, "caseId": 32242432, "guid": "a7afaf9-7c6e-4d0e-b756-16b4afa1382f",
                "name": "Repair finished", "key": "final", "prevKey": "arrived",
                "createdAt": "2019-01-22T11:29:38.258Z", "updatedAt": "2019-01-22T11:29:38.258Z",
                "declaredAt": "2019-01-22T11:27:34.233Z",
                "case": {"guid": "a7afaf9-7c6e-4d0e-b756-16b4afa1382f", "id": 32242432}
            })
        );
        let s = serde_json::to_string(&StatusTransition::new(
            &s,
            &view(&s),
            None,
            case.as_object().unwrap(),
        ))
        .unwrap();
        assert!(s.starts_with(r#"{"id":123456,"caseId":32242432,"guid":"a7afaf9-7c6e-4d0e-b756-16b4afa1382f","name":"Repair finished","key":"final","prevKey":null,"createdAt""#), "{s} / {keys:?}");
    }

    #[test]
    fn missing_updated_and_declared_follow_the_contract() {
        let s = StatusRecord::from_json(json!({
            "id": 1, "caseId": 2, "guid": "g", "name": "n", "key": "k", "createdAt": "2019-01-22T11:29:38Z"
        }))
        .unwrap();
        let body = serde_json::to_value(NewStatus::new(&s, &view(&s))).unwrap();
        assert_eq!(body["updatedAt"], "2019-01-22T11:29:38.000Z");
        assert_eq!(body["declaredAt"], Value::Null);
    }
}
