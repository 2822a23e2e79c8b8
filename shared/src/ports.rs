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
    /// The start of the receiver's answer (capped), for the attempt log.
    pub excerpt: String,
}

/// Why an attempt failed. Messages never carry secrets: no header values,
/// no credentials, no broker URI.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DeliveryError {
    #[error("receiver answered {status}: {excerpt}")]
    Rejected {
        status: u16,
        excerpt: String,
        latency: Duration,
        /// From a `Retry-After` answer.
        retry_after: Option<Duration>,
    },
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("could not connect: {0}")]
    Connect(String),
    /// The destination may not be reached (SSRF guard, a missing secret, an
    /// invalid header): retrying cannot help.
    #[error("refused: {0}")]
    Refused(String),
    #[error("request failed: {0}")]
    Other(String),
}

/// One attempt, ready to go: the delivery, its body (fetched if it was
/// offloaded) and every header hubhooks adds (identity, authentication,
/// signature), in order.
#[derive(Debug, Clone)]
pub struct Outgoing<'a> {
    pub delivery: &'a Delivery,
    pub body: &'a str,
    pub headers: Vec<(&'static str, String)>,
    /// For AMQP: the broker URI, from the destination's secret.
    pub broker_uri: Option<String>,
}

/// Sends one attempt to its destination.
#[async_trait]
pub trait Transport: Send + Sync {
    async fn deliver(&self, outgoing: &Outgoing<'_>) -> Result<Receipt, DeliveryError>;
}

/// Puts a received delivery back on its queue for later.
#[async_trait]
pub trait Redelivery: Send + Sync {
    /// Hides the message for `delay`; SQS then hands it out again.
    async fn retry_later(&self, receipt_handle: &str, delay: Duration) -> Result<(), IoError>;
}

/// Named secrets (tokens, signing keys, broker URIs). Values never leave the
/// sender: queue messages and dead letters carry only the names.
#[async_trait]
pub trait SecretStore: Send + Sync {
    /// The secret's values, newest first (several during a rotation);
    /// `Ok(None)` when there is no such secret.
    async fn secret(&self, name: &str) -> Result<Option<Vec<String>>, IoError>;
}

/// Changes to subscriptions the sender is allowed to make.
#[async_trait]
pub trait SubscriptionControl: Send + Sync {
    /// Disables a subscription and records why.
    async fn disable(&self, subscription_id: &str, reason: &str) -> Result<(), IoError>;
}

/// The attempt log: one record per delivery attempt.
#[async_trait]
pub trait AttemptLog: Send + Sync {
    async fn record(&self, attempt: &crate::attempt::AttemptRecord) -> Result<(), IoError>;
}

/// Bodies too large for a queue message.
#[async_trait]
pub trait PayloadStore: Send + Sync {
    async fn put(&self, key: &str, body: &str) -> Result<(), IoError>;
    async fn get(&self, key: &str) -> Result<String, IoError>;
}
