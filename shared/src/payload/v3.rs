//! v3 bodies, field for field as the examples of docs/data-contract.md: ids are numbers,
//! timestamps ISO 8601 with milliseconds and `Z`, absent values `null`.
use crate::ids::{CaseId, ProviderId, StatusId};
use crate::mapping::StatusView;
use crate::party::PartyKind;
use crate::record::{
    CostProposal as CostProposalRecord, FileUpload, Invoice as InvoiceRecord, InvoiceLine,
    Message as MessageRecord, StatusRecord, UploadedFile,
};
use crate::timestamp::Timestamp;
use serde::Serialize;
use serde_json::{Map, Number, Value};

/// A cost proposal line: the same in every version.
pub use super::v1::CostProposalLine;

/// "New status": v2's body after the record's and the case's ids.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewStatus<'a> {
    pub id: StatusId,
    pub case_id: CaseId,
    #[serde(flatten)]
    pub v2: super::v2::NewStatus<'a>,
}

impl<'a> NewStatus<'a> {
    pub fn new(status: &'a StatusRecord, view: &StatusView<'a>) -> Self {
        NewStatus {
            id: status.id,
            case_id: status.case_id,
            v2: super::v2::NewStatus::new(status, view),
        }
    }
}

/// "Status transition": the new-status body plus `prevKey` and `case`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusTransition<'a> {
    pub id: StatusId,
    pub case_id: CaseId,
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

/// "New cost proposal": v1's body plus `serviceProviderId`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CostProposal<'a> {
    #[serde(flatten)]
    pub v1: super::v1::CostProposal<'a>,
    pub service_provider_id: ProviderId,
}

impl<'a> CostProposal<'a> {
    pub fn new(c: &'a CostProposalRecord) -> Self {
        CostProposal {
            v1: super::v1::CostProposal::new(c),
            service_provider_id: c.service_provider_id,
        }
    }
}

/// "New message" and "Message was confirmed" (same body).
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Message<'a> {
    pub id: i64,
    pub external_id: Option<&'a str>,
    pub guid: &'a str,
    pub content: &'a str,
    pub user_name: Option<&'a str>,
    pub user_email: Option<&'a str>,
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub sender_type: PartyKind,
    pub parent_message_id: Option<i64>,
    pub sender_account_id: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub declared_at: Option<Timestamp>,
    pub confirmed_at: Option<Timestamp>,
}

impl<'a> Message<'a> {
    pub fn new(m: &'a MessageRecord) -> Self {
        Message {
            id: m.id,
            external_id: m.external_id.as_deref(),
            guid: &m.guid,
            content: &m.content,
            user_name: m.user_name.as_deref(),
            user_email: m.user_email.as_deref(),
            kind: &m.kind,
            sender_type: m.sender_type,
            parent_message_id: m.parent_message_id,
            sender_account_id: m.sender_account_id,
            created_at: m.created_at,
            updated_at: m.updated_at(),
            declared_at: m.declared_at,
            confirmed_at: m.confirmed_at,
        }
    }
}

/// "New file uploaded": one body per upload. (v2 has the same shape.)
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Files<'a> {
    pub guid: &'a str,
    pub files: Vec<File<'a>>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct File<'a> {
    pub url: &'a str,
    pub name: &'a str,
    #[serde(rename = "type")]
    pub kind: &'a str,
}

impl<'a> Files<'a> {
    pub fn new(u: &'a FileUpload) -> Self {
        Files {
            guid: &u.guid,
            files: u
                .files
                .iter()
                .map(|f: &'a UploadedFile| File {
                    url: &f.url,
                    name: &f.name,
                    kind: &f.kind,
                })
                .collect(),
        }
    }
}

/// "Invoice created/updated", fields in the seed's order, with the case.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Invoice<'a> {
    pub id: i64,
    pub case: &'a Map<String, Value>,
    pub guid: &'a str,
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub is_paid: bool,
    pub is_sent: bool,
    pub status: &'a str,
    pub details: Vec<InvoiceDetail<'a>>,
    pub due_date: Option<Timestamp>,
    pub currency: &'a str,
    pub is_active: Option<bool>,
    pub price_net: &'a Number,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub custom_data: Option<&'a Map<String, Value>>,
    pub external_id: Option<&'a str>,
    pub linked_invoice: Option<&'a Value>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceDetail<'a> {
    pub name: &'a str,
    pub count: &'a Number,
    pub vat_rate: &'a Number,
    pub vat_amount: &'a Number,
    pub price_excl_vat: &'a Number,
    pub price_incl_vat: &'a Number,
    pub total_amount_excl_vat: &'a Number,
    pub total_amount_incl_vat: &'a Number,
}

impl<'a> Invoice<'a> {
    pub fn new(i: &'a InvoiceRecord, case: &'a Map<String, Value>) -> Self {
        Invoice {
            id: i.id,
            case,
            guid: &i.guid,
            kind: &i.kind,
            is_paid: i.is_paid,
            is_sent: i.is_sent,
            status: &i.status,
            details: i
                .details
                .iter()
                .map(|l: &'a InvoiceLine| InvoiceDetail {
                    name: &l.name,
                    count: &l.count,
                    vat_rate: &l.vat_rate,
                    vat_amount: &l.vat_amount,
                    price_excl_vat: &l.price_excl_vat,
                    price_incl_vat: &l.price_incl_vat,
                    total_amount_excl_vat: &l.total_amount_excl_vat,
                    total_amount_incl_vat: &l.total_amount_incl_vat,
                })
                .collect(),
            due_date: i.due_date,
            currency: &i.currency,
            is_active: i.is_active,
            price_net: &i.price_net,
            created_at: i.created_at,
            updated_at: i.updated_at(),
            custom_data: i.custom_data.as_ref(),
            external_id: i.external_id.as_deref(),
            linked_invoice: i.linked_invoice.as_ref(),
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
