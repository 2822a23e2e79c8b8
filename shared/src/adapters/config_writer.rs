//! Writing config items to the config table, as every writer must (the CLI
//! today, the management API next): checked first against what is stored
//! (conflicts, missing secrets, URLs: `config::admission`), then written
//! whole or not at all in transactions of 100, each subscription keeping
//! its operational state, conditionally, so a `410` or a `disable` in
//! between is never overwritten.
use crate::config::{Admission, ConfigItem};
use crate::ids::SubscriptionId;
use crate::ports::{ConfigSource, ConfigStore, Expect, IoError, StoredItem, Written};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use std::collections::{HashMap, HashSet};

/// Items per DynamoDB transaction (its limit).
pub const TRANSACTION_ITEMS: usize = 100;

/// The operational attributes of a subscription: written by the sender
/// (410) and `disable`/`enable`, never by a config file.
const OPERATIONAL: [&str; 3] = ["disabledReason", "disabledAt", "failingSince"];

/// Why items were not (all) written.
#[derive(Debug, thiserror::Error)]
pub enum PutError {
    #[error("nothing was written: {0}")]
    Nothing(#[source] IoError),
    #[error(
        "the first {written} items were written (transactions of {TRANSACTION_ITEMS}), the other {rest} were not: {source}"
    )]
    Partly {
        written: usize,
        rest: usize,
        #[source]
        source: IoError,
    },
}

type Item = HashMap<String, AttributeValue>;

pub struct ConfigWriter {
    client: Client,
    table: String,
}

impl ConfigWriter {
    pub fn new(client: Client, table: String) -> Self {
        ConfigWriter { client, table }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// What stands against writing `items` now, given the secrets in
    /// `secrets_table`; nothing is written.
    pub async fn check(
        &self,
        items: &[ConfigItem],
        secrets_table: &str,
    ) -> Result<Admission, IoError> {
        let stored =
            super::dynamo::DynamoConfigSource::new(self.client.clone(), self.table.clone())
                .load()
                .await?;
        let secrets =
            super::secrets::SecretAdmin::new(self.client.clone(), secrets_table.to_owned())
                .list()
                .await?;
        let existing: HashSet<String> = secrets
            .into_iter()
            .filter(|s| s.values > 0)
            .map(|s| s.name)
            .collect();
        Ok(crate::config::admit(&stored, items, &existing))
    }

    /// Writes `items` in order, transactions of [`TRANSACTION_ITEMS`], each
    /// whole or not at all. Each replaces the declared config under its id;
    /// `allCurrent` is stored as today's types.
    pub async fn put(&self, items: &[ConfigItem]) -> Result<(), PutError> {
        let mut written = 0;
        for chunk in items.chunks(TRANSACTION_ITEMS) {
            self.put_transaction(chunk)
                .await
                .map_err(|source| match written {
                    0 => PutError::Nothing(source),
                    _ => PutError::Partly {
                        written,
                        rest: items.len() - written,
                        source,
                    },
                })?;
            written += chunk.len();
        }
        Ok(())
    }

    /// One transaction; re-read and tried again (three times) when a
    /// subscription's operational state changed in between.
    async fn put_transaction(&self, items: &[ConfigItem]) -> Result<(), IoError> {
        let table = &self.table;
        for _ in 0..3 {
            let mut writes = Vec::with_capacity(items.len());
            for item in items {
                writes.push(self.write_of(item).await?);
            }
            match self
                .client
                .transact_write_items()
                .set_transact_items(Some(writes))
                .send()
                .await
            {
                Ok(_) => return Ok(()),
                Err(e)
                    if matches!(
                        e.as_service_error(),
                        Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c))
                            if c.cancellation_reasons()
                                .iter()
                                .any(|r| r.code() == Some("ConditionalCheckFailed"))
                    ) =>
                {
                    continue;
                }
                Err(e) => {
                    return Err(super::sdk_error(format!("TransactWriteItems {table}"), e));
                }
            }
        }
        Err(IoError::new(
            format!("writing to {table}"),
            "a subscription's operational state kept changing while it was written; try again",
        ))
    }

    /// The write of one item: a subscription keeps the operational state
    /// stored now, on condition that it is still so.
    async fn write_of(&self, item: &ConfigItem) -> Result<TransactWriteItem, IoError> {
        let table = &self.table;
        let mut put = Put::builder().table_name(table);
        let encoded = if matches!(item, ConfigItem::Subscription(_)) {
            let stored = self.read(item.id()).await?;
            put = match stored.as_ref().and_then(|s| s.get("disabledAt")) {
                Some(at) => put
                    .condition_expression("disabledAt = :at")
                    .expression_attribute_values(":at", at.clone()),
                None => put.condition_expression("attribute_not_exists(disabledAt)"),
            };
            encode(item, stored.as_ref())?
        } else {
            encode(item, None)?
        };
        let put = put
            .set_item(Some(encoded))
            .build()
            .map_err(|e| IoError::new(format!("building the write of `{}`", item.id()), e))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }
}

/// An item as written: `allCurrent` as today's types, a fresh revision,
/// and the operational state of `stored` (none of the item's own).
fn encode(item: &ConfigItem, stored: Option<&Item>) -> Result<Item, IoError> {
    let mut item = item.clone();
    if let ConfigItem::Subscription(s) = &mut item {
        s.expand_all_current();
    }
    let mut encoded: Item = serde_dynamo::to_item(&item)
        .map_err(|e| IoError::new(format!("encoding config item `{}`", item.id()), e))?;
    encoded.insert(
        crate::config::REVISION.to_owned(),
        AttributeValue::S(uuid::Uuid::new_v4().to_string()),
    );
    for name in OPERATIONAL {
        encoded.remove(name);
        if let Some(v) = stored.and_then(|s| s.get(name)) {
            encoded.insert(name.to_owned(), v.clone());
        }
    }
    Ok(encoded)
}

/// The entity tag of a stored item: a digest of all it holds.
pub fn etag_of(value: &serde_json::Value) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, value.to_string().as_bytes());
    let hex: String = digest.as_ref()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("\"{hex}\"")
}

impl ConfigWriter {
    async fn read(&self, id: &str) -> Result<Option<Item>, IoError> {
        let table = &self.table;
        Ok(self
            .client
            .get_item()
            .table_name(table)
            .key(crate::tables::CONFIG_KEY, AttributeValue::S(id.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| super::sdk_error(format!("GetItem {table} {id}"), e))?
            .item)
    }

    /// The condition that what is stored under the id is still `stored`
    /// (its revision and its operational state), or that nothing is.
    fn unchanged(stored: Option<&Item>) -> (String, Vec<(String, AttributeValue)>) {
        let Some(stored) = stored else {
            return ("attribute_not_exists(#id)".into(), Vec::new());
        };
        let mut parts = vec!["attribute_exists(#id)".to_owned()];
        let mut values = Vec::new();
        for (i, name) in std::iter::once(crate::config::REVISION)
            .chain(OPERATIONAL)
            .enumerate()
        {
            match stored.get(name) {
                Some(v) => {
                    parts.push(format!("{name} = :v{i}"));
                    values.push((format!(":v{i}"), v.clone()));
                }
                None => parts.push(format!("attribute_not_exists({name})")),
            }
        }
        (parts.join(" AND "), values)
    }

    /// Whether `stored` is what `expect` asks for.
    fn expected(stored: Option<&Item>, expect: &Expect) -> Result<bool, IoError> {
        Ok(match (expect, stored) {
            (Expect::Any, _) => true,
            (Expect::Absent, found) => found.is_none(),
            (Expect::Etag(_), None) => false,
            (Expect::Etag(tag), Some(item)) => {
                let value = super::dynamo::item_to_json(item.clone())
                    .map_err(|e| IoError::new("reading a config item", e))?;
                etag_of(&value) == *tag
            }
        })
    }
}

/// Whether DynamoDB refused a write because its condition failed.
fn condition_failed<E, R>(e: &aws_smithy_runtime_api::client::result::SdkError<E, R>) -> bool
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata,
{
    e.as_service_error().and_then(|s| s.code()) == Some("ConditionalCheckFailedException")
}

#[async_trait::async_trait]
impl ConfigStore for ConfigWriter {
    async fn item(&self, id: &str) -> Result<Option<StoredItem>, IoError> {
        let Some(item) = self.read(id).await? else {
            return Ok(None);
        };
        let value = super::dynamo::item_to_json(item)
            .map_err(|e| IoError::new(format!("reading config item `{id}`"), e))?;
        Ok(Some(StoredItem {
            etag: etag_of(&value),
            value,
        }))
    }

    async fn write(&self, item: &ConfigItem, expect: Expect) -> Result<Written, IoError> {
        let table = &self.table;
        let id = item.id();
        let stored = self.read(id).await?;
        if !Self::expected(stored.as_ref(), &expect)? {
            return Ok(Written::Conflict);
        }
        let encoded = encode(item, stored.as_ref())?;
        let (condition, values) = Self::unchanged(stored.as_ref());
        let mut put = self
            .client
            .put_item()
            .table_name(table)
            .set_item(Some(encoded.clone()))
            .condition_expression(condition)
            .expression_attribute_names("#id", crate::tables::CONFIG_KEY);
        for (k, v) in values {
            put = put.expression_attribute_values(k, v);
        }
        match put.send().await {
            Ok(_) => {
                let value = super::dynamo::item_to_json(encoded)
                    .map_err(|e| IoError::new(format!("reading config item `{id}`"), e))?;
                Ok(Written::Done(Some(etag_of(&value))))
            }
            Err(e) if condition_failed(&e) => Ok(Written::Conflict),
            Err(e) => Err(super::sdk_error(format!("PutItem {table} {id}"), e)),
        }
    }

    async fn delete(&self, id: &str, expect: Expect) -> Result<Written, IoError> {
        let table = &self.table;
        let stored = self.read(id).await?;
        if stored.is_none() || !Self::expected(stored.as_ref(), &expect)? {
            return Ok(Written::Conflict);
        }
        let (condition, values) = Self::unchanged(stored.as_ref());
        let mut delete = self
            .client
            .delete_item()
            .table_name(table)
            .key(crate::tables::CONFIG_KEY, AttributeValue::S(id.to_owned()))
            .condition_expression(condition)
            .expression_attribute_names("#id", crate::tables::CONFIG_KEY);
        for (k, v) in values {
            delete = delete.expression_attribute_values(k, v);
        }
        match delete.send().await {
            Ok(_) => Ok(Written::Done(None)),
            Err(e) if condition_failed(&e) => Ok(Written::Conflict),
            Err(e) => Err(super::sdk_error(format!("DeleteItem {table} {id}"), e)),
        }
    }

    async fn set_enabled(
        &self,
        id: &SubscriptionId,
        enabled: bool,
        reason: &str,
    ) -> Result<(), IoError> {
        use crate::ports::SubscriptionControl;
        // The sender's writer of the same attributes: one table format.
        let control =
            super::dynamo::DynamoSubscriptionControl::new(self.client.clone(), self.table.clone());
        if enabled {
            control.enable(id).await
        } else {
            control.disable(id, reason).await
        }
    }
}
