//! Dead letters: what sits in the delivery DLQ (and the router's failure
//! queue), with its reason; replaying deliveries onto the delivery queue
//! (`hubhooks dlq`, with `hubhooks::dead_letter::Replay`). Re-driving the
//! router's is `router_failures`.
//!
//! Messages held while a command runs come back after `hold` if it stops.
use anyhow::{Context, Result};
use hubhooks::clock::SystemClock;
use std::time::Duration;

pub use hubhooks::adapters::sqs_mailbox::{SqsMailbox, SqsRequeue};
pub use hubhooks::dead_letter::{
    DrainPolicy, Letter, Mailbox, PassReport, Replay, ReplayReport, Selected, Selection, Taken,
    pass,
};

/// A DLQ and the queue its letters go back to (the ordered queue's, in
/// their case's group, when `ordered`), for a [`Replay`].
pub fn queues(
    sqs: &aws_sdk_sqs::Client,
    dlq_url: &str,
    target_url: &str,
    ordered: bool,
) -> (SqsMailbox, SqsRequeue) {
    let letters = SqsMailbox::new(sqs, dlq_url, DrainPolicy::default().wait_secs);
    let back = SqsRequeue {
        sqs: sqs.clone(),
        url: target_url.to_owned(),
        ordered,
    };
    (letters, back)
}

/// Every message now in the queue, once each, oldest first (left in place).
pub async fn list(
    sqs: &aws_sdk_sqs::Client,
    url: &str,
    hold: Duration,
    each: impl FnMut(&Letter),
) -> Result<PassReport> {
    let mut each = each;
    let mailbox = SqsMailbox::new(sqs, url, DrainPolicy::default().wait_secs);
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
    let mailbox = SqsMailbox::new(sqs, url, policy.wait_secs);
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
        mailbox
            .delete(&l.receipt_handle)
            .await
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
