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
use hubhooks::delivery::Delivery;
use hubhooks::event::EventType;
use hubhooks::timestamp::Timestamp;
use std::collections::HashSet;
use std::time::Duration;

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

/// A queue to drain: receive a batch (held for a while), and how many
/// messages it says are visible.
#[async_trait::async_trait]
pub trait Mailbox: Sync {
    async fn receive(&self) -> Result<Vec<Letter>>;
    /// `ApproximateNumberOfMessages`: visible, not held by us.
    async fn visible(&self) -> Result<u64>;
}

/// When a drain may conclude the queue is empty. SQS answers a receive
/// with nothing although messages are there (a short poll samples only
/// some servers; a long poll can still come back empty), so one empty
/// answer proves nothing: a drain stops after `empty_receives` empty long
/// polls in a row *and* the queue's visible count at 0, or after
/// `give_up_after` empty polls in a row whatever the count says (the count
/// is approximate and lags).
#[derive(Debug, Clone, Copy)]
pub struct DrainPolicy {
    pub wait_secs: i32,
    pub empty_receives: u32,
    pub give_up_after: u32,
}

impl Default for DrainPolicy {
    fn default() -> Self {
        DrainPolicy {
            wait_secs: 2,
            empty_receives: 2,
            give_up_after: 10,
        }
    }
}

/// Receives until the queue is drained (see [`DrainPolicy`]), handing each
/// non-empty batch to `each`.
pub async fn drain(
    mailbox: &dyn Mailbox,
    policy: DrainPolicy,
    mut each: impl AsyncFnMut(Vec<Letter>) -> Result<()>,
) -> Result<()> {
    let mut empties = 0;
    loop {
        let got = mailbox.receive().await?;
        if !got.is_empty() {
            empties = 0;
            each(got).await?;
            continue;
        }
        empties += 1;
        if empties >= policy.give_up_after {
            let visible = mailbox.visible().await?;
            if visible > 0 {
                tracing::warn!(
                    visible,
                    empties,
                    "the queue still reports visible messages but none came in {empties} receives; stopping"
                );
            }
            return Ok(());
        }
        if empties >= policy.empty_receives && mailbox.visible().await? == 0 {
            return Ok(());
        }
    }
}

/// A real SQS queue: long polls, messages held for `hold`.
pub struct SqsMailbox<'a> {
    pub sqs: &'a aws_sdk_sqs::Client,
    pub url: &'a str,
    pub hold: Duration,
    pub wait_secs: i32,
}

#[async_trait::async_trait]
impl Mailbox for SqsMailbox<'_> {
    async fn receive(&self) -> Result<Vec<Letter>> {
        let out = self
            .sqs
            .receive_message()
            .queue_url(self.url)
            .max_number_of_messages(10)
            .visibility_timeout(self.hold.as_secs().max(1) as i32)
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
}

/// Makes held messages visible again at once.
pub(crate) async fn release(
    sqs: &aws_sdk_sqs::Client,
    url: &str,
    letters: &[Letter],
) -> Result<()> {
    for chunk in letters.chunks(10) {
        let entries = chunk
            .iter()
            .enumerate()
            .map(|(i, l)| {
                ChangeMessageVisibilityBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(&l.receipt_handle)
                    .visibility_timeout(0)
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()?;
        sqs.change_message_visibility_batch()
            .queue_url(url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(crate::aws::sdk_err)
            .with_context(|| format!("releasing messages of {url}"))?;
    }
    Ok(())
}

/// Every message now in the queue, held for `hold` (not released).
pub(crate) async fn receive_all(
    sqs: &aws_sdk_sqs::Client,
    url: &str,
    hold: Duration,
) -> Result<Vec<Letter>> {
    let policy = DrainPolicy::default();
    let mailbox = SqsMailbox {
        sqs,
        url,
        hold,
        wait_secs: policy.wait_secs,
    };
    let all = collect(&mailbox, policy).await?;
    Ok(all)
}

/// Every letter a drain finds, once each, oldest first.
pub async fn collect(mailbox: &dyn Mailbox, policy: DrainPolicy) -> Result<Vec<Letter>> {
    let mut all = Vec::new();
    let mut seen = HashSet::new();
    drain(mailbox, policy, async |got: Vec<Letter>| {
        for l in got {
            if seen.insert(l.message_id.clone()) {
                all.push(l);
            }
        }
        Ok(())
    })
    .await?;
    all.sort_by_key(|l| l.sent_at);
    Ok(all)
}

/// Every message now in the queue, left in place.
pub async fn list(sqs: &aws_sdk_sqs::Client, url: &str) -> Result<Vec<Letter>> {
    let all = receive_all(sqs, url, Duration::from_secs(60)).await?;
    release(sqs, url, &all).await?;
    Ok(all)
}

/// Which dead letters to replay.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub subscription: Option<String>,
    pub event_type: Option<EventType>,
    /// Dead-lettered at or after.
    pub since: Option<Timestamp>,
}

impl Selection {
    fn matches(&self, l: &Letter) -> bool {
        let Some(d) = &l.delivery else {
            return false;
        };
        self.subscription
            .as_ref()
            .is_none_or(|s| d.subscription_id == *s)
            && self.event_type.is_none_or(|t| t == d.event_type)
            && self
                .since
                .is_none_or(|since| l.sent_at.is_some_and(|at| at >= since))
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
}

pub struct Replay<'a> {
    pub sqs: &'a aws_sdk_sqs::Client,
    pub dlq_url: &'a str,
    pub queue_url: &'a str,
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
        let mut held = Vec::new();
        let mut seen = HashSet::new();
        // Delivery ids sent in this run: a letter that comes back is left.
        let mut sent: HashSet<String> = HashSet::new();
        let policy = DrainPolicy::default();
        let mailbox = SqsMailbox {
            sqs: self.sqs,
            url: self.dlq_url,
            hold: self.hold,
            wait_secs: policy.wait_secs,
        };
        let drained = drain(&mailbox, policy, async |got: Vec<Letter>| {
            for l in got {
                if !seen.insert(l.message_id.clone()) {
                    held.push(l);
                    continue;
                }
                let Some(id) = l.delivery.as_ref().map(|d| d.id.to_string()) else {
                    report.unreadable += 1;
                    held.push(l);
                    continue;
                };
                if sent.contains(&id) {
                    report.came_back += 1;
                    *report.came_back_why.entry(l.reason.clone()).or_default() += 1;
                    held.push(l);
                    continue;
                }
                if !self.selection.matches(&l) || self.dry_run {
                    if self.selection.matches(&l) {
                        report.replayed += 1;
                        progress(&l, &report);
                    } else {
                        report.kept += 1;
                    }
                    held.push(l);
                    continue;
                }
                self.send_then_delete(&l).await?;
                sent.insert(id);
                report.replayed += 1;
                progress(&l, &report);
                if let Some(rate) = self.rate {
                    tokio::time::sleep(Duration::from_secs_f64(1.0 / f64::from(rate.max(1)))).await;
                }
            }
            Ok(())
        })
        .await;
        // Whatever happened, what we hold goes back at once.
        release(self.sqs, self.dlq_url, &held).await?;
        drained?;
        Ok(report)
    }

    async fn send_then_delete(&self, l: &Letter) -> Result<()> {
        let d = l.delivery.as_ref().context("not a delivery")?;
        self.sqs
            .send_message()
            .queue_url(self.queue_url)
            .message_body(&l.body)
            // As the router sends it: the subscription is its fair-queue group.
            .message_group_id(d.subscription_id.as_str())
            .set_message_attributes(Some(hubhooks::adapters::sqs::delivery_attributes(d)))
            .send()
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

/// A text table of dead letters.
pub fn render(letters: &[Letter]) -> String {
    let rows = letters.iter().map(|l| {
        let (id, sub, t) = match &l.delivery {
            Some(d) => (
                d.id.to_string(),
                d.subscription_id.to_string(),
                d.event_type.as_str().to_owned(),
            ),
            None => ("(not a delivery)".into(), "-".into(), "-".into()),
        };
        vec![
            l.sent_at
                .map(|t| t.to_contract_string())
                .unwrap_or_default(),
            id,
            sub,
            t,
            l.reason.replace('\n', " "),
        ]
    });
    crate::output::table(
        &[
            "DEAD-LETTERED",
            "DELIVERY",
            "SUBSCRIPTION",
            "TYPE",
            "REASON",
        ],
        rows,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A queue that answers receives from a script: SQS's false empties.
    struct Scripted {
        answers: Mutex<std::collections::VecDeque<Vec<&'static str>>>,
    }

    fn letter_of(id: &str) -> Letter {
        Letter {
            message_id: id.to_owned(),
            receipt_handle: format!("h-{id}"),
            body: String::new(),
            reason: String::new(),
            origin: String::new(),
            sent_at: None,
            delivery: None,
        }
    }

    #[async_trait::async_trait]
    impl Mailbox for Scripted {
        async fn receive(&self) -> Result<Vec<Letter>> {
            let next = self.answers.lock().unwrap().pop_front().unwrap_or_default();
            Ok(next.into_iter().map(letter_of).collect())
        }

        async fn visible(&self) -> Result<u64> {
            let answers = self.answers.lock().unwrap();
            Ok(answers.iter().map(|a| a.len() as u64).sum())
        }
    }

    fn ids(letters: &[Letter]) -> Vec<&str> {
        letters.iter().map(|l| l.message_id.as_str()).collect()
    }

    #[tokio::test]
    async fn false_empty_answers_do_not_end_a_drain() {
        // GIVEN a queue whose receives come back empty now and then while
        // it still holds messages (a drain must not end on the first empty answer, which once ended
        // `dlq list`, `dlq replay` and `router-failures redrive`)
        let queue = Scripted {
            answers: Mutex::new(
                [vec![], vec!["a"], vec![], vec![], vec!["b", "c"], vec![]]
                    .into_iter()
                    .collect(),
            ),
        };
        let script = || Scripted {
            answers: Mutex::new(
                [vec![], vec!["a"], vec![], vec![], vec!["b", "c"], vec![]]
                    .into_iter()
                    .collect(),
            ),
        };
        // WHEN it is drained
        let got = collect(&queue, DrainPolicy::default()).await.unwrap();
        // THEN every message is found
        assert_eq!(ids(&got), ["a", "b", "c"]);
        // (the old rule, "stop at the first empty answer", found none)
        let old_rule = DrainPolicy {
            empty_receives: 1,
            give_up_after: 1,
            ..DrainPolicy::default()
        };
        assert!(collect(&script(), old_rule).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_drain_stops_when_empty_answers_and_the_count_agree() {
        let queue = Scripted {
            answers: Mutex::new([vec!["a"]].into_iter().collect()),
        };
        let got = collect(&queue, DrainPolicy::default()).await.unwrap();
        assert_eq!(ids(&got), ["a"]);
        assert!(queue.answers.lock().unwrap().is_empty());
    }

    /// A count that never drops (it lags on SQS) cannot hold a drain for
    /// ever.
    struct Stale;

    #[async_trait::async_trait]
    impl Mailbox for Stale {
        async fn receive(&self) -> Result<Vec<Letter>> {
            Ok(vec![])
        }
        async fn visible(&self) -> Result<u64> {
            Ok(3)
        }
    }

    #[tokio::test]
    async fn a_stale_count_cannot_hold_a_drain_for_ever() {
        let got = collect(&Stale, DrainPolicy::default()).await.unwrap();
        assert!(got.is_empty());
    }
}
