//! Idempotency keys in DynamoDB (`<prefix>-idempotency`, key `id`, TTL on
//! `expiresAt`): one item per party and key, claimed by a conditional put,
//! then holding the request's digest and its answer until it expires.
use crate::ports::{Claim, IdempotencyStore, IoError, KeptAnswer};
use crate::timestamp::Timestamp;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

/// The attribute DynamoDB's TTL reads (epoch seconds).
pub const EXPIRES_AT: &str = "expiresAt";

pub struct DynamoIdempotency {
    client: Client,
    table: String,
}

impl DynamoIdempotency {
    pub fn new(client: Client, table: String) -> Self {
        DynamoIdempotency { client, table }
    }

    async fn read(&self, key: &str) -> Result<Option<HashMap<String, AttributeValue>>, IoError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("id", AttributeValue::S(key.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| super::sdk_error(format!("GetItem {} {key}", self.table), e))?;
        Ok(out.item)
    }
}

fn text(item: &HashMap<String, AttributeValue>, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

#[async_trait::async_trait]
impl IdempotencyStore for DynamoIdempotency {
    async fn claim(
        &self,
        key: &str,
        digest: &str,
        now: Timestamp,
        expires: Timestamp,
    ) -> Result<Claim, IoError> {
        let epoch = |t: Timestamp| AttributeValue::N(t.0.timestamp().to_string());
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("id", AttributeValue::S(key.to_owned()))
            .item("digest", AttributeValue::S(digest.to_owned()))
            .item(EXPIRES_AT, epoch(expires))
            // TTL removes expired items within days, not at once: an
            // expired one is as none.
            .condition_expression("attribute_not_exists(id) OR #e < :now")
            .expression_attribute_names("#e", EXPIRES_AT)
            .expression_attribute_values(":now", epoch(now))
            .send()
            .await;
        match put {
            Ok(_) => return Ok(Claim::Claimed),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) => {}
            Err(e) => return Err(super::sdk_error(format!("PutItem {} {key}", self.table), e)),
        }
        let Some(item) = self.read(key).await? else {
            // Released meanwhile: the caller may try again.
            return Ok(Claim::Pending {
                digest: digest.to_owned(),
            });
        };
        let digest = text(&item, "digest").unwrap_or_default();
        match text(&item, "answer") {
            None => Ok(Claim::Pending { digest }),
            Some(answer) => {
                let answer: KeptAnswer = serde_json::from_str(&answer)
                    .map_err(|e| IoError::new(format!("reading the answer kept for {key}"), e))?;
                Ok(Claim::Done { digest, answer })
            }
        }
    }

    async fn complete(&self, key: &str, answer: &KeptAnswer) -> Result<(), IoError> {
        let answer = serde_json::to_string(answer)
            .map_err(|e| IoError::new(format!("keeping the answer for {key}"), e))?;
        self.client
            .update_item()
            .table_name(&self.table)
            .key("id", AttributeValue::S(key.to_owned()))
            .update_expression("SET answer = :a")
            .condition_expression("attribute_exists(id)")
            .expression_attribute_values(":a", AttributeValue::S(answer))
            .send()
            .await
            .map_err(|e| super::sdk_error(format!("UpdateItem {} {key}", self.table), e))?;
        Ok(())
    }

    async fn release(&self, key: &str) -> Result<(), IoError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("id", AttributeValue::S(key.to_owned()))
            .send()
            .await
            .map_err(|e| super::sdk_error(format!("DeleteItem {} {key}", self.table), e))?;
        Ok(())
    }
}
