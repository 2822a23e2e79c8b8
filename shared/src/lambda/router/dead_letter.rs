//! Dead-lettering a record that can never be routed on the router's
//! failure queue, trimmed (its whole self in the payload bucket) when it is
//! too large for a queue message.
use super::Router;
use super::record::{keys_json, record_table, source_id};
use crate::delivery::QUEUE_MESSAGE_LIMIT;
use crate::ports::{DeadLetter, IoError};
use aws_lambda_events::event::dynamodb::EventRecord;
use serde_json::json;

impl Router {
    /// Sets a record aside on the failure queue with its reason. A record
    /// too large for a queue message is stored whole in the payload store
    /// and dead-lettered trimmed: its keys, event, size and where it is. Bounded
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
                .retry("storing a record too large to dead-letter", || {
                    self.payloads.put(&key, &letter.body)
                })
                .await?;
            letter.body = trimmed_letter(record, &key, size);
        }
        let trimmed = letter.body.len() != size;
        self.backoff
            .retry("dead-lettering a record", || {
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
            "stream record dead-lettered on the failure queue"
        );
        Ok(())
    }
}

/// The letter of a record too large for a queue message: where its whole
/// self is (`key`, `size` bytes) and what finds it again (table, event,
/// sequence number, keys).
fn trimmed_letter(record: &EventRecord, key: &str, size: usize) -> String {
    json!({"trimmedRecord": {
        "bodyRef": key,
        "sizeBytes": size,
        "table": record_table(record),
        "eventID": record.event_id,
        "eventName": record.event_name,
        "sequenceNumber": record.change.sequence_number,
        "keys": keys_json(record),
    }})
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trimmed_letter_says_where_the_record_is_and_what_finds_it() {
        let mut record = EventRecord::default();
        record.event_source_arn =
            Some("arn:aws:dynamodb:eu-central-1:1:table/hubhooks-dev-cases/stream/2024".into());
        record.event_id = "e-1".into();
        record.event_name = "MODIFY".into();
        record.change.sequence_number = Some("42".into());
        record.change.keys = serde_dynamo::to_item(json!({"guid": "g-1"})).unwrap();
        let letter: serde_json::Value =
            serde_json::from_str(&trimmed_letter(&record, "router-failures/x.json", 300_000))
                .unwrap();
        assert_eq!(
            letter,
            json!({"trimmedRecord": {"bodyRef": "router-failures/x.json", "sizeBytes": 300_000,
                   "table": "hubhooks-dev-cases", "eventID": "e-1", "eventName": "MODIFY",
                   "sequenceNumber": "42", "keys": {"guid": "g-1"}}})
        );
        // Without a table or keys it still says what it knows.
        let bare: serde_json::Value =
            serde_json::from_str(&trimmed_letter(&EventRecord::default(), "k", 1)).unwrap();
        assert_eq!(bare["trimmedRecord"]["table"], serde_json::Value::Null);
        assert_eq!(bare["trimmedRecord"]["keys"], json!({}));
    }
}
