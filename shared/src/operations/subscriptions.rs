//! Subscriptions: read, write, enable, disable, delete, within a scope.
use super::{OpError, Scope};
use crate::config::{ConfigItem, RawConfigItem, Subscription};
use crate::ids::SubscriptionId;
use crate::party::Party;
use crate::ports::{ConfigSource, ConfigStore, Expect, StoredItem, Written};

/// The party a stored item belongs to, if it says one.
pub fn owner(value: &serde_json::Value) -> Option<Party> {
    serde_json::from_value(value.get("party")?.clone()).ok()
}

/// The subscription stored under `id`, if the scope reaches it.
pub async fn get(store: &dyn ConfigStore, scope: Scope, id: &str) -> Result<StoredItem, OpError> {
    let not_found = || OpError::NotFound {
        what: "subscription",
        id: id.to_owned(),
    };
    let stored = store.item(id).await?.ok_or_else(not_found)?;
    let is_subscription = stored.value["kind"].as_str() == Some("subscription");
    if !is_subscription || !scope.reaches(owner(&stored.value)) {
        return Err(not_found());
    }
    Ok(stored)
}

/// The subscription as parsed (a stored item that no longer parses is
/// reported as invalid, naming the field).
pub fn parse(stored: &StoredItem) -> Result<Subscription, OpError> {
    let id = stored.value["id"].as_str().unwrap_or_default().to_owned();
    match ConfigItem::parse(&RawConfigItem {
        id: id.clone(),
        value: stored.value.clone(),
    })? {
        ConfigItem::Subscription(s) => Ok(s),
        _ => Err(OpError::NotFound {
            what: "subscription",
            id,
        }),
    }
}

/// Every subscription the scope reaches, as stored, by id.
pub async fn list(source: &dyn ConfigSource, scope: Scope) -> Result<Vec<RawConfigItem>, OpError> {
    let mut out: Vec<RawConfigItem> = source
        .load()
        .await?
        .into_iter()
        .filter(|raw| {
            raw.value["kind"].as_str() == Some("subscription") && scope.reaches(owner(&raw.value))
        })
        .collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// Writes `subscription` (validated first), keeping its operational state,
/// if what is stored is what `expect` says; the new entity tag. A party
/// writes only its own: the item's party must be the scope's, and an id of
/// another party's is as taken by nobody it can see (a conflict).
pub async fn write(
    store: &dyn ConfigStore,
    scope: Scope,
    subscription: Subscription,
    expect: Expect,
) -> Result<String, OpError> {
    let id = subscription.id.to_string();
    if !scope.reaches(Some(subscription.party)) {
        return Err(OpError::NotFound {
            what: "subscription",
            id,
        });
    }
    let item = ConfigItem::Subscription(subscription);
    item.validate()?;
    if expect != Expect::Absent {
        get(store, scope, &id).await?;
    }
    match store.write(&item, expect).await? {
        Written::Done(etag) => Ok(etag.unwrap_or_default()),
        Written::Conflict => Err(OpError::Conflict(id)),
    }
}

/// Enables a subscription again (its `disabledReason`, `disabledAt` and
/// `failingSince` gone) or disables it with `reason`.
pub async fn set_enabled(
    store: &dyn ConfigStore,
    scope: Scope,
    id: &str,
    enabled: bool,
    reason: &str,
) -> Result<(), OpError> {
    get(store, scope, id).await?;
    store
        .set_enabled(&SubscriptionId::new(id), enabled, reason)
        .await?;
    Ok(())
}

/// Deletes a subscription, if what is stored is what `expect` says.
pub async fn delete(
    store: &dyn ConfigStore,
    scope: Scope,
    id: &str,
    expect: Expect,
) -> Result<(), OpError> {
    get(store, scope, id).await?;
    match store.delete(id, expect).await? {
        Written::Done(_) => Ok(()),
        Written::Conflict => Err(OpError::Conflict(id.to_owned())),
    }
}
