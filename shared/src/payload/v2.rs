//! v2 bodies (deprecated), as docs/data-contract.md shows them. File and case-update
//! bodies are the same as v3; transitions, confirmations and invoices exist
//! in v3 only.
use crate::mapping::StatusView;
use crate::record::{Message as MessageRecord, StatusRecord};
use crate::timestamp::Timestamp;
use serde::Serialize;

/// v2 cost proposals are v1's: v3 added `serviceProviderId`.
pub use super::v1::CostProposal;

/// "New status": v1's status update plus `declaredAt`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewStatus<'a> {
    #[serde(flatten)]
    pub v1: super::v1::StatusUpdate<'a>,
    pub declared_at: Option<Timestamp>,
}

impl<'a> NewStatus<'a> {
    pub fn new(status: &'a StatusRecord, view: &StatusView<'a>) -> Self {
        NewStatus {
            v1: super::v1::StatusUpdate::new(status, view),
            declared_at: status.declared_at,
        }
    }
}

/// "New message": the message type as `type`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Message<'a> {
    pub id: i64,
    pub guid: &'a str,
    pub content: &'a str,
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl<'a> Message<'a> {
    pub fn new(m: &'a MessageRecord) -> Self {
        Message {
            id: m.id,
            guid: &m.guid,
            content: &m.content,
            kind: &m.kind,
            created_at: m.created_at,
            updated_at: m.updated_at(),
        }
    }
}
