//! A delivery: one webhook for one subscription, as it travels on the
//! delivery queue from the router to the sender.
use crate::config::{Auth, Destination};
use crate::event::EventType;
use crate::ids::{CaseGuid, DeliveryId, SubscriptionId};
use crate::party::Party;
use crate::timestamp::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use uuid::Uuid;

/// Version of the queue message layout, so a sender can refuse what it
/// does not understand instead of guessing. v2 added `bodyRef`,
/// `maxAttempts` and `auth`; v1 messages still read (with defaults).
pub const ENVELOPE_VERSION: u8 = 2;
pub const READABLE_VERSIONS: [u8; 2] = [1, 2];

/// SQS's message size (the queues state it: `MaximumMessageSize`). It
/// counts the body and the message attributes.
pub const QUEUE_MESSAGE_LIMIT: usize = 262_144;

fn default_max_attempts() -> u32 {
    crate::config::DEFAULT_MAX_ATTEMPTS
}

/// Everything the sender needs; it reads nothing else.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub v: u8,
    /// Stable across retries and re-processing: the receiver's dedup key.
    pub id: DeliveryId,
    pub subscription_id: SubscriptionId,
    pub event_type: EventType,
    pub party: Party,
    pub case_guid: CaseGuid,
    pub destination: Destination,
    /// The rendered webhook body, sent byte for byte; empty when `bodyRef`
    /// says where it is stored.
    #[serde(default)]
    pub body: String,
    /// Key of the body in the payload store, for a delivery whose queue
    /// message would be over [`QUEUE_MESSAGE_LIMIT`] with the body inline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_ref: Option<String>,
    /// The subscription's attempt limit, fixed when the delivery was made.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// Attempts made in earlier lives of this delivery (before it was
    /// dead-lettered and replayed), so `webhook-attempt` and the attempt log
    /// keep counting across replays.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub prior_attempts: u32,
    /// Attempts of this life made before the sender deferred it (a slow
    /// receiver's breaker, `maxPerSecond`): they count against
    /// `maxAttempts`, unlike `priorAttempts`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub spent_attempts: u32,
    /// Since when, and how many times, the sender could not read what this
    /// delivery needs (the config, a secret, its stored body): put back
    /// with a backoff of ours, none of the receiver's attempts spent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreadable: Option<Unreadable>,
    /// Names of the subscription's secrets (never their values).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<Auth>,
    /// The subscription's signature scheme; absent: Standard Webhooks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<crate::config::Signature>,
    /// Of a subscription with `ordering: perCase`: travels on the ordered
    /// (FIFO) queue, and the sender delivers a case's in order.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ordered: bool,
    /// Made by `hubhooks send-test`: sent with a `webhook-test: true` header.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub test: bool,
    /// The change that caused it: `<table>/<stream event id>`.
    pub source: String,
    pub created_at: Timestamp,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// A delivery the sender put back because something of ours could not be
/// read: since when, and how often (for the backoff).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Unreadable {
    pub since: Timestamp,
    pub times: u32,
}

/// [`Delivery`] as it serializes, borrowing its fields and taking the body
/// pre-escaped. Same names, order and skips as `Delivery`'s derive.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Envelope<'a> {
    v: u8,
    id: &'a DeliveryId,
    subscription_id: &'a SubscriptionId,
    event_type: EventType,
    party: Party,
    case_guid: &'a CaseGuid,
    destination: &'a Destination,
    body: &'a RawValue,
    #[serde(skip_serializing_if = "Option::is_none")]
    body_ref: Option<&'a str>,
    max_attempts: u32,
    #[serde(skip_serializing_if = "is_zero")]
    prior_attempts: u32,
    #[serde(skip_serializing_if = "is_zero")]
    spent_attempts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    unreadable: Option<Unreadable>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth: Option<&'a Auth>,
    #[serde(skip_serializing_if = "Option::is_none")]
    signature: Option<&'a crate::config::Signature>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    ordered: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    test: bool,
    source: &'a str,
    created_at: Timestamp,
}

/// A queue message body that is not a delivery this sender can read.
#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    /// Not an envelope; names the field where one was refused.
    #[error("not a delivery: {0}")]
    Unreadable(String),
    #[error(
        "delivery envelope version {0} is not supported (this sender reads {READABLE_VERSIONS:?})"
    )]
    Version(u8),
}

impl Delivery {
    /// Reads a queue message body. A refusal names the field
    /// (`field `maxAttempts`: invalid type …`): the plain parse runs first,
    /// the one that tracks the path only for a body it refused.
    pub fn from_envelope(body: &str) -> Result<Delivery, EnvelopeError> {
        let delivery: Delivery = match serde_json::from_str(body) {
            Ok(d) => d,
            Err(plain) => {
                let mut de = serde_json::Deserializer::from_str(body);
                let why = match serde_path_to_error::deserialize::<_, Delivery>(&mut de) {
                    Err(e) => {
                        let path = e.path().to_string();
                        // Text cut off or not JSON has no field to name (its
                        // path reads `?`): serde's line and column say more.
                        if path == "." || path.contains('?') {
                            plain.to_string()
                        } else {
                            format!("field `{path}`: {}", e.into_inner())
                        }
                    }
                    Ok(_) => plain.to_string(),
                };
                return Err(EnvelopeError::Unreadable(why));
            }
        };
        if !READABLE_VERSIONS.contains(&delivery.v) {
            return Err(EnvelopeError::Version(delivery.v));
        }
        Ok(delivery)
    }

    /// The envelope as it may be written down (the attempt log, the CLI's
    /// output): its HTTP destination URL masked ([`crate::masked_url`]).
    /// Nothing needs the URL there: a replayed delivery goes where its
    /// subscription points now.
    pub fn as_written(&self) -> std::borrow::Cow<'_, Delivery> {
        use crate::config::Destination;
        match &self.destination {
            Destination::Http(h) if h.url.contains(['?', '@', '#']) => {
                let mut d = self.clone();
                if let Destination::Http(h) = &mut d.destination {
                    h.url = crate::masked_url::masked_text(&h.url);
                }
                std::borrow::Cow::Owned(d)
            }
            _ => std::borrow::Cow::Borrowed(self),
        }
    }

    /// The envelope of one webhook for `subscription`, the one place it is
    /// made (the router, and `hubhooks send-test` through [`Delivery::test`]).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: DeliveryId,
        subscription: &crate::config::Subscription,
        event_type: EventType,
        destination: &Destination,
        case_guid: &str,
        body: String,
        source: String,
        created_at: Timestamp,
    ) -> Delivery {
        Delivery {
            v: ENVELOPE_VERSION,
            id,
            subscription_id: subscription.id.clone(),
            event_type,
            party: subscription.party,
            case_guid: CaseGuid::new(case_guid),
            destination: destination.clone(),
            body,
            body_ref: None,
            max_attempts: subscription.max_attempts(),
            prior_attempts: 0,
            spent_attempts: 0,
            unreadable: None,
            auth: subscription.auth.clone(),
            signature: subscription.signature.clone(),
            ordered: subscription.ordered(),
            test: false,
            source,
            created_at,
        }
    }

    /// Made a test send: one attempt (the answer is shown at once), sent
    /// with `webhook-test: true`, never waiting behind a case's order.
    pub fn test(self) -> Delivery {
        Delivery {
            test: true,
            ordered: false,
            max_attempts: 1,
            ..self
        }
    }

    /// The ordered queue's message group: the subscription and the case
    /// (SQS allows 128 characters; a longer pair is hashed).
    pub fn order_group(&self) -> String {
        let group = format!("{}#{}", self.subscription_id, self.case_guid);
        if group.len() <= 128 {
            group
        } else {
            Uuid::new_v5(&NAMESPACE, group.as_bytes()).to_string()
        }
    }

    /// The queue message: this envelope as JSON. The body is a JSON string
    /// inside it, so its quotes and backslashes are escaped once more: size
    /// decisions must be made on this, never on the body's length.
    pub fn to_message(&self) -> String {
        // A struct of strings, numbers and maps with string keys always
        // serializes.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The body as the JSON string the queue message carries: escaped once
    /// for all the deliveries that share it (see [`Delivery::to_message_with`]).
    pub fn body_json(&self) -> Box<RawValue> {
        serde_json::value::to_raw_value(&self.body).unwrap_or_else(|_| RawValue::NULL.to_owned())
    }

    /// [`Delivery::to_message`] with the body already escaped: the router
    /// makes ~10 envelopes of one rendering, and escaping the body was a
    /// third of its work (docs/benchmarks.md). `body` must be this
    /// delivery's [`Delivery::body_json`]; the output is byte for byte the
    /// same (a test checks it).
    pub fn to_message_with(&self, body: &RawValue) -> String {
        let view = Envelope {
            v: self.v,
            id: &self.id,
            subscription_id: &self.subscription_id,
            event_type: self.event_type,
            party: self.party,
            case_guid: &self.case_guid,
            destination: &self.destination,
            body,
            body_ref: self.body_ref.as_deref(),
            max_attempts: self.max_attempts,
            prior_attempts: self.prior_attempts,
            spent_attempts: self.spent_attempts,
            unreadable: self.unreadable,
            auth: self.auth.as_ref(),
            signature: self.signature.as_ref(),
            ordered: self.ordered,
            test: self.test,
            source: &self.source,
            created_at: self.created_at,
        };
        // Sized once: growing it copied the body up to four times.
        let mut out = Vec::with_capacity(body.get().len() + 512);
        match serde_json::to_writer(&mut out, &view) {
            Ok(()) => String::from_utf8(out).unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// What SQS counts for this delivery's message: the envelope and the
    /// attributes the queue adapter puts on it.
    pub fn queue_message_bytes(&self) -> usize {
        json_bytes(self) + self.attribute_bytes()
    }

    pub fn attribute_bytes(&self) -> usize {
        use attributes::{DELIVERY_ID, EVENT_TYPE, SUBSCRIPTION_ID, size};
        size(DELIVERY_ID, &self.id)
            + size(SUBSCRIPTION_ID, &self.subscription_id)
            + size(EVENT_TYPE, self.event_type.as_str())
    }

    /// Whether the message, with the body inline, fits in a queue message.
    pub fn fits_inline(&self) -> bool {
        // Most bodies are a few KiB: a bound (every string byte escaped to
        // six, the small parts counted exactly) settles it without going
        // through the body; the exact count is for bodies near the limit.
        let strings = self.body.len()
            + self.id.len()
            + self.subscription_id.len()
            + self.case_guid.len()
            + self.source.len()
            + self.body_ref.as_ref().map_or(0, String::len);
        let bound = 6 * strings
            + json_bytes(&self.destination)
            + json_bytes(&self.auth)
            + self.attribute_bytes()
            + 512;
        bound <= QUEUE_MESSAGE_LIMIT || self.queue_message_bytes() <= QUEUE_MESSAGE_LIMIT
    }
}

/// The size of `value` as JSON, counted as written, escapes and all,
/// without building the string.
fn json_bytes<T: Serialize>(value: &T) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

/// Message attributes on delivery and dead-letter messages, for filtering
/// queue contents without parsing bodies.
pub mod attributes {
    pub const DELIVERY_ID: &str = "deliveryId";
    pub const SUBSCRIPTION_ID: &str = "subscriptionId";
    pub const EVENT_TYPE: &str = "eventType";
    pub const REASON: &str = "hubhooksReason";
    pub const ORIGIN: &str = "hubhooksOrigin";

    /// SQS counts an attribute's name, data type (`String`) and value.
    pub fn size(name: &str, value: &str) -> usize {
        name.len() + "String".len() + value.len()
    }
}

/// At most `max` bytes of `s`, cut at a character boundary.
pub fn clip(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

const NAMESPACE: Uuid = Uuid::from_u128(0x6b1f_0e3c_5c2a_4f5e_9a43_8d0b_2f71_c9e4);

/// The same source change, subscription and event type always give the same
/// id, so a re-processed stream batch produces the same deliveries.
pub fn delivery_id(source: &str, subscription_id: &str, event_type: EventType) -> DeliveryId {
    // `Uuid::new_v5(&NAMESPACE, "{source}\n{subscription_id}\n{event_type}")`,
    // hashed in parts: the router makes ~10 ids per record.
    let mut sha = sha1_smol::Sha1::new();
    for part in [
        NAMESPACE.as_bytes().as_slice(),
        source.as_bytes(),
        b"\n",
        subscription_id.as_bytes(),
        b"\n",
        event_type.as_str().as_bytes(),
    ] {
        sha.update(part);
    }
    let digest = sha.digest().bytes();
    let mut bytes = [0; 16];
    bytes.copy_from_slice(&digest[..16]);
    let id = uuid::Builder::from_sha1_bytes(bytes).into_uuid();
    let mut text = [0; uuid::fmt::Hyphenated::LENGTH];
    DeliveryId::new(id.hyphenated().encode_lower(&mut text).to_owned())
}

/// Header names, kept in their own dependency-free module.
pub use crate::headers;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whether_a_body_fits_inline_is_decided_as_sent_escapes_and_all() {
        let mut d = crate::memory::delivery("d-1", "s-1", "https://example.com/h");
        for (body, fits) in [
            ("a".repeat(200_000), true),
            ("\"".repeat(100_000), true),
            ("\"".repeat(140_000), false),
            ("\u{1}".repeat(40_000), true),
            ("\u{1}".repeat(50_000), false),
        ] {
            d.body = body;
            let exact = d.queue_message_bytes() <= QUEUE_MESSAGE_LIMIT;
            assert_eq!(d.fits_inline(), exact, "{} bytes", d.body.len());
            assert_eq!(exact, fits, "{} bytes", d.body.len());
        }
    }

    #[test]
    fn a_message_with_the_body_escaped_beforehand_is_the_same_message() {
        let mut d = crate::memory::delivery("d-1", "s-1", "https://example.com/h");
        let plain = d.to_message_with(&d.body_json());
        assert_eq!(plain, d.to_message());
        // Every optional field set, every skip reversed: a field added to
        // `Delivery` but not to `Envelope` shows here.
        d.body = "{\"a\":\"\u{1}\\\"quoted\\\" é\"}".into();
        d.body_ref = Some("bodies/d-1.json".into());
        d.prior_attempts = 2;
        d.spent_attempts = 1;
        d.unreadable = Some(Unreadable {
            since: crate::timestamp::Timestamp::now(),
            times: 3,
        });
        d.ordered = true;
        d.test = true;
        d.auth = Some(serde_json::from_value(serde_json::json!({"signingSecret": "k"})).unwrap());
        let full = d.to_message();
        assert_eq!(d.to_message_with(&d.body_json()), full);
        let fields = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&full)
            .unwrap()
            .len();
        assert_eq!(fields, 18, "every field of the envelope is in this test");
        let back: Delivery = serde_json::from_str(&full).unwrap();
        assert_eq!(back.to_message(), full);
    }

    #[test]
    fn ids_are_deterministic_and_distinct() {
        let a = delivery_id("statuses/e1", "sub-1", EventType::NewStatus);
        assert_eq!(a, delivery_id("statuses/e1", "sub-1", EventType::NewStatus));
        assert_ne!(
            a,
            delivery_id("statuses/e1", "sub-1", EventType::StatusTransition)
        );
        assert_ne!(a, delivery_id("statuses/e1", "sub-2", EventType::NewStatus));
        assert_ne!(a, delivery_id("statuses/e2", "sub-1", EventType::NewStatus));
        assert_eq!(Uuid::parse_str(&a).unwrap().get_version_num(), 5);
        // The ids of earlier versions: a record re-processed across a deploy
        // keeps its deliveries' ids.
        let name = "statuses/e1\nsub-1\nnewStatus";
        assert_eq!(*a, Uuid::new_v5(&NAMESPACE, name.as_bytes()).to_string());
    }
}
