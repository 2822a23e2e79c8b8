//! The small traits the handlers use to reach the outside world. The
//! adapters implement them for DynamoDB, SQS, S3, SNS, HTTP and AMQP;
//! `memory` in memory. Handlers hold each as an `Arc<dyn …>`, so a test
//! keeps a handle on the in-memory port it gave.
use crate::config::RawConfigItem;
use crate::delivery::Delivery;
use crate::ids::{CaseId, DeliveryId, StatusId, SubscriptionId};
use crate::record::{CaseRecord, StatusRecord};
use crate::timestamp::Timestamp;
use async_trait::async_trait;
use std::time::Duration;

/// A failure talking to a store or queue, with what kind of failure it is.
#[derive(Debug, thiserror::Error)]
#[error("{operation}: {message}")]
pub struct IoError {
    pub operation: String,
    pub message: String,
    pub kind: IoErrorKind,
}

/// What kind of failure an [`IoError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoErrorKind {
    /// The service did not answer, or answered with trouble of its own (a
    /// 5xx, throttling, a timeout, a lost connection): passing.
    Unavailable,
    /// What was asked for is not there (a table, a queue, a bucket, an
    /// object): a deployment's mistake or data gone, not passing.
    Missing,
    /// Anything else (a refused request, an answer that cannot be read).
    Other,
}

impl IoError {
    pub fn new(operation: impl Into<String>, message: impl std::fmt::Display) -> Self {
        IoError::of_kind(IoErrorKind::Other, operation, message)
    }

    pub fn of_kind(
        kind: IoErrorKind,
        operation: impl Into<String>,
        message: impl std::fmt::Display,
    ) -> Self {
        IoError {
            operation: operation.into(),
            message: message.to_string(),
            kind,
        }
    }
}

/// Read access to the case tables.
#[async_trait]
pub trait CaseStore: Send + Sync {
    /// `Ok(None)` when there is no such case; `Err` for a malformed item or
    /// an I/O failure (the message says which).
    async fn case(&self, guid: &str) -> Result<Option<CaseRecord>, CaseStoreError>;
    /// The case's status records older than `before_id`, newest first. An
    /// item that cannot be read is reported in `unreadable`, not fatal.
    async fn previous_statuses(
        &self,
        case_id: CaseId,
        before_id: StatusId,
    ) -> Result<EarlierStatuses, CaseStoreError>;
}

/// A case's earlier statuses, newest first, and why any could not be read.
/// The router skips the unreadable ones when it looks for the previous
/// status (a bad row must not block every later status of its case); the
/// bad row itself was parked when its own stream record came through.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct EarlierStatuses {
    pub readable: Vec<StatusRecord>,
    /// One line per unreadable item: its id and what is wrong.
    pub unreadable: Vec<String>,
}

impl EarlierStatuses {
    /// Reads items given newest first, keeping their order.
    pub fn from_items(case_id: CaseId, items: impl IntoIterator<Item = serde_json::Value>) -> Self {
        let mut out = EarlierStatuses::default();
        for item in items {
            let id = item.get("id").cloned().unwrap_or(serde_json::Value::Null);
            match StatusRecord::from_json(item) {
                Ok(s) => out.readable.push(s),
                Err(e) => out
                    .unreadable
                    .push(format!("earlier status {id} of case {case_id}: {e}")),
            }
        }
        out
    }
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

/// Where party keys are kept (`crate::party_key`): by id, never the key.
#[async_trait]
pub trait PartyKeyStore: Send + Sync {
    async fn key(&self, id: &str) -> Result<Option<crate::party_key::PartyKey>, IoError>;
    /// Notes a use; a failure to is logged, never a refusal.
    async fn used(&self, id: &str, at: crate::timestamp::Timestamp) -> Result<(), IoError>;
    /// Stores a new key (an id taken is an error, never an overwrite).
    async fn add(&self, key: &crate::party_key::PartyKey) -> Result<(), IoError>;
    /// Every key, oldest first.
    async fn all(&self) -> Result<Vec<crate::party_key::PartyKey>, IoError>;
    /// Revokes `id` from `at`; false when there is none or it was revoked
    /// already.
    async fn revoke(&self, id: &str, at: crate::timestamp::Timestamp) -> Result<bool, IoError>;
}

/// Requests made once (`Idempotency-Key`): a key is claimed by the first
/// request, then holds its answer until it expires.
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims `key` for a request whose body has `digest`; if it is taken
    /// (and not expired at `now`), what holds it.
    async fn claim(
        &self,
        key: &str,
        digest: &str,
        now: Timestamp,
        expires: Timestamp,
    ) -> Result<Claim, IoError>;
    /// The claimed request's answer, kept for its replays.
    async fn complete(&self, key: &str, answer: &KeptAnswer) -> Result<(), IoError>;
    /// Gives a claim up (the request failed: a retry may run it).
    async fn release(&self, key: &str) -> Result<(), IoError>;
}

/// What holds an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Nothing did: this request has it now.
    Claimed,
    /// A request with body `digest` is being run.
    Pending { digest: String },
    /// A request with body `digest` was answered so.
    Done { digest: String, answer: KeptAnswer },
}

/// An answer kept for replays: status, body and the headers that matter.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeptAnswer {
    pub status: u16,
    pub body: String,
    pub location: Option<String>,
    pub etag: Option<String>,
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

impl DeadLetter {
    /// What SQS counts for this letter: the body and the two attributes.
    pub fn queue_message_bytes(&self) -> usize {
        use crate::delivery::attributes::{ORIGIN, REASON};
        self.body.len().max(1)
            + crate::delivery::attributes::size(REASON, crate::delivery::clip(&self.reason, 4096))
            + crate::delivery::attributes::size(ORIGIN, crate::delivery::clip(&self.origin, 1024))
    }
}

#[async_trait]
pub trait DeadLetters: Send + Sync {
    async fn dead_letter(&self, letter: DeadLetter) -> Result<(), IoError>;
}

pub use crate::outcome::{DeliveryError, Receipt};

/// One attempt, ready to go: what is sent (a delivery or an operational
/// notice), where, its body (fetched if it was offloaded) and every header
/// hubhooks adds (identity, authentication, signature), in order.
#[derive(Debug, Clone)]
pub struct Outgoing<'a> {
    /// The delivery's (or notice's) id.
    pub id: &'a str,
    /// The event type (or notice type).
    pub kind: &'a str,
    pub subscription_id: &'a str,
    pub destination: &'a crate::config::Destination,
    pub body: &'a str,
    pub headers: Vec<(crate::attempt::Header, String)>,
    /// For AMQP: the broker URI, from the destination's secret.
    pub broker_uri: Option<String>,
    /// For HTTPS: the client certificate to present (`auth.mtls`).
    pub client_tls: Option<std::sync::Arc<crate::adapters::client_tls::ClientTls>>,
}

impl<'a> Outgoing<'a> {
    /// An attempt of `delivery`.
    pub fn of(
        delivery: &'a Delivery,
        body: &'a str,
        headers: Vec<(crate::attempt::Header, String)>,
        broker_uri: Option<String>,
    ) -> Self {
        Outgoing {
            id: &delivery.id,
            kind: delivery.event_type.as_str(),
            subscription_id: &delivery.subscription_id,
            destination: &delivery.destination,
            body,
            headers,
            broker_uri,
            client_tls: None,
        }
    }
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
    /// `ordered`: the message is on the ordered queue.
    async fn retry_later(
        &self,
        receipt_handle: &str,
        delay: Duration,
        ordered: bool,
    ) -> Result<(), IoError>;

    /// Puts `delivery` back on the queue, to be handed out after `delay`
    /// (at most 15 minutes): a delivery not attempted now, whose message is
    /// then deleted, so its receive count does not burn an attempt.
    async fn defer(&self, delivery: &Delivery, delay: Duration) -> Result<(), IoError>;
}

/// Receipts of ordered deliveries that were held back behind an earlier
/// delivery of their case: SQS counts them as receives, the sender does not
/// count them as attempts.
#[async_trait]
pub trait Holds: Send + Sync {
    async fn hold(&self, delivery_id: &DeliveryId) -> Result<(), IoError>;
    /// How many receipts of the delivery were held back.
    async fn held(&self, delivery_id: &DeliveryId) -> Result<u32, IoError>;
}

/// Per-subscription rate limits (`maxPerSecond`), shared by every sender
/// instance.
#[async_trait]
pub trait RateLimits: Send + Sync {
    /// Counts one delivery of `subscription_id` in the second `now` is in;
    /// whether it is within `per_second`.
    async fn admit(
        &self,
        subscription_id: &SubscriptionId,
        per_second: u32,
        now: Timestamp,
    ) -> Result<bool, IoError>;
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
    async fn disable(&self, subscription_id: &SubscriptionId, reason: &str) -> Result<(), IoError>;

    /// Marks a failure streak begun at `at`, unless one is marked already.
    /// Returns the streak's start as stored, and whether this call began it.
    async fn failing(
        &self,
        subscription_id: &SubscriptionId,
        at: Timestamp,
    ) -> Result<(Timestamp, bool), IoError>;

    /// Ends the failure streak (an attempt succeeded); nothing when none is
    /// marked.
    async fn recovered(&self, subscription_id: &SubscriptionId) -> Result<(), IoError>;

    /// Disables a subscription whose streak began at `since`, only if that
    /// streak is still marked (no success ended it meanwhile). Whether it
    /// was disabled.
    async fn disable_failing(
        &self,
        subscription_id: &SubscriptionId,
        since: Timestamp,
        reason: &str,
    ) -> Result<bool, IoError>;
}

/// The deployment's notice topic (SNS): every operational notice, for the
/// hub's operators.
#[async_trait]
pub trait NoticeTopic: Send + Sync {
    async fn publish(&self, notice: &crate::notice::Notice) -> Result<(), IoError>;
}

/// No notice topic configured.
pub struct NoTopic;

#[async_trait]
impl NoticeTopic for NoTopic {
    async fn publish(&self, _notice: &crate::notice::Notice) -> Result<(), IoError> {
        Ok(())
    }
}

/// The attempt log: one record per delivery attempt, appended, never
/// overwritten, with the envelope attempted (for `hubhooks replay`). A log
/// may hold records back until `flush`, which the sender calls at the end
/// of every batch (so one write carries many).
#[async_trait]
pub trait AttemptLog: Send + Sync {
    async fn record(
        &self,
        attempt: &crate::attempt::AttemptRecord,
        delivery: &Delivery,
    ) -> Result<(), IoError>;

    /// Writes what `record` held back.
    async fn flush(&self) -> Result<(), IoError> {
        Ok(())
    }
}

/// Bodies too large for a queue message.
#[async_trait]
pub trait PayloadStore: Send + Sync {
    async fn put(&self, key: &str, body: &str) -> Result<(), IoError>;
    async fn get(&self, key: &str) -> Result<String, IoError>;
}

/// A config item as stored, with its entity tag: a digest of everything
/// stored (declared config, operational state, revision), so any change
/// between a read and a conditional write is seen.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredItem {
    pub value: serde_json::Value,
    pub etag: String,
}

/// What a conditional write expects to find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// Whatever is there (operational state is still kept).
    Any,
    /// Nothing under the id: a create.
    Absent,
    /// The item whose entity tag this is (`If-Match`).
    Etag(String),
}

/// Whether a conditional write happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    /// Done; the item's new entity tag (none after a delete).
    Done(Option<String>),
    /// What was stored is not what was expected: nothing was written.
    Conflict,
}

/// The config table as the management operations read and write it, one
/// item at a time (`adapters::config_writer` is the one writer).
#[async_trait]
pub trait ConfigStore: Send + Sync {
    async fn item(&self, id: &str) -> Result<Option<StoredItem>, IoError>;
    /// Writes one item, keeping a subscription's operational state, if what
    /// is stored is what `expect` says.
    async fn write(
        &self,
        item: &crate::config::ConfigItem,
        expect: Expect,
    ) -> Result<Written, IoError>;
    async fn delete(&self, id: &str, expect: Expect) -> Result<Written, IoError>;
    /// Enables (clearing the reason) or disables (recording it) a
    /// subscription: operational state, as the sender's `410` sets it.
    async fn set_enabled(
        &self,
        id: &SubscriptionId,
        enabled: bool,
        reason: &str,
    ) -> Result<(), IoError>;
}

/// Why a rotation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    #[error("no secret `{0}`: `secret generate {0}` makes its first key")]
    Missing(String),
    #[error(transparent)]
    Grace(#[from] crate::rotation::GraceError),
    #[error("secret `{0}` changed while it was rotated; nothing was written, try again")]
    Raced(String),
    #[error(transparent)]
    Io(#[from] IoError),
}

/// The secrets table as the management operations write it; values go in,
/// and come out only once, to be shown at creation or rotation.
#[async_trait]
pub trait SecretWriter: Send + Sync {
    /// A fresh signing key under `name`; `None` when the name is taken.
    async fn generate(&self, name: &str, now: Timestamp) -> Result<Option<String>, IoError>;
    /// Stores `values` (newest first) under `name`.
    async fn put(&self, name: &str, values: &[String], now: Timestamp) -> Result<(), IoError>;
    /// A fresh key beside the current one for `grace` (`crate::rotation`).
    async fn rotate(
        &self,
        name: &str,
        grace: Duration,
        now: Timestamp,
    ) -> Result<(String, crate::rotation::Rotated), RotateError>;
    /// Whether there was such a secret.
    async fn delete(&self, name: &str) -> Result<bool, IoError>;
}

/// The attempt log read back: the attempts `filter` selects, of the last
/// `since`, oldest first.
#[async_trait]
pub trait AttemptSearch: Send + Sync {
    async fn attempts(
        &self,
        filter: &crate::attempt::Filter,
        since: chrono::Duration,
    ) -> Result<Vec<crate::attempt::AttemptRecord>, IoError>;

    /// A subscription's attempts that may have been made in `[since,
    /// until]`, each with the envelope its page kept (none on pages written
    /// without them): what a resend or a replay sends again.
    async fn logged(
        &self,
        subscription: &str,
        since: crate::timestamp::Timestamp,
        until: crate::timestamp::Timestamp,
    ) -> Result<Vec<(crate::attempt::AttemptRecord, Option<Delivery>)>, IoError>;
}
