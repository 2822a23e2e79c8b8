//! SQS: the delivery queue and the dead-letter queues.
use crate::delivery::Delivery;
use crate::ports::{DeadLetter, DeadLetters, DeliveryQueue, IoError};
use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};
use futures::stream::{self, StreamExt};

/// SQS limits: 10 entries and 256 KiB per SendMessageBatch, 256 KiB a
/// message (body and attributes).
pub const MAX_BATCH_ENTRIES: usize = 10;
pub const MAX_PAYLOAD_BYTES: usize = crate::delivery::QUEUE_MESSAGE_LIMIT;
/// SendMessageBatch calls in flight at once.
const CONCURRENT_CALLS: usize = 8;

pub use crate::delivery::attributes::{
    DELIVERY_ID as ATTR_DELIVERY_ID, EVENT_TYPE as ATTR_EVENT_TYPE, ORIGIN as ATTR_ORIGIN,
    REASON as ATTR_REASON, SUBSCRIPTION_ID as ATTR_SUBSCRIPTION_ID,
};
use crate::delivery::clip;

fn string_attr(value: &str) -> MessageAttributeValue {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .expect("data_type is set")
}

/// The message attributes of a delivery's message (on the delivery queues
/// and when it is sent back from the DLQ): filtering without parsing.
pub fn delivery_attributes(
    d: &Delivery,
) -> std::collections::HashMap<String, MessageAttributeValue> {
    std::collections::HashMap::from([
        (ATTR_DELIVERY_ID.to_owned(), string_attr(&d.id)),
        (
            ATTR_SUBSCRIPTION_ID.to_owned(),
            string_attr(&d.subscription_id),
        ),
        (
            ATTR_EVENT_TYPE.to_owned(),
            string_attr(d.event_type.as_str()),
        ),
    ])
}

pub struct SqsDeliveryQueue {
    client: Client,
    queue_url: String,
    /// The ordered (FIFO) queue for `ordering: perCase` subscriptions; none:
    /// they go to the standard queue (unordered).
    ordered_queue_url: Option<String>,
}

impl SqsDeliveryQueue {
    pub fn new(client: Client, queue_url: String) -> Self {
        SqsDeliveryQueue {
            client,
            queue_url,
            ordered_queue_url: None,
        }
    }

    pub fn with_ordered_queue(mut self, url: Option<String>) -> Self {
        self.ordered_queue_url = url;
        self
    }
}

/// Groups message sizes (body and attributes, as SQS counts them) into
/// SendMessageBatch calls: at most 10 entries and 256 KiB each. Returns
/// index groups; a message too large on its own is returned separately.
pub fn pack(sizes: &[usize]) -> (Vec<Vec<usize>>, Vec<usize>) {
    let mut batches: Vec<Vec<usize>> = Vec::new();
    let mut too_large = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    let mut current_bytes = 0;
    for (i, &size) in sizes.iter().enumerate() {
        if size > MAX_PAYLOAD_BYTES {
            too_large.push(i);
            continue;
        }
        if current.len() == MAX_BATCH_ENTRIES || current_bytes + size > MAX_PAYLOAD_BYTES {
            batches.push(std::mem::take(&mut current));
            current_bytes = 0;
        }
        current.push(i);
        current_bytes += size;
    }
    if !current.is_empty() {
        batches.push(current);
    }
    (batches, too_large)
}

/// The queue messages of `deliveries` and their sizes as SQS counts them
/// (body and attributes).
pub fn messages(deliveries: &[Delivery]) -> (Vec<String>, Vec<usize>) {
    // The router hands over a record's deliveries together, and the
    // recipients of one type and version share a body: escape each body
    // once (a record makes a few distinct bodies; comparing is cheap).
    let mut escaped: Vec<(&str, Box<serde_json::value::RawValue>)> = Vec::new();
    let bodies: Vec<String> = deliveries
        .iter()
        .map(|d| {
            let at = match escaped.iter().position(|(text, _)| *text == d.body) {
                Some(at) => at,
                None => {
                    if escaped.len() == 8 {
                        escaped.remove(0);
                    }
                    escaped.push((&d.body, d.body_json()));
                    escaped.len() - 1
                }
            };
            d.to_message_with(&escaped[at].1)
        })
        .collect();
    let sizes = bodies
        .iter()
        .zip(deliveries)
        .map(|(b, d)| b.len() + d.attribute_bytes())
        .collect();
    (bodies, sizes)
}

#[async_trait]
impl DeliveryQueue for SqsDeliveryQueue {
    async fn enqueue(&self, deliveries: &[Delivery]) -> Vec<Result<(), IoError>> {
        let mut results: Vec<Result<(), IoError>> = (0..deliveries.len()).map(|_| Ok(())).collect();
        let (bodies, sizes) = messages(deliveries);
        let (ordered, standard): (Vec<usize>, Vec<usize>) = (0..deliveries.len())
            .partition(|&i| deliveries[i].ordered && self.ordered_queue_url.is_some());
        let (batches, too_large) = pack_indices(&standard, &sizes);
        for i in too_large {
            results[i] = Err(too_large_error(&deliveries[i], sizes[i]));
        }
        let calls = batches.into_iter().map(|group| {
            let request = self
                .client
                .send_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries(&group, deliveries, &bodies, false)));
            async move { (group, request.send().await) }
        });
        let mut outcomes = stream::iter(calls).buffer_unordered(CONCURRENT_CALLS);
        while let Some((group, outcome)) = outcomes.next().await {
            settle(&group, outcome, &mut results);
        }
        if let Some(url) = &self.ordered_queue_url {
            self.enqueue_ordered(url, &ordered, deliveries, &bodies, &sizes, &mut results)
                .await;
        }
        results
    }
}

impl SqsDeliveryQueue {
    /// The ordered queue (FIFO): message group = subscription and case,
    /// deduplication id = delivery id. A call carries at most one message
    /// per group and calls go one after another, so a message is sent only
    /// once the one before it in its group is in; when one fails, the later
    /// ones of its group are not sent (the record is retried, in order).
    async fn enqueue_ordered(
        &self,
        url: &str,
        ordered: &[usize],
        deliveries: &[Delivery],
        bodies: &[String],
        sizes: &[usize],
        results: &mut [Result<(), IoError>],
    ) {
        let mut waiting: std::collections::VecDeque<usize> = ordered.iter().copied().collect();
        let mut broken: std::collections::HashSet<String> = Default::default();
        while !waiting.is_empty() {
            let mut round = Vec::new();
            let mut groups = std::collections::HashSet::new();
            let mut later = std::collections::VecDeque::new();
            while let Some(i) = waiting.pop_front() {
                let group = deliveries[i].order_group();
                if broken.contains(&group) {
                    results[i] = Err(IoError::new(
                        "SendMessageBatch",
                        "an earlier delivery of its case to this subscription was not enqueued",
                    ));
                } else if round.len() < MAX_BATCH_ENTRIES && groups.insert(group) {
                    round.push(i);
                } else {
                    later.push_back(i);
                }
            }
            waiting = later;
            let (calls, too_large) = pack_indices(&round, sizes);
            for i in too_large {
                results[i] = Err(too_large_error(&deliveries[i], sizes[i]));
                broken.insert(deliveries[i].order_group());
            }
            for group in calls {
                let outcome = self
                    .client
                    .send_message_batch()
                    .queue_url(url)
                    .set_entries(Some(entries(&group, deliveries, bodies, true)))
                    .send()
                    .await;
                settle(&group, outcome, results);
                for &i in &group {
                    if results[i].is_err() {
                        broken.insert(deliveries[i].order_group());
                    }
                }
            }
        }
    }
}

/// [`pack`] over some of the messages: batches of their indices.
fn pack_indices(indices: &[usize], sizes: &[usize]) -> (Vec<Vec<usize>>, Vec<usize>) {
    let subset: Vec<usize> = indices.iter().map(|&i| sizes[i]).collect();
    let (batches, too_large) = pack(&subset);
    (
        batches
            .into_iter()
            .map(|b| b.into_iter().map(|j| indices[j]).collect())
            .collect(),
        too_large.into_iter().map(|j| indices[j]).collect(),
    )
}

fn too_large_error(d: &Delivery, size: usize) -> IoError {
    IoError::new(
        "SendMessageBatch",
        format!(
            "delivery {} is {size} bytes, over the {MAX_PAYLOAD_BYTES}-byte SQS message limit",
            d.id
        ),
    )
}

/// The entries of one call. On the standard queue the message group is the
/// subscription (SQS fair queues: a subscription whose receiver is slow or
/// failing builds up its own backlog, and the others' messages are not held
/// behind it); on the ordered queue it is subscription and case.
fn entries(
    group: &[usize],
    deliveries: &[Delivery],
    bodies: &[String],
    ordered: bool,
) -> Vec<SendMessageBatchRequestEntry> {
    group
        .iter()
        .map(|&i| {
            let d = &deliveries[i];
            let entry = SendMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .message_body(&bodies[i])
                .set_message_attributes(Some(delivery_attributes(d)));
            let entry = if ordered {
                entry
                    .message_group_id(d.order_group())
                    .message_deduplication_id(d.id.as_str())
            } else {
                entry.message_group_id(d.subscription_id.as_str())
            };
            entry.build().expect("id and body are set")
        })
        .collect()
}

/// Records a SendMessageBatch call's outcome for its entries.
fn settle<E: std::error::Error + 'static>(
    group: &[usize],
    outcome: Result<aws_sdk_sqs::operation::send_message_batch::SendMessageBatchOutput, E>,
    results: &mut [Result<(), IoError>],
) {
    match outcome {
        Ok(out) => {
            for failed in out.failed {
                if let Ok(i) = failed.id.parse::<usize>()
                    && i < results.len()
                {
                    results[i] = Err(IoError::new(
                        "SendMessageBatch entry",
                        format!("{}: {}", failed.code, failed.message.unwrap_or_default()),
                    ));
                }
            }
        }
        Err(e) => {
            let message = DisplayErrorContext(&e).to_string();
            for &i in group {
                results[i] = Err(IoError::new("SendMessageBatch", &message));
            }
        }
    }
}

/// A queue where things that cannot be processed are set aside, with the
/// reason and origin as message attributes and the original body unchanged.
pub struct SqsDeadLetters {
    client: Client,
    queue_url: String,
}

impl SqsDeadLetters {
    pub fn new(client: Client, queue_url: String) -> Self {
        SqsDeadLetters { client, queue_url }
    }
}

#[async_trait]
impl DeadLetters for SqsDeadLetters {
    async fn dead_letter(&self, letter: DeadLetter) -> Result<(), IoError> {
        let body = if letter.body.is_empty() {
            "<empty>".to_owned()
        } else {
            letter.body
        };
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .message_attributes(ATTR_REASON, string_attr(clip(&letter.reason, 4096)))
            .message_attributes(ATTR_ORIGIN, string_attr(clip(&letter.origin, 1024)))
            .send()
            .await
            .map_err(|e| super::sdk_error(format!("SendMessage {}", self.queue_url), e))?;
        Ok(())
    }
}

/// Retry delays: hides a received message until its next attempt is due.
pub struct SqsRedelivery {
    client: Client,
    queue_url: String,
    ordered_queue_url: Option<String>,
}

impl SqsRedelivery {
    pub fn new(client: Client, queue_url: String, ordered_queue_url: Option<String>) -> Self {
        SqsRedelivery {
            client,
            queue_url,
            ordered_queue_url,
        }
    }
}

#[async_trait]
impl crate::ports::Redelivery for SqsRedelivery {
    async fn retry_later(
        &self,
        receipt_handle: &str,
        delay: std::time::Duration,
        ordered: bool,
    ) -> Result<(), IoError> {
        let secs = delay.as_secs().min(crate::retry::MAX_DELAY.as_secs()) as i32;
        let queue_url = match (&self.ordered_queue_url, ordered) {
            (Some(url), true) => url,
            _ => &self.queue_url,
        };
        self.client
            .change_message_visibility()
            .queue_url(queue_url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(secs)
            .send()
            .await
            .map_err(|e| super::sdk_error(format!("ChangeMessageVisibility {queue_url}"), e))?;
        Ok(())
    }

    async fn defer(&self, delivery: &Delivery, delay: std::time::Duration) -> Result<(), IoError> {
        // SQS delays a message at most 15 minutes.
        let secs = delay.as_secs().clamp(1, 900) as i32;
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(delivery.to_message())
            .delay_seconds(secs)
            .message_group_id(delivery.subscription_id.as_str())
            .set_message_attributes(Some(delivery_attributes(delivery)))
            .send()
            .await
            .map_err(|e| {
                super::sdk_error(
                    format!("SendMessage {} (deferring {})", self.queue_url, delivery.id),
                    e,
                )
            })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_by_count_and_by_size() {
        let (b, big) = pack(&[10; 23]);
        assert_eq!(b.iter().map(Vec::len).collect::<Vec<_>>(), vec![10, 10, 3]);
        assert!(big.is_empty());
        let (b, big) = pack(&[100_000, 100_000, 100_000, 300_000, 10]);
        assert_eq!(b, vec![vec![0, 1], vec![2, 4]]);
        let (b, big2) = pack(&[MAX_PAYLOAD_BYTES, MAX_PAYLOAD_BYTES + 1]);
        assert_eq!((b, big2), (vec![vec![0]], vec![1]));
        assert_eq!(big, vec![3]);
    }
}
