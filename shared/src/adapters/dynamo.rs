//! DynamoDB: the case tables and the config table.
use crate::attempt_page::{Held, Owner};
use crate::config::RawConfigItem;
use crate::delivery::Delivery;
use crate::ids::{CaseId, DeliveryId, StatusId, SubscriptionId};
use crate::ports::{CaseStore, CaseStoreError, ConfigSource, EarlierStatuses, IoError};
use crate::record::CaseRecord;
use crate::tables::{
    CASES_KEY, CONFIG_KEY, SECRETS_KEY, STATUSES_PARTITION_KEY, STATUSES_SORT_KEY,
};
use crate::timestamp::Timestamp;
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
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
            .map_err(|e| super::sdk_error(format!("GetItem {} {guid}", self.cases_table), e))?;
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
                super::sdk_error(format!("Query {} caseId={case_id}", self.statuses_table), e)
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
            let page = page.map_err(|e| super::sdk_error(format!("Scan {}", self.table), e))?;
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
/// reads each secret about once a minute, and never logged; an absent one
/// for two seconds only, so a secret written again is read at once.
pub struct DynamoSecrets {
    client: Client,
    table: String,
    cache: tokio::sync::Mutex<SecretCache>,
}

/// Name → (when read, its values and when the old ones retire, or `None`
/// if absent).
type SecretCache = HashMap<String, (std::time::Instant, Option<Stored>)>;

/// A secret's values, newest first, and when those after the first retire.
type Stored = (Vec<String>, Option<Timestamp>);

const SECRET_TTL: std::time::Duration = std::time::Duration::from_secs(60);

/// Every item of `table`, page by page (the tables scanned are small:
/// secrets, party keys).
pub async fn scan_all(
    client: &Client,
    table: &str,
) -> Result<Vec<std::collections::HashMap<String, AttributeValue>>, IoError> {
    let mut out = Vec::new();
    let mut pages = client.scan().table_name(table).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| super::sdk_error(format!("Scan {table}"), e))?;
        out.extend(page.items.unwrap_or_default());
    }
    Ok(out)
}

/// A secret item's values (newest first; `value` is the older one-value
/// form) and when its old values retire.
pub(crate) fn stored_secret(
    item: &std::collections::HashMap<String, AttributeValue>,
) -> (Vec<String>, Option<Timestamp>) {
    let values = match (item.get("values"), item.get("value")) {
        (Some(AttributeValue::L(list)), _) => {
            list.iter().filter_map(|v| v.as_s().ok().cloned()).collect()
        }
        (_, Some(AttributeValue::S(v))) => vec![v.clone()],
        _ => Vec::new(),
    };
    let retire_at = item
        .get(RETIRE_AT)
        .and_then(|v| v.as_s().ok())
        .and_then(|s| Timestamp::parse(s).ok());
    (values, retire_at)
}

/// When a secret's values after the first stop signing (a rotation's
/// grace period; `crate::rotation`).
pub const RETIRE_AT: &str = "retireAt";
const ABSENT_SECRET_TTL: std::time::Duration = std::time::Duration::from_secs(2);

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
        // A rotation's old key signs until its grace period ends: decided
        // at each call, so a cached secret stops signing with it on time.
        let current = |stored: &Option<Stored>| {
            stored.clone().map(|(values, retire_at)| {
                crate::rotation::current(values, retire_at, Timestamp::now())
            })
        };
        if let Some((at, stored)) = self.cache.lock().await.get(name)
            && at.elapsed()
                < match stored {
                    Some((v, _)) if !v.is_empty() => SECRET_TTL,
                    _ => ABSENT_SECRET_TTL,
                }
        {
            return Ok(current(stored));
        }
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(SECRETS_KEY, AttributeValue::S(name.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| super::sdk_error(format!("GetItem {} {name}", self.table), e))?;
        let stored = out.item.map(|item| stored_secret(&item));
        self.cache
            .lock()
            .await
            .insert(name.to_owned(), (std::time::Instant::now(), stored.clone()));
        Ok(current(&stored))
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
    async fn disable(&self, subscription_id: &SubscriptionId, reason: &str) -> Result<(), IoError> {
        self.disabling(subscription_id, reason)
            .condition_expression("attribute_exists(#id) AND #k = :sub")
            .expression_attribute_names("#id", CONFIG_KEY)
            .expression_attribute_names("#k", "kind")
            .expression_attribute_values(":sub", AttributeValue::S("subscription".into()))
            .send()
            .await
            .map_err(|e| {
                super::sdk_error(format!("UpdateItem {} {subscription_id}", self.table), e)
            })?;
        Ok(())
    }

    async fn failing(
        &self,
        subscription_id: &SubscriptionId,
        at: Timestamp,
    ) -> Result<(Timestamp, bool), IoError> {
        let what = || format!("UpdateItem {} {subscription_id} (failingSince)", self.table);
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(CONFIG_KEY, AttributeValue::S(subscription_id.to_string()))
            .update_expression("SET #f = if_not_exists(#f, :at)")
            .condition_expression("attribute_exists(#id) AND #k = :sub")
            .expression_attribute_names("#f", FAILING_SINCE)
            .expression_attribute_names("#id", CONFIG_KEY)
            .expression_attribute_names("#k", "kind")
            .expression_attribute_values(":at", AttributeValue::S(at.to_contract_string()))
            .expression_attribute_values(":sub", AttributeValue::S("subscription".into()))
            // The value before: present when another attempt began the streak.
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedOld)
            .send()
            .await
            .map_err(|e| super::sdk_error(what(), e))?;
        match out.attributes().and_then(|a| a.get(FAILING_SINCE)) {
            None => Ok((at, true)),
            Some(AttributeValue::S(s)) => Timestamp::parse(s)
                .map(|since| (since, false))
                .map_err(|e| IoError::new(what(), format!("stored `{s}` is not a time: {e}"))),
            Some(other) => Err(IoError::new(
                what(),
                format!("stored {other:?} is not a time"),
            )),
        }
    }

    async fn recovered(&self, subscription_id: &SubscriptionId) -> Result<(), IoError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(CONFIG_KEY, AttributeValue::S(subscription_id.to_string()))
            .update_expression("REMOVE #f")
            .condition_expression("attribute_exists(#f)")
            .expression_attribute_names("#f", FAILING_SINCE)
            .send()
            .await;
        // Not there: another attempt ended it first (or the item is gone).
        met(result, || {
            format!("UpdateItem {} {subscription_id} (failingSince)", self.table)
        })
        .map(|_| ())
    }

    async fn disable_failing(
        &self,
        subscription_id: &SubscriptionId,
        since: Timestamp,
        reason: &str,
    ) -> Result<bool, IoError> {
        let result = self
            .disabling(subscription_id, reason)
            // Only the streak that began at `since`: a success meanwhile
            // removed it, and a disabled subscription keeps its first reason.
            .condition_expression("#f = :since AND attribute_not_exists(#a)")
            .expression_attribute_names("#f", FAILING_SINCE)
            .expression_attribute_values(":since", AttributeValue::S(since.to_contract_string()))
            .send()
            .await;
        met(result, || {
            format!("UpdateItem {} {subscription_id}", self.table)
        })
    }
}

impl DynamoSubscriptionControl {
    /// An operator enables a subscription again: `enabled` set, the
    /// operational `disabledReason`, `disabledAt` and `failingSince` gone.
    /// The item must exist.
    pub async fn enable(&self, subscription_id: &SubscriptionId) -> Result<(), IoError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(CONFIG_KEY, AttributeValue::S(subscription_id.to_string()))
            .condition_expression("attribute_exists(#id)")
            .expression_attribute_names("#id", CONFIG_KEY)
            .update_expression("SET #e = :e REMOVE disabledReason, disabledAt, failingSince")
            .expression_attribute_names("#e", "enabled")
            .expression_attribute_values(":e", AttributeValue::Bool(true))
            .send()
            .await
            .map_err(|e| IoError::new(format!("UpdateItem {} {subscription_id}", self.table), e))?;
        Ok(())
    }

    /// The update that disables: the operational `disabledReason` and
    /// `disabledAt` (`#a`); the caller adds its condition.
    fn disabling(
        &self,
        subscription_id: &str,
        reason: &str,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(CONFIG_KEY, AttributeValue::S(subscription_id.to_string()))
            .update_expression("SET #r = :r, #a = :a")
            .expression_attribute_names("#r", "disabledReason")
            .expression_attribute_names("#a", "disabledAt")
            .expression_attribute_values(":r", AttributeValue::S(reason.to_owned()))
            .expression_attribute_values(
                ":a",
                AttributeValue::S(Timestamp::now().to_contract_string()),
            )
    }
}

/// Whether a conditional update's condition held: a failed condition is an
/// answer, not an error. `what` names the call in an error.
fn met<T>(
    result: Result<
        T,
        aws_sdk_dynamodb::error::SdkError<
            aws_sdk_dynamodb::operation::update_item::UpdateItemError,
        >,
    >,
    what: impl FnOnce() -> String,
) -> Result<bool, IoError> {
    match result {
        Ok(_) => Ok(true),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
        {
            Ok(false)
        }
        Err(e) => Err(super::sdk_error(what(), e)),
    }
}

/// The subscription attribute marking a failure streak.
const FAILING_SINCE: &str = "failingSince";

/// The attempt log in DynamoDB (see [`crate::tables::attempt_log`]):
/// `record` holds attempts back, `flush` writes one page per subscription
/// of the batch, an item per failed attempt, and the day's directory
/// entries this instance has not written yet, in BatchWriteItem calls.
pub struct DynamoAttemptLog {
    client: Client,
    table: String,
    retention_days: u32,
    /// Whether pages keep the envelopes attempted (for `hubhooks replay`).
    keep_envelopes: bool,
    pending: std::sync::Mutex<Vec<Held>>,
    /// (day, subscription) directory entries written by this instance.
    listed: std::sync::Mutex<std::collections::HashSet<(String, String)>>,
}

impl DynamoAttemptLog {
    pub fn new(client: Client, table: String, retention_days: u32, keep_envelopes: bool) -> Self {
        DynamoAttemptLog {
            client,
            table,
            retention_days,
            keep_envelopes,
            pending: Default::default(),
            listed: Default::default(),
        }
    }

    fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
        m.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The items for `records`: pages, failures, and the directory entries
    /// this instance has not written yet (returned too, to be remembered
    /// once written).
    #[allow(clippy::type_complexity)]
    fn items(&self, records: Vec<Held>) -> Result<(Vec<Item>, Vec<(String, String)>), IoError> {
        use crate::tables::attempt_log as l;
        let encode = |r: &crate::attempt::AttemptRecord| -> Result<AttributeValue, IoError> {
            let item: Item = serde_dynamo::to_item(r)
                .map_err(|e| IoError::new(format!("encoding an attempt for {}", self.table), e))?;
            Ok(AttributeValue::M(item))
        };
        let expires = |at: &crate::timestamp::Timestamp| {
            AttributeValue::N(
                (at.0.timestamp() + i64::from(self.retention_days) * 86_400).to_string(),
            )
        };
        let keyed = |pk: String, sk: String, at: &crate::timestamp::Timestamp| -> Item {
            HashMap::from([
                (l::PARTITION_KEY.to_owned(), AttributeValue::S(pk)),
                (l::SORT_KEY.to_owned(), AttributeValue::S(sk)),
                (l::TTL.to_owned(), expires(at)),
            ])
        };
        let mut items = Vec::new();
        let mut listed = Vec::new();
        // Each subscription's day, from its first record, for the directory.
        let mut days: std::collections::BTreeMap<String, Timestamp> = Default::default();
        for (r, _) in &records {
            if r.outcome.is_failure() {
                let at = r.at.to_contract_string();
                let shard = shard_of(&r.delivery_id);
                let mut item = keyed(
                    l::failure_partition(l::day(&at), shard),
                    format!("{at}#{}#{}", r.delivery_id, r.attempt),
                    &r.at,
                );
                item.insert(l::ATTEMPT.to_owned(), encode(r)?);
                items.push(item);
            }
            days.entry(r.subscription_id.to_string()).or_insert(r.at);
        }
        for (subscription, first) in days {
            let entry = (l::day(&first.to_contract_string()).to_owned(), subscription);
            if !Self::lock(&self.listed).contains(&entry) {
                items.push(keyed(
                    l::directory_partition(&entry.0),
                    entry.1.clone(),
                    &first,
                ));
                listed.push(entry);
            }
        }
        for page in crate::attempt_page::layout(records) {
            let id = uuid::Uuid::new_v4().to_string();
            let at = page.earliest.to_contract_string();
            let pk = match &page.owner {
                Owner::Subscription(s) => l::page_partition(s, shard_of(&id)),
                Owner::Mixed => l::mixed_partition(l::day(&at), shard_of(&id)),
            };
            let mut item = keyed(pk, format!("{at}#{id}"), &page.earliest);
            item.insert(
                l::PAGE.to_owned(),
                AttributeValue::B(aws_sdk_dynamodb::primitives::Blob::new(page.blob)),
            );
            items.push(item);
        }
        Ok((items, listed))
    }

    /// BatchWriteItem, 25 items a call; what DynamoDB leaves unprocessed is
    /// tried again (three tries, 50 ms then 200 ms apart).
    async fn write(&self, items: Vec<Item>) -> Result<(), IoError> {
        use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
        for chunk in items.chunks(25) {
            let mut requests = chunk
                .iter()
                .map(|item| {
                    PutRequest::builder()
                        .set_item(Some(item.clone()))
                        .build()
                        .map(|p| WriteRequest::builder().put_request(p).build())
                        .map_err(|e| IoError::new(format!("BatchWriteItem {}", self.table), e))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let mut pause = std::time::Duration::from_millis(50);
            for attempt in 1..=3 {
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, requests)
                    .send()
                    .await
                    .map_err(|e| super::sdk_error(format!("BatchWriteItem {}", self.table), e))?;
                requests = out
                    .unprocessed_items
                    .and_then(|mut u| u.remove(&self.table))
                    .unwrap_or_default();
                if requests.is_empty() {
                    break;
                }
                if attempt == 3 {
                    return Err(IoError::new(
                        format!("BatchWriteItem {}", self.table),
                        format!("{} items left unprocessed after 3 tries", requests.len()),
                    ));
                }
                tokio::time::sleep(pause).await;
                pause *= 4;
            }
        }
        Ok(())
    }
}

/// Counters in the attempt log table, each an item counted up with an
/// atomic ADD and expiring by its TTL: `maxPerSecond` (`rate#<subscription>`,
/// sk the epoch second, kept a day) and held-back receipts of ordered
/// deliveries (`held#<delivery id>`, sk `-`, kept 14 days: SQS's longest
/// retention).
pub struct DynamoCounters {
    client: Client,
    table: String,
}

impl DynamoCounters {
    pub fn new(client: Client, table: String) -> Self {
        DynamoCounters { client, table }
    }

    fn key(pk: String, sk: String) -> HashMap<String, AttributeValue> {
        use crate::tables::attempt_log as l;
        HashMap::from([
            (l::PARTITION_KEY.to_owned(), AttributeValue::S(pk)),
            (l::SORT_KEY.to_owned(), AttributeValue::S(sk)),
        ])
    }

    /// Counts one on (`pk`, `sk`), kept `keep_secs`; the new count.
    async fn bump(&self, pk: String, sk: String, keep_secs: i64) -> Result<u64, IoError> {
        use crate::tables::attempt_log as l;
        let expires = chrono::Utc::now().timestamp() + keep_secs;
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(pk.clone(), sk)))
            .update_expression("ADD #n :one SET #ttl = :ttl")
            .expression_attribute_names("#n", l::COUNT)
            .expression_attribute_names("#ttl", l::TTL)
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":ttl", AttributeValue::N(expires.to_string()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| super::sdk_error(format!("UpdateItem {} ({pk})", self.table), e))?;
        // A count it cannot read is over any limit.
        Ok(match out.attributes().and_then(|a| a.get(l::COUNT)) {
            Some(AttributeValue::N(n)) => n.parse().unwrap_or(u64::MAX),
            _ => u64::MAX,
        })
    }
}

#[async_trait]
impl crate::ports::RateLimits for DynamoCounters {
    async fn admit(
        &self,
        subscription_id: &SubscriptionId,
        per_second: u32,
        now: Timestamp,
    ) -> Result<bool, IoError> {
        let second = now.0.timestamp();
        let pk = crate::tables::attempt_log::rate_partition(subscription_id);
        let count = self.bump(pk, second.to_string(), 86_400).await?;
        Ok(count <= u64::from(per_second))
    }
}

#[async_trait]
impl crate::ports::Holds for DynamoCounters {
    async fn hold(&self, delivery_id: &DeliveryId) -> Result<(), IoError> {
        let pk = crate::tables::attempt_log::held_partition(delivery_id);
        self.bump(pk, "-".into(), 14 * 86_400).await.map(|_| ())
    }

    async fn held(&self, delivery_id: &DeliveryId) -> Result<u32, IoError> {
        use crate::tables::attempt_log as l;
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(l::held_partition(delivery_id), "-".into())))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| {
                super::sdk_error(
                    format!("GetItem {} (holds of {delivery_id})", self.table),
                    e,
                )
            })?;
        Ok(match out.item().and_then(|i| i.get(l::COUNT)) {
            Some(AttributeValue::N(n)) => n.parse().unwrap_or(0),
            _ => 0,
        })
    }
}

/// A stable shard in `0..SHARDS` for a key.
fn shard_of(key: &str) -> u32 {
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    (hash % u64::from(crate::tables::attempt_log::SHARDS)) as u32
}

#[async_trait]
impl crate::ports::AttemptLog for DynamoAttemptLog {
    async fn record(
        &self,
        attempt: &crate::attempt::AttemptRecord,
        delivery: &Delivery,
    ) -> Result<(), IoError> {
        let envelope = self.keep_envelopes.then(|| delivery.clone());
        Self::lock(&self.pending).push((attempt.clone(), envelope));
        Ok(())
    }

    async fn flush(&self) -> Result<(), IoError> {
        let records = std::mem::take(&mut *Self::lock(&self.pending));
        if records.is_empty() {
            return Ok(());
        }
        let (items, listed) = self.items(records)?;
        self.write(items).await?;
        Self::lock(&self.listed).extend(listed);
        Ok(())
    }
}
