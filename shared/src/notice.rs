//! Operational notices: what the operator of a party (and the hub's
//! operators, through the notice topic) hears about its subscriptions.
//!
//! - `subscription.disabled`: a receiver answered `410 Gone`, or failed
//!   every attempt for the failure-streak limit (default 5 days);
//! - `delivery.deadLettered`: a delivery was moved to the dead-letter queue
//!   (attempts exhausted, refused, withdrawn), with its reason;
//! - `delivery.failing`: a subscription's first failed attempt after a
//!   success: the start of a failure streak (one notice per streak).
//!
//! docs/data-contract.md ("Operational notices") shows each body.
use crate::event::EventType;
use crate::ids::{CaseGuid, DeliveryId, SubscriptionId};
use crate::party::Party;
use crate::timestamp::Timestamp;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use uuid::Uuid;

/// The failure-streak limit when the deployment sets none (Svix's).
pub const DEFAULT_FAILURE_STREAK: Duration = Duration::from_secs(5 * 24 * 3600);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NoticeType {
    #[serde(rename = "subscription.disabled")]
    SubscriptionDisabled,
    #[serde(rename = "delivery.deadLettered")]
    DeliveryDeadLettered,
    #[serde(rename = "delivery.failing")]
    DeliveryFailing,
    /// Sent on request, to check a notice destination; about nothing.
    #[serde(rename = "notice.test")]
    Test,
}

impl NoticeType {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeType::SubscriptionDisabled => "subscription.disabled",
            NoticeType::DeliveryDeadLettered => "delivery.deadLettered",
            NoticeType::DeliveryFailing => "delivery.failing",
            NoticeType::Test => "notice.test",
        }
    }
}

/// The delivery a notice is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AboutDelivery {
    pub delivery_id: DeliveryId,
    pub event_type: EventType,
    pub case_guid: CaseGuid,
    /// The attempt this notice follows (counting earlier lives).
    pub attempt: u32,
}

/// One notice, as sent (HTTP body, SNS message).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notice {
    /// Stable for the same fact: the receiver's dedup key.
    pub id: String,
    #[serde(rename = "type")]
    pub notice_type: NoticeType,
    pub occurred_at: Timestamp,
    pub party: Party,
    /// The subscription it is about; none for `notice.test`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_id: Option<SubscriptionId>,
    /// Why, in words (the last error, the streak's start).
    pub reason: String,
    /// Since when every attempt failed (`subscription.disabled` after a
    /// streak, `delivery.failing`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<AboutDelivery>,
}

const NAMESPACE: Uuid = Uuid::from_u128(0x2c0b_8d4e_61f3_4a0e_b5d1_0f9e_7a33_1c58);

/// What a notice is about, named so that the same fact always gives the
/// same notice id (a retried batch, two instances): the operators hear of
/// it once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fact<'a> {
    /// A receiver answered `410 Gone` to this delivery.
    Gone(&'a crate::ids::DeliveryId),
    /// This delivery was dead-lettered after this many attempts.
    DeadLettered(&'a crate::ids::DeliveryId, u32),
    /// A failure streak began at this time.
    StreakBegan(Timestamp),
    /// The streak begun at this time disabled the subscription.
    StreakDisabled(Timestamp),
}

impl Fact<'_> {
    pub fn key(&self) -> String {
        match self {
            Fact::Gone(id) => format!("gone#{id}"),
            Fact::DeadLettered(id, attempt) => format!("{id}#{attempt}"),
            Fact::StreakBegan(since) => since.to_contract_string(),
            Fact::StreakDisabled(since) => format!("streak#{}", since.to_contract_string()),
        }
    }
}

impl Notice {
    /// `fact` names what happened (a delivery id and attempt, a streak's
    /// start) so that a retried batch repeats the same notice id.
    pub fn new(
        notice_type: NoticeType,
        party: Party,
        subscription_id: &SubscriptionId,
        fact: Fact<'_>,
        reason: String,
    ) -> Notice {
        let name = format!(
            "{}\n{subscription_id}\n{}",
            notice_type.as_str(),
            fact.key()
        );
        Notice {
            id: Uuid::new_v5(&NAMESPACE, name.as_bytes()).to_string(),
            notice_type,
            occurred_at: Timestamp::now(),
            party,
            subscription_id: Some(subscription_id.clone()),
            reason,
            failing_since: None,
            delivery: None,
        }
    }

    /// A test of `party`'s notice destination: a fresh id each time, so a
    /// receiver that deduplicates still shows every test.
    pub fn test(party: Party, now: Timestamp) -> Notice {
        Notice {
            id: Uuid::new_v4().to_string(),
            notice_type: NoticeType::Test,
            occurred_at: now,
            party,
            subscription_id: None,
            reason: "a test of this notice destination, sent on request".into(),
            failing_since: None,
            delivery: None,
        }
    }

    pub fn about(mut self, delivery: AboutDelivery) -> Notice {
        self.delivery = Some(delivery);
        self
    }

    pub fn failing_since(mut self, since: Timestamp) -> Notice {
        self.failing_since = Some(since);
        self
    }

    pub fn to_json(&self) -> String {
        // Strings, numbers and enums: always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Whether a subscription failing since `since` has failed for `limit` at
/// `now`. A zero limit turns the rule off.
pub fn streak_exceeded(since: Timestamp, now: Timestamp, limit: Duration) -> bool {
    if limit.is_zero() {
        return false;
    }
    let failing = now.0.signed_duration_since(since.0);
    failing.to_std().is_ok_and(|d| d >= limit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::party::PartyKind;

    #[test]
    fn a_notice_reads_as_the_data_contract_shows_it() {
        let party = Party {
            kind: PartyKind::Partner,
            id: 1413,
        };
        let n = Notice::new(
            NoticeType::DeliveryDeadLettered,
            party,
            &SubscriptionId::new("sub-1"),
            Fact::DeadLettered(&DeliveryId::new("d-1"), 8),
            "gave up after 8 of 8 attempts".into(),
        )
        .about(AboutDelivery {
            delivery_id: DeliveryId::new("d-1"),
            event_type: EventType::NewStatus,
            case_guid: CaseGuid::new("g-1"),
            attempt: 8,
        });
        let v: serde_json::Value = serde_json::from_str(&n.to_json()).unwrap();
        assert_eq!(v["type"], "delivery.deadLettered");
        assert_eq!(
            v["party"],
            serde_json::json!({"type": "partner", "id": 1413})
        );
        assert_eq!(v["subscriptionId"], "sub-1");
        assert_eq!(v["delivery"]["deliveryId"], "d-1");
        assert_eq!(v["delivery"]["eventType"], "newStatus");
        assert_eq!(v["delivery"]["attempt"], 8);
        assert!(v.get("failingSince").is_none());
        // The same fact, the same id.
        let again = Notice::new(
            NoticeType::DeliveryDeadLettered,
            party,
            &SubscriptionId::new("sub-1"),
            Fact::DeadLettered(&DeliveryId::new("d-1"), 8),
            "other words".into(),
        );
        assert_eq!(again.id, n.id);
    }

    #[test]
    fn each_fact_has_its_own_key_and_the_same_fact_the_same() {
        let d1 = DeliveryId::new("d-1");
        let since = Timestamp::parse("2026-11-25T09:11:58.001Z").unwrap();
        // (fact, → key)
        let table = [
            (Fact::Gone(&d1), "gone#d-1"),
            (Fact::DeadLettered(&d1, 8), "d-1#8"),
            (Fact::DeadLettered(&d1, 9), "d-1#9"),
            (Fact::StreakBegan(since), "2026-11-25T09:11:58.001Z"),
            (
                Fact::StreakDisabled(since),
                "streak#2026-11-25T09:11:58.001Z",
            ),
        ];
        for (fact, key) in table {
            assert_eq!(fact.key(), key, "{fact:?}");
        }
        let keys: std::collections::BTreeSet<String> = table.iter().map(|(f, _)| f.key()).collect();
        assert_eq!(keys.len(), table.len(), "no two facts share a key");
    }

    #[test]
    fn the_streak_limit_is_reached_at_its_length_and_zero_turns_it_off() {
        let since = Timestamp::parse("2026-11-01T00:00:00.000Z").unwrap();
        let at = |s: &str| Timestamp::parse(s).unwrap();
        assert!(!streak_exceeded(
            since,
            at("2026-11-05T23:59:59.000Z"),
            DEFAULT_FAILURE_STREAK
        ));
        assert!(streak_exceeded(
            since,
            at("2026-11-06T00:00:00.000Z"),
            DEFAULT_FAILURE_STREAK
        ));
        assert!(!streak_exceeded(
            since,
            at("2026-12-06T00:00:00.000Z"),
            Duration::ZERO
        ));
        // A clock behind the stored start is not a streak.
        assert!(!streak_exceeded(
            since,
            at("2026-10-01T00:00:00.000Z"),
            DEFAULT_FAILURE_STREAK
        ));
    }
}
