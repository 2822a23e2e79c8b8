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
use serde_json::Value;

/// Whether a stored item concerns `party`: its subscriptions, black list
/// and notice destination, the status mappings of a partner (or of a
/// provider, for it), the invoice settings of a provider. Read off the
/// stored JSON, so an item that no longer parses is found too.
pub fn concerns(item: &Value, party: Party) -> bool {
    let id = Value::from(party.id);
    let kind = party.kind.to_string();
    item["party"]["type"].as_str() == Some(kind.as_str()) && item["party"]["id"] == id
        || (kind == "partner" && item["partnerId"] == id)
        || (kind == "provider" && (item["providerId"] == id))
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
/// if none), by id; items that no longer parse too (an operator must see
/// them to fix them).
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
        .filter(|raw| party.is_none_or(|p| concerns(&raw.value, p)))
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

    #[test]
    fn an_items_kind_is_the_one_it_is_written_with() {
        let items = [
            json!({"id": "s", "kind": "subscription", "party": {"type": "partner", "id": 1},
                   "eventTypes": ["newStatus"], "destination": {"method": "POST", "url": "https://x.example/"}}),
            json!({"id": "m", "kind": "statusMapping", "partnerId": 1, "statuses": {"a": {"key": "b"}}}),
            json!({"id": "b", "kind": "blackList", "party": {"type": "partner", "id": 1}, "keys": ["x"]}),
            json!({"id": "i", "kind": "invoiceSettings", "providerId": 1, "statuses": {"p": {"sendToClient": true}}}),
            json!({"id": "n", "kind": "noticeDestination", "party": {"type": "partner", "id": 1},
                   "destination": {"method": "POST", "url": "https://x.example/"}}),
        ];
        let kinds: Vec<&str> = items
            .iter()
            .map(|v| {
                let item = read(v["id"].as_str().unwrap(), v.clone()).unwrap();
                assert_eq!(serde_json::to_value(&item).unwrap()["kind"], v["kind"]);
                item.kind()
            })
            .collect();
        assert_eq!(kinds, crate::config::KINDS);
    }

    #[test]
    fn an_item_concerns_the_parties_it_names() {
        let (partner, provider) = (Party::partner(1413), Party::provider(1004));
        let cases = [
            (
                json!({"kind": "statusMapping", "partnerId": 1413, "providerId": 1004}),
                (true, true),
            ),
            (
                json!({"kind": "statusMapping", "partnerId": 1413}),
                (true, false),
            ),
            (
                json!({"kind": "blackList", "party": {"type": "provider", "id": 1004}}),
                (false, true),
            ),
            (
                json!({"kind": "blackList", "party": {"type": "provider", "id": 1413}}),
                (false, false),
            ),
            (
                json!({"kind": "invoiceSettings", "providerId": 1004}),
                (false, true),
            ),
            (
                json!({"kind": "subscription", "party": {"type": "partner", "id": 1413}}),
                (true, false),
            ),
        ];
        for (item, want) in cases {
            assert_eq!(
                (concerns(&item, partner), concerns(&item, provider)),
                want,
                "{item}"
            );
        }
    }
}
