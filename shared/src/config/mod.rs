//! Config items: subscriptions, status mappings and black lists, as stored in
//! the config table (one item each, discriminated by `kind`).
//!
//! Every item is parsed and validated on its own: an invalid item becomes a
//! [`ConfigError`] naming the item and the field, and every other item keeps
//! working.
mod admission;
mod auth;
mod black_list;
mod destination;
mod filter;
mod invoice_settings;
mod notice_destination;
mod oauth2;
mod retry;
mod set;
mod signature;
mod status_mapping;
mod subscription;

pub use crate::validation::FieldError;
pub use admission::{Admission, admit, conflicts, missing_secrets, secret_names, unencoded_urls};
pub use auth::{Auth, Mtls, SecretNameError, validate_secret_name};
pub use black_list::BlackList;
pub use destination::{AmqpDestination, Destination, HttpDestination, HttpMethod};
pub use filter::Filter;
pub use invoice_settings::{InvoiceSettings, InvoiceStatus};
pub use notice_destination::NoticeDestination;
pub use oauth2::{ClientAuth, OAuth2};
pub use retry::RetryDelays;
pub use set::ConfigSet;
pub use signature::{Encoding, Signature};
pub use status_mapping::{MappedStatus, StatusMapping};
pub use subscription::{Ordering, Registered, Subscription, TypeSettings};

use crate::party::Party;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// Attempts of a subscription that does not say (docs/receiving-webhooks.md, "Retries").
pub const DEFAULT_MAX_ATTEMPTS: u32 = 8;
/// The most attempts a subscription may ask for; the delivery queue's
/// redrive limit (template `MaxReceiveCount`) sits above it as a safety net.
pub const MAX_ATTEMPTS_LIMIT: u32 = 20;

/// The attribute the config writer sets to a fresh value at every write, so
/// a conditional write can tell that an item changed since it was read.
pub const REVISION: &str = "revision";

/// A config item as read from storage, before parsing: its id (for error
/// messages) and its attributes as JSON.
#[derive(Debug, Clone)]
pub struct RawConfigItem {
    pub id: String,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "camelCase")]
// Items are parsed once per config refresh; their size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum ConfigItem {
    Subscription(Subscription),
    StatusMapping(StatusMapping),
    BlackList(BlackList),
    InvoiceSettings(InvoiceSettings),
    NoticeDestination(NoticeDestination),
}

/// Every kind of config item, as its `kind` names it.
pub const KINDS: [&str; 5] = [
    "subscription",
    "statusMapping",
    "blackList",
    "invoiceSettings",
    "noticeDestination",
];

impl ConfigItem {
    /// Its `kind`, one of [`KINDS`].
    pub fn kind(&self) -> &'static str {
        match self {
            ConfigItem::Subscription(_) => KINDS[0],
            ConfigItem::StatusMapping(_) => KINDS[1],
            ConfigItem::BlackList(_) => KINDS[2],
            ConfigItem::InvoiceSettings(_) => KINDS[3],
            ConfigItem::NoticeDestination(_) => KINDS[4],
        }
    }

    pub fn id(&self) -> &str {
        match self {
            ConfigItem::Subscription(s) => &s.id,
            ConfigItem::StatusMapping(m) => &m.id,
            ConfigItem::BlackList(b) => &b.id,
            ConfigItem::InvoiceSettings(i) => &i.id,
            ConfigItem::NoticeDestination(n) => &n.id,
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
        // The store's own mark, not config (`adapters::config_writer`).
        fields.remove(REVISION);
        let kind = match fields.remove("kind") {
            Some(Value::String(k)) => k,
            None => {
                return Err(ConfigError::new(
                    &raw.id,
                    "kind",
                    "missing (subscription, statusMapping, blackList, invoiceSettings or noticeDestination)",
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
            "subscription" => {
                check_destinations(&raw.id, &value)?;
                parse_fields(&raw.id, value).map(ConfigItem::Subscription)?
            }
            "statusMapping" => parse_fields(&raw.id, value).map(ConfigItem::StatusMapping)?,
            "blackList" => parse_fields(&raw.id, value).map(ConfigItem::BlackList)?,
            "invoiceSettings" => parse_fields(&raw.id, value).map(ConfigItem::InvoiceSettings)?,
            "noticeDestination" => {
                check_destinations(&raw.id, &value)?;
                parse_fields(&raw.id, value).map(ConfigItem::NoticeDestination)?
            }
            other => {
                return Err(ConfigError::new(
                    &raw.id,
                    "kind",
                    format!(
                        "unknown kind `{other}` (known: subscription, statusMapping, blackList, invoiceSettings, noticeDestination)"
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
            ConfigItem::NoticeDestination(n) => n.validate(),
        }
    }
}

/// The JSON Schema of a config item, derived from the types the parser
/// reads: docs/config.schema.json is this, written out (`hubhooks config
/// schema`), for editors and other tools. The parser stays the judge: it
/// also checks what a schema cannot say (a version a type lacks, a
/// destination for every type, conditions for statusTransition).
pub fn json_schema() -> Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(ConfigItem)).unwrap_or_default();
    if let Value::Object(map) = &mut schema {
        map.insert("title".into(), "hubhooks config item".into());
        map.insert(
            "description".into(),
            "One item of the config table: a subscription, a status mapping, a black list, a provider's invoice settings or a party's notice destination, told apart by `kind`. Generated from the types hubhooks parses (`hubhooks config schema`); `hubhooks config validate` also checks what a schema cannot. See docs/data-contract.md."
                .into(),
        );
    }
    schema
}

/// Deserializes one item's fields; the error carries the field path
/// (`destination.url`, `eventTypes[1]`). Variants are parsed one by one
/// because serde's tagged enums lose the path.
fn parse_fields<T: serde::de::DeserializeOwned>(id: &str, value: Value) -> Result<T, ConfigError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        ConfigError::new(id, if path == "." { String::new() } else { path }, message)
    })
}

/// Reads a subscription's destinations (`destination`, `perType.<type>.
/// destination`) on their own first, so a problem inside one is reported
/// with its full path.
fn check_destinations(id: &str, fields: &Value) -> Result<(), ConfigError> {
    if let Some(d) = fields.get("destination") {
        destination::read(d.clone()).map_err(|e| e.under("destination").of_item(id))?;
    }
    if let Some(Value::Object(per_type)) = fields.get("perType") {
        for (t, settings) in per_type {
            if let Some(d) = settings.get("destination") {
                destination::read(d.clone()).map_err(|e| {
                    e.under("destination")
                        .under(&format!("perType.{t}"))
                        .of_item(id)
                })?;
            }
        }
    }
    Ok(())
}

/// A problem with one config item: which item, which field, what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    pub item: String,
    pub field: String,
    pub message: String,
}

impl FieldError {
    /// The problem as one of config item `item`.
    pub fn of_item(self, item: &str) -> ConfigError {
        ConfigError::new(item, self.path, self.message)
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventType;
    use serde_json::json;

    pub(super) fn raw(value: Value) -> RawConfigItem {
        RawConfigItem {
            id: value["id"].as_str().unwrap_or("?").to_owned(),
            value,
        }
    }

    pub(super) fn sub() -> Value {
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

    pub(super) fn error_of(mut patch: impl FnMut(&mut Value)) -> String {
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
            "config item `sub-1`, field `evenTypes`: unknown field `evenTypes`, expected one of `id`, `party`, `enabled`, `eventTypes`, `version`, `destination`, `perType`, `transitions`, `filter`, `maxAttempts`, `retry`, `ordering`, `maxPerSecond`, `auth`, `signature`, `description`, `disabledReason`, `disabledAt`, `failingSince`"
        );
        assert_eq!(
            error_of(|v| v["kind"] = json!("webhook")),
            "config item `sub-1`, field `kind`: unknown kind `webhook` (known: subscription, statusMapping, blackList, invoiceSettings, noticeDestination)"
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
            "config item `s`, field `auth`: name at least one of xTokenSecret, bearerSecret, signingSecret, oauth2, mtls"
        );
        assert_eq!(
            err(json!({"signature": {"format": "hmacSha256"}})),
            "config item `s`, field `signature`: hmacSha256 signs with auth.signingSecret: name one"
        );
        assert_eq!(
            err(
                json!({"signature": {"format": "hmacSha256", "header": "Webhook-Signature"}, "auth": {"signingSecret": "k"}})
            ),
            "config item `s`, field `signature.header`: `Webhook-Signature` is one of hubhooks' own headers"
        );
        let unknown = err(json!({"signature": {"format": "md5"}, "auth": {"signingSecret": "k"}}));
        assert!(
            unknown.starts_with("config item `s`, field `signature")
                && unknown.contains("unknown variant `md5`"),
            "{unknown}"
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

    pub(super) fn parsed(v: Value) -> Subscription {
        match ConfigItem::parse(&raw(v)) {
            Ok(ConfigItem::Subscription(s)) => s,
            other => panic!("{other:?}"),
        }
    }
}
