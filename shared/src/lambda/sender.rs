//! The sender: SQS batches of deliveries → HTTP requests.
//!
//! Messages of a batch are delivered concurrently. A failed delivery is
//! reported in `batchItemFailures` and comes back after the visibility
//! timeout; SQS redrive moves it to the DLQ after maxReceiveCount receives.
//! A message that is not a delivery at all is moved to the DLQ at once with
//! its reason, so it neither blocks the batch nor burns retries.
use crate::delivery::{Delivery, ENVELOPE_VERSION};
use crate::ports::{DeadLetter, DeadLetters, Transport};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use futures::future::join_all;

pub struct Sender<T, D> {
    pub transport: T,
    pub dead_letters: D,
}

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    Failed,
    Parked,
}

impl<T: Transport, D: DeadLetters> Sender<T, D> {
    pub async fn handle(&self, event: SqsEvent) -> Result<SqsBatchResponse, lambda_runtime::Error> {
        let outcomes = join_all(event.records.iter().map(|m| self.process(m))).await;
        let mut response = SqsBatchResponse::default();
        let mut delivered = 0;
        let mut parked = 0;
        for (message, outcome) in event.records.iter().zip(&outcomes) {
            match outcome {
                Outcome::Delivered => delivered += 1,
                Outcome::Parked => parked += 1,
                Outcome::Failed => {
                    response.add_failure(message.message_id.clone().unwrap_or_default())
                }
            }
        }
        tracing::info!(
            messages = event.records.len(),
            delivered,
            parked,
            failed = response.batch_item_failures.len(),
            "sender batch done"
        );
        Ok(response)
    }

    pub async fn process(&self, message: &SqsMessage) -> Outcome {
        let message_id = message.message_id.as_deref().unwrap_or("<no message id>");
        let delivery = match parse(message) {
            Ok(d) => d,
            Err(reason) => {
                tracing::error!(message_id, reason = %reason, "malformed delivery message moved to the DLQ");
                let letter = DeadLetter {
                    reason,
                    origin: format!("delivery queue message {message_id}"),
                    body: message.body.clone().unwrap_or_default(),
                };
                return match self.dead_letters.park(letter).await {
                    Ok(()) => Outcome::Parked,
                    Err(e) => {
                        tracing::error!(message_id, error = %e, "could not move to the DLQ; leaving it on the queue");
                        Outcome::Failed
                    }
                };
            }
        };
        let attempt = message
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|c| c.parse().ok())
            .unwrap_or(1);
        match self.transport.deliver(&delivery, attempt).await {
            Ok(receipt) => {
                tracing::info!(
                    delivery_id = %delivery.id,
                    subscription_id = %delivery.subscription_id,
                    event_type = %delivery.event_type,
                    case_guid = %delivery.case_guid,
                    attempt,
                    status = receipt.status,
                    latency_ms = receipt.latency.as_millis() as u64,
                    "delivered"
                );
                Outcome::Delivered
            }
            Err(e) => {
                tracing::warn!(
                    delivery_id = %delivery.id,
                    subscription_id = %delivery.subscription_id,
                    event_type = %delivery.event_type,
                    case_guid = %delivery.case_guid,
                    attempt,
                    error = %e,
                    "delivery failed; it will be retried"
                );
                Outcome::Failed
            }
        }
    }
}

fn parse(message: &SqsMessage) -> Result<Delivery, String> {
    let body = message.body.as_deref().ok_or("message has no body")?;
    let delivery: Delivery =
        serde_json::from_str(body).map_err(|e| format!("not a delivery: {e}"))?;
    if delivery.v != ENVELOPE_VERSION {
        return Err(format!(
            "delivery envelope version {} is not supported (this sender reads {ENVELOPE_VERSION})",
            delivery.v
        ));
    }
    Ok(delivery)
}

/// The sender as deployed: HTTP out, SQS DLQ.
pub type AwsSender =
    Sender<crate::adapters::http::HttpTransport, crate::adapters::sqs::SqsDeadLetters>;

impl AwsSender {
    pub fn from_aws(
        sdk: &aws_config::SdkConfig,
        settings: crate::settings::SenderSettings,
    ) -> Result<Self, lambda_runtime::Error> {
        Ok(Sender {
            transport: crate::adapters::http::HttpTransport::new()?,
            dead_letters: crate::adapters::sqs::SqsDeadLetters::new(
                aws_sdk_sqs::Client::new(sdk),
                settings.dead_letter_queue_url,
            ),
        })
    }
}
