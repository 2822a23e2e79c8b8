//! Webhook bodies, in every payload version a type exists in.
//!
//! - `v3` (default): the contract.
//! - `v2` (deprecated): the middle edition.
//! - `v1` (deprecated): the oldest edition.
//!
//! docs/data-contract.md ("Payload versions") and tests/golden show each.
//!
//! [`Version::of`] says which versions a type has; config validation refuses
//! a subscription asking for one it does not have, so [`render`] only meets
//! an unsupported pair if that check was bypassed.
pub mod catalogue;
pub mod sample;
pub mod schema;
pub mod v1;
pub mod v2;
pub mod v3;

use crate::case_update::CaseUpdate;
use crate::event::EventType;
use crate::mapping::StatusView;
use crate::record::{CaseRecord, CostProposal, FileUpload, Invoice, Message, StatusRecord};

pub use crate::event::Version;

/// What a webhook is about, with everything its body needs.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    NewStatus {
        status: &'a StatusRecord,
        view: &'a StatusView<'a>,
    },
    StatusTransition {
        status: &'a StatusRecord,
        view: &'a StatusView<'a>,
        prev_key: Option<&'a str>,
        case: &'a CaseRecord,
    },
    NewCostProposal(&'a CostProposal),
    NewMessage(&'a Message),
    MessageConfirmed(&'a Message),
    NewFile(&'a FileUpload),
    CaseUpdated(&'a CaseUpdate),
    Invoice {
        invoice: &'a Invoice,
        case: &'a CaseRecord,
    },
}

impl Subject<'_> {
    pub fn event_type(&self) -> EventType {
        match self {
            Subject::NewStatus { .. } => EventType::NewStatus,
            Subject::StatusTransition { .. } => EventType::StatusTransition,
            Subject::NewCostProposal(_) => EventType::NewCostProposal,
            Subject::NewMessage(_) => EventType::NewMessage,
            Subject::MessageConfirmed(_) => EventType::MessageConfirmed,
            Subject::NewFile(_) => EventType::NewFile,
            Subject::CaseUpdated(_) => EventType::CaseUpdated,
            Subject::Invoice { .. } => EventType::Invoice,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("{event_type} has no {version} payload (it exists in {available})")]
    Unsupported {
        event_type: EventType,
        version: Version,
        available: String,
    },
    #[error("cannot serialize the body: {0}")]
    Json(#[from] serde_json::Error),
}

/// The body of a webhook about `subject`, in `version`.
pub fn render(subject: &Subject<'_>, version: Version) -> Result<String, RenderError> {
    use Version::*;
    let json = match (subject, version) {
        (Subject::NewStatus { status, view }, V3) => {
            serde_json::to_string(&v3::NewStatus::new(status, view))
        }
        (Subject::NewStatus { status, view }, V2) => {
            serde_json::to_string(&v2::NewStatus::new(status, view))
        }
        (Subject::NewStatus { status, view }, V1) => {
            serde_json::to_string(&v1::StatusUpdate::new(status, view))
        }
        (
            Subject::StatusTransition {
                status,
                view,
                prev_key,
                case,
            },
            V3,
        ) => serde_json::to_string(&v3::StatusTransition::new(
            status, view, *prev_key, &case.data,
        )),
        (Subject::NewCostProposal(c), V3) => serde_json::to_string(&v3::CostProposal::new(c)),
        (Subject::NewCostProposal(c), V2) => serde_json::to_string(&v2::CostProposal::new(c)),
        (Subject::NewCostProposal(c), V1) => serde_json::to_string(&v1::CostProposal::new(c)),
        (Subject::NewMessage(m) | Subject::MessageConfirmed(m), V3) => {
            serde_json::to_string(&v3::Message::new(m))
        }
        (Subject::NewMessage(m), V2) => serde_json::to_string(&v2::Message::new(m)),
        (Subject::NewMessage(m), V1) => serde_json::to_string(&v1::Message::new(m)),
        (Subject::NewFile(u), V3 | V2) => serde_json::to_string(&v3::Files::new(u)),
        (Subject::NewFile(u), V1) => serde_json::to_string(&v1::Files::new(u)),
        (Subject::CaseUpdated(u), V3 | V2) => serde_json::to_string(u),
        (Subject::Invoice { invoice, case }, V3) => {
            serde_json::to_string(&v3::Invoice::new(invoice, &case.data))
        }
        (s, v) => {
            let event_type = s.event_type();
            return Err(RenderError::Unsupported {
                event_type,
                version: v,
                available: Version::of(event_type)
                    .iter()
                    .map(|v| v.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    };
    Ok(json?)
}
