//! Reading (JSON or YAML, checked against docs/config.schema.json) and
//! writing config items: subscriptions, mappings, black lists, invoice
//! settings.
use anyhow::{Context, Result, bail};
use aws_config::SdkConfig;
use hubhooks::config::{ConfigItem, RawConfigItem};
use serde_json::Value;
use std::path::Path;

/// The published JSON Schema of config items (docs/config.schema.json).
pub const SCHEMA: &str = include_str!("../../docs/config.schema.json");

/// `/destination/url` → `destination.url`, `/eventTypes/1` → `eventTypes[1]`.
fn field_path(pointer: &str) -> String {
    let mut out = String::new();
    for part in pointer.split('/').skip(1) {
        let part = part.replace("~1", "/").replace("~0", "~");
        if part.chars().all(|c| c.is_ascii_digit()) && !part.is_empty() {
            out.push_str(&format!("[{part}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&part);
        }
    }
    out
}

/// The schema's validator, built once for every item of every file.
static VALIDATOR: std::sync::LazyLock<Result<jsonschema::Validator, String>> =
    std::sync::LazyLock::new(|| {
        let schema: Value = serde_json::from_str(SCHEMA).map_err(|e| e.to_string())?;
        jsonschema::validator_for(&schema).map_err(|e| e.to_string())
    });

/// Checks one item against the schema; every problem names its field.
pub fn schema_problems(value: &Value) -> Vec<(String, String)> {
    let validator = match &*VALIDATOR {
        Ok(v) => v,
        Err(e) => return vec![(String::new(), format!("the bundled schema is broken: {e}"))],
    };
    let mut problems: Vec<(String, String)> = validator
        .iter_errors(value)
        .map(|e| (field_path(e.instance_path().as_str()), e.to_string()))
        .collect();
    problems.sort();
    problems.dedup();
    problems
}

/// Reads a JSON or YAML file (by extension) holding one item or a list of
/// items and validates every item, first against the published schema, then
/// by hubhooks' own rules. Every problem names the file, the item and the
/// field; nothing is returned unless every item is valid.
pub fn read_items(path: &Path) -> Result<Vec<ConfigItem>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let yaml = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    );
    let value: Value = if yaml {
        serde_yaml::from_str(&text)
            .with_context(|| format!("{}: not valid YAML", path.display()))?
    } else {
        serde_json::from_str(&text)
            .with_context(|| format!("{}: not valid JSON", path.display()))?
    };
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
        let schema = schema_problems(&v);
        if !schema.is_empty() {
            for (field, message) in schema {
                let e = hubhooks::config::ConfigError::new(&id, field, message);
                problems.push(format!("{}: {e}", path.display()));
            }
            continue;
        }
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

/// Writes items to the config table (each replaces the declared config of
/// the item with its id). A subscription registered for `allCurrent` is
/// stored with today's types, and keeps its operational state.
pub async fn put_items(sdk: &SdkConfig, table: &str, items: &[ConfigItem]) -> Result<()> {
    let client = aws_sdk_dynamodb::Client::new(sdk);
    for item in items {
        let mut item = item.clone();
        let written = match &mut item {
            ConfigItem::Subscription(s) => {
                s.expand_all_current();
                put_subscription(&client, table, s).await
            }
            other => put_json(&client, table, other).await,
        };
        written.with_context(|| format!("config item `{}`", item.id()))?;
    }
    Ok(())
}

/// The operational attributes of a subscription: written by the sender
/// (410) and `subscriptions disable|enable`, never by a config file.
const OPERATIONAL: [&str; 2] = ["disabledReason", "disabledAt"];

/// Replaces a subscription's declared config and keeps its operational
/// state: the stored `disabledReason`/`disabledAt` are carried over, and
/// the write only happens if they are still what was read (a 410 landing
/// in between is read again, never lost).
async fn put_subscription(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    s: &hubhooks::config::Subscription,
) -> Result<()> {
    use aws_sdk_dynamodb::types::AttributeValue;
    for _ in 0..3 {
        let stored = client
            .get_item()
            .table_name(table)
            .key(
                hubhooks::tables::CONFIG_KEY,
                AttributeValue::S(s.id.to_string()),
            )
            .consistent_read(true)
            .send()
            .await
            .map_err(crate::aws::sdk_err)
            .with_context(|| format!("reading `{}` from {table}", s.id))?
            .item
            .unwrap_or_default();
        let mut item: std::collections::HashMap<String, AttributeValue> =
            serde_dynamo::to_item(ConfigItem::Subscription(s.clone())).context("encoding item")?;
        for name in OPERATIONAL {
            item.remove(name);
            if let Some(v) = stored.get(name) {
                item.insert(name.to_owned(), v.clone());
            }
        }
        let mut req = client.put_item().table_name(table).set_item(Some(item));
        req = match stored.get("disabledAt") {
            Some(at) => req
                .condition_expression("disabledAt = :at")
                .expression_attribute_values(":at", at.clone()),
            None => req.condition_expression("attribute_not_exists(disabledAt)"),
        };
        match req.send().await {
            Ok(_) => return Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|x| x.is_conditional_check_failed_exception()) =>
            {
                continue;
            }
            Err(e) => {
                return Err(crate::aws::sdk_err(e))
                    .with_context(|| format!("writing `{}` to {table}", s.id));
            }
        }
    }
    anyhow::bail!(
        "`{}`: its operational state kept changing while it was written; try again",
        s.id
    )
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
