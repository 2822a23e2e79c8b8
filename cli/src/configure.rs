//! Writing config items (subscriptions, mappings, black lists, invoice
//! settings) from JSON.
use anyhow::{Context, Result, bail};
use aws_config::SdkConfig;
use hubhooks::config::{ConfigItem, RawConfigItem};
use serde_json::Value;
use std::path::Path;

/// Reads a JSON file holding one item or an array of items and validates
/// every item; the error names the file, the item and the field.
pub fn read_items(path: &Path) -> Result<Vec<ConfigItem>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let value: Value = serde_json::from_str(&text)
        .with_context(|| format!("{}: not valid JSON", path.display()))?;
    let values = match value {
        Value::Array(items) => items,
        other => vec![other],
    };
    let mut items = Vec::new();
    let mut problems = Vec::new();
    for (i, v) in values.into_iter().enumerate() {
        let id = v
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| format!("#{i} (no id)"));
        match ConfigItem::parse(&RawConfigItem { id, value: v }) {
            Ok(item) => items.push(item),
            Err(e) => problems.push(format!("{}: {e}", path.display())),
        }
    }
    if !problems.is_empty() {
        bail!("{}", problems.join("\n"));
    }
    Ok(items)
}

/// Writes items to the config table (each replaces the item with its id).
/// A subscription registered for `allCurrent` is stored with today's types.
pub async fn put_items(sdk: &SdkConfig, table: &str, items: &[ConfigItem]) -> Result<()> {
    let client = aws_sdk_dynamodb::Client::new(sdk);
    for item in items {
        let mut item = item.clone();
        if let ConfigItem::Subscription(s) = &mut item {
            s.expand_all_current();
        }
        put_json(&client, table, &item)
            .await
            .with_context(|| format!("config item `{}`", item.id()))?;
    }
    Ok(())
}

/// Writes any serializable map as an item (config items, case data).
pub async fn put_json<T: serde::Serialize>(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    value: &T,
) -> Result<()> {
    let av: std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> =
        serde_dynamo::to_item(value).context("encoding item")?;
    client
        .put_item()
        .table_name(table)
        .set_item(Some(av))
        .send()
        .await
        .map_err(crate::aws::sdk_err)
        .with_context(|| format!("writing an item to {table}"))?;
    Ok(())
}
