//! Parking a record that can never be routed on the router's failure
//! queue, trimmed (its whole self in the payload bucket) when it is too
//! large for a queue message.
use super::Router;
use super::record::{keys_json, record_table, source_id};
use crate::delivery::QUEUE_MESSAGE_LIMIT;
use crate::ports::{DeadLetter, IoError};
use aws_lambda_events::event::dynamodb::EventRecord;
use serde_json::json;

impl Router {
    /// Sets a record aside on the failure queue with its reason. A record
    /// too large for a queue message is stored whole in the payload store
    /// and parked trimmed: its keys, event, size and where it is. Bounded
    /// retries with backoff; `Err` leaves the record to the stream's retry.
    pub async fn dead_letter_record(
        &self,
        record: &EventRecord,
        reason: &str,
    ) -> Result<(), IoError> {
        let origin = format!(
            "{}/{}",
            record_table(record).unwrap_or("?"),
            source_id(record)
        );
        let body = serde_json::to_string(record)
            .unwrap_or_else(|e| format!("<unserializable record: {e}>"));
        let mut letter = DeadLetter {
            reason: reason.to_owned(),
            origin: origin.clone(),
            body,
        };
        let size = letter.body.len();
        if letter.queue_message_bytes() > QUEUE_MESSAGE_LIMIT {
            let key = format!("router-failures/{origin}.json");
            self.backoff
                .retry("storing a record too large to park", || {
                    self.payloads.put(&key, &letter.body)
                })
                .await?;
            letter.body = json!({"trimmedRecord": {
                "bodyRef": key,
                "sizeBytes": size,
                "table": record_table(record),
                "eventID": record.event_id,
                "eventName": record.event_name,
                "sequenceNumber": record.change.sequence_number,
                "keys": keys_json(record),
            }})
            .to_string();
        }
        let trimmed = letter.body.len() != size;
        self.backoff
            .retry("parking a record", || {
                self.failures.dead_letter(letter.clone())
            })
            .await?;
        tracing::error!(
            table = record_table(record).unwrap_or("?"),
            event_id = %record.event_id,
            keys = %keys_json(record),
            size_bytes = size,
            trimmed,
            reason = %reason,
            "stream record parked on the failure queue"
        );
        Ok(())
    }
}
