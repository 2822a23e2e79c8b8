//! What an attempt came to, in the domain's words: the receiver's receipt,
//! or why it failed. Transports produce these; the retry rules judge them.
use std::time::Duration;

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
    /// The subscription no longer wants it (disabled, deleted, the type
    /// dropped): nothing was sent, and nothing will be.
    #[error("{0}")]
    Withdrawn(String),
}

/// What becomes of work that could not be done: the one vocabulary of the
/// router (a stream record) and the sender (a delivery it cannot attempt).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Setback {
    /// Worth another try later: a store or queue did not answer, a case is
    /// not written yet. The record is retried by the stream, the delivery by
    /// its schedule.
    #[error("{0}")]
    Retry(String),
    /// Never going to work as it is: set aside with this reason (the
    /// router's failure queue, the DLQ), replayable once fixed.
    #[error("{0}")]
    Park(String),
}

impl From<Setback> for DeliveryError {
    fn from(s: Setback) -> Self {
        match s {
            Setback::Retry(why) => DeliveryError::Other(why),
            Setback::Park(why) => DeliveryError::Refused(why),
        }
    }
}
