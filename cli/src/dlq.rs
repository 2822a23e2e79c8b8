//! Dead letters: what sits in the delivery DLQ (and the router's failure
//! queue), with its reason; replaying deliveries onto the delivery queue.
//!
//! A replay sends each message to the delivery queue *before* deleting it
//! from the DLQ, so an interrupted replay loses nothing: at worst a delivery
//! is sent twice, with the same delivery id, which receivers deduplicate.
//! Messages held while a replay runs come back after `hold` if it stops.
use anyhow::{Context, Result};
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, MessageAttributeValue, MessageSystemAttributeName,
};
use hubhooks::adapters::sqs::{
    ATTR_DELIVERY_ID, ATTR_EVENT_TYPE, ATTR_ORIGIN, ATTR_REASON, ATTR_SUBSCRIPTION_ID,
};
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

async fn receive(sqs: &aws_sdk_sqs::Client, url: &str, hold: Duration) -> Result<Vec<Letter>> {
    let out = sqs
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .visibility_timeout(hold.as_secs().max(1) as i32)
        .wait_time_seconds(0)
        .message_attribute_names("All")
        .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
        .send()
        .await
        .map_err(crate::aws::sdk_err)
        .with_context(|| format!("receiving from {url}"))?;
    Ok(out
        .messages
        .unwrap_or_default()
        .into_iter()
        .filter_map(letter)
        .collect())
}

/// Makes held messages visible again at once.
async fn release(sqs: &aws_sdk_sqs::Client, url: &str, letters: &[Letter]) -> Result<()> {
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
async fn receive_all(sqs: &aws_sdk_sqs::Client, url: &str, hold: Duration) -> Result<Vec<Letter>> {
    let mut all = Vec::new();
    let mut seen = HashSet::new();
    loop {
        let got = receive(sqs, url, hold).await?;
        if got.is_empty() {
            break;
        }
        for l in got {
            if seen.insert(l.message_id.clone()) {
                all.push(l);
            }
        }
    }
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
            .is_none_or(|s| *s == d.subscription_id)
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
        loop {
            let got = receive(self.sqs, self.dlq_url, self.hold).await?;
            if got.is_empty() {
                break;
            }
            for l in got {
                if !seen.insert(l.message_id.clone()) {
                    held.push(l);
                    continue;
                }
                if l.delivery.is_none() {
                    report.unreadable += 1;
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
                report.replayed += 1;
                progress(&l, &report);
                if let Some(rate) = self.rate {
                    tokio::time::sleep(Duration::from_secs_f64(1.0 / f64::from(rate.max(1)))).await;
                }
            }
        }
        release(self.sqs, self.dlq_url, &held).await?;
        Ok(report)
    }

    async fn send_then_delete(&self, l: &Letter) -> Result<()> {
        let d = l.delivery.as_ref().context("not a delivery")?;
        let attr = |v: &str| {
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value(v)
                .build()
        };
        self.sqs
            .send_message()
            .queue_url(self.queue_url)
            .message_body(&l.body)
            .message_attributes(ATTR_DELIVERY_ID, attr(&d.id)?)
            .message_attributes(ATTR_SUBSCRIPTION_ID, attr(&d.subscription_id)?)
            .message_attributes(ATTR_EVENT_TYPE, attr(d.event_type.as_str())?)
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
    let mut out = format!(
        "{:<24}  {:<36}  {:<20}  {:<16}  {}\n",
        "DEAD-LETTERED", "DELIVERY", "SUBSCRIPTION", "TYPE", "REASON"
    );
    for l in letters {
        let (id, sub, t) = match &l.delivery {
            Some(d) => (
                d.id.as_str(),
                d.subscription_id.as_str(),
                d.event_type.as_str(),
            ),
            None => ("(not a delivery)", "-", "-"),
        };
        out.push_str(&format!(
            "{:<24}  {:<36}  {:<20}  {:<16}  {}\n",
            l.sent_at
                .map(|t| t.to_contract_string())
                .unwrap_or_default(),
            id,
            sub,
            t,
            l.reason
        ));
    }
    out
}

/// Re-drives parked stream records through the router; a record that now
/// routes (or is parked again with a new reason) leaves the failure queue.
/// Lambda's own failure descriptions (whole batches, no record) cannot be
/// re-driven from here and stay. Messages are held while the re-drive runs
/// and come back by themselves if it stops.
pub async fn redrive_router_failures(
    sqs: &aws_sdk_sqs::Client,
    url: &str,
    router: &hubhooks::lambda::router::AwsRouter,
    mut progress: impl FnMut(&Letter, bool),
) -> Result<(usize, usize)> {
    use aws_lambda_events::event::dynamodb::{Event, EventRecord};
    let letters = receive_all(sqs, url, Duration::from_secs(300)).await?;
    let mut kept = Vec::new();
    let mut done = 0;
    for l in letters {
        let routed = match serde_json::from_str::<EventRecord>(&l.body) {
            Err(_) => false,
            Ok(record) => {
                let mut event = Event::default();
                event.records = vec![record];
                let response = router
                    .handle(event)
                    .await
                    .map_err(|e| anyhow::anyhow!("router: {e}"))?;
                response.batch_item_failures.is_empty()
            }
        };
        progress(&l, routed);
        if routed {
            sqs.delete_message()
                .queue_url(url)
                .receipt_handle(&l.receipt_handle)
                .send()
                .await
                .map_err(crate::aws::sdk_err)?;
            done += 1;
        } else {
            kept.push(l);
        }
    }
    release(sqs, url, &kept).await?;
    Ok((done, kept.len()))
}
