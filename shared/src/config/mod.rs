//! Config items: subscriptions, status mappings and black lists, as stored in
//! the config table (one item each, discriminated by `kind`).
//!
//! Every item is parsed and validated on its own: an invalid item becomes a
//! [`ConfigError`] naming the item and the field, and every other item keeps
//! working.
mod auth;
mod destination;
mod set;

pub use auth::{Auth, validate_secret_name};
pub use destination::{AmqpDestination, Destination, HttpDestination, HttpMethod};
pub use set::ConfigSet;

use crate::event::EventType;
use crate::event::Version;
use crate::party::Party;
use crate::transition::TransitionRule;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Attempts of a subscription that does not say (seed 003 uses 3).
pub const DEFAULT_MAX_ATTEMPTS: u32 = 8;
/// The most attempts a subscription may ask for; the delivery queue's
/// redrive limit (template `MaxReceiveCount`) sits above it as a safety net.
pub const MAX_ATTEMPTS_LIMIT: u32 = 20;

/// A config item as read from storage, before parsing: its id (for error
/// messages) and its attributes as JSON.
#[derive(Debug, Clone)]
pub struct RawConfigItem {
    pub id: String,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
// Items are parsed once per config refresh; their size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum ConfigItem {
    Subscription(Subscription),
    StatusMapping(StatusMapping),
    BlackList(BlackList),
    InvoiceSettings(InvoiceSettings),
}

impl ConfigItem {
    pub fn id(&self) -> &str {
        match self {
            ConfigItem::Subscription(s) => &s.id,
            ConfigItem::StatusMapping(m) => &m.id,
            ConfigItem::BlackList(b) => &b.id,
            ConfigItem::InvoiceSettings(i) => &i.id,
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
                    "missing (subscription, statusMapping, blackList or invoiceSettings)",
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
            "invoiceSettings" => parse_fields(&raw.id, value).map(ConfigItem::InvoiceSettings)?,
            other => {
                return Err(ConfigError::new(
                    &raw.id,
                    "kind",
                    format!(
                        "unknown kind `{other}` (known: subscription, statusMapping, blackList, invoiceSettings)"
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
            ConfigItem::InvoiceSettings(i) => i.validate(),
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

/// One entry of `eventTypes`: a type, or a wildcard registration (seed 003).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Registered {
    Type(EventType),
    /// Every type known when the subscription is written; expanded to the
    /// list when written (`hubhooks config put`), so types added later are
    /// not included.
    AllCurrent,
    /// Every type, including types added later.
    Any,
}

impl Registered {
    pub const ALL_CURRENT: &'static str = "allCurrent";
    pub const ANY: &'static str = "any";

    pub fn as_str(self) -> &'static str {
        match self {
            Registered::Type(t) => t.as_str(),
            Registered::AllCurrent => Self::ALL_CURRENT,
            Registered::Any => Self::ANY,
        }
    }
}

impl Serialize for Registered {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Registered {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match s.as_str() {
            Self::ALL_CURRENT => Ok(Registered::AllCurrent),
            Self::ANY => Ok(Registered::Any),
            other => other.parse().map(Registered::Type).map_err(|_| {
                serde::de::Error::custom(format!(
                    "unknown event type `{other}` (known: {}; or the wildcards allCurrent, any)",
                    EventType::known()
                ))
            }),
        }
    }
}

/// Settings for one type of a subscription, overriding the subscription's
/// (seed 000: "Each webhook type can have different URLs").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TypeSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<Destination>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<Version>,
}

/// Where and how one type of a subscription is delivered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Route<'a> {
    pub version: Version,
    pub destination: &'a Destination,
}

/// A party's subscription: which webhook types go where, in which version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Subscription {
    pub id: String,
    /// The party that receives these webhooks.
    pub party: Party,
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Types, or one wildcard: `allCurrent` or `any`.
    pub event_types: Vec<Registered>,
    /// Payload version for every type; absent, v3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<Version>,
    /// Where every type goes unless `perType` says otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<Destination>,
    /// Per-type destination and version.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub per_type: BTreeMap<EventType, TypeSettings>,
    /// Conditions for `statusTransition`; any one matching fires it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transitions: Vec<TransitionRule>,
    /// Attempts per delivery before it goes to the dead-letter queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    /// Token, bearer and signing secrets, by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<Auth>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Set by the sender when a receiver answered `410 Gone`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_at: Option<crate::timestamp::Timestamp>,
}

impl Subscription {
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS)
    }

    fn has(&self, r: Registered) -> bool {
        self.event_types.contains(&r)
    }

    /// Whether the subscription registers `event_type` (enabled or not).
    pub fn registers(&self, event_type: EventType) -> bool {
        self.has(Registered::Any)
            || self.has(Registered::AllCurrent)
            || self.has(Registered::Type(event_type))
    }

    /// The types registered, with `any` and `allCurrent` as today's types.
    pub fn registered_types(&self) -> Vec<EventType> {
        EventType::ALL
            .into_iter()
            .filter(|t| self.registers(*t))
            .collect()
    }

    /// Whether the subscription is enabled and registers `event_type`. A
    /// status transition also needs a condition to match (see `transitions`).
    pub fn wants(&self, event_type: EventType) -> bool {
        self.enabled && self.registers(event_type)
    }

    /// Replaces `allCurrent` by the list of today's types. Done when a
    /// subscription is written, so it keeps meaning "the types of that day".
    /// A status transition only fires on a condition, so without
    /// `transitions` it is left out.
    pub fn expand_all_current(&mut self) {
        if self.has(Registered::AllCurrent) {
            self.event_types = EventType::ALL
                .into_iter()
                .filter(|t| *t != EventType::StatusTransition || !self.transitions.is_empty())
                .map(Registered::Type)
                .collect();
        }
    }

    pub fn is_expanded(&self) -> bool {
        !self.has(Registered::AllCurrent)
    }

    /// Destination and version for one type, when the subscription wants it.
    pub fn route(&self, event_type: EventType) -> Option<Route<'_>> {
        if !self.wants(event_type) {
            return None;
        }
        let per = self.per_type.get(&event_type);
        let destination = per
            .and_then(|p| p.destination.as_ref())
            .or(self.destination.as_ref())?;
        let version = per
            .and_then(|p| p.version)
            .or(self.version)
            .unwrap_or_default();
        Some(Route {
            version,
            destination,
        })
    }

    /// (type, version) pairs in deprecated versions, for the logs.
    pub fn deprecated_versions(&self) -> Vec<(EventType, Version)> {
        self.registered_types()
            .into_iter()
            .filter_map(|t| {
                let v = self
                    .per_type
                    .get(&t)
                    .and_then(|p| p.version)
                    .or(self.version)
                    .unwrap_or_default();
                v.is_deprecated().then_some((t, v))
            })
            .collect()
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let err = |field: String, message: String| Err(ConfigError::new(&self.id, field, message));
        require_id(&self.id)?;
        require_party(&self.id, "party", &self.party)?;
        if self.event_types.is_empty() {
            return err(
                "eventTypes".into(),
                "must list at least one event type (or allCurrent, or any)".into(),
            );
        }
        let mut seen = BTreeSet::new();
        for (i, r) in self.event_types.iter().enumerate() {
            if !seen.insert(r) {
                return err(
                    format!("eventTypes[{i}]"),
                    format!("`{}` is listed twice", r.as_str()),
                );
            }
            if matches!(r, Registered::Any | Registered::AllCurrent) && self.event_types.len() > 1 {
                return err(
                    format!("eventTypes[{i}]"),
                    format!("`{}` covers every type: list it alone", r.as_str()),
                );
            }
        }
        for (t, settings) in &self.per_type {
            let field = format!("perType.{t}");
            if !self.registers(*t) {
                return err(field, format!("`{t}` is not in eventTypes"));
            }
            if settings.destination.is_none() && settings.version.is_none() {
                return err(field, "give a destination, a version or both".into());
            }
            if let Some(d) = &settings.destination {
                d.validate()
                    .or_else(|(f, m)| err(format!("{field}.destination.{f}"), m))?;
            }
        }
        match &self.destination {
            Some(d) => d
                .validate()
                .or_else(|(f, m)| err(format!("destination.{f}"), m))?,
            None => {
                if self.has(Registered::Any) {
                    return err(
                        "destination".into(),
                        "missing: `any` covers types added later, which need a default destination"
                            .into(),
                    );
                }
                if let Some(t) = self
                    .registered_types()
                    .into_iter()
                    .find(|t| self.per_type.get(t).is_none_or(|p| p.destination.is_none()))
                {
                    return err(
                        "destination".into(),
                        format!("missing, and perType gives none for `{t}`"),
                    );
                }
            }
        }
        self.validate_versions()?;
        if let Some(n) = self.max_attempts
            && !(1..=MAX_ATTEMPTS_LIMIT).contains(&n)
        {
            return err(
                "maxAttempts".into(),
                format!("must be between 1 and {MAX_ATTEMPTS_LIMIT}"),
            );
        }
        if let Some(auth) = &self.auth {
            auth.validate().or_else(|(f, m)| {
                err(
                    if f.is_empty() {
                        "auth".into()
                    } else {
                        format!("auth.{f}")
                    },
                    m,
                )
            })?;
        }
        let transition = self.registers(EventType::StatusTransition);
        if self.has(Registered::Type(EventType::StatusTransition)) && self.transitions.is_empty() {
            return err(
                "transitions".into(),
                "statusTransition needs at least one condition ({\"to\": K}, {\"from\": K} or {\"from\": K, \"to\": L})".into(),
            );
        }
        if !transition && !self.transitions.is_empty() {
            return err(
                "transitions".into(),
                "conditions are given but statusTransition is not in eventTypes".into(),
            );
        }
        for (i, rule) in self.transitions.iter().enumerate() {
            rule.validate()
                .or_else(|m| err(format!("transitions[{i}]"), m))?;
        }
        Ok(())
    }

    /// Every registered type must exist in the version asked for it.
    fn validate_versions(&self) -> Result<(), ConfigError> {
        let available = |t: EventType| {
            Version::of(t)
                .iter()
                .map(|v| v.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        for (t, settings) in &self.per_type {
            if let Some(v) = settings.version
                && !v.supports(*t)
            {
                return Err(ConfigError::new(
                    &self.id,
                    format!("perType.{t}.version"),
                    format!("`{t}` has no {v} payload (it exists in {})", available(*t)),
                ));
            }
        }
        let Some(v) = self.version else {
            return Ok(());
        };
        if self.has(Registered::Any) && v != Version::V3 {
            return Err(ConfigError::new(
                &self.id,
                "version",
                format!(
                    "`any` also covers types that have no {v} payload; keep v3 here and set older versions in perType"
                ),
            ));
        }
        for t in self.registered_types() {
            let overridden = self.per_type.get(&t).is_some_and(|p| p.version.is_some());
            if !overridden && !v.supports(t) {
                return Err(ConfigError::new(
                    &self.id,
                    "version",
                    format!(
                        "`{t}` has no {v} payload (it exists in {}); set its version in perType",
                        available(t)
                    ),
                ));
            }
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

/// A service provider's invoice statuses (its settings in the hub): an
/// invoice webhook goes to the partner only while the invoice is in a status
/// flagged `sendToClient`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InvoiceSettings {
    pub id: String,
    pub provider_id: i64,
    pub statuses: BTreeMap<String, InvoiceStatus>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InvoiceStatus {
    /// The "Send to client" flag.
    pub send_to_client: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl InvoiceSettings {
    pub fn sends(&self, status: &str) -> bool {
        self.statuses.get(status).is_some_and(|s| s.send_to_client)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        require_id(&self.id)?;
        if self.provider_id <= 0 {
            return Err(ConfigError::new(
                &self.id,
                "providerId",
                "must be a positive hub id",
            ));
        }
        if self.statuses.keys().any(|k| k.trim().is_empty()) {
            return Err(ConfigError::new(
                &self.id,
                "statuses",
                "a status key must not be empty",
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
            vec![
                Registered::Type(EventType::NewStatus),
                Registered::Type(EventType::StatusTransition)
            ]
        );
        let Some(Destination::Http(h)) = &s.destination else {
            panic!("no destination")
        };
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
            "config item `sub-1`, field `eventTypes[1]`: unknown event type `newThing` (known: newStatus, statusTransition, newCostProposal, newMessage, messageConfirmed, newFile, caseUpdated, invoice; or the wildcards allCurrent, any)"
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
            "config item `sub-1`, field `evenTypes`: unknown field `evenTypes`, expected one of `id`, `party`, `enabled`, `eventTypes`, `version`, `destination`, `perType`, `transitions`, `maxAttempts`, `auth`, `description`, `disabledReason`, `disabledAt`"
        );
        assert_eq!(
            error_of(|v| v["kind"] = json!("webhook")),
            "config item `sub-1`, field `kind`: unknown kind `webhook` (known: subscription, statusMapping, blackList, invoiceSettings)"
        );
    }

    #[test]
    fn patch_is_also_accepted_as_path_like_the_seed_writes_it() {
        let mut v = sub();
        v["destination"]["method"] = json!("PATH");
        let ConfigItem::Subscription(s) = ConfigItem::parse(&raw(v)).unwrap() else {
            panic!()
        };
        let Some(Destination::Http(h)) = &s.destination else {
            panic!("no destination")
        };
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

    fn parsed(v: Value) -> Subscription {
        match ConfigItem::parse(&raw(v)) {
            Ok(ConfigItem::Subscription(s)) => s,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn per_type_destinations_and_versions_resolve() {
        let s = parsed(json!({
            "id": "s", "kind": "subscription", "party": {"type": "partner", "id": 1},
            "eventTypes": ["newStatus", "newMessage", "caseUpdated"], "version": "v1",
            "destination": {"method": "POST", "url": "https://a.example/default"},
            "perType": {
                "newMessage": {"destination": {"method": "PUT", "url": "https://a.example/messages"}},
                "caseUpdated": {"version": "v3"}
            }
        }));
        let url = |t| match s.route(t) {
            Some(Route {
                version,
                destination: Destination::Http(h),
            }) => (version, h.url.as_str()),
            other => panic!("{t} not routed over HTTP: {other:?}"),
        };
        assert_eq!(
            url(EventType::NewStatus),
            (Version::V1, "https://a.example/default")
        );
        assert_eq!(
            url(EventType::NewMessage),
            (Version::V1, "https://a.example/messages")
        );
        assert_eq!(
            url(EventType::CaseUpdated),
            (Version::V3, "https://a.example/default")
        );
        assert!(s.route(EventType::Invoice).is_none());
        assert_eq!(
            s.deprecated_versions(),
            vec![
                (EventType::NewStatus, Version::V1),
                (EventType::NewMessage, Version::V1)
            ]
        );
    }

    #[test]
    fn versions_a_type_does_not_have_are_refused() {
        let base = || {
            json!({"id": "s", "kind": "subscription", "party": {"type": "partner", "id": 1},
                   "destination": {"method": "POST", "url": "https://a.example/"}})
        };
        let err = |patch: Value| {
            let mut v = base();
            v.as_object_mut()
                .unwrap()
                .extend(patch.as_object().unwrap().clone());
            ConfigItem::parse(&raw(v)).unwrap_err().to_string()
        };
        assert_eq!(
            err(
                json!({"eventTypes": ["statusTransition"], "transitions": [{"to": "x"}], "version": "v2"})
            ),
            "config item `s`, field `version`: `statusTransition` has no v2 payload (it exists in v3); set its version in perType"
        );
        assert_eq!(
            err(
                json!({"eventTypes": ["caseUpdated"], "perType": {"caseUpdated": {"version": "v1"}}})
            ),
            "config item `s`, field `perType.caseUpdated.version`: `caseUpdated` has no v1 payload (it exists in v2, v3)"
        );
        assert_eq!(
            err(json!({"eventTypes": ["newStatus"], "version": "v4"})),
            "config item `s`, field `version`: unknown variant `v4`, expected one of `v1`, `v2`, `v3`"
        );
        assert_eq!(
            err(json!({"eventTypes": ["any"], "version": "v1"})),
            "config item `s`, field `version`: `any` also covers types that have no v1 payload; keep v3 here and set older versions in perType"
        );
        assert_eq!(
            err(json!({"eventTypes": ["newStatus"], "perType": {"invoice": {"version": "v3"}}})),
            "config item `s`, field `perType.invoice`: `invoice` is not in eventTypes"
        );
        assert_eq!(
            err(json!({"eventTypes": ["newStatus", "any"]})),
            "config item `s`, field `eventTypes[1]`: `any` covers every type: list it alone"
        );
    }

    #[test]
    fn every_type_needs_a_destination() {
        let v = json!({"id": "s", "kind": "subscription", "party": {"type": "partner", "id": 1},
            "eventTypes": ["newStatus", "newFile"],
            "perType": {"newStatus": {"destination": {"method": "POST", "url": "https://a.example/s"}}}});
        assert_eq!(
            ConfigItem::parse(&raw(v)).unwrap_err().to_string(),
            "config item `s`, field `destination`: missing, and perType gives none for `newFile`"
        );
        let v = json!({"id": "s", "kind": "subscription", "party": {"type": "partner", "id": 1},
            "eventTypes": ["newFile"],
            "perType": {"newFile": {"destination": {"method": "POST", "url": "gopher://x"}}}});
        assert_eq!(
            ConfigItem::parse(&raw(v)).unwrap_err().to_string(),
            "config item `s`, field `perType.newFile.destination.url`: scheme must be http or https, got `gopher`"
        );
    }

    #[test]
    fn wildcards_any_and_all_current() {
        let any = parsed(
            json!({"id": "s", "kind": "subscription", "party": {"type": "partner", "id": 1},
            "eventTypes": ["any"], "destination": {"method": "POST", "url": "https://a.example/"}}),
        );
        assert_eq!(any.registered_types(), EventType::ALL.to_vec());
        // Without conditions a transition never fires, but it is no error.
        assert!(any.transitions.is_empty());
        let mut all = parsed(
            json!({"id": "s", "kind": "subscription", "party": {"type": "partner", "id": 1},
            "eventTypes": ["allCurrent"], "destination": {"method": "POST", "url": "https://a.example/"}}),
        );
        assert!(!all.is_expanded());
        let mut with_rules = all.clone();
        all.expand_all_current();
        assert_eq!(
            all.event_types.len(),
            7,
            "no statusTransition without conditions"
        );
        assert!(!all.registers(EventType::StatusTransition));
        all.validate().unwrap();
        with_rules.transitions = vec![serde_json::from_value(json!({"to": "final"})).unwrap()];
        with_rules.expand_all_current();
        assert_eq!(
            with_rules.event_types,
            EventType::ALL.map(Registered::Type).to_vec()
        );
        with_rules.validate().unwrap();
        assert_eq!(
            serde_json::to_value(&all).unwrap()["eventTypes"][6],
            json!("invoice")
        );
        let disabled = parsed(
            json!({"id": "s", "kind": "subscription", "party": {"type": "partner", "id": 1},
            "enabled": false, "eventTypes": ["any"], "destination": {"method": "POST", "url": "https://a.example/"}}),
        );
        assert!(disabled.route(EventType::NewStatus).is_none());
    }

    #[test]
    fn invoice_settings_validate() {
        let ok = raw(
            json!({"id": "inv", "kind": "invoiceSettings", "providerId": 1004,
            "statuses": {"ready": {"sendToClient": true}, "draft": {"sendToClient": false}}}),
        );
        let ConfigItem::InvoiceSettings(i) = ConfigItem::parse(&ok).unwrap() else {
            panic!()
        };
        assert!(i.sends("ready"));
        assert!(!i.sends("draft"));
        assert!(!i.sends("unknown"));
        let bad = raw(
            json!({"id": "inv", "kind": "invoiceSettings", "providerId": 1004,
            "statuses": {"ready": {"sendToClient": "yes"}}}),
        );
        assert_eq!(
            ConfigItem::parse(&bad).unwrap_err().to_string(),
            "config item `inv`, field `statuses.ready.sendToClient`: invalid type: string \"yes\", expected a boolean"
        );
    }

    #[test]
    fn amqp_destinations_name_their_uri_secret_and_auth_names_secrets() {
        let ok = parsed(
            json!({"id": "s", "kind": "subscription", "party": {"type": "partner", "id": 1},
            "eventTypes": ["newStatus"], "maxAttempts": 3,
            "auth": {"bearerSecret": "acme/bearer", "signingSecret": "acme-whsec"},
            "destination": {"transport": "amqp", "uriSecret": "acme-broker", "routingKey": "hub-events"}}),
        );
        assert_eq!(ok.max_attempts(), 3);
        let Some(Destination::Amqp(a)) = &ok.destination else {
            panic!()
        };
        assert_eq!(a.exchange, "");
        let err = |patch: Value| {
            let mut v = json!({"id": "s", "kind": "subscription", "party": {"type": "partner", "id": 1},
                "eventTypes": ["newStatus"],
                "destination": {"transport": "amqp", "uriSecret": "acme-broker", "routingKey": "q"}});
            v.as_object_mut()
                .unwrap()
                .extend(patch.as_object().unwrap().clone());
            ConfigItem::parse(&raw(v)).unwrap_err().to_string()
        };
        assert_eq!(
            err(
                json!({"destination": {"transport": "amqp", "uri": "amqp://guest:guest@h/", "routingKey": "q"}})
            ),
            "config item `s`, field `destination.uri`: unknown field `uri`, expected one of `uriSecret`, `exchange`, `routingKey`, `timeoutMs`"
        );
        assert_eq!(
            err(json!({"auth": {"signingSecret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}})),
            "config item `s`, field `auth.signingSecret`: must name a secret in the secrets table (letters, digits, `._-/`, at most 128), not hold its value"
        );
        assert_eq!(
            err(json!({"auth": {}})),
            "config item `s`, field `auth`: name at least one of xTokenSecret, bearerSecret, signingSecret"
        );
        assert_eq!(
            err(json!({"maxAttempts": 0})),
            "config item `s`, field `maxAttempts`: must be between 1 and 20"
        );
        assert_eq!(
            err(
                json!({"destination": {"method": "POST", "url": "https://a.example/", "headers": {"Authorization": "Bearer x"}}})
            ),
            "config item `s`, field `destination.headers.Authorization`: carries a secret: name it in auth.bearerSecret or auth.xTokenSecret instead, so its value stays out of config and queues"
        );
    }
}
