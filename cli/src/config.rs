//! Reading (JSON or YAML, checked by the parser the functions use) and
//! writing config items: subscriptions, mappings, black lists, invoice
//! settings.
use anyhow::{Context, Result, bail};
use aws_config::SdkConfig;
use hubhooks::adapters::config_writer::ConfigWriter;
use hubhooks::config::{ConfigItem, RawConfigItem};
use serde_json::Value;
use std::path::Path;

/// Reads a JSON or YAML file (by extension) holding one item or a list of
/// items and validates every item by hubhooks' own rules (the parser the
/// functions use; the published schema is derived from it). Every problem names the file, the item and the
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
        json_without_duplicate_keys(&text)
            .with_context(|| format!("{}: not valid JSON", path.display()))?
    };
    let values = match value {
        Value::Array(items) => items,
        other => vec![other],
    };
    let mut items = Vec::new();
    let mut problems = Vec::new();
    let mut seen: std::collections::HashMap<String, usize> = Default::default();
    for (i, v) in values.into_iter().enumerate() {
        let id = v
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| format!("#{i} (no id)"));
        // Two items with one id: the second would silently replace the first.
        if let Some(first) = seen.insert(id.clone(), i) {
            problems.push(format!(
                "{}: items #{first} and #{i} both have id `{}`",
                path.display(),
                hubhooks::delivery::clip(&id, 80)
            ));
            continue;
        }
        if let Err(why) = within_dynamodb_limits(&v) {
            problems.push(format!(
                "{}: config item `{}`: {why}",
                path.display(),
                hubhooks::delivery::clip(&id, 80)
            ));
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

/// Parses JSON, refusing an object that names a key twice (serde_json
/// would silently keep the last).
fn json_without_duplicate_keys(text: &str) -> Result<Value> {
    use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
    struct Strict;
    impl<'de> DeserializeSeed<'de> for Strict {
        type Value = Value;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
            d.deserialize_any(self)
        }
    }
    impl<'de> Visitor<'de> for Strict {
        type Value = Value;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("JSON")
        }
        fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
            Ok(Value::Bool(v))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
            Ok(v.into())
        }
        fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
            Ok(v.into())
        }
        fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
            Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
        }
        fn visit_str<E>(self, v: &str) -> Result<Value, E> {
            Ok(Value::String(v.to_owned()))
        }
        fn visit_string<E>(self, v: String) -> Result<Value, E> {
            Ok(Value::String(v))
        }
        fn visit_unit<E>(self) -> Result<Value, E> {
            Ok(Value::Null)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
            let mut out = Vec::new();
            while let Some(v) = seq.next_element_seed(Strict)? {
                out.push(v);
            }
            Ok(Value::Array(out))
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
            let mut out = serde_json::Map::new();
            while let Some(key) = map.next_key::<String>()? {
                let value = map.next_value_seed(Strict)?;
                if out.insert(key.clone(), value).is_some() {
                    return Err(serde::de::Error::custom(format!("duplicate key `{key}`")));
                }
            }
            Ok(Value::Object(out))
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let value = Strict.deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// DynamoDB's limits: a partition key of at most 2,048 bytes, an item of
/// at most 400 KB (names and values, as DynamoDB counts them).
fn within_dynamodb_limits(item: &Value) -> Result<(), String> {
    use aws_sdk_dynamodb::types::AttributeValue as A;
    fn size(v: &A) -> usize {
        match v {
            A::S(s) => s.len(),
            A::N(n) => n.len().div_ceil(2) + 1,
            A::Bool(_) | A::Null(_) => 1,
            A::B(b) => b.as_ref().len(),
            A::L(l) => 3 + l.iter().map(|v| 1 + size(v)).sum::<usize>(),
            A::M(m) => 3 + m.iter().map(|(k, v)| 1 + k.len() + size(v)).sum::<usize>(),
            A::Ss(ss) => ss.iter().map(String::len).sum(),
            A::Ns(ns) => ns.iter().map(|n| n.len().div_ceil(2) + 1).sum(),
            _ => 0,
        }
    }
    if let Some(id) = item.get("id").and_then(Value::as_str)
        && id.len() > 2048
    {
        return Err(format!(
            "field `id`: {} bytes, over DynamoDB's 2048-byte key limit",
            id.len()
        ));
    }
    let encoded: std::collections::HashMap<String, A> =
        serde_dynamo::to_item(item).map_err(|e| format!("cannot be stored: {e}"))?;
    let bytes: usize = encoded.iter().map(|(k, v)| k.len() + size(v)).sum();
    if bytes > 400 * 1024 {
        return Err(format!("{bytes} bytes, over DynamoDB's 400 KB item limit"));
    }
    Ok(())
}

/// Writes `items` to `table` whole or not at all (transactions of 100, in
/// file order; should a later one fail, the error says how many were
/// written), each subscription keeping its operational state:
/// `hubhooks::adapters::config_writer`, the one writer of config.
pub async fn put_items(sdk: &SdkConfig, table: &str, items: &[ConfigItem]) -> Result<()> {
    writer(sdk, table).put(items).await?;
    Ok(())
}

fn writer(sdk: &SdkConfig, table: &str) -> ConfigWriter {
    ConfigWriter::new(aws_sdk_dynamodb::Client::new(sdk), table.to_owned())
}

/// Refuses `items` that conflict with the stored ones (or each other),
/// whose URLs need encoding, or that name a secret the secrets table does
/// not hold; with `allow_missing_secrets` the missing secrets are only
/// warned about (on stderr). Nothing is written here.
pub async fn admit(
    sdk: &SdkConfig,
    table: &str,
    secrets_table: &str,
    items: &[ConfigItem],
    allow_missing_secrets: bool,
) -> Result<()> {
    let admission = writer(sdk, table).check(items, secrets_table).await?;
    let mut refused: Vec<String> = admission.refused.iter().map(|e| e.to_string()).collect();
    if allow_missing_secrets {
        for e in &admission.missing_secrets {
            eprintln!(
                "warning: {e}; written anyway (--allow-missing-secrets): its webhooks wait until the secret exists"
            );
        }
    } else {
        refused.extend(
            admission
                .missing_secrets
                .iter()
                .map(|e| format!("{e} (--allow-missing-secrets writes it anyway)")),
        );
    }
    if !refused.is_empty() {
        bail!("nothing was written:\n{}", refused.join("\n"));
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
