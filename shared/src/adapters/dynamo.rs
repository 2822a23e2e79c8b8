//! DynamoDB: the case tables and the config table.
use crate::config::RawConfigItem;
use crate::ids::{CaseId, StatusId};
use crate::ports::{
    AttemptWrite, CaseStore, CaseStoreError, ConfigSource, EarlierStatuses, IoError,
};
use crate::record::CaseRecord;
use crate::tables::{
    CASES_KEY, CONFIG_KEY, SECRETS_KEY, STATUSES_PARTITION_KEY, STATUSES_SORT_KEY,
};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;
use std::collections::HashMap;

type Item = HashMap<String, AttributeValue>;

/// An SDK item as JSON (numbers stay numbers).
pub fn item_to_json(item: Item) -> Result<Value, serde_dynamo::Error> {
    serde_dynamo::from_item(item)
}

pub struct DynamoCaseStore {
    client: Client,
    cases_table: String,
    statuses_table: String,
}

impl DynamoCaseStore {
    pub fn new(client: Client, cases_table: String, statuses_table: String) -> Self {
        DynamoCaseStore {
            client,
            cases_table,
            statuses_table,
        }
    }
}

#[async_trait]
impl CaseStore for DynamoCaseStore {
    async fn case(&self, guid: &str) -> Result<Option<CaseRecord>, CaseStoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.cases_table)
            .key(CASES_KEY, AttributeValue::S(guid.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| {
                IoError::new(
                    format!("GetItem {} {guid}", self.cases_table),
                    DisplayErrorContext(e),
                )
            })?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let json = item_to_json(item).map_err(|e| {
            CaseStoreError::Malformed(format!("case `{guid}` in {}: {e}", self.cases_table))
        })?;
        CaseRecord::from_json(json).map(Some).map_err(|e| {
            CaseStoreError::Malformed(format!("case `{guid}` in {}: {e}", self.cases_table))
        })
    }

    async fn previous_statuses(
        &self,
        case_id: CaseId,
        before_id: StatusId,
    ) -> Result<EarlierStatuses, CaseStoreError> {
        let mut pages = self
            .client
            .query()
            .table_name(&self.statuses_table)
            .key_condition_expression("#c = :c AND #i < :i")
            .expression_attribute_names("#c", STATUSES_PARTITION_KEY)
            .expression_attribute_names("#i", STATUSES_SORT_KEY)
            .expression_attribute_values(":c", AttributeValue::N(case_id.to_string()))
            .expression_attribute_values(":i", AttributeValue::N(before_id.to_string()))
            .scan_index_forward(false)
            .consistent_read(true)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                IoError::new(
                    format!("Query {} caseId={case_id}", self.statuses_table),
                    DisplayErrorContext(e),
                )
            })?;
            for item in page.items.unwrap_or_default() {
                // An item serde_dynamo cannot read still counts, as unreadable.
                out.push(
                    item_to_json(item)
                        .unwrap_or_else(|e| Value::String(format!("unreadable item: {e}"))),
                );
            }
        }
        Ok(EarlierStatuses::from_items(case_id, out))
    }
}

pub struct DynamoConfigSource {
    client: Client,
    table: String,
}

impl DynamoConfigSource {
    pub fn new(client: Client, table: String) -> Self {
        DynamoConfigSource { client, table }
    }
}

#[async_trait]
impl ConfigSource for DynamoConfigSource {
    async fn load(&self) -> Result<Vec<RawConfigItem>, IoError> {
        let mut pages = self
            .client
            .scan()
            .table_name(&self.table)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                IoError::new(format!("Scan {}", self.table), DisplayErrorContext(e))
            })?;
            for item in page.items.unwrap_or_default() {
                let id = match item.get(CONFIG_KEY) {
                    Some(AttributeValue::S(s)) => s.clone(),
                    other => format!("<item without string id: {other:?}>"),
                };
                // A value serde_dynamo cannot read still becomes an item, so
                // validation reports it by id instead of it vanishing.
                let value = item_to_json(item)
                    .unwrap_or_else(|e| Value::String(format!("unreadable item: {e}")));
                out.push(RawConfigItem { id, value });
            }
        }
        Ok(out)
    }
}

/// Secrets table: key `id` (S); `value` (S) or `values` (L of S, newest
/// first, for key rotation). Values are cached for a minute so a busy sender
/// reads each secret about once a minute, and never logged.
pub struct DynamoSecrets {
    client: Client,
    table: String,
    cache: tokio::sync::Mutex<SecretCache>,
}

/// Name → (when read, its values or `None` if absent).
type SecretCache = HashMap<String, (std::time::Instant, Option<Vec<String>>)>;

const SECRET_TTL: std::time::Duration = std::time::Duration::from_secs(60);

impl DynamoSecrets {
    pub fn new(client: Client, table: String) -> Self {
        DynamoSecrets {
            client,
            table,
            cache: Default::default(),
        }
    }
}

#[async_trait]
impl crate::ports::SecretStore for DynamoSecrets {
    async fn secret(&self, name: &str) -> Result<Option<Vec<String>>, IoError> {
        if let Some((at, values)) = self.cache.lock().await.get(name)
            && at.elapsed() < SECRET_TTL
        {
            return Ok(values.clone());
        }
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(SECRETS_KEY, AttributeValue::S(name.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| {
                IoError::new(
                    format!("GetItem {} {name}", self.table),
                    DisplayErrorContext(e),
                )
            })?;
        let values = out
            .item
            .map(|item| match (item.get("values"), item.get("value")) {
                (Some(AttributeValue::L(list)), _) => {
                    list.iter().filter_map(|v| v.as_s().ok().cloned()).collect()
                }
                (_, Some(AttributeValue::S(v))) => vec![v.clone()],
                _ => Vec::new(),
            });
        self.cache
            .lock()
            .await
            .insert(name.to_owned(), (std::time::Instant::now(), values.clone()));
        Ok(values)
    }
}

/// Disables subscriptions in the config table (after `410 Gone`): writes
/// the operational `disabledReason` and `disabledAt`, never the declared
/// `enabled`, so re-putting the config file cannot undo it.
pub struct DynamoSubscriptionControl {
    client: Client,
    table: String,
}

impl DynamoSubscriptionControl {
    pub fn new(client: Client, table: String) -> Self {
        DynamoSubscriptionControl { client, table }
    }
}

#[async_trait]
impl crate::ports::SubscriptionControl for DynamoSubscriptionControl {
    async fn disable(&self, subscription_id: &str, reason: &str) -> Result<(), IoError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(CONFIG_KEY, AttributeValue::S(subscription_id.to_owned()))
            .update_expression("SET #r = :r, #a = :a")
            .condition_expression("attribute_exists(#id) AND #k = :sub")
            .expression_attribute_names("#r", "disabledReason")
            .expression_attribute_names("#a", "disabledAt")
            .expression_attribute_names("#id", CONFIG_KEY)
            .expression_attribute_names("#k", "kind")
            .expression_attribute_values(":r", AttributeValue::S(reason.to_owned()))
            .expression_attribute_values(
                ":a",
                AttributeValue::S(crate::timestamp::Timestamp::now().to_contract_string()),
            )
            .expression_attribute_values(":sub", AttributeValue::S("subscription".into()))
            .send()
            .await
            .map_err(|e| {
                IoError::new(
                    format!("UpdateItem {} {subscription_id}", self.table),
                    DisplayErrorContext(e),
                )
            })?;
        Ok(())
    }
}

/// The attempt log in DynamoDB (see [`crate::tables::deliveries`]).
pub struct DynamoAttemptLog {
    client: Client,
    table: String,
    retention_days: u32,
}

impl DynamoAttemptLog {
    pub fn new(client: Client, table: String, retention_days: u32) -> Self {
        DynamoAttemptLog {
            client,
            table,
            retention_days,
        }
    }
}

#[async_trait]
impl crate::ports::AttemptLog for DynamoAttemptLog {
    async fn record(
        &self,
        attempt: &crate::attempt::AttemptRecord,
    ) -> Result<AttemptWrite, IoError> {
        // Written only where no record is: should the number be taken (a
        // message moved by the queue's own redrive restarts its count), the
        // next free number is used, so no attempt is ever overwritten.
        let mut numbered = attempt.clone();
        for _ in 0..5 {
            match self.put_new(&numbered).await? {
                true if numbered.attempt == attempt.attempt => return Ok(AttemptWrite::AsNumbered),
                true => return Ok(AttemptWrite::Renumbered(numbered.attempt)),
                false => numbered.attempt = self.last_attempt(&attempt.delivery_id).await? + 1,
            }
        }
        Err(IoError::new(
            format!("PutItem {} {}", self.table, attempt.delivery_id),
            "attempt numbers kept being taken",
        ))
    }
}

impl DynamoAttemptLog {
    /// The highest attempt number logged for a delivery.
    async fn last_attempt(&self, delivery_id: &str) -> Result<u32, IoError> {
        use crate::tables::deliveries;
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#d = :d")
            .expression_attribute_names("#d", deliveries::PARTITION_KEY)
            .expression_attribute_values(":d", AttributeValue::S(delivery_id.to_owned()))
            .scan_index_forward(false)
            .limit(1)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| {
                IoError::new(
                    format!("Query {} {delivery_id}", self.table),
                    DisplayErrorContext(e),
                )
            })?;
        Ok(out
            .items
            .unwrap_or_default()
            .first()
            .and_then(|i| i.get(deliveries::SORT_KEY))
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0))
    }

    /// `false` when a record with that number exists already.
    async fn put_new(&self, attempt: &crate::attempt::AttemptRecord) -> Result<bool, IoError> {
        use crate::tables::deliveries;
        let mut item: Item = serde_dynamo::to_item(attempt)
            .map_err(|e| IoError::new(format!("encoding attempt for {}", self.table), e))?;
        let expires = attempt.at.0.timestamp() + i64::from(self.retention_days) * 86_400;
        item.insert(
            deliveries::TTL.into(),
            AttributeValue::N(expires.to_string()),
        );
        if attempt.outcome.is_failure() {
            item.insert("failed".into(), AttributeValue::S("1".into()));
        }
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#d)")
            .expression_attribute_names("#d", deliveries::PARTITION_KEY)
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(IoError::new(
                format!("PutItem {} {}", self.table, attempt.delivery_id),
                DisplayErrorContext(e),
            )),
        }
    }
}
