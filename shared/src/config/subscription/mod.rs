//! `kind: "subscription"`: a party's registration of webhook types, where
//! each goes and in which version, with its transition rules, attempt limit
//! and secrets by name.
use super::{Auth, DEFAULT_MAX_ATTEMPTS, Destination, default_true};
use crate::event::{EventType, Version};
use crate::ids::SubscriptionId;
use crate::party::Party;
use crate::transition::TransitionRule;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[cfg(test)]
mod tests;
mod validate;

/// One entry of `eventTypes`: a type, or a wildcard registration
/// (docs/data-contract.md, "Wildcards").
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

impl schemars::JsonSchema for Registered {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Registered".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let mut names: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
        names.extend(["any", "allCurrent"]);
        schemars::json_schema!({
            "description": "A webhook type, or `any` (every type, also later ones) or `allCurrent` (today's types, expanded when written).",
            "enum": names
        })
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
/// (docs/data-contract.md: each webhook type can have its own URL).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TypeSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<Destination>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<Version>,
    /// Conditions on this type's rendered body, instead of the
    /// subscription's `filter`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<super::Filter>,
}

/// A party's subscription: which webhook types go where, in which version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Subscription {
    pub id: SubscriptionId,
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
    /// Conditions on the rendered body of every type (unless `perType`
    /// gives the type its own): a webhook that fails them is not sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<super::Filter>,
    /// Attempts per delivery before it goes to the dead-letter queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    /// Its own retry schedule in seconds, each delay used once, replacing
    /// the deployment's: `[10, 60, 600]` is four attempts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<super::RetryDelays>,
    /// `perCase`: the subscription's webhooks of one case arrive in the
    /// order they were made, each after the one before succeeded or was
    /// dead-lettered (the ordered delivery queue, SQS FIFO).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordering: Option<Ordering>,
    /// At most this many deliveries a second, across every sender
    /// instance; the excess is deferred (put back on the queue for a
    /// second), not failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_per_second: Option<u32>,
    /// Token, bearer and signing secrets, by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<Auth>,
    /// How webhooks are signed: Standard Webhooks (absent), or one
    /// HMAC-SHA256 header for receivers migrating from another system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<super::Signature>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Set by the sender when a receiver answered `410 Gone` or failed for
    /// the failure-streak limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_at: Option<crate::timestamp::Timestamp>,
    /// Set by the sender at a failed attempt after a success, removed at
    /// the next success: every attempt has failed since then. After the
    /// failure-streak limit (default 5 days) the subscription is disabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<crate::timestamp::Timestamp>,
}

/// How a subscription's webhooks are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Ordering {
    /// Per case: in the order made, one at a time.
    PerCase,
}

/// The highest `maxPerSecond` (a DynamoDB item takes about 1,000 writes a
/// second; the counter is one item per subscription and second).
pub const MAX_PER_SECOND_LIMIT: u32 = 1_000;

impl Subscription {
    /// Every secret the subscription names, with the field that names it:
    /// its auth secrets and each AMQP destination's broker URI.
    pub fn secret_names(&self) -> Vec<(String, &str)> {
        let mut out: Vec<(String, &str)> = self
            .auth
            .iter()
            .flat_map(|a| a.names())
            .map(|(field, name)| (format!("auth.{field}"), name))
            .collect();
        if let Some(Destination::Amqp(d)) = &self.destination {
            out.push(("destination.uriSecret".into(), d.uri_secret.as_str()));
        }
        for (t, s) in &self.per_type {
            if let Some(Destination::Amqp(d)) = &s.destination {
                out.push((
                    format!("perType.{t}.destination.uriSecret"),
                    d.uri_secret.as_str(),
                ));
            }
        }
        out
    }

    /// Every destination with its field: `destination`, then each
    /// `perType.<type>.destination`.
    pub fn destinations(&self) -> Vec<(String, &Destination)> {
        self.destination
            .iter()
            .map(|d| ("destination".to_owned(), d))
            .chain(self.per_type.iter().filter_map(|(t, settings)| {
                settings
                    .destination
                    .as_ref()
                    .map(|d| (format!("perType.{t}.destination"), d))
            }))
            .collect()
    }

    /// Whether its webhooks of a case go out in order, one at a time.
    pub fn ordered(&self) -> bool {
        self.ordering == Some(Ordering::PerCase)
    }

    /// `maxAttempts`, or one more than `retry` has delays, or the default.
    pub fn max_attempts(&self) -> u32 {
        match (&self.max_attempts, &self.retry) {
            (Some(n), _) => *n,
            (None, Some(r)) => r.attempts(),
            (None, None) => DEFAULT_MAX_ATTEMPTS,
        }
    }

    /// The filter for `event_type`: its `perType` one, or the subscription's.
    pub fn filter_for(&self, event_type: EventType) -> Option<&super::Filter> {
        self.per_type
            .get(&event_type)
            .and_then(|p| p.filter.as_ref())
            .or(self.filter.as_ref())
    }

    /// The version `event_type` is sent in.
    pub fn version_for(&self, event_type: EventType) -> Version {
        self.per_type
            .get(&event_type)
            .and_then(|p| p.version)
            .or(self.version)
            .unwrap_or_default()
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

    /// Whether it sends at all: declared `enabled` in its config, and not
    /// disabled since (a receiver's `410 Gone`, `hubhooks subscriptions
    /// disable`), which is operational state the config file never undoes.
    pub fn active(&self) -> bool {
        self.enabled && self.disabled_at.is_none()
    }

    /// Whether the subscription is active and registers `event_type`. A
    /// status transition also needs a condition to match (see `transitions`).
    pub fn wants(&self, event_type: EventType) -> bool {
        self.active() && self.registers(event_type)
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

    /// (type, version) pairs in deprecated versions, for the logs.
    pub fn deprecated_versions(&self) -> Vec<(EventType, Version)> {
        self.registered_types()
            .into_iter()
            .filter_map(|t| {
                let v = self.version_for(t);
                v.is_deprecated().then_some((t, v))
            })
            .collect()
    }
}
