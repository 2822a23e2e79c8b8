//! The case-table items the router reads, in domain form.
//!
//! Table shapes are documented in docs/data-contract.md. Parsing is strict
//! about what the contract needs and names the attribute when something is
//! off; attributes the contract does not use are ignored.
mod case;
mod cost_proposal;
mod file;
mod invoice;
mod message;
mod status;

pub use case::CaseRecord;
pub use cost_proposal::{CostLine, CostProposal};
pub use file::{FileUpload, UploadedFile};
pub use invoice::{Invoice, InvoiceLine};
pub use message::Message;
pub use status::StatusRecord;

use serde::de::DeserializeOwned;
use serde_json::Value;

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

/// Deserializes an item; the error names the attribute path
/// (`details[0].priceNet`).
pub(crate) fn parse<T: DeserializeOwned>(
    item: &'static str,
    value: Value,
) -> Result<T, RecordError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let reason = e.into_inner().to_string();
        RecordError::Shape {
            item,
            reason: if path == "." {
                reason
            } else {
                format!("attribute `{path}`: {reason}")
            },
        }
    })
}
