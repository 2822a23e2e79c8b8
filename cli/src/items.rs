//! Config items in the config table: list, get, enable/disable, delete.
use anyhow::{Context, Result, bail};
use aws_sdk_dynamodb::types::AttributeValue;
use hubhooks::config::{ConfigItem, RawConfigItem};
use hubhooks::party::Party;
use serde_json::Value;

/// The kinds a command works on: subscriptions, or the mapping items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Subscriptions,
    /// Status mappings, black lists, invoice settings and notice
    /// destinations: a party's settings beside its subscriptions.
    Mappings,
}

impl Family {
    pub fn kinds(self) -> &'static [&'static str] {
        match self {
            Family::Subscriptions => &["subscription"],
            Family::Mappings => &[
                "statusMapping",
                "blackList",
                "invoiceSettings",
                "noticeDestination",
            ],
        }
    }

    fn has(self, kind: &str) -> bool {
        self.kinds().contains(&kind)
    }
}

/// Every stored item of the family, as stored (invalid ones included).
pub async fn list(
    ddb: &aws_sdk_dynamodb::Client,
    table: &str,
    family: Family,
) -> Result<Vec<Value>> {
    let mut pages = ddb.scan().table_name(table).into_paginator().send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page
            .map_err(crate::aws::sdk_err)
            .with_context(|| format!("scanning {table}"))?;
        for item in page.items.unwrap_or_default() {
            let v: Value = serde_dynamo::from_item(item).context("reading an item")?;
            if v["kind"].as_str().is_some_and(|k| family.has(k)) {
                out.push(v);
            }
        }
    }
    out.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    Ok(out)
}

pub use hubhooks::operations::config_items::concerns;

/// Parses `partner:1413` / `provider:1004`.
pub fn parse_party(s: &str) -> Result<Party> {
    s.parse().map_err(|e: String| anyhow::anyhow!(e))
}

pub async fn get(ddb: &aws_sdk_dynamodb::Client, table: &str, id: &str) -> Result<Option<Value>> {
    let out = ddb
        .get_item()
        .table_name(table)
        .key("id", AttributeValue::S(id.to_owned()))
        .consistent_read(true)
        .send()
        .await
        .map_err(crate::aws::sdk_err)
        .with_context(|| format!("reading `{id}` from {table}"))?;
    out.item
        .map(|i| serde_dynamo::from_item(i).context("reading the item"))
        .transpose()
}

/// The item of the family, or an error naming what was found instead.
pub async fn get_in(
    ddb: &aws_sdk_dynamodb::Client,
    table: &str,
    family: Family,
    id: &str,
) -> Result<Value> {
    match get(ddb, table, id).await? {
        None => bail!("no item `{id}` in {table}"),
        Some(v) if v["kind"].as_str().is_some_and(|k| family.has(k)) => Ok(v),
        Some(v) => bail!(
            "`{id}` is a {} item, not one of {}",
            v["kind"].as_str().unwrap_or("?"),
            family.kinds().join(", ")
        ),
    }
}

/// Fails unless `id` is a subscription in `table`: commands that select by
/// subscription refuse an id nobody configured instead of answering with
/// nothing.
pub async fn require_subscription(
    ddb: &aws_sdk_dynamodb::Client,
    table: &str,
    id: &str,
) -> Result<()> {
    match get(ddb, table, id).await? {
        Some(v) if v["kind"].as_str() == Some("subscription") => Ok(()),
        Some(v) => bail!(
            "`{id}` in {table} is a {} item, not a subscription",
            v["kind"].as_str().unwrap_or("?")
        ),
        None => {
            bail!("no subscription `{id}` in {table} (`hubhooks subscriptions list` names them)")
        }
    }
}

/// Enables or disables a subscription. Both are operational state: disabling
/// records `disabledReason` and `disabledAt` (as a receiver's `410 Gone`
/// does), enabling clears them and sets `enabled`; re-putting the config
/// file changes neither. The management API's operation, for an operator.
pub async fn set_enabled(
    ddb: &aws_sdk_dynamodb::Client,
    table: &str,
    id: &str,
    enabled: bool,
    reason: Option<&str>,
) -> Result<()> {
    use hubhooks::operations::{Scope, subscriptions};
    get_in(ddb, table, Family::Subscriptions, id).await?;
    let store = hubhooks::adapters::config_writer::ConfigWriter::new(ddb.clone(), table.to_owned());
    let reason = reason.unwrap_or("disabled by an operator");
    subscriptions::set_enabled(&store, Scope::Operator, id, enabled, reason)
        .await
        .with_context(|| format!("updating `{id}`"))?;
    Ok(())
}

/// Deletes an item of the family (through the one config writer).
pub async fn delete(
    ddb: &aws_sdk_dynamodb::Client,
    table: &str,
    family: Family,
    id: &str,
) -> Result<()> {
    use hubhooks::ports::{ConfigStore, Expect};
    get_in(ddb, table, family, id).await?;
    let store = hubhooks::adapters::config_writer::ConfigWriter::new(ddb.clone(), table.to_owned());
    store
        .delete(id, Expect::Any)
        .await
        .with_context(|| format!("deleting `{id}`"))?;
    Ok(())
}

/// Items of a file, all of the family (a mapping in a subscriptions file is
/// refused, naming the item).
pub fn read_family(path: &std::path::Path, family: Family) -> Result<Vec<ConfigItem>> {
    let items = crate::config::read_items(path)?;
    let strays: Vec<String> = items
        .iter()
        .filter_map(|i| {
            let kind = serde_json::to_value(i).ok()?["kind"].as_str()?.to_owned();
            (!family.has(&kind)).then(|| {
                format!(
                    "{}: config item `{}` is a {kind}, not one of {}",
                    path.display(),
                    i.id(),
                    family.kinds().join(", ")
                )
            })
        })
        .collect();
    if !strays.is_empty() {
        bail!("{}", strays.join("\n"));
    }
    Ok(items)
}

/// One line per item: id, kind, party, state, what it does.
pub fn render(items: &[Value]) -> String {
    let mut rows = Vec::new();
    for v in items {
        let raw = RawConfigItem {
            id: v["id"].as_str().unwrap_or("?").to_owned(),
            value: v.clone(),
        };
        let (state, detail) = match ConfigItem::parse(&raw) {
            Err(e) => ("INVALID".to_owned(), e.to_string()),
            Ok(ConfigItem::Subscription(s)) => (
                if s.active() { "enabled" } else { "disabled" }.to_owned(),
                format!(
                    "{}{}",
                    s.event_types
                        .iter()
                        .map(|t| t.as_str())
                        .collect::<Vec<_>>()
                        .join(","),
                    match (s.disabled_reason, s.failing_since) {
                        (Some(r), _) => format!(" (disabled: {r})"),
                        (None, Some(since)) => format!(" (failing since {since})"),
                        (None, None) => String::new(),
                    }
                ),
            ),
            Ok(ConfigItem::NoticeDestination(n)) => (
                "valid".into(),
                match &n.destination {
                    hubhooks::config::Destination::Http(h) => {
                        format!("notices to {}", hubhooks::masked_url::masked_text(&h.url))
                    }
                    hubhooks::config::Destination::Amqp(_) => "notices".into(),
                },
            ),
            Ok(ConfigItem::StatusMapping(m)) => {
                ("valid".into(), format!("{} keys mapped", m.statuses.len()))
            }
            Ok(ConfigItem::BlackList(b)) => (
                "valid".into(),
                format!("{} hidden", crate::output::plural(b.keys.len(), "key")),
            ),
            Ok(ConfigItem::InvoiceSettings(i)) => (
                "valid".into(),
                format!(
                    "sent to the client: {}",
                    i.statuses
                        .iter()
                        .filter(|(_, s)| s.send_to_client)
                        .map(|(k, _)| k.as_str())
                        .collect::<Vec<_>>()
                        .join(",")
                ),
            ),
        };
        let party = if v["party"].is_object() {
            format!(
                "{}:{}",
                v["party"]["type"].as_str().unwrap_or("?"),
                v["party"]["id"]
            )
        } else if !v["partnerId"].is_null() {
            format!("partner:{}", v["partnerId"])
        } else {
            format!("provider:{}", v["providerId"])
        };
        rows.push(vec![
            raw.id,
            v["kind"].as_str().unwrap_or("?").to_owned(),
            party,
            state,
            detail,
        ]);
    }
    crate::output::table(&["ID", "KIND", "PARTY", "STATE", "DETAIL"], rows)
}
