//! Replaying dead letters onto their delivery queue: one pass over a DLQ,
//! each selected delivery sent back *before* it is deleted, so an
//! interrupted replay loses nothing (at worst a delivery is sent twice,
//! with the same id, which receivers deduplicate). `hubhooks dlq replay`
//! and `POST /v1/admin/dead-letters/replay` run it.
use super::{DrainPolicy, Letter, Mailbox, Pass, ReplayReport, Selected, Selection};
use crate::clock::Clock;
use crate::delivery::Delivery;
use crate::ports::IoError;
use std::collections::HashSet;
use std::time::Duration;

/// The queue a DLQ's letters go back to.
#[async_trait::async_trait]
pub trait Requeue: Send + Sync {
    /// Sends the letter's body, as it was, back for delivery.
    async fn send_back(&self, letter: &Letter, delivery: &Delivery) -> Result<(), IoError>;
}

/// One replay of one DLQ.
pub struct Replay<'a> {
    pub letters: &'a dyn Mailbox,
    pub back: &'a dyn Requeue,
    pub selection: Selection,
    pub dry_run: bool,
    /// At most this many per second (spares a receiver that just came back).
    pub rate: Option<u32>,
    /// How long letters stay hidden while the replay holds them.
    pub hold: Duration,
    /// How the pass ends, and its budget.
    pub policy: DrainPolicy,
    pub clock: &'a dyn Clock,
}

impl Replay<'_> {
    /// Replays the selected letters; `progress` is told of each one
    /// replayed (or that would be, on a dry run).
    pub async fn run(
        &self,
        mut progress: impl FnMut(&Letter, &ReplayReport),
    ) -> Result<ReplayReport, IoError> {
        let mut report = ReplayReport::default();
        // Delivery ids sent in this run: a letter that comes back is left.
        let mut sent: HashSet<String> = HashSet::new();
        let mut pass = Pass::new(self.letters, self.policy, self.hold, self.clock);
        let outcome = async {
            while let Some(l) = pass.next().await? {
                let Some(d) = self.take(&l, &mut report, &sent) else {
                    continue;
                };
                if !self.dry_run {
                    self.back.send_back(&l, d).await?;
                    // Only now: a crash before this line leaves the letter.
                    self.letters.delete(&l.receipt_handle).await?;
                    pass.gone(&l.message_id);
                    sent.insert(d.id.to_string());
                }
                progress(&l, &report);
                if let (false, Some(rate)) = (self.dry_run, self.rate) {
                    let gap = Duration::from_secs_f64(1.0 / f64::from(rate.max(1)));
                    tokio::time::sleep(gap).await;
                }
            }
            Ok::<(), IoError>(())
        }
        .await;
        let passed = pass.end().await;
        outcome?;
        let passed = passed?;
        report.read = passed.read;
        report.cut_short = passed.cut_short;
        Ok(report)
    }

    /// The delivery of a letter that is replayed; the letter is counted in
    /// `report` either way.
    fn take<'l>(
        &self,
        l: &'l Letter,
        report: &mut ReplayReport,
        sent: &HashSet<String>,
    ) -> Option<&'l Delivery> {
        let Some(d) = l.delivery.as_ref() else {
            report.unreadable += 1;
            return None;
        };
        if sent.contains(d.id.as_str()) {
            report.came_back += 1;
            *report.came_back_why.entry(l.reason.clone()).or_default() += 1;
            return None;
        }
        match self.selection.select(l) {
            Selected::Yes => {
                report.replayed += 1;
                Some(d)
            }
            Selected::Test => {
                report.tests += 1;
                None
            }
            Selected::No | Selected::Unreadable => {
                report.kept += 1;
                None
            }
        }
    }
}
