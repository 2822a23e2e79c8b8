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
    /// The destination may not be reached (the SSRF guard, an
    /// invalid header): retrying cannot help.
    #[error("refused: {0}")]
    Refused(String),
    #[error("request failed: {0}")]
    Other(String),
}

/// What becomes of a stream record the router could not route.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Setback {
    /// Worth another try later: a store or queue did not answer, a case is
    /// not written yet. The record is retried by the stream.
    #[error("{0}")]
    Retry(String),
    /// Never going to work as it is: set aside with this reason in the
    /// router's failure queue, replayable once fixed.
    #[error("{0}")]
    Park(String),
}

/// Why the sender did not attempt a delivery: never the receiver's doing,
/// so it is no transport error, spends none of the receiver's attempts and
/// feeds no failure streak.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotAttempted {
    /// Something of ours could not be read right now (the config, a
    /// secret, the stored body): put back on the queue with our own
    /// backoff, dead-lettered only past the unreadable limit.
    #[error("{0}")]
    Unreadable(String),
    /// The subscription no longer wants it (disabled, deleted, the type
    /// dropped): nothing was sent, and nothing will be.
    #[error("{0}")]
    Withdrawn(String),
}
