//! The operations both the CLI and the management API perform, over ports:
//! one implementation of each rule (who may see an item, what a write keeps,
//! what enabling clears), so the two never disagree.
pub mod config_items;
pub mod deliveries;
pub mod keys;
pub mod notices;
pub mod portal;
pub mod send_test;
pub mod subscriptions;

use crate::config::ConfigError;
use crate::party::Party;
use crate::ports::IoError;

/// On whose behalf an operation runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// An operator: every party's items.
    Operator,
    /// One party: only its own; another party's id is as a missing one.
    Party(Party),
}

impl Scope {
    pub fn reaches(self, owner: Option<Party>) -> bool {
        match self {
            Scope::Operator => true,
            Scope::Party(p) => owner == Some(p),
        }
    }
}

/// Why an operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    /// Nothing under the id that the scope reaches.
    #[error("no {what} `{id}`")]
    NotFound { what: &'static str, id: String },
    /// What is stored is not what the caller expected (an `If-Match`, or a
    /// create of an id taken meanwhile): nothing was written.
    #[error("`{0}` changed since it was read; nothing was written")]
    Conflict(String),
    /// The operation cannot be done to what is there (a test send to a
    /// subscription that sends nothing, a resend with no envelope kept).
    #[error("{0}")]
    Refused(String),
    /// The item would not be valid.
    #[error(transparent)]
    Invalid(#[from] ConfigError),
    #[error(transparent)]
    Io(#[from] IoError),
}
