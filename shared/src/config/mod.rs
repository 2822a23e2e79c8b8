//! Config items: subscriptions, status mappings and black lists, as stored in
//! the config table (one item each, discriminated by `kind`).
//!
//! Every item is parsed and validated on its own: an invalid item becomes a
//! [`ConfigError`] naming the item and the field, and every other item keeps
//! working.
mod destination;
mod set;

pub use destination::{Destination, HttpDestination, HttpMethod};
pub use set::ConfigSet;

use crate::event::EventType;
use crate::party::Party;
use crate::transition::TransitionRule;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A config item as read from storage, before parsing: its id (for error
/// messages) and its attributes as JSON.
#[derive(Debug, Clone)]
pub struct RawConfigItem {
    pub id: String,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum ConfigItem {
    Subscription(Subscription),
    StatusMapping(StatusMapping),
    BlackList(BlackList),
}

impl ConfigItem {
    pub fn id(&self) -> &str {
        match self {
            ConfigItem::Subscription(s) => &s.id,
            ConfigItem::StatusMapping(m) => &m.id,
            ConfigItem::BlackList(b) => &b.id,
        }
    }

    /// Parses and validates one item. The error names the item and the field.
    pub fn parse(raw: &RawConfigItem) -> Result<ConfigItem, ConfigError> {
        let Some(fields) = raw.value.as_object() else {
            return Err(ConfigError::new(
                &raw.id,
                "",
                "an item must be a map of attributes",
            ));
        };
        let mut fields = fields.clone();
        let kind = match fields.remove("kind") {
            Some(Value::String(k)) => k,
            None => {
                return Err(ConfigError::new(
                    &raw.id,
                    "kind",
                    "missing (subscription, statusMapping or blackList)",
                ));
            }
            Some(other) => {
                return Err(ConfigError::new(
                    &raw.id,
                    "kind",
                    format!("must be a string, got {other}"),
                ));
            }
        };
        let value = Value::Object(fields);
        let item = match kind.as_str() {
            "subscription" => parse_fields(&raw.id, value).map(ConfigItem::Subscription)?,
            "statusMapping" => parse_fields(&raw.id, value).map(ConfigItem::StatusMapping)?,
            "blackList" => parse_fields(&raw.id, value).map(ConfigItem::BlackList)?,
            other => {
                return Err(ConfigError::new(
                    &raw.id,
                    "kind",
                    format!(
                        "unknown kind `{other}` (known: subscription, statusMapping, blackList)"
                    ),
                ));
            }
        };
        if item.id() != raw.id {
            return Err(ConfigError::new(
                &raw.id,
                "id",
                "does not match the item's key",
            ));
        }
        item.validate()?;
        Ok(item)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        match self {
            ConfigItem::Subscription(s) => s.validate(),
            ConfigItem::StatusMapping(m) => m.validate(),
            ConfigItem::BlackList(b) => b.validate(),
        }
    }
}

/// Deserializes one item's fields; the error carries the field path
/// (`destination.url`, `eventTypes[1]`). Variants are parsed one by one
/// because serde's tagged enums lose the path.
fn parse_fields<T: serde::de::DeserializeOwned>(id: &str, value: Value) -> Result<T, ConfigError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        let (path, message) = match destination::split_nested(&message) {
            Some((".", msg)) => (path, msg.to_owned()),
            Some((inner, msg)) => (format!("{path}.{inner}"), msg.to_owned()),
            None => (path, message),
        };
        ConfigError::new(id, if path == "." { String::new() } else { path }, message)
    })
}

/// A problem with one config item: which item, which field, what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    pub item: String,
    pub field: String,
    pub message: String,
}

impl ConfigError {
    pub fn new(item: &str, field: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            item: item.to_owned(),
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "config item `{}`: {}", self.item, self.message)
        } else {
            write!(
                f,
                "config item `{}`, field `{}`: {}",
                self.item, self.field, self.message
            )
        }
    }
}

fn default_true() -> bool {
    true
}

fn require_id(id: &str) -> Result<(), ConfigError> {
    if id.trim().is_empty() {
        return Err(ConfigError::new(id, "id", "must not be empty"));
    }
    Ok(())
}

fn require_party(item: &str, field: &str, party: &Party) -> Result<(), ConfigError> {
    if party.id <= 0 {
        return Err(ConfigError::new(
            item,
            format!("{field}.id"),
            "must be a positive hub id",
        ));
    }
    Ok(())
}

/// A party's subscription: which webhook types go where.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Subscription {
    pub id: String,
    /// The party that receives these webhooks.
    pub party: Party,
    #[serde(default = "default_true")]
    pub enabled: bool,
    pub event_types: Vec<EventType>,
    pub destination: Destination,
    /// Conditions for `statusTransition`; any one matching fires it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transitions: Vec<TransitionRule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl Subscription {
    pub fn wants(&self, event_type: EventType) -> bool {
        self.enabled && self.event_types.contains(&event_type)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        require_id(&self.id)?;
        require_party(&self.id, "party", &self.party)?;
        if self.event_types.is_empty() {
            return Err(ConfigError::new(
                &self.id,
                "eventTypes",
                "must list at least one event type",
            ));
        }
        let mut seen = BTreeSet::new();
        for (i, t) in self.event_types.iter().enumerate() {
            if !seen.insert(t) {
                return Err(ConfigError::new(
                    &self.id,
                    format!("eventTypes[{i}]"),
                    format!("`{t}` is listed twice"),
                ));
            }
        }
        self.destination.validate().map_err(|(field, message)| {
            ConfigError::new(&self.id, format!("destination.{field}"), message)
        })?;
        let wants_transition = self.event_types.contains(&EventType::StatusTransition);
        if wants_transition && self.transitions.is_empty() {
            return Err(ConfigError::new(
                &self.id,
                "transitions",
                "statusTransition needs at least one condition ({\"to\": K}, {\"from\": K} or {\"from\": K, \"to\": L})",
            ));
        }
        if !wants_transition && !self.transitions.is_empty() {
            return Err(ConfigError::new(
                &self.id,
                "transitions",
                "conditions are given but statusTransition is not in eventTypes",
            ));
        }
        for (i, rule) in self.transitions.iter().enumerate() {
            rule.validate()
                .map_err(|m| ConfigError::new(&self.id, format!("transitions[{i}]"), m))?;
        }
        Ok(())
    }
}

/// Provider status key → the partner's key (and name) for that status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StatusMapping {
    pub id: String,
    pub partner_id: i64,
    /// Limits the mapping to one provider's statuses; absent, it applies to
    /// every provider the partner works with. A provider-specific entry wins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_id: Option<i64>,
    pub statuses: BTreeMap<String, MappedStatus>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MappedStatus {
    pub key: String,
    /// The partner's name for the status; absent, the provider's name is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl StatusMapping {
    pub fn validate(&self) -> Result<(), ConfigError> {
        require_id(&self.id)?;
        if self.partner_id <= 0 {
            return Err(ConfigError::new(
                &self.id,
                "partnerId",
                "must be a positive hub id",
            ));
        }
        if matches!(self.provider_id, Some(p) if p <= 0) {
            return Err(ConfigError::new(
                &self.id,
                "providerId",
                "must be a positive hub id",
            ));
        }
        if self.statuses.is_empty() {
            return Err(ConfigError::new(
                &self.id,
                "statuses",
                "must map at least one status key",
            ));
        }
        for (from, to) in &self.statuses {
            if from.trim().is_empty() {
                return Err(ConfigError::new(
                    &self.id,
                    "statuses",
                    "a provider key must not be empty",
                ));
            }
            if to.key.trim().is_empty() {
                return Err(ConfigError::new(
                    &self.id,
                    format!("statuses.{from}.key"),
                    "must not be empty",
                ));
            }
        }
        Ok(())
    }
}

/// Status keys a party never sees: nothing fires for them and they are
/// skipped when finding the previous status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BlackList {
    pub id: String,
    pub party: Party,
    pub keys: BTreeSet<String>,
}

impl BlackList {
    pub fn validate(&self) -> Result<(), ConfigError> {
        require_id(&self.id)?;
        require_party(&self.id, "party", &self.party)?;
        if self.keys.iter().any(|k| k.trim().is_empty()) {
            return Err(ConfigError::new(
                &self.id,
                "keys",
                "a key must not be empty",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn raw(value: Value) -> RawConfigItem {
        RawConfigItem {
            id: value["id"].as_str().unwrap_or("?").to_owned(),
            value,
        }
    }

    fn sub() -> Value {
        json!({
            "id": "sub-1", "kind": "subscription",
            "party": {"type": "partner", "id": 1413},
            "eventTypes": ["newStatus", "statusTransition"],
            "destination": {"method": "POST", "url": "https://hooks.example.com/hub", "headers": {"X-Api-Key": "k"}},
            "transitions": [{"to": "final"}, {"from": "arrived", "to": "final"}]
        })
    }

    #[test]
    fn parses_a_full_subscription_with_defaults() {
        let ConfigItem::Subscription(s) = ConfigItem::parse(&raw(sub())).unwrap() else {
            panic!("not a subscription")
        };
        assert!(s.enabled);
        assert_eq!(s.party, Party::partner(1413));
        assert_eq!(
            s.event_types,
            vec![EventType::NewStatus, EventType::StatusTransition]
        );
        let Destination::Http(h) = &s.destination;
        assert_eq!(h.method, HttpMethod::Post);
        assert_eq!(h.headers["X-Api-Key"], "k");
    }

    fn error_of(mut patch: impl FnMut(&mut Value)) -> String {
        let mut v = sub();
        patch(&mut v);
        ConfigItem::parse(&raw(v)).unwrap_err().to_string()
    }

    #[test]
    fn errors_name_the_item_and_the_field() {
        assert_eq!(
            error_of(|v| v["eventTypes"][1] = json!("newThing")),
            "config item `sub-1`, field `eventTypes[1]`: unknown variant `newThing`, expected `newStatus` or `statusTransition`"
        );
        assert_eq!(
            error_of(|v| v["destination"]["url"] = json!("ftp://x")),
            "config item `sub-1`, field `destination.url`: scheme must be http or https, got `ftp`"
        );
        assert_eq!(
            error_of(|v| v["destination"]["method"] = json!("FETCH")),
            "config item `sub-1`, field `destination.method`: unknown variant `FETCH`, expected one of `GET`, `POST`, `PUT`, `PATCH`, `PATH`, `DELETE`"
        );
        assert_eq!(
            error_of(|v| v["destination"]["headers"]["X-Bad"] = json!("a\r\nInjected: 1")),
            "config item `sub-1`, field `destination.headers.X-Bad`: value must not contain CR, LF or other control characters"
        );
        assert_eq!(
            error_of(|v| v["transitions"] = json!([])),
            "config item `sub-1`, field `transitions`: statusTransition needs at least one condition ({\"to\": K}, {\"from\": K} or {\"from\": K, \"to\": L})"
        );
        assert_eq!(
            error_of(|v| v["transitions"][0] = json!({})),
            "config item `sub-1`, field `transitions[0]`: give `from`, `to` or both"
        );
        assert_eq!(
            error_of(|v| v["evenTypes"] = json!([])),
            "config item `sub-1`, field `evenTypes`: unknown field `evenTypes`, expected one of `id`, `party`, `enabled`, `eventTypes`, `destination`, `transitions`, `description`"
        );
        assert_eq!(
            error_of(|v| v["kind"] = json!("webhook")),
            "config item `sub-1`, field `kind`: unknown kind `webhook` (known: subscription, statusMapping, blackList)"
        );
    }

    #[test]
    fn patch_is_also_accepted_as_path_like_the_seed_writes_it() {
        let mut v = sub();
        v["destination"]["method"] = json!("PATH");
        let ConfigItem::Subscription(s) = ConfigItem::parse(&raw(v)).unwrap() else {
            panic!()
        };
        let Destination::Http(h) = &s.destination;
        assert_eq!(h.method, HttpMethod::Patch);
    }

    #[test]
    fn mapping_and_black_list_validate() {
        let m = raw(
            json!({"id": "m", "kind": "statusMapping", "partnerId": 1, "statuses": {"p": {"key": ""}}}),
        );
        assert_eq!(
            ConfigItem::parse(&m).unwrap_err().to_string(),
            "config item `m`, field `statuses.p.key`: must not be empty"
        );
        let b = raw(
            json!({"id": "b", "kind": "blackList", "party": {"type": "provider", "id": 0}, "keys": ["x"]}),
        );
        assert_eq!(
            ConfigItem::parse(&b).unwrap_err().to_string(),
            "config item `b`, field `party.id`: must be a positive hub id"
        );
    }
}
