//! One delivery attempt: its headers (the same for HTTP and AMQP) and its
//! record in the attempt log.
use crate::delivery::{Delivery, headers};
use crate::event::EventType;
use crate::ids::{CaseGuid, DeliveryId, SubscriptionId};
use crate::retry::Verdict;
use crate::signature;
use crate::timestamp::Timestamp;
use serde::{Deserialize, Serialize};

/// How far back a search of the attempt log looks unless told.
pub const DEFAULT_SEARCH_DAYS: i64 = 7;

/// Which attempts a search of the attempt log asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    Case(String),
    Subscription(String),
    Delivery(String),
    Failed,
}

/// What became of an attempt, as the attempt log says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum AttemptOutcome {
    Delivered,
    /// Failed; another attempt follows.
    Retrying,
    /// Failed for the last time: the delivery is in the DLQ.
    DeadLettered,
    /// `410 Gone`: the subscription was disabled (a test send leaves it
    /// enabled and says so).
    Gone,
    /// Not sent, by our own decision: the SSRF guard, a header that cannot
    /// be sent, or for a test send something of ours missing (a secret).
    /// The receiver was not contacted; the delivery is in the DLQ.
    Refused,
}

impl AttemptOutcome {
    pub const ALL: [AttemptOutcome; 5] = [
        AttemptOutcome::Delivered,
        AttemptOutcome::Retrying,
        AttemptOutcome::DeadLettered,
        AttemptOutcome::Gone,
        AttemptOutcome::Refused,
    ];

    /// The name the attempt log and the API give it.
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptOutcome::Delivered => "delivered",
            AttemptOutcome::Retrying => "retrying",
            AttemptOutcome::DeadLettered => "deadLettered",
            AttemptOutcome::Gone => "gone",
            AttemptOutcome::Refused => "refused",
        }
    }

    pub fn is_failure(self) -> bool {
        self != AttemptOutcome::Delivered
    }
}

/// One line of the attempt log. Carries no secret: the error and excerpt
/// come from the receiver or the network, never from headers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptRecord {
    pub delivery_id: DeliveryId,
    pub attempt: u32,
    pub subscription_id: SubscriptionId,
    pub event_type: EventType,
    /// Empty for a test send without a case (index keys cannot be empty).
    #[serde(default, skip_serializing_if = "CaseGuid::is_empty")]
    pub case_guid: CaseGuid,
    pub transport: String,
    pub outcome: AttemptOutcome,
    /// The receiver's status code (200 for a broker's confirm), if it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// The start of the receiver's answer, at most 1 KiB.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub excerpt: String,
    pub at: Timestamp,
    /// Sent by `hubhooks send-test`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub test: bool,
}

impl AttemptRecord {
    pub fn new(delivery: &Delivery, attempt: u32, verdict: &Verdict, at: Timestamp) -> Self {
        let (outcome, status, error, latency, excerpt) = match verdict {
            Verdict::Delivered(r) => (
                AttemptOutcome::Delivered,
                Some(r.status),
                None,
                Some(r.latency),
                r.excerpt.clone(),
            ),
            Verdict::Retry { error, .. } => (
                AttemptOutcome::Retrying,
                error.status,
                Some(error.message.clone()),
                error.latency,
                error.excerpt.clone(),
            ),
            Verdict::GiveUp { reason, last } => (
                AttemptOutcome::DeadLettered,
                last.as_ref().and_then(|e| e.status),
                Some(reason.clone()),
                last.as_ref().and_then(|e| e.latency),
                last.as_ref().map(|e| e.excerpt.clone()).unwrap_or_default(),
            ),
            Verdict::Gone { reason } => (
                AttemptOutcome::Gone,
                Some(410),
                Some(reason.clone()),
                None,
                String::new(),
            ),
            Verdict::Refused { reason } => (
                AttemptOutcome::Refused,
                None,
                Some(reason.clone()),
                None,
                String::new(),
            ),
        };
        AttemptRecord {
            delivery_id: delivery.id.clone(),
            attempt,
            subscription_id: delivery.subscription_id.clone(),
            event_type: delivery.event_type,
            case_guid: delivery.case_guid.clone(),
            transport: delivery.destination.transport().to_owned(),
            outcome,
            status,
            error,
            latency_ms: latency.map(|l| l.as_millis() as u64),
            excerpt,
            at,
            test: delivery.test,
        }
    }
}

/// Secret values for one attempt, resolved by the sender from the names in
/// the delivery's `auth`. Never logged, never serialized.
#[derive(Default)]
pub struct Secrets {
    pub x_token: Option<String>,
    pub bearer: Option<String>,
    /// Signing keys, newest first.
    pub signing: Vec<String>,
    /// The OAuth2 client secret (`auth.oauth2.clientSecret`); the access
    /// token it buys travels as `bearer`.
    pub oauth2_client: Option<String>,
    /// The client certificate for mutual TLS (`auth.mtls`), checked.
    pub client_tls: Option<std::sync::Arc<crate::adapters::client_tls::ClientTls>>,
}

/// Why an attempt's headers could not be made; never shows a secret value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error(transparent)]
    Signing(#[from] signature::SigningError),
    /// Which secret (by role) cannot be sent in a header.
    #[error("the {0} secret is not a printable ASCII value")]
    NotPrintable(&'static str),
}

/// Identity (`webhook-id`, `event-type`, `webhook-attempt`,
/// `webhook-timestamp`), then the signature and tokens the subscription asks
/// for. `Err` names what is wrong without any secret value.
pub fn headers(
    delivery: &Delivery,
    attempt: u32,
    timestamp: i64,
    body: &str,
    secrets: &Secrets,
) -> Result<Vec<(Header, String)>, HeaderError> {
    let signed = |secrets: &Secrets| {
        signed_headers(
            &delivery.id,
            delivery.event_type.as_str(),
            attempt,
            timestamp,
            body,
            secrets,
            delivery.test,
        )
    };
    // Another scheme signs the body alone, in its own header, instead of
    // `webhook-signature`.
    let Some((name, values)) = delivery
        .signature
        .as_ref()
        .and_then(|s| s.sign_body(&secrets.signing, body))
    else {
        return signed(secrets);
    };
    // The tokens still travel; only the signing keys stay out.
    let unsigned = Secrets {
        x_token: secrets.x_token.clone(),
        bearer: secrets.bearer.clone(),
        ..Secrets::default()
    };
    let mut out = signed(&unsigned)?;
    out.extend(values.into_iter().map(|v| (Header::Owned(name.clone()), v)));
    Ok(out)
}

/// A header's name: hubhooks' own, or one a subscription chose (its
/// signature header).
pub type Header = std::borrow::Cow<'static, str>;

/// The headers of anything hubhooks sends (a delivery; an operational
/// notice, whose `event-type` is the notice's type): identity, attempt,
/// time, signature and tokens.
pub fn signed_headers(
    id: &str,
    kind: &str,
    attempt: u32,
    timestamp: i64,
    body: &str,
    secrets: &Secrets,
    test: bool,
) -> Result<Vec<(Header, String)>, HeaderError> {
    let own = |name: &'static str, value: String| (Header::Borrowed(name), value);
    let mut out = vec![
        own(headers::DELIVERY_ID, id.to_owned()),
        own(headers::EVENT_TYPE, kind.to_owned()),
        own(headers::ATTEMPT, attempt.to_string()),
        own(headers::TIMESTAMP, timestamp.to_string()),
    ];
    if test {
        out.push(own(headers::TEST, "true".to_owned()));
    }
    if !secrets.signing.is_empty() {
        out.push(own(
            headers::SIGNATURE,
            signature::sign(&secrets.signing, id, timestamp, body)?,
        ));
    }
    let printable = |v: &str| !v.is_empty() && v.chars().all(|c| (' '..='~').contains(&c));
    if let Some(token) = &secrets.x_token {
        if !printable(token) {
            return Err(HeaderError::NotPrintable("x-token"));
        }
        out.push(own(headers::X_TOKEN, token.clone()));
    }
    if let Some(token) = &secrets.bearer {
        if !printable(token) {
            return Err(HeaderError::NotPrintable("bearer"));
        }
        out.push(own(headers::AUTHORIZATION, format!("Bearer {token}")));
    }
    Ok(out)
}

#[cfg(test)]
mod outcome_tests {
    use super::AttemptOutcome;

    /// The names are the attempt log's own (serde's), and `ALL` is every
    /// outcome once.
    #[test]
    fn each_outcome_is_named_as_the_attempt_log_stores_it() {
        for o in AttemptOutcome::ALL {
            assert_eq!(serde_json::to_value(o).unwrap(), o.as_str());
            let back: AttemptOutcome = serde_json::from_value(o.as_str().into()).unwrap();
            assert_eq!(back, o);
        }
        let names: std::collections::BTreeSet<&str> =
            AttemptOutcome::ALL.iter().map(|o| o.as_str()).collect();
        assert_eq!(names.len(), AttemptOutcome::ALL.len());
    }
}
