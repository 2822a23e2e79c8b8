//! Dead letters: a message of a dead-letter queue with its reason, which
//! of them a replay or a deletion takes (`Selection`), and what a replay
//! did (`ReplayReport`). `pass` goes over a queue once, whatever its size;
//! the SQS queue is `adapters::sqs_mailbox`. `hubhooks dlq` and the
//! management API's `/v1/admin/dead-letters` run them.
mod pass;
mod replay;

pub use pass::{DrainPolicy, Mailbox, Pass, PassReport, Taken, pass};
pub use replay::{Replay, Requeue};

use crate::delivery::Delivery;
use crate::event::EventType;
use crate::timestamp::Timestamp;
use std::sync::Arc;

/// Which delivery queue a dead-letter queue belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum QueueKind {
    /// The delivery queue's.
    Deliveries,
    /// The ordered (FIFO) queue's, of `ordering: perCase` subscriptions.
    Ordered,
}

/// A dead-letter queue and the queue its letters go back to.
#[derive(Clone)]
pub struct DeadLetterQueue {
    pub kind: QueueKind,
    pub letters: Arc<dyn Mailbox>,
    pub back: Arc<dyn Requeue>,
}

/// One message of a dead-letter queue.
#[derive(Debug, Clone)]
pub struct Letter {
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
    /// `hubhooksReason`: the last error.
    pub reason: String,
    pub origin: String,
    /// When it was dead-lettered.
    pub sent_at: Option<Timestamp>,
    /// The delivery, when the body is one.
    pub delivery: Option<Delivery>,
}

/// Which dead letters to replay.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub subscription: Option<String>,
    pub event_type: Option<EventType>,
    /// Dead-lettered at or after.
    pub since: Option<Timestamp>,
    /// The reason holds this text (any case).
    pub reason: Option<String>,
    /// Test sends (`send-test`) too: replaying or deleting them is asked
    /// for, never a side effect of a broad selection.
    pub tests: bool,
}

/// What a selection makes of one letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selected {
    Yes,
    No,
    /// A test send the selection would take but for `tests`.
    Test,
    /// Not a delivery: only a listing shows it.
    Unreadable,
}

impl Selection {
    /// What a deletion takes: the selected deliveries, and what is no
    /// delivery at all when nothing but its reason or time was asked.
    pub fn deletes(&self, l: &Letter) -> bool {
        matches!(self.select(l), Selected::Yes | Selected::Unreadable)
    }

    pub fn select(&self, l: &Letter) -> Selected {
        let reason = self
            .reason
            .as_ref()
            .is_none_or(|r| l.reason.to_lowercase().contains(&r.to_lowercase()));
        let since = self
            .since
            .is_none_or(|since| l.sent_at.is_some_and(|at| at >= since));
        let Some(d) = &l.delivery else {
            let unfiltered = self.subscription.is_none() && self.event_type.is_none();
            return if unfiltered && reason && since {
                Selected::Unreadable
            } else {
                Selected::No
            };
        };
        let chosen = self
            .subscription
            .as_ref()
            .is_none_or(|s| d.subscription_id == *s)
            && self.event_type.is_none_or(|t| t == d.event_type)
            && reason
            && since;
        match (chosen, d.test && !self.tests) {
            (false, _) => Selected::No,
            (true, true) => Selected::Test,
            (true, false) => Selected::Yes,
        }
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReplayReport {
    pub replayed: usize,
    /// Not selected, left in the DLQ.
    pub kept: usize,
    /// Not a delivery (a malformed message): never replayed.
    pub unreadable: usize,
    /// Replayed in this run and dead-lettered again before it ended (its
    /// subscription is deleted or still disabled, its secret missing, ...):
    /// left in the DLQ, not sent again. Each letter is sent at most once a
    /// run.
    pub came_back: usize,
    /// Why they came back: each distinct reason with its count.
    pub came_back_why: std::collections::BTreeMap<String, usize>,
    /// Selected test sends left in the DLQ (`--tests` takes them).
    pub tests: usize,
    /// Letters the run met, each once.
    pub read: usize,
    /// The run ended before it met every letter (its budget ran out):
    /// another run goes on where it stopped.
    pub cut_short: bool,
}

impl ReplayReport {
    /// Adds another queue's counts.
    pub fn add(&mut self, other: ReplayReport) {
        self.replayed += other.replayed;
        self.kept += other.kept;
        self.unreadable += other.unreadable;
        self.came_back += other.came_back;
        self.tests += other.tests;
        self.read += other.read;
        self.cut_short |= other.cut_short;
        for (why, n) in other.came_back_why {
            *self.came_back_why.entry(why).or_default() += n;
        }
    }
}
