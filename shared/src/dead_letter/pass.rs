//! One pass over a queue: every message present when it began is handed
//! over exactly once, and the pass ends whatever the queue's size.
//!
//! A receive hides a message for its visibility timeout. A pass that takes
//! longer than that used to meet its first messages again and read them
//! for ever (2,314 letters outran a 60 s hold). Now the messages a pass
//! holds are extended before their time runs out (each extension doubles
//! the timeout, so a long pass costs a few extensions a message), a message
//! met again is never handed over twice, and only messages never met before
//! that were sent before the pass began count as progress: a queue that
//! keeps filling while the pass runs cannot keep it running.
use super::Letter;
use crate::clock::Clock;
use crate::ports::IoError;
use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

/// The longest SQS lets a message stay hidden.
const MAX_HOLD: Duration = Duration::from_secs(12 * 3600);

/// Letters dead-lettered this long after the pass began are shown but do
/// not keep it running (the margin absorbs the clock skew between us and
/// SQS's `SentTimestamp`).
const LATE_AFTER: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

/// A queue to pass over.
#[async_trait::async_trait]
pub trait Mailbox: Send + Sync {
    /// Up to 10 messages, each hidden for `hold`.
    async fn receive(&self, hold: Duration) -> Result<Vec<Letter>, IoError>;
    /// `ApproximateNumberOfMessages`: visible, not held by us.
    async fn visible(&self) -> Result<u64, IoError>;
    /// Hides each `(receipt handle, for)` again from now. A handle that no
    /// longer holds its message (it came back and was received again) is
    /// skipped, not an error.
    async fn extend(&self, handles: &[(String, Duration)]) -> Result<(), IoError>;
    /// Makes the messages visible again at once.
    async fn release(&self, handles: &[String]) -> Result<(), IoError>;
    /// Deletes a received message for good.
    async fn delete(&self, handle: &str) -> Result<(), IoError>;
}

/// When a pass may conclude it has met every message. SQS answers a
/// receive with nothing although messages are there (a short poll samples
/// only some servers; a long poll can still come back empty), so one empty
/// answer proves nothing: a pass stops after `empty_receives` receives in a
/// row that brought nothing new *and* the queue's visible count at 0, or
/// after `give_up_after` such receives whatever the count says (the count
/// is approximate and lags).
#[derive(Debug, Clone, Copy)]
pub struct DrainPolicy {
    pub wait_secs: i32,
    pub empty_receives: u32,
    pub give_up_after: u32,
    /// The longest a pass may run: past it, it hands over nothing more,
    /// releases what it holds and says it was cut short (an HTTP request
    /// has 30 s; a command has no limit).
    pub budget: Option<Duration>,
}

impl Default for DrainPolicy {
    fn default() -> Self {
        DrainPolicy {
            wait_secs: 2,
            empty_receives: 2,
            give_up_after: 10,
            budget: None,
        }
    }
}

/// What the pass does with a letter once it is handed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    /// Left in the queue: held until the pass ends, then released.
    Held,
    /// Deleted from the queue by the handler.
    Gone,
    /// Left in the queue, and the pass ends here (the caller has enough):
    /// it is cut short.
    Enough,
}

/// What a pass met.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PassReport {
    /// Letters handed over (each once).
    pub read: usize,
    /// Receipts of a letter already handed over (a hold ran out before its
    /// extension): not handed over again.
    pub met_again: usize,
    /// Letters dead-lettered after the pass began (handed over, but they
    /// did not keep the pass running).
    pub late: usize,
    /// The pass ended before it met every letter: its budget ran out, or
    /// the handler had enough. Letters it did not meet are still there.
    pub cut_short: bool,
}

/// A letter the pass holds hidden.
struct Held {
    handle: String,
    /// Its current visibility timeout, from `since`.
    hold: Duration,
    since: Instant,
    first: Instant,
}

impl Held {
    fn due(&self, now: Instant) -> bool {
        now >= self.since + self.hold / 2
    }
}

/// One pass over a mailbox, letter by letter: `next` hands each letter
/// over once; what the caller does not mark `gone` is held until `end`,
/// which releases it. A caller that stops early (an error, enough) still
/// calls `end`.
pub struct Pass<'a> {
    mailbox: &'a dyn Mailbox,
    policy: DrainPolicy,
    hold: Duration,
    clock: &'a dyn Clock,
    deadline: Option<Instant>,
    late_after: chrono::DateTime<chrono::Utc>,
    held: HashMap<String, Held>,
    seen: HashSet<String>,
    /// Received, not yet handed over.
    fresh: VecDeque<Letter>,
    /// Whether the last batch received brought a letter that counts.
    progress: Option<bool>,
    empties: u32,
    over: bool,
    report: PassReport,
}

impl<'a> Pass<'a> {
    pub fn new(
        mailbox: &'a dyn Mailbox,
        policy: DrainPolicy,
        hold: Duration,
        clock: &'a dyn Clock,
    ) -> Self {
        Pass {
            mailbox,
            policy,
            hold: hold.clamp(Duration::from_secs(1), MAX_HOLD),
            clock,
            deadline: policy.budget.map(|b| clock.instant() + b),
            late_after: clock.now().0 + LATE_AFTER,
            held: HashMap::new(),
            seen: HashSet::new(),
            fresh: VecDeque::new(),
            progress: None,
            empties: 0,
            over: false,
            report: PassReport::default(),
        }
    }

    /// The next letter; none when the pass has met every letter (or its
    /// budget ran out: `cut_short`).
    pub async fn next(&mut self) -> Result<Option<Letter>, IoError> {
        loop {
            if self.over {
                return Ok(None);
            }
            if spent(self.deadline, self.clock.instant()) {
                // What was received and not handed over is released by `end`.
                self.report.cut_short = true;
                self.over = true;
                return Ok(None);
            }
            if let Some(l) = self.fresh.pop_front() {
                self.report.read += 1;
                self.report.late += usize::from(self.late(&l));
                return Ok(Some(l));
            }
            if self.finished().await? {
                self.over = true;
                return Ok(None);
            }
            self.receive().await?;
        }
    }

    /// The letter handed over as `message_id` was deleted: not released.
    pub fn gone(&mut self, message_id: &str) {
        self.held.remove(message_id);
    }

    /// The caller has what it wanted: the pass ends, cut short.
    pub fn enough(&mut self) {
        self.report.cut_short = true;
        self.over = true;
    }

    /// Ends the pass: every letter it holds is visible again at once.
    pub async fn end(self) -> Result<PassReport, IoError> {
        let handles: Vec<String> = self.held.into_values().map(|h| h.handle).collect();
        self.mailbox.release(&handles).await?;
        Ok(self.report)
    }

    /// After a batch is handed over: whether the queue is done (see
    /// [`DrainPolicy`]).
    async fn finished(&mut self) -> Result<bool, IoError> {
        match self.progress {
            None => return Ok(false),
            Some(true) => {
                self.empties = 0;
                return Ok(false);
            }
            Some(false) => self.empties += 1,
        }
        if self.empties >= self.policy.give_up_after {
            let visible = self.mailbox.visible().await?;
            if visible > 0 {
                let empties = self.empties;
                tracing::warn!(
                    visible,
                    empties,
                    "the queue still reports visible messages but nothing new came in {empties} receives; stopping"
                );
            }
            return Ok(true);
        }
        Ok(self.empties >= self.policy.empty_receives && self.mailbox.visible().await? == 0)
    }

    /// Whether a letter was dead-lettered after the pass began.
    fn late(&self, l: &Letter) -> bool {
        l.sent_at.is_some_and(|at| at.0 > self.late_after)
    }

    /// One receive: new letters wait to be handed over; a letter met
    /// again keeps its newest receipt.
    async fn receive(&mut self) -> Result<(), IoError> {
        extend_due(self.mailbox, &mut self.held, self.clock.instant()).await?;
        let got = self.mailbox.receive(self.hold).await?;
        let now = self.clock.instant();
        let mut progress = false;
        for l in got {
            if self.seen.insert(l.message_id.clone()) {
                let h = Held {
                    handle: l.receipt_handle.clone(),
                    hold: self.hold,
                    since: now,
                    first: now,
                };
                self.held.insert(l.message_id.clone(), h);
                // Letters dead-lettered after the pass began are shown but
                // do not keep it running.
                progress |= !self.late(&l);
                self.fresh.push_back(l);
            } else {
                self.report.met_again += 1;
                if let Some(h) = self.held.get_mut(&l.message_id) {
                    (h.handle, h.hold, h.since) = (l.receipt_handle, self.hold, now);
                }
            }
        }
        self.progress = Some(progress);
        Ok(())
    }
}

/// One pass over `mailbox`: each letter is handed to `each` once; what
/// `each` leaves is held until the end, then released (also on an error,
/// the caller's own or the queue's).
pub async fn pass<E: From<IoError>>(
    mailbox: &dyn Mailbox,
    policy: DrainPolicy,
    hold: Duration,
    clock: &dyn Clock,
    mut each: impl AsyncFnMut(Letter) -> Result<Taken, E>,
) -> Result<PassReport, E> {
    let mut p = Pass::new(mailbox, policy, hold, clock);
    let outcome: Result<(), E> = async {
        while let Some(l) = p.next().await? {
            let id = l.message_id.clone();
            match each(l).await? {
                Taken::Held => {}
                Taken::Gone => p.gone(&id),
                Taken::Enough => p.enough(),
            }
        }
        Ok(())
    }
    .await;
    let report = p.end().await;
    outcome?;
    report.map_err(E::from)
}

/// Whether the budget's deadline has come.
fn spent(deadline: Option<Instant>, now: Instant) -> bool {
    deadline.is_some_and(|d| now >= d)
}

/// Extends every held letter whose hold is half gone, doubling its timeout
/// (up to SQS's 12 hours from its first receipt).
async fn extend_due(
    mailbox: &dyn Mailbox,
    held: &mut HashMap<String, Held>,
    now: Instant,
) -> Result<(), IoError> {
    let mut due = Vec::new();
    for h in held.values_mut().filter(|h| h.due(now)) {
        let left = MAX_HOLD.saturating_sub(now.duration_since(h.first));
        let longer = (h.hold * 2).min(left);
        if longer.is_zero() {
            continue;
        }
        (h.hold, h.since) = (longer, now);
        due.push((h.handle.clone(), longer));
    }
    if due.is_empty() {
        return Ok(());
    }
    mailbox.extend(&due).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::timestamp::Timestamp;

    type Result<T> = std::result::Result<T, IoError>;
    use std::sync::{Arc, Mutex};

    fn letter_of(id: &str, handle: String, sent_at: Option<Timestamp>) -> Letter {
        Letter {
            message_id: id.to_owned(),
            receipt_handle: handle,
            body: String::new(),
            reason: String::new(),
            origin: String::new(),
            sent_at,
            delivery: None,
        }
    }

    /// A queue that answers receives from a script: SQS's false empties.
    struct Scripted {
        answers: Mutex<std::collections::VecDeque<Vec<&'static str>>>,
    }

    fn scripted(answers: &[&[&'static str]]) -> Scripted {
        Scripted {
            answers: Mutex::new(answers.iter().map(|a| a.to_vec()).collect()),
        }
    }

    #[async_trait::async_trait]
    impl Mailbox for Scripted {
        async fn receive(&self, _: Duration) -> Result<Vec<Letter>> {
            let next = self.answers.lock().unwrap().pop_front().unwrap_or_default();
            Ok(next
                .into_iter()
                .map(|id| letter_of(id, format!("h-{id}"), None))
                .collect())
        }
        async fn visible(&self) -> Result<u64> {
            let answers = self.answers.lock().unwrap();
            Ok(answers.iter().map(|a| a.len() as u64).sum())
        }
        async fn extend(&self, _: &[(String, Duration)]) -> Result<()> {
            Ok(())
        }
        async fn release(&self, _: &[String]) -> Result<()> {
            Ok(())
        }
        async fn delete(&self, _: &str) -> Result<()> {
            Ok(())
        }
    }

    /// Every letter a pass meets, once each, oldest first.
    async fn collect(
        mailbox: &dyn Mailbox,
        policy: DrainPolicy,
        hold: Duration,
        clock: &dyn Clock,
    ) -> Result<Vec<Letter>> {
        let mut all = Vec::new();
        pass(mailbox, policy, hold, clock, async |l: Letter| {
            all.push(l);
            Ok(Taken::Held)
        })
        .await?;
        all.sort_by_key(|l| l.sent_at);
        Ok(all)
    }

    fn ids(letters: &[Letter]) -> Vec<&str> {
        letters.iter().map(|l| l.message_id.as_str()).collect()
    }

    const HOLD: Duration = Duration::from_secs(60);

    #[tokio::test]
    async fn false_empty_answers_do_not_end_a_pass() {
        // GIVEN a queue whose receives come back empty now and then while
        // it still holds messages (a pass must not end on the first empty
        // answer, which once ended `dlq list`, `dlq replay` and
        // `router-failures redrive`)
        let script: &[&[&str]] = &[&[], &["a"], &[], &[], &["b", "c"], &[]];
        let clock = ManualClock::default();
        // WHEN it is passed over
        let got = collect(&scripted(script), DrainPolicy::default(), HOLD, &clock)
            .await
            .unwrap();
        // THEN every message is found
        assert_eq!(ids(&got), ["a", "b", "c"]);
        // (the old rule, "stop at the first empty answer", found none)
        let old_rule = DrainPolicy {
            empty_receives: 1,
            give_up_after: 1,
            ..DrainPolicy::default()
        };
        let old = collect(&scripted(script), old_rule, HOLD, &clock).await;
        assert!(old.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_pass_stops_when_empty_answers_and_the_count_agree() {
        let queue = scripted(&[&["a"]]);
        let got = collect(
            &queue,
            DrainPolicy::default(),
            HOLD,
            &ManualClock::default(),
        )
        .await
        .unwrap();
        assert_eq!(ids(&got), ["a"]);
        assert!(queue.answers.lock().unwrap().is_empty());
    }

    /// A count that never drops (it lags on SQS) cannot hold a pass for
    /// ever.
    #[tokio::test]
    async fn a_stale_count_cannot_hold_a_pass_for_ever() {
        struct Stale;
        #[async_trait::async_trait]
        impl Mailbox for Stale {
            async fn receive(&self, _: Duration) -> Result<Vec<Letter>> {
                Ok(vec![])
            }
            async fn visible(&self) -> Result<u64> {
                Ok(3)
            }
            async fn extend(&self, _: &[(String, Duration)]) -> Result<()> {
                Ok(())
            }
            async fn release(&self, _: &[String]) -> Result<()> {
                Ok(())
            }
            async fn delete(&self, _: &str) -> Result<()> {
                Ok(())
            }
        }
        let clock = ManualClock::default();
        let got = collect(&Stale, DrainPolicy::default(), HOLD, &clock);
        assert!(got.await.unwrap().is_empty());
    }

    /// SQS's visibility rules in virtual time: a receive costs `cost` and
    /// hides what it returns for the hold; a receipt handle is good until
    /// its message is received again; `inflow` new messages arrive before
    /// each receive.
    struct Sim {
        clock: Arc<ManualClock>,
        cost: Duration,
        inflow: usize,
        state: Mutex<SimState>,
    }

    #[derive(Default)]
    struct SimState {
        /// Per message: when it is visible, its live handle, when sent.
        messages: Vec<(Instant, String, Timestamp)>,
        receipts: usize,
        extended: usize,
    }

    impl Sim {
        fn new(n: usize, cost: Duration, inflow: usize) -> Sim {
            let clock = Arc::new(ManualClock::default());
            let (now, at) = (clock.instant(), clock.now());
            Sim {
                cost,
                inflow,
                state: Mutex::new(SimState {
                    messages: (0..n).map(|_| (now, String::new(), at)).collect(),
                    ..SimState::default()
                }),
                clock,
            }
        }

        fn visible_now(&self) -> usize {
            let now = self.clock.instant();
            let s = self.state.lock().unwrap();
            s.messages.iter().filter(|m| m.0 <= now).count()
        }

        fn set(&self, handle: &str, hidden_for: Duration) {
            let now = self.clock.instant();
            let mut s = self.state.lock().unwrap();
            if let Some(m) = s.messages.iter_mut().find(|m| m.1 == handle) {
                m.0 = now + hidden_for;
            }
        }
    }

    #[async_trait::async_trait]
    impl Mailbox for Sim {
        async fn receive(&self, hold: Duration) -> Result<Vec<Letter>> {
            self.clock.advance(self.cost);
            let (now, at) = (self.clock.instant(), self.clock.now());
            let mut s = self.state.lock().unwrap();
            for _ in 0..self.inflow {
                s.messages.push((now, String::new(), at));
            }
            let mut out = Vec::new();
            for i in 0..s.messages.len() {
                if out.len() == 10 {
                    break;
                }
                if s.messages[i].0 <= now {
                    s.receipts += 1;
                    let handle = format!("{i}/{}", s.receipts);
                    s.messages[i] = (now + hold, handle.clone(), s.messages[i].2);
                    out.push(letter_of(&i.to_string(), handle, Some(s.messages[i].2)));
                }
            }
            Ok(out)
        }
        async fn visible(&self) -> Result<u64> {
            Ok(self.visible_now() as u64)
        }
        async fn extend(&self, handles: &[(String, Duration)]) -> Result<()> {
            self.state.lock().unwrap().extended += handles.len();
            for (h, d) in handles {
                self.set(h, *d);
            }
            Ok(())
        }
        async fn release(&self, handles: &[String]) -> Result<()> {
            for h in handles {
                self.set(h, Duration::ZERO);
            }
            Ok(())
        }
        async fn delete(&self, handle: &str) -> Result<()> {
            self.state
                .lock()
                .unwrap()
                .messages
                .retain(|m| m.1 != handle);
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_pass_far_longer_than_its_hold_meets_each_letter_once_and_ends() {
        // GIVEN 2,000 letters, a 5 s hold and receives of 1 s each: the
        // pass lasts over 200 s, forty holds
        let sim = Sim::new(2_000, Duration::from_secs(1), 0);
        let clock = sim.clock.clone();
        // WHEN one pass lists them
        let mut met = Vec::new();
        let report = pass::<IoError>(
            &sim,
            DrainPolicy::default(),
            Duration::from_secs(5),
            &clock,
            async |l: Letter| {
                met.push(l.message_id);
                Ok(Taken::Held)
            },
        )
        .await
        .unwrap();
        // THEN it ends, each letter handed over once, none met again
        assert_eq!(report.read, 2_000);
        assert_eq!(report.met_again, 0);
        let distinct: HashSet<_> = met.iter().collect();
        assert_eq!((met.len(), distinct.len()), (2_000, 2_000));
        // AND each hold doubled as it was extended: a few extensions a
        // letter (log2 of 200 s / 5 s), not one per hold
        let extended = sim.state.lock().unwrap().extended;
        assert!(extended <= 2_000 * 6, "{extended} extensions");
        // AND what it held is visible again at once
        assert_eq!(sim.visible_now(), 2_000);
    }

    #[tokio::test]
    async fn a_queue_that_keeps_filling_cannot_keep_a_pass_running() {
        // GIVEN 100 letters, and 10 more arriving at every receive
        let sim = Sim::new(100, Duration::from_secs(1), 10);
        let clock = sim.clock.clone();
        // WHEN one pass lists them
        let started = clock.instant();
        let report = pass::<IoError>(&sim, DrainPolicy::default(), HOLD, &clock, async |_| {
            Ok(Taken::Held)
        })
        .await
        .unwrap();
        // THEN it ends soon after letters start arriving late
        let took = clock.instant() - started;
        assert!(took < Duration::from_secs(120), "{took:?}");
        assert!(report.read >= 100 && report.late > 0, "{report:?}");
    }

    #[tokio::test]
    async fn a_pass_that_fails_releases_what_it_holds() {
        let sim = Sim::new(30, Duration::from_secs(1), 0);
        let clock = sim.clock.clone();
        let mut n = 0;
        let failed = pass::<IoError>(&sim, DrainPolicy::default(), HOLD, &clock, async |_| {
            n += 1;
            if n >= 15 {
                return Err(IoError::new("handling a letter", "the 15th letter failed"));
            }
            Ok(Taken::Held)
        })
        .await;
        assert!(
            failed
                .unwrap_err()
                .to_string()
                .contains("the 15th letter failed"),
            "the handler's error"
        );
        assert_eq!(sim.visible_now(), 30, "every held letter released");
    }

    #[tokio::test]
    async fn a_pass_with_a_budget_stops_in_time_and_releases_what_it_holds() {
        // GIVEN 2,000 letters and receives of 1 s each (a pass of over
        // 200 s), and a budget of 20 s (an HTTP request's)
        let sim = Sim::new(2_000, Duration::from_secs(1), 0);
        let clock = sim.clock.clone();
        let policy = DrainPolicy {
            budget: Some(Duration::from_secs(20)),
            ..DrainPolicy::default()
        };
        // WHEN one pass lists them
        let started = clock.instant();
        let report = pass::<IoError>(&sim, policy, HOLD, &clock, async |_| Ok(Taken::Held))
            .await
            .unwrap();
        // THEN it ends at its budget, says so, and hands over what it read
        // before it (ten a receive, a receive a second): the batch received
        // at the deadline is released, not handed over
        let took = clock.instant() - started;
        assert_eq!(took, Duration::from_secs(20));
        assert!(report.cut_short);
        assert_eq!(report.read, 190);
        // AND every letter is visible again at once
        assert_eq!(sim.visible_now(), 2_000);
    }

    #[tokio::test]
    async fn a_handler_that_has_enough_ends_the_pass() {
        let sim = Sim::new(30, Duration::from_secs(1), 0);
        let clock = sim.clock.clone();
        let mut n = 0;
        let report = pass::<IoError>(&sim, DrainPolicy::default(), HOLD, &clock, async |_| {
            n += 1;
            Ok(if n == 12 { Taken::Enough } else { Taken::Held })
        })
        .await
        .unwrap();
        assert_eq!((report.read, report.cut_short), (12, true));
        assert_eq!(sim.visible_now(), 30, "every held letter released");
        // A pass that meets every letter is not cut short.
        let whole = pass::<IoError>(&sim, DrainPolicy::default(), HOLD, &clock, async |_| {
            Ok(Taken::Held)
        });
        let whole = whole.await.unwrap();
        assert_eq!((whole.read, whole.cut_short), (30, false));
    }
}
