//! v1 bodies (deprecated), as docs/data-contract.md shows them: the oldest edition, with
//! "Status update", cost proposals, messages (`messageType`) and files
//! without a type. Nothing else exists in v1.
use crate::mapping::StatusView;
use crate::record::{
    CostLine, CostProposal as CostProposalRecord, FileUpload, Message as MessageRecord,
    StatusRecord,
};
use crate::timestamp::Timestamp;
use serde::Serialize;
use serde_json::Number;

/// "Status update" (v1's new status).
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusUpdate<'a> {
    pub guid: &'a str,
    pub name: &'a str,
    pub key: &'a str,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl<'a> StatusUpdate<'a> {
    pub fn new(status: &'a StatusRecord, view: &StatusView<'a>) -> Self {
        StatusUpdate {
            guid: &status.guid,
            name: view.name,
            key: view.key,
            created_at: status.created_at,
            updated_at: status.updated_at(),
        }
    }
}

/// "New cost proposal", without v3's `serviceProviderId`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CostProposal<'a> {
    pub id: i64,
    pub guid: &'a str,
    pub external_id: Option<&'a str>,
    pub name: &'a str,
    pub price_net: &'a Number,
    pub currency: &'a str,
    pub is_active: Option<bool>,
    pub date_valid_until: Option<Timestamp>,
    pub reaction: Option<&'a str>,
    pub comment: Option<&'a str>,
    pub reaction_date: Option<Timestamp>,
    pub reaction_name: Option<&'a str>,
    pub details: Vec<CostProposalLine<'a>>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl<'a> CostProposal<'a> {
    pub fn new(c: &'a CostProposalRecord) -> Self {
        CostProposal {
            id: c.id,
            guid: &c.guid,
            external_id: c.external_id.as_deref(),
            name: &c.name,
            price_net: &c.price_net,
            currency: &c.currency,
            is_active: c.is_active,
            date_valid_until: c.date_valid_until,
            reaction: c.reaction.as_deref(),
            comment: c.comment.as_deref(),
            reaction_date: c.reaction_date,
            reaction_name: c.reaction_name.as_deref(),
            details: c.details.iter().map(CostProposalLine::new).collect(),
            created_at: c.created_at,
            updated_at: c.updated_at(),
        }
    }
}

/// "New message": the message type as `messageType`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Message<'a> {
    pub id: i64,
    pub guid: &'a str,
    pub content: &'a str,
    pub message_type: &'a str,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl<'a> Message<'a> {
    pub fn new(m: &'a MessageRecord) -> Self {
        Message {
            id: m.id,
            guid: &m.guid,
            content: &m.content,
            message_type: &m.kind,
            created_at: m.created_at,
            updated_at: m.updated_at(),
        }
    }
}

/// "New file uploaded": files without a type.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Files<'a> {
    pub guid: &'a str,
    pub files: Vec<File<'a>>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct File<'a> {
    pub url: &'a str,
    pub name: &'a str,
}

impl<'a> Files<'a> {
    pub fn new(u: &'a FileUpload) -> Self {
        Files {
            guid: &u.guid,
            files: u
                .files
                .iter()
                .map(|f| File {
                    url: &f.url,
                    name: &f.name,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CostProposalLine<'a> {
    pub line: i64,
    pub text: &'a str,
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub price_net: &'a Number,
    pub quantity: &'a Number,
}

impl<'a> CostProposalLine<'a> {
    pub fn new(l: &'a CostLine) -> Self {
        CostProposalLine {
            line: l.line,
            text: &l.text,
            kind: &l.kind,
            price_net: &l.price_net,
            quantity: &l.quantity,
        }
    }
}
