//! Writing config items to the config table, as every writer must (the CLI
//! today, the management API next): checked first against what is stored
//! (conflicts, missing secrets, URLs: `config::admission`), then written
//! whole or not at all in transactions of 100, each subscription keeping
//! its operational state, conditionally, so a `410` or a `disable` in
//! between is never overwritten.
use crate::config::{Admission, ConfigItem};
use crate::ports::{ConfigSource, IoError};
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
        let mut item = item.clone();
        if let ConfigItem::Subscription(s) = &mut item {
            s.expand_all_current();
        }
        let mut encoded: HashMap<String, AttributeValue> = serde_dynamo::to_item(&item)
            .map_err(|e| IoError::new(format!("encoding config item `{}`", item.id()), e))?;
        let mut put = Put::builder().table_name(table);
        if matches!(item, ConfigItem::Subscription(_)) {
            let stored = self
                .client
                .get_item()
                .table_name(table)
                .key(
                    crate::tables::CONFIG_KEY,
                    AttributeValue::S(item.id().to_owned()),
                )
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| super::sdk_error(format!("GetItem {table} {}", item.id()), e))?
                .item
                .unwrap_or_default();
            for name in OPERATIONAL {
                encoded.remove(name);
                if let Some(v) = stored.get(name) {
                    encoded.insert(name.to_owned(), v.clone());
                }
            }
            put = match stored.get("disabledAt") {
                Some(at) => put
                    .condition_expression("disabledAt = :at")
                    .expression_attribute_values(":at", at.clone()),
                None => put.condition_expression("attribute_not_exists(disabledAt)"),
            };
        }
        let put = put
            .set_item(Some(encoded))
            .build()
            .map_err(|e| IoError::new(format!("building the write of `{}`", item.id()), e))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }
}
