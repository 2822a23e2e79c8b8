//! A dead-letter queue on SQS as a [`Mailbox`]: long-polled receives
//! with the reason attributes the sender and the router set, holds
//! extended and released in batches of ten; and the delivery queue its
//! letters go back to ([`SqsRequeue`]).
use crate::dead_letter::{Letter, Mailbox, Requeue};
use crate::delivery::Delivery;
use crate::ports::IoError;
use crate::timestamp::Timestamp;
use aws_sdk_sqs::types::{ChangeMessageVisibilityBatchRequestEntry, MessageSystemAttributeName};
use std::time::Duration;

use super::sqs::{ATTR_ORIGIN, ATTR_REASON};

/// A received message as a letter (none without an id or a handle).
pub fn letter(m: aws_sdk_sqs::types::Message) -> Option<Letter> {
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

/// A real SQS queue, long-polled.
pub struct SqsMailbox {
    pub sqs: aws_sdk_sqs::Client,
    pub url: String,
    pub wait_secs: i32,
}

impl SqsMailbox {
    pub fn new(sqs: &aws_sdk_sqs::Client, url: &str, wait_secs: i32) -> Self {
        SqsMailbox {
            sqs: sqs.clone(),
            url: url.to_owned(),
            wait_secs,
        }
    }
}

#[async_trait::async_trait]
impl Mailbox for SqsMailbox {
    async fn receive(&self, hold: Duration) -> Result<Vec<Letter>, IoError> {
        let out = self
            .sqs
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(10)
            .visibility_timeout(hold.as_secs().max(1) as i32)
            .wait_time_seconds(self.wait_secs)
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
            .send()
            .await
            .map_err(|e| super::sdk_error(format!("ReceiveMessage {}", self.url), e))?;
        Ok(out
            .messages
            .unwrap_or_default()
            .into_iter()
            .filter_map(letter)
            .collect())
    }

    async fn visible(&self) -> Result<u64, IoError> {
        use aws_sdk_sqs::types::QueueAttributeName;
        let out = self
            .sqs
            .get_queue_attributes()
            .queue_url(&self.url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await
            .map_err(|e| super::sdk_error(format!("GetQueueAttributes {}", self.url), e))?;
        Ok(out
            .attributes
            .and_then(|a| {
                a.get(&QueueAttributeName::ApproximateNumberOfMessages)
                    .and_then(|v| v.parse().ok())
            })
            .unwrap_or(0))
    }

    async fn extend(&self, handles: &[(String, Duration)]) -> Result<(), IoError> {
        self.change_visibility(handles.iter().map(|(h, d)| (h.as_str(), *d)))
            .await
    }

    async fn release(&self, handles: &[String]) -> Result<(), IoError> {
        self.change_visibility(handles.iter().map(|h| (h.as_str(), Duration::ZERO)))
            .await
    }

    async fn delete(&self, handle: &str) -> Result<(), IoError> {
        self.sqs
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(handle)
            .send()
            .await
            .map_err(|e| super::sdk_error(format!("DeleteMessage {}", self.url), e))?;
        Ok(())
    }
}

impl SqsMailbox {
    /// Sets each handle's visibility timeout, ten to a call. Entries SQS
    /// refuses (a handle gone stale) are skipped: their message is back.
    async fn change_visibility(
        &self,
        handles: impl Iterator<Item = (&str, Duration)>,
    ) -> Result<(), IoError> {
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
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| IoError::new("ChangeMessageVisibilityBatch", e))?;
            let out = self
                .sqs
                .change_message_visibility_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| {
                    super::sdk_error(format!("ChangeMessageVisibilityBatch {}", self.url), e)
                })?;
            for failed in out.failed {
                tracing::debug!(code = failed.code, "a held message could not be changed");
            }
        }
        Ok(())
    }
}

/// The delivery queue a DLQ's letters go back to.
pub struct SqsRequeue {
    pub sqs: aws_sdk_sqs::Client,
    pub url: String,
    /// The ordered (FIFO) queue: each letter goes back in its case's group.
    pub ordered: bool,
}

#[async_trait::async_trait]
impl Requeue for SqsRequeue {
    async fn send_back(&self, letter: &Letter, d: &Delivery) -> Result<(), IoError> {
        let send = self
            .sqs
            .send_message()
            .queue_url(&self.url)
            .message_body(&letter.body)
            .set_message_attributes(Some(super::sqs::delivery_attributes(d)));
        let send = if self.ordered {
            // Its case's group; a fresh deduplication id, or a replay
            // within five minutes of the first send would be dropped.
            send.message_group_id(d.order_group())
                .message_deduplication_id(uuid::Uuid::new_v4().to_string())
        } else {
            // As the router sends it: the subscription is its fair-queue group.
            send.message_group_id(d.subscription_id.as_str())
        };
        send.send().await.map_err(|e| {
            super::sdk_error(format!("SendMessage {} (delivery {})", self.url, d.id), e)
        })?;
        Ok(())
    }
}
