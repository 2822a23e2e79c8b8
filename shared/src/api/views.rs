//! What the API answers, as types: each answer is serialized from one of
//! these, and `openapi` describes each from the same type (schemars), so
//! the published document and the answers cannot drift apart.
use crate::config::{
    ConfigItem, Destination, Ordering, RawConfigItem, Registered, Subscription, TypeSettings,
};
use crate::event::{EventType, Version};
use crate::ids::SubscriptionId;
use crate::party::Party;
use crate::timestamp::Timestamp;
use crate::transition::TransitionRule;
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::BTreeMap;

/// A subscription as its party sees it: secrets as presence only.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionView {
    pub id: SubscriptionId,
    pub party: Party,
    /// Sending: enabled as declared, and not disabled by a `410`, a
    /// failure streak or a party's disable.
    pub enabled: bool,
    pub event_types: Vec<Registered>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<Version>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination: Option<Destination>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub per_type: BTreeMap<EventType, TypeSettings>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub transitions: Vec<TransitionRule>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<crate::config::Filter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry: Option<crate::config::RetryDelays>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ordering: Option<Ordering>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_per_second: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub auth: AuthView,
    /// How webhooks are signed; absent: Standard Webhooks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<crate::config::Signature>,
    /// Why it stopped sending (a `410`, a failure streak, a disable).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled_at: Option<Timestamp>,
    /// Every attempt has failed since then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<Timestamp>,
}

/// Which secrets a subscription has (never their values).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthView {
    /// Webhooks are signed (`webhook-signature`).
    pub signing: bool,
    /// `Authorization: Bearer` is sent.
    pub bearer_token: bool,
    /// `X-Token` is sent.
    pub x_token: bool,
    /// An OAuth2 access token is sent as `Authorization: Bearer`: the
    /// client credentials without their secret; absent when not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth2: Option<OAuth2View>,
    /// A client certificate is presented (`auth.mtls`, set by an
    /// operator); absent when not.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mtls: bool,
}

/// OAuth2 client credentials as shown: never the client secret.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OAuth2View {
    pub token_url: String,
    pub client_id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    pub client_auth: crate::config::ClientAuth,
}

impl AuthView {
    /// Which of `auth`'s secrets there are (none without an `auth`).
    pub fn of(auth: Option<&crate::config::Auth>) -> Self {
        let has = |named: fn(&crate::config::Auth) -> bool| auth.is_some_and(named);
        AuthView {
            signing: has(|a| a.signing_secret.is_some()),
            bearer_token: has(|a| a.bearer_secret.is_some()),
            x_token: has(|a| a.x_token_secret.is_some()),
            oauth2: auth.and_then(|a| a.oauth2.as_ref()).map(OAuth2View::of),
            mtls: has(|a| a.mtls.is_some()),
        }
    }
}

impl OAuth2View {
    fn of(o: &crate::config::OAuth2) -> Self {
        OAuth2View {
            token_url: o.token_url.clone(),
            client_id: o.client_id.clone(),
            scopes: o.scopes.clone(),
            audience: o.audience.clone(),
            client_auth: o.client_auth,
        }
    }
}

impl SubscriptionView {
    pub fn of(s: Subscription) -> Self {
        SubscriptionView {
            enabled: s.enabled && s.disabled_reason.is_none(),
            id: s.id,
            party: s.party,
            event_types: s.event_types,
            version: s.version,
            destination: s.destination,
            per_type: s.per_type,
            transitions: s.transitions,
            filter: s.filter,
            max_attempts: s.max_attempts,
            retry: s.retry,
            ordering: s.ordering,
            max_per_second: s.max_per_second,
            description: s.description,
            signature: s.signature,
            auth: AuthView::of(s.auth.as_ref()),
            disabled_reason: s.disabled_reason,
            disabled_at: s.disabled_at,
            failing_since: s.failing_since,
        }
    }

    /// The view of a stored subscription; an error names what no longer
    /// parses.
    pub fn of_stored(
        id: &str,
        value: &serde_json::Value,
    ) -> Result<Self, crate::config::ConfigError> {
        let raw = RawConfigItem {
            id: id.to_owned(),
            value: value.clone(),
        };
        match ConfigItem::parse(&raw)? {
            ConfigItem::Subscription(s) => Ok(SubscriptionView::of(s)),
            _ => Err(crate::config::ConfigError::new(
                id,
                "kind",
                "not a subscription",
            )),
        }
    }
}

/// A page of a list.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub data: Vec<T>,
    /// Pass as `cursor` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A subscription just made, with its signing key (shown this once).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedSubscription {
    #[serde(flatten)]
    pub subscription: SubscriptionView,
    /// `whsec_…`: verify webhooks with it (Standard Webhooks). Not shown
    /// again.
    pub signing_secret: String,
}

/// A rotated signing key.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RotatedKey {
    /// The new key, shown this once; it signs from the sender's next read
    /// of it (within a minute).
    pub signing_secret: String,
    /// Until then the previous key signs too (absent: there was none).
    pub previous_key_retires_at: Option<Timestamp>,
}

/// One attempt at a delivery.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptView {
    /// 1 for the first, 2 for the first retry, …
    pub attempt: u32,
    pub at: Timestamp,
    pub outcome: crate::attempt::AttemptOutcome,
    /// The receiver's HTTP status, when it answered.
    pub status: Option<u16>,
    pub duration_ms: Option<u64>,
    /// The first KiB of the receiver's answer.
    pub answer: String,
    pub error: Option<String>,
    /// `http` or `amqp`.
    pub transport: String,
}

impl From<&crate::attempt::AttemptRecord> for AttemptView {
    fn from(a: &crate::attempt::AttemptRecord) -> Self {
        AttemptView {
            attempt: a.attempt,
            at: a.at,
            outcome: a.outcome,
            status: a.status,
            duration_ms: a.latency_ms,
            answer: a.excerpt.clone(),
            error: a.error.clone(),
            transport: a.transport.clone(),
        }
    }
}

/// One delivery with every attempt.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryDetail {
    #[serde(flatten)]
    pub summary: DeliverySummary,
    pub attempt_log: Vec<AttemptView>,
    /// What each attempt sent, from the envelope the attempt log kept
    /// (absent where it kept none: `AttemptLogBodies` off).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<RequestView>,
}

/// The request a delivery makes: secret values masked (`***`), the
/// headers that change per attempt named with what they hold.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestView {
    /// `POST`, … or `publish` (AMQP).
    pub method: String,
    /// The destination, its query values and password masked; for AMQP
    /// the exchange and routing key.
    pub target: String,
    /// In the order sent.
    pub headers: Vec<HeaderView>,
    /// The body as sent; absent when it was stored aside (over the queue's
    /// message size).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct HeaderView {
    pub name: String,
    pub value: String,
}

impl RequestView {
    /// What `d` sends, as the sender sends it (docs/receiving-webhooks.md).
    pub fn of(d: &crate::delivery::Delivery) -> Self {
        use crate::config::Destination;
        use crate::headers as h;
        use crate::masked_url::HIDDEN;
        let header = |name: &str, value: &str| HeaderView {
            name: name.to_owned(),
            value: value.to_owned(),
        };
        let (method, target, mut headers) = match &d.destination {
            Destination::Http(http) => {
                let url = reqwest::Url::parse(&http.url)
                    .map(|u| crate::masked_url::masked(&u).to_string())
                    .unwrap_or_else(|_| HIDDEN.to_owned());
                let method = http.method.as_reqwest().to_string();
                let constant: Vec<HeaderView> =
                    http.headers.iter().map(|(k, v)| header(k, v)).collect();
                (method, url, constant)
            }
            Destination::Amqp(a) => (
                "publish".to_owned(),
                format!("exchange `{}`, routing key `{}`", a.exchange, a.routing_key),
                Vec::new(),
            ),
        };
        headers.push(header("content-type", "application/json"));
        headers.push(header(h::DELIVERY_ID, d.id.as_str()));
        headers.push(header(h::EVENT_TYPE, d.event_type.as_str()));
        headers.push(header(h::ATTEMPT, "the attempt's number (1, 2, …)"));
        headers.push(header(h::TIMESTAMP, "the attempt's Unix time"));
        if d.test {
            headers.push(header(h::TEST, "true"));
        }
        let auth = d.auth.clone().unwrap_or_default();
        if auth.signing_secret.is_some() {
            match &d.signature {
                Some(crate::config::Signature::HmacSha256 {
                    header: name,
                    prefix,
                    ..
                }) => {
                    headers.push(header(name, &format!("{prefix}{HIDDEN}")));
                }
                _ => headers.push(header(h::SIGNATURE, &format!("v1,{HIDDEN}"))),
            }
        }
        if auth.x_token_secret.is_some() {
            headers.push(header(h::X_TOKEN, HIDDEN));
        }
        if auth.bearer_secret.is_some() {
            headers.push(header(h::AUTHORIZATION, &format!("Bearer {HIDDEN}")));
        }
        RequestView {
            method,
            target,
            headers,
            body: (d.body_ref.is_none()).then(|| d.body.clone()),
        }
    }
}

/// A test send and the receiver's answer.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestResult {
    pub delivery_id: String,
    pub subscription_id: String,
    pub event_type: EventType,
    /// The sender's attempt; absent (with `202`) while it has not made
    /// one: `GET /v1/deliveries/{deliveryId}` shows it later.
    pub attempt: Option<AttemptView>,
}

/// A delivery sent again.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Resent {
    pub delivery_id: String,
    pub subscription_id: String,
    pub event_type: EventType,
    /// Attempts before this one (its `webhook-attempt` is one more).
    pub prior_attempts: u32,
}

/// What a replay selected and sent.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplayResult {
    pub subscription_id: String,
    pub since: Timestamp,
    pub until: Timestamp,
    pub failed_only: bool,
    pub dry_run: bool,
    /// Deliveries of the window to send again.
    pub selected: usize,
    /// Sent to the delivery queue (0 on a dry run).
    pub replayed: usize,
    /// Selected but not replayable: the log kept no body for them.
    pub without_envelope: usize,
    /// Test sends in the window (never replayed).
    pub tests_skipped: usize,
}

/// One delivery as a search lists it: its last attempt's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliverySummary {
    pub id: String,
    pub subscription_id: String,
    pub event_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_guid: Option<String>,
    pub test: bool,
    pub attempts: u32,
    /// The last attempt's outcome: delivered, retrying, deadLettered, gone,
    /// refused.
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    pub first_attempt_at: String,
    pub last_attempt_at: String,
}
