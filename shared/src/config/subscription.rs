//! `kind: "subscription"`: a party's registration of webhook types, where
//! each goes and in which version, with its transition rules, attempt limit
//! and secrets by name.
use super::{
    Auth, ConfigError, DEFAULT_MAX_ATTEMPTS, Destination, MAX_ATTEMPTS_LIMIT, default_true,
    require_id, require_party,
};
use crate::event::{EventType, Version};
use crate::ids::SubscriptionId;
use crate::party::Party;
use crate::transition::TransitionRule;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

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

    pub fn validate(&self) -> Result<(), ConfigError> {
        require_id(&self.id)?;
        require_party(&self.id, "party", &self.party)?;
        self.validate_event_types()?;
        self.validate_destinations()?;
        self.validate_versions()?;
        self.validate_limits()?;
        if let Some(auth) = &self.auth {
            auth.validate()
                .map_err(|e| e.under("auth").of_item(self.id.as_str()))?;
        }
        self.validate_signature()?;
        self.validate_transitions()?;
        self.validate_filters()
    }

    /// Each filter is well formed, and every path it names is in the body
    /// of each type it applies to, in that type's version.
    fn validate_filters(&self) -> Result<(), ConfigError> {
        let written = self.filter.iter().map(|f| ("filter".to_owned(), f)).chain(
            self.per_type.iter().filter_map(|(t, p)| {
                p.filter
                    .as_ref()
                    .map(|f| (format!("perType.{t}.filter"), f))
            }),
        );
        for (field, f) in written {
            f.validate()
                .map_err(|e| e.under(&field).of_item(self.id.as_str()))?;
        }
        for t in self.registered_types() {
            let Some(filter) = self.filter_for(t) else {
                continue;
            };
            let field = if self.per_type.get(&t).is_some_and(|p| p.filter.is_some()) {
                format!("perType.{t}.filter")
            } else {
                "filter".to_owned()
            };
            let version = self.version_for(t);
            let Some(schema) = crate::payload::schema::of(t, version) else {
                continue; // refused by validate_versions
            };
            for (at, path) in filter.paths() {
                if let Err(why) = crate::payload::schema::has_path(&schema, path) {
                    return self.refuse(
                        format!("{field}.{at}"),
                        format!("`{path}` is not in a {t} {version} webhook: {why}"),
                    );
                }
            }
        }
        Ok(())
    }

    fn refuse(
        &self,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Result<(), ConfigError> {
        Err(ConfigError::new(&self.id, field.into(), message.into()))
    }

    /// A scheme other than the default needs a signing secret to sign with.
    fn validate_signature(&self) -> Result<(), ConfigError> {
        let Some(signature) = &self.signature else {
            return Ok(());
        };
        signature
            .validate()
            .map_err(|e| e.under("signature").of_item(self.id.as_str()))?;
        let signs = self
            .auth
            .as_ref()
            .is_some_and(|a| a.signing_secret.is_some());
        if matches!(signature, super::Signature::HmacSha256 { .. }) && !signs {
            return self.refuse(
                "signature",
                "hmacSha256 signs with auth.signingSecret: name one",
            );
        }
        Ok(())
    }

    /// At least one type, none twice, `any`/`allCurrent` alone.
    fn validate_event_types(&self) -> Result<(), ConfigError> {
        if self.event_types.is_empty() {
            return self.refuse(
                "eventTypes",
                "must list at least one event type (or allCurrent, or any)",
            );
        }
        let mut seen = BTreeSet::new();
        for (i, r) in self.event_types.iter().enumerate() {
            if !seen.insert(r) {
                return self.refuse(
                    format!("eventTypes[{i}]"),
                    format!("`{}` is listed twice", r.as_str()),
                );
            }
            if matches!(r, Registered::Any | Registered::AllCurrent) && self.event_types.len() > 1 {
                return self.refuse(
                    format!("eventTypes[{i}]"),
                    format!("`{}` covers every type: list it alone", r.as_str()),
                );
            }
        }
        Ok(())
    }

    /// Every registered type has a valid destination: its `perType` one or
    /// the default.
    fn validate_destinations(&self) -> Result<(), ConfigError> {
        for (t, settings) in &self.per_type {
            let field = format!("perType.{t}");
            if !self.registers(*t) {
                return self.refuse(field, format!("`{t}` is not in eventTypes"));
            }
            if settings.destination.is_none()
                && settings.version.is_none()
                && settings.filter.is_none()
            {
                return self.refuse(field, "give a destination, a version, a filter or several");
            }
            if let Some(d) = &settings.destination {
                d.validate().map_err(|e| {
                    e.under("destination")
                        .under(&field)
                        .of_item(self.id.as_str())
                })?;
            }
        }
        if let Some(d) = &self.destination {
            return d
                .validate()
                .map_err(|e| e.under("destination").of_item(self.id.as_str()));
        }
        if self.has(Registered::Any) {
            return self.refuse(
                "destination",
                "missing: `any` covers types added later, which need a default destination",
            );
        }
        match self
            .registered_types()
            .into_iter()
            .find(|t| self.per_type.get(t).is_none_or(|p| p.destination.is_none()))
        {
            Some(t) => self.refuse(
                "destination",
                format!("missing, and perType gives none for `{t}`"),
            ),
            None => Ok(()),
        }
    }

    fn validate_limits(&self) -> Result<(), ConfigError> {
        if let Some(n) = self.max_attempts
            && !(1..=MAX_ATTEMPTS_LIMIT).contains(&n)
        {
            return self.refuse(
                "maxAttempts",
                format!("must be between 1 and {MAX_ATTEMPTS_LIMIT}"),
            );
        }
        if let Some(n) = self.max_per_second
            && !(1..=MAX_PER_SECOND_LIMIT).contains(&n)
        {
            return self.refuse(
                "maxPerSecond",
                format!("must be between 1 and {MAX_PER_SECOND_LIMIT}"),
            );
        }
        self.validate_retry()
    }

    /// `retry` sets the attempts itself; a `maxAttempts` beside it must
    /// agree, or one of the two is a mistake.
    fn validate_retry(&self) -> Result<(), ConfigError> {
        let Some(retry) = &self.retry else {
            return Ok(());
        };
        retry
            .validate()
            .map_err(|e| e.under("retry").of_item(self.id.as_str()))?;
        match self.max_attempts {
            Some(n) if n != retry.attempts() => self.refuse(
                "maxAttempts",
                format!(
                    "{n} disagrees with retry's {} delays ({} attempts): drop maxAttempts, retry sets the attempts",
                    retry.0.len(),
                    retry.attempts()
                ),
            ),
            _ => Ok(()),
        }
    }

    /// `statusTransition` and its conditions come together.
    fn validate_transitions(&self) -> Result<(), ConfigError> {
        let transition = self.registers(EventType::StatusTransition);
        if self.has(Registered::Type(EventType::StatusTransition)) && self.transitions.is_empty() {
            return self.refuse(
                "transitions",
                "statusTransition needs at least one condition ({\"to\": K}, {\"from\": K} or {\"from\": K, \"to\": L})",
            );
        }
        if !transition && !self.transitions.is_empty() {
            return self.refuse(
                "transitions",
                "conditions are given but statusTransition is not in eventTypes",
            );
        }
        for (i, rule) in self.transitions.iter().enumerate() {
            rule.validate().map_err(|e| {
                e.under(&format!("transitions[{i}]"))
                    .of_item(self.id.as_str())
            })?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::{parsed, raw};
    use crate::config::{ConfigItem, Destination};
    use crate::routing::Route;
    use serde_json::{Value, json};

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
        let url = |t| match crate::routing::subscription_route(&s, t) {
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
        assert!(crate::routing::subscription_route(&s, EventType::Invoice).is_none());
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
            err(json!({"eventTypes": ["newStatus"], "retry": [10, 0]})),
            "config item `s`, field `retry[1]`: 0 s is outside 1 … 43200 s (12 h, the longest SQS hides a message)"
        );
        assert_eq!(
            err(json!({"eventTypes": ["newStatus"], "retry": [10, 60], "maxAttempts": 8})),
            "config item `s`, field `maxAttempts`: 8 disagrees with retry's 2 delays (3 attempts): drop maxAttempts, retry sets the attempts"
        );
        assert_eq!(
            err(json!({"eventTypes": ["newStatus"], "retry": "30,60"})),
            "config item `s`, field `retry`: invalid type: string \"30,60\", expected a sequence"
        );
        assert_eq!(
            err(
                json!({"eventTypes": ["newStatus"], "filter": {"path": "orderData.region", "equals": "north"}})
            ),
            "config item `s`, field `filter.path`: `orderData.region` is not in a newStatus v3 webhook: `orderData` is not in the body (there: caseId, createdAt, declaredAt, guid, id, key, name, updatedAt)"
        );
        assert_eq!(
            err(json!({"eventTypes": ["newStatus", "caseUpdated"],
                       "filter": {"any": [{"path": "key", "equals": "final"}, {"path": "guid", "prefix": "a"}]}})),
            "config item `s`, field `filter.any[0].path`: `key` is not in a caseUpdated v3 webhook: `key` is not in the body (there: consumer, customer, guid, orderData, pickupDst, productData, returnDst, sender)"
        );
        assert_eq!(
            err(
                json!({"eventTypes": ["newStatus"], "version": "v1", "filter": {"path": "caseId", "equals": 7}})
            ),
            "config item `s`, field `filter.path`: `caseId` is not in a newStatus v1 webhook: `caseId` is not in the body (there: createdAt, guid, key, name, updatedAt)"
        );
        assert_eq!(
            err(json!({"eventTypes": ["newStatus", "caseUpdated"],
                       "filter": {"path": "key", "equals": "final"},
                       "perType": {"caseUpdated": {"filter": {"path": "orderData.region", "in": []}}}})),
            "config item `s`, field `perType.caseUpdated.filter`: `in` lists 1 to 100 values, not 0"
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
        assert!(crate::routing::subscription_route(&disabled, EventType::NewStatus).is_none());
    }
}
