//! Config items of every kind (subscriptions, status mappings, black
//! lists, invoice settings, notice destinations), one at a time, as an
//! operator writes them: the rules of `hubhooks config put` — parsed and
//! validated naming the field, no conflict with what is stored, no URL
//! that needs encoding, no secret named that does not exist — then written
//! conditionally, a subscription keeping its operational state.
use super::OpError;
use crate::config::{ConfigError, ConfigItem, RawConfigItem};
use crate::party::Party;
use crate::ports::{ConfigSource, ConfigStore, Expect, SecretStore, StoredItem, Written};

/// The parties an item concerns: whose it is, or whose statuses or
/// invoices it speaks of.
pub fn parties(item: &ConfigItem) -> Vec<Party> {
    match item {
        ConfigItem::Subscription(s) => vec![s.party],
        ConfigItem::BlackList(b) => vec![b.party],
        ConfigItem::NoticeDestination(n) => vec![n.party],
        ConfigItem::StatusMapping(m) => std::iter::once(Party::partner(m.partner_id.0))
            .chain(m.provider_id.map(|p| Party::provider(p.0)))
            .collect(),
        ConfigItem::InvoiceSettings(i) => vec![Party::provider(i.provider_id.0)],
    }
}

/// Reads an item from its JSON as stored or sent: the error names the field.
pub fn read(id: &str, value: serde_json::Value) -> Result<ConfigItem, OpError> {
    Ok(ConfigItem::parse(&RawConfigItem {
        id: id.to_owned(),
        value,
    })?)
}

/// The stored item under `id`.
pub async fn get(store: &dyn ConfigStore, id: &str) -> Result<StoredItem, OpError> {
    store.item(id).await?.ok_or_else(|| OpError::NotFound {
        what: "config item",
        id: id.to_owned(),
    })
}

/// Every stored item of `kind` (any, if none) that concerns `party` (any,
/// if none), by id. Items that no longer parse are listed too (an operator
/// must see them to fix them), under any party filter but none.
pub async fn list(
    source: &dyn ConfigSource,
    kind: Option<&str>,
    party: Option<Party>,
) -> Result<Vec<RawConfigItem>, OpError> {
    let mut out: Vec<RawConfigItem> = source
        .load()
        .await?
        .into_iter()
        .filter(|raw| kind.is_none_or(|k| raw.value["kind"].as_str() == Some(k)))
        .filter(|raw| {
            party.is_none_or(|p| {
                ConfigItem::parse(raw).is_ok_and(|item| parties(&item).contains(&p))
            })
        })
        .collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// What stands against writing `item` now: a conflict with the stored
/// items, a URL that needs encoding, a secret named that does not exist.
pub async fn admit(
    source: &dyn ConfigSource,
    secrets: &dyn SecretStore,
    item: &ConfigItem,
) -> Result<(), OpError> {
    let one = std::slice::from_ref(item);
    if let Some(e) = crate::config::unencoded_urls(one).into_iter().next() {
        return Err(e.into());
    }
    let stored = source.load().await?;
    if let Some(e) = crate::config::conflicts(&stored, one).into_iter().next() {
        return Err(e.into());
    }
    for (field, name) in crate::config::secret_names(item) {
        if secrets.secret(name).await?.is_none_or(|v| v.is_empty()) {
            return Err(ConfigError::new(
                item.id(),
                field,
                format!("secret `{name}` does not exist (hubhooks secret generate {name})"),
            )
            .into());
        }
    }
    Ok(())
}

/// Writes `item` (admitted first) if what is stored is what `expect`
/// says; its new entity tag.
pub async fn put(
    store: &dyn ConfigStore,
    source: &dyn ConfigSource,
    secrets: &dyn SecretStore,
    item: &ConfigItem,
    expect: Expect,
) -> Result<String, OpError> {
    admit(source, secrets, item).await?;
    match store.write(item, expect).await? {
        Written::Done(etag) => Ok(etag.unwrap_or_default()),
        Written::Conflict => Err(OpError::Conflict(item.id().to_owned())),
    }
}

/// Deletes the item under `id` if what is stored is what `expect` says.
pub async fn delete(store: &dyn ConfigStore, id: &str, expect: Expect) -> Result<(), OpError> {
    get(store, id).await?;
    match store.delete(id, expect).await? {
        Written::Done(_) => Ok(()),
        Written::Conflict => Err(OpError::Conflict(id.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(value: serde_json::Value) -> ConfigItem {
        let id = value["id"].as_str().unwrap().to_owned();
        read(&id, value).unwrap()
    }

    #[test]
    fn an_item_concerns_the_parties_it_names() {
        let cases = [
            (
                json!({"id": "m", "kind": "statusMapping", "partnerId": 1413, "providerId": 1004,
                       "statuses": {"a": {"key": "b"}}}),
                vec![Party::partner(1413), Party::provider(1004)],
            ),
            (
                json!({"id": "m", "kind": "statusMapping", "partnerId": 1413, "statuses": {"a": {"key": "b"}}}),
                vec![Party::partner(1413)],
            ),
            (
                json!({"id": "bl", "kind": "blackList", "party": {"type": "provider", "id": 7}, "keys": ["x"]}),
                vec![Party::provider(7)],
            ),
            (
                json!({"id": "i", "kind": "invoiceSettings", "providerId": 1004,
                       "statuses": {"paid": {"sendToClient": true}}}),
                vec![Party::provider(1004)],
            ),
        ];
        for (value, want) in cases {
            assert_eq!(parties(&item(value.clone())), want, "{value}");
        }
    }
}
