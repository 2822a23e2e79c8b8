//! The small traits the handlers use to reach the outside world. Adapters
//! implement them for DynamoDB, SQS and HTTP; tests may implement them too.
use crate::config::RawConfigItem;
use crate::delivery::Delivery;
use crate::record::{CaseRecord, StatusRecord};
use async_trait::async_trait;
use std::time::Duration;

/// A failure talking to a store or queue: worth retrying.
#[derive(Debug, thiserror::Error)]
#[error("{operation}: {message}")]
pub struct IoError {
    pub operation: String,
    pub message: String,
}

impl IoError {
    pub fn new(operation: impl Into<String>, message: impl std::fmt::Display) -> Self {
        IoError {
            operation: operation.into(),
            message: message.to_string(),
        }
    }
}

/// Read access to the case tables.
#[async_trait]
pub trait CaseStore: Send + Sync {
    /// `Ok(None)` when there is no such case; `Err` for a malformed item or
    /// an I/O failure (the message says which).
    async fn case(&self, guid: &str) -> Result<Option<CaseRecord>, CaseStoreError>;
    /// The case's status records older than `before_id`, newest first.
    async fn previous_statuses(
        &self,
        case_id: i64,
        before_id: i64,
    ) -> Result<Vec<StatusRecord>, CaseStoreError>;
}

#[derive(Debug, thiserror::Error)]
pub enum CaseStoreError {
    #[error(transparent)]
    Io(#[from] IoError),
    /// A stored item that does not match the documented shape.
    #[error("{0}")]
    Malformed(String),
}

/// Source of all config items.
#[async_trait]
pub trait ConfigSource: Send + Sync {
    async fn load(&self) -> Result<Vec<RawConfigItem>, IoError>;
}

/// The delivery queue.
#[async_trait]
pub trait DeliveryQueue: Send + Sync {
    /// Enqueues all deliveries; returns one result per delivery, in order.
    async fn enqueue(&self, deliveries: &[Delivery]) -> Vec<Result<(), IoError>>;
}

/// Something that could not be processed, set aside with its reason so that
/// it can be inspected and replayed.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    /// Why it was set aside.
    pub reason: String,
    /// What it came from (a table and stream event, or a queue message id).
    pub origin: String,
    /// The original content, unchanged.
    pub body: String,
}

#[async_trait]
pub trait DeadLetters: Send + Sync {
    async fn park(&self, letter: DeadLetter) -> Result<(), IoError>;
}

/// The outcome of one delivery attempt that reached the receiver.
#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    pub status: u16,
    pub latency: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("receiver answered {status}: {excerpt}")]
    Rejected {
        status: u16,
        excerpt: String,
        latency: Duration,
    },
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("could not connect: {0}")]
    Connect(String),
    #[error("request failed: {0}")]
    Other(String),
}

/// Sends one delivery to its destination.
#[async_trait]
pub trait Transport: Send + Sync {
    async fn deliver(&self, delivery: &Delivery, attempt: u32) -> Result<Receipt, DeliveryError>;
}
