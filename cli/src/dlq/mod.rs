//! Dead letters: what sits in the delivery DLQ (and the router's failure
//! queue), with its reason; replaying deliveries onto the delivery queue
//! (`hubhooks dlq`). Re-driving the router's is `router_failures`.
//!
//! A replay sends each message to the delivery queue *before* deleting it
//! from the DLQ, so an interrupted replay loses nothing: at worst a delivery
//! is sent twice, with the same delivery id, which receivers deduplicate.
//! Messages held while a replay runs come back after `hold` if it stops.
use anyhow::{Context, Result};
use hubhooks::clock::SystemClock;
use std::collections::HashSet;
use std::time::Duration;

pub use hubhooks::adapters::sqs_mailbox::SqsMailbox;
pub use hubhooks::dead_letter::{
    DrainPolicy, Letter, Mailbox, PassReport, ReplayReport, Selected, Selection, Taken, pass,
};

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
    pass::<anyhow::Error>(
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
        let passed = pass::<anyhow::Error>(
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
    pass::<anyhow::Error>(&mailbox, policy, hold, &SystemClock, async |l: Letter| {
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
