//! Dead letters: what sits in the delivery DLQ (and the router's failure
//! queue), with its reason; replaying deliveries onto the delivery queue
//! (`hubhooks dlq`). Re-driving the router's is `router_failures`.
//!
//! A replay sends each message to the delivery queue *before* deleting it
//! from the DLQ, so an interrupted replay loses nothing: at worst a delivery
//! is sent twice, with the same delivery id, which receivers deduplicate.
//! Messages held while a replay runs come back after `hold` if it stops.
use anyhow::{Context, Result};
use aws_sdk_sqs::types::{ChangeMessageVisibilityBatchRequestEntry, MessageSystemAttributeName};
use hubhooks::adapters::sqs::{ATTR_ORIGIN, ATTR_REASON};
use hubhooks::clock::SystemClock;
use hubhooks::delivery::Delivery;
use hubhooks::event::EventType;
use hubhooks::timestamp::Timestamp;
use std::collections::HashSet;
use std::time::Duration;

mod pass;

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

fn letter(m: aws_sdk_sqs::types::Message) -> Option<Letter> {
    let attr = |name: &str| {
        m.message_attributes
            .as_ref()
            .and_then(|a| a.get(name))
            .and_then(|v| v.string_value.clone())
            .unwrap_or_default()
    };
    let sent_at = m
        .attributes
        .as_ref()
        .and_then(|a| a.get(&MessageSystemAttributeName::SentTimestamp))
        .and_then(|t| t.parse::<i64>().ok())
        .and_then(Timestamp::from_millis);
    let body = m.body.clone().unwrap_or_default();
    Some(Letter {
        reason: attr(ATTR_REASON),
        origin: attr(ATTR_ORIGIN),
        delivery: serde_json::from_str(&body).ok(),
        message_id: m.message_id?,
        receipt_handle: m.receipt_handle?,
        body,
        sent_at,
    })
}

pub use pass::{DrainPolicy, Mailbox, PassReport, Taken, pass};

/// A real SQS queue, long-polled.
pub struct SqsMailbox<'a> {
    pub sqs: &'a aws_sdk_sqs::Client,
    pub url: &'a str,
    pub wait_secs: i32,
}

#[async_trait::async_trait]
impl Mailbox for SqsMailbox<'_> {
    async fn receive(&self, hold: Duration) -> Result<Vec<Letter>> {
        let out = self
            .sqs
            .receive_message()
            .queue_url(self.url)
            .max_number_of_messages(10)
            .visibility_timeout(hold.as_secs().max(1) as i32)
            .wait_time_seconds(self.wait_secs)
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
            .send()
            .await
            .map_err(crate::aws::sdk_err)
            .with_context(|| format!("receiving from {}", self.url))?;
        Ok(out
            .messages
            .unwrap_or_default()
            .into_iter()
            .filter_map(letter)
            .collect())
    }

    async fn visible(&self) -> Result<u64> {
        use aws_sdk_sqs::types::QueueAttributeName;
        let out = self
            .sqs
            .get_queue_attributes()
            .queue_url(self.url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await
            .map_err(crate::aws::sdk_err)
            .with_context(|| format!("reading the depth of {}", self.url))?;
        Ok(out
            .attributes
            .and_then(|a| {
                a.get(&QueueAttributeName::ApproximateNumberOfMessages)
                    .and_then(|v| v.parse().ok())
            })
            .unwrap_or(0))
    }

    async fn extend(&self, handles: &[(String, Duration)]) -> Result<()> {
        self.change_visibility(handles.iter().map(|(h, d)| (h.as_str(), *d)))
            .await
            .with_context(|| format!("extending the hold on messages of {}", self.url))
    }

    async fn release(&self, handles: &[String]) -> Result<()> {
        self.change_visibility(handles.iter().map(|h| (h.as_str(), Duration::ZERO)))
            .await
            .with_context(|| format!("releasing messages of {}", self.url))
    }
}

impl SqsMailbox<'_> {
    /// Sets each handle's visibility timeout, ten to a call. Entries SQS
    /// refuses (a handle gone stale) are skipped: their message is back.
    async fn change_visibility(
        &self,
        handles: impl Iterator<Item = (&str, Duration)>,
    ) -> Result<()> {
        let handles: Vec<_> = handles.collect();
        for chunk in handles.chunks(10) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, (handle, hold))| {
                    ChangeMessageVisibilityBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(*handle)
                        .visibility_timeout(hold.as_secs() as i32)
                        .build()
                })
                .collect::<Result<Vec<_>, _>>()?;
            let out = self
                .sqs
                .change_message_visibility_batch()
                .queue_url(self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(crate::aws::sdk_err)?;
            for failed in out.failed {
                tracing::debug!(code = failed.code, "a held message could not be changed");
            }
        }
        Ok(())
    }
}

/// Every message now in the queue, once each, oldest first (left in place).
pub async fn list(
    sqs: &aws_sdk_sqs::Client,
    url: &str,
    hold: Duration,
    each: impl FnMut(&Letter),
) -> Result<PassReport> {
    let mut each = each;
    let mailbox = SqsMailbox {
        sqs,
        url,
        wait_secs: DrainPolicy::default().wait_secs,
    };
    pass(
        &mailbox,
        DrainPolicy::default(),
        hold,
        &SystemClock,
        async |l: Letter| {
            each(&l);
            Ok(Taken::Held)
        },
    )
    .await
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
        for (why, n) in other.came_back_why {
            *self.came_back_why.entry(why).or_default() += n;
        }
    }
}

pub struct Replay<'a> {
    pub sqs: &'a aws_sdk_sqs::Client,
    pub dlq_url: &'a str,
    pub queue_url: &'a str,
    /// The DLQ is the ordered (FIFO) queue's: its letters go back to the
    /// ordered queue, in their case's group.
    pub ordered: bool,
    pub selection: Selection,
    pub dry_run: bool,
    /// At most this many per second (spares a receiver that just came back).
    pub rate: Option<u32>,
    /// How long messages stay hidden while the replay holds them.
    pub hold: Duration,
}

impl Replay<'_> {
    /// Replays the selected letters; `progress` is called after each one.
    pub async fn run(
        &self,
        mut progress: impl FnMut(&Letter, &ReplayReport),
    ) -> Result<ReplayReport> {
        let mut report = ReplayReport::default();
        // Delivery ids sent in this run: a letter that comes back is left.
        let mut sent: HashSet<String> = HashSet::new();
        let policy = DrainPolicy::default();
        let mailbox = SqsMailbox {
            sqs: self.sqs,
            url: self.dlq_url,
            wait_secs: policy.wait_secs,
        };
        let passed = pass(
            &mailbox,
            policy,
            self.hold,
            &SystemClock,
            async |l: Letter| {
                let Some(id) = l.delivery.as_ref().map(|d| d.id.to_string()) else {
                    report.unreadable += 1;
                    return Ok(Taken::Held);
                };
                if sent.contains(&id) {
                    report.came_back += 1;
                    *report.came_back_why.entry(l.reason.clone()).or_default() += 1;
                    return Ok(Taken::Held);
                }
                match self.selection.select(&l) {
                    Selected::Yes => {}
                    Selected::Test => {
                        report.tests += 1;
                        return Ok(Taken::Held);
                    }
                    Selected::No | Selected::Unreadable => {
                        report.kept += 1;
                        return Ok(Taken::Held);
                    }
                }
                report.replayed += 1;
                if self.dry_run {
                    progress(&l, &report);
                    return Ok(Taken::Held);
                }
                self.send_then_delete(&l).await?;
                sent.insert(id);
                progress(&l, &report);
                if let Some(rate) = self.rate {
                    tokio::time::sleep(Duration::from_secs_f64(1.0 / f64::from(rate.max(1)))).await;
                }
                Ok(Taken::Gone)
            },
        )
        .await?;
        report.read = passed.read;
        Ok(report)
    }

    async fn send_then_delete(&self, l: &Letter) -> Result<()> {
        let d = l.delivery.as_ref().context("not a delivery")?;
        let send = self
            .sqs
            .send_message()
            .queue_url(self.queue_url)
            .message_body(&l.body)
            .set_message_attributes(Some(hubhooks::adapters::sqs::delivery_attributes(d)));
        let send = if self.ordered {
            // Its case's group; a fresh deduplication id, or a replay
            // within five minutes of the first send would be dropped.
            send.message_group_id(d.order_group())
                .message_deduplication_id(uuid::Uuid::new_v4().to_string())
        } else {
            // As the router sends it: the subscription is its fair-queue group.
            send.message_group_id(d.subscription_id.as_str())
        };
        send.send()
            .await
            .map_err(crate::aws::sdk_err)
            .with_context(|| format!("sending delivery {} back", d.id))?;
        // Only now: a crash before this line leaves the letter in the DLQ.
        self.sqs
            .delete_message()
            .queue_url(self.dlq_url)
            .receipt_handle(&l.receipt_handle)
            .send()
            .await
            .map_err(crate::aws::sdk_err)
            .with_context(|| format!("deleting delivery {} from the DLQ", d.id))?;
        Ok(())
    }
}

/// Deletes the letters of a queue that `picked` takes, for good (none on
/// a dry run); `each` is told of every one.
pub async fn delete(
    sqs: &aws_sdk_sqs::Client,
    url: &str,
    hold: Duration,
    dry_run: bool,
    picked: &dyn Fn(&Letter) -> bool,
    mut each: impl FnMut(&Letter),
) -> Result<usize> {
    let policy = DrainPolicy::default();
    let mailbox = SqsMailbox {
        sqs,
        url,
        wait_secs: policy.wait_secs,
    };
    let mut deleted = 0;
    pass(&mailbox, policy, hold, &SystemClock, async |l: Letter| {
        if !picked(&l) {
            return Ok(Taken::Held);
        }
        deleted += 1;
        each(&l);
        if dry_run {
            return Ok(Taken::Held);
        }
        sqs.delete_message()
            .queue_url(url)
            .receipt_handle(&l.receipt_handle)
            .send()
            .await
            .map_err(crate::aws::sdk_err)
            .with_context(|| format!("deleting {} from {url}", l.origin))?;
        Ok(Taken::Gone)
    })
    .await?;
    Ok(deleted)
}

/// What a deliberate deletion is told.
pub struct Deletion<'a> {
    pub urls: &'a [&'a str],
    pub hold: Duration,
    pub dry_run: bool,
    /// Asked already (`--yes`): no count, no question.
    pub yes: bool,
    /// What one letter is, for the question: `dead letter`.
    pub what: &'a str,
}

/// Deletes what `picked` takes from each queue, deliberately: unless told
/// `yes` (or on a dry run) it counts first and asks (none taken: nothing
/// asked). `each` is told of every letter deleted (or that would be) with
/// the index of its queue. The count deleted.
pub async fn delete_deliberately(
    sqs: &aws_sdk_sqs::Client,
    d: &Deletion<'_>,
    picked: &dyn Fn(&Letter) -> bool,
    mut each: impl FnMut(usize, &Letter),
) -> Result<usize> {
    if !d.yes && !d.dry_run {
        let mut count = 0;
        for url in d.urls {
            count += delete(sqs, url, d.hold, true, picked, |_| {}).await?;
        }
        if count == 0 {
            return Ok(0);
        }
        let question = format!("delete {} for good?", crate::output::plural(count, d.what));
        crate::output::confirm(&question)?;
    }
    let mut deleted = 0;
    for (i, url) in d.urls.iter().enumerate() {
        deleted += delete(sqs, url, d.hold, d.dry_run, picked, |l| each(i, l)).await?;
    }
    Ok(deleted)
}

/// The columns of `dlq list`: a letter's row, printed as it is read.
pub const COLUMNS: [(&str, usize); 5] = [
    ("DEAD-LETTERED", 24),
    ("DELIVERY", 36),
    ("SUBSCRIPTION", 24),
    ("TYPE", 22),
    ("REASON", 0),
];

/// One letter's cells, in [`COLUMNS`]' order.
pub fn row(l: &Letter) -> Vec<String> {
    let (id, sub, t) = match &l.delivery {
        Some(d) => (
            d.id.to_string(),
            d.subscription_id.to_string(),
            d.event_type.as_str().to_owned(),
        ),
        None => ("(not a delivery)".into(), "-".into(), "-".into()),
    };
    let test = if l.delivery.as_ref().is_some_and(|d| d.test) {
        "[test] "
    } else {
        ""
    };
    vec![
        l.sent_at
            .map(|t| t.to_contract_string())
            .unwrap_or_default(),
        id,
        sub,
        t,
        format!("{test}{}", l.reason.replace('\n', " ")),
    ]
}
