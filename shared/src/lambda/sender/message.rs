//! Reading a queue message: the delivery in it, from which queue, how many
//! of its receipts were attempts, and since when it is unreadable. Pure
//! functions of the message, each with table tests.
use crate::delivery::{Delivery, EnvelopeError, Unreadable};
use crate::notice::AboutDelivery;
use crate::ports::DeliveryError;
use crate::timestamp::Timestamp;
use aws_lambda_events::event::sqs::SqsMessage;
use std::time::Duration;

pub(super) fn about(delivery: &Delivery, attempt: u32) -> AboutDelivery {
    AboutDelivery {
        delivery_id: delivery.id.clone(),
        event_type: delivery.event_type,
        case_guid: delivery.case_guid.clone(),
        attempt,
    }
}

/// Whether a message comes from the ordered (FIFO) queue: its event source
/// is a `.fifo` queue (Lambda's event, and the local runner's).
pub(super) fn from_ordered_queue(message: &SqsMessage) -> bool {
    message
        .event_source_arn
        .as_deref()
        .is_some_and(|arn| arn.ends_with(".fifo"))
}

/// SQS's count of this message's receipts (1 when absent).
pub(super) fn receipts(message: &SqsMessage) -> u32 {
    message
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|c| c.parse().ok())
        .unwrap_or(1)
}

/// This life's attempts, this one included: the message's receipts less
/// those held back behind an earlier delivery of its case (holds are no
/// attempts), at least this one, plus those spent before a deferral.
pub(super) fn attempts_received(receipts: u32, held: u32, spent: u32) -> u32 {
    receipts.saturating_sub(held).max(1).saturating_add(spent)
}

/// The attempts made before this receipt, earlier lives included: for a
/// delivery this receipt did not attempt (put back, withdrawn).
pub(super) fn attempts_before(prior: u32, received: u32) -> u32 {
    prior.saturating_add(received.saturating_sub(1))
}

/// Whether an attempt's result is the receiver's failure: an answer, a
/// timeout, a connection; not a refusal of ours.
pub(super) fn receiver_failed<T>(result: &Result<T, DeliveryError>) -> bool {
    matches!(result, Err(e) if !matches!(e, DeliveryError::Refused(_)))
}

/// Since when, and how often, `delivery` has been unreadable, counting
/// this time. A put-back delivery is a new message, received once: a
/// message received before was attempted (or held) meanwhile, so its
/// unreadable spell starts anew. The ordered queue holds its message
/// instead, whose envelope cannot change: there the spell is the message's
/// age (`SentTimestamp`) and its receipts.
pub(super) fn unreadable_state(
    delivery: &Delivery,
    message: &SqsMessage,
    ordered: bool,
    now: Timestamp,
) -> Unreadable {
    let receipts = receipts(message).max(1);
    if ordered {
        let since = message
            .attributes
            .get("SentTimestamp")
            .and_then(|v| v.parse::<i64>().ok())
            .and_then(Timestamp::from_millis)
            .unwrap_or(now);
        return Unreadable {
            since: since.min(now),
            times: receipts,
        };
    }
    match delivery.unreadable {
        Some(before) if receipts == 1 => Unreadable {
            since: before.since,
            times: before.times.saturating_add(1),
        },
        _ => Unreadable {
            since: now,
            times: 1,
        },
    }
}

/// Whether a delivery unreadable `since` has waited past `limit`.
pub(super) fn unreadable_too_long(since: Timestamp, now: Timestamp, limit: Duration) -> bool {
    (now.0 - since.0)
        .to_std()
        .is_ok_and(|waited| waited > limit)
}

/// A limit as people read it: whole hours as hours, else seconds.
pub(super) fn span(limit: Duration) -> String {
    let secs = limit.as_secs();
    if secs > 0 && secs.is_multiple_of(3600) {
        format!("{} hours", secs / 3600)
    } else {
        format!("{secs} seconds")
    }
}

/// A queue message that is not a delivery this sender can read.
#[derive(Debug, thiserror::Error)]
pub(super) enum NotADelivery {
    #[error("message has no body")]
    NoBody,
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
}

pub(super) fn parse(message: &SqsMessage) -> Result<Delivery, NotADelivery> {
    let body = message.body.as_deref().ok_or(NotADelivery::NoBody)?;
    Ok(Delivery::from_envelope(body)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_count_receipts_less_holds_plus_those_spent_before_a_deferral() {
        // (receipts, held, spent, → this life's attempts)
        let table = [
            (1, 0, 0, 1),
            (3, 0, 0, 3),
            (3, 2, 0, 1),
            // Never below this one attempt, whatever the holds say.
            (2, 5, 0, 1),
            (1, 0, 2, 3),
            (4, 1, 2, 5),
            (0, 0, 0, 1),
            (u32::MAX, 0, u32::MAX, u32::MAX),
        ];
        for (receipts, held, spent, want) in table {
            assert_eq!(
                attempts_received(receipts, held, spent),
                want,
                "{receipts} receipts, {held} held, {spent} spent"
            );
        }
    }

    #[test]
    fn a_receipt_that_was_no_attempt_counts_only_those_before_it() {
        // (earlier lives, this life's count with this receipt, → made)
        for (prior, received, made) in [
            (0, 1, 0),
            (2, 1, 2),
            (2, 3, 4),
            (0, 0, 0),
            (u32::MAX, 5, u32::MAX),
        ] {
            assert_eq!(attempts_before(prior, received), made, "{prior} {received}");
        }
    }

    #[test]
    fn only_the_receivers_failures_are_its_own() {
        let failed = |e: DeliveryError| receiver_failed::<()>(&Err(e));
        assert!(!receiver_failed(&Ok::<(), DeliveryError>(())));
        assert!(failed(DeliveryError::Timeout(Duration::from_secs(5))));
        assert!(failed(DeliveryError::Connect("refused".into())));
        assert!(failed(DeliveryError::Other("reset".into())));
        assert!(failed(DeliveryError::Rejected {
            status: 503,
            excerpt: String::new(),
            latency: Duration::ZERO,
            retry_after: None,
        }));
        assert!(!failed(DeliveryError::Refused(
            "10.0.0.7 is private".into()
        )));
    }

    #[test]
    fn a_message_is_a_delivery_of_a_readable_version_or_says_why_not() {
        let mut m = SqsMessage::default();
        assert_eq!(parse(&m).unwrap_err().to_string(), "message has no body");
        m.body = Some("{".into());
        assert!(
            parse(&m)
                .unwrap_err()
                .to_string()
                .starts_with("not a delivery: ")
        );
        let mut d = crate::memory::delivery("d-1", "s", "https://example.com/h");
        d.v = 9;
        m.body = Some(d.to_message());
        assert_eq!(
            parse(&m).unwrap_err().to_string(),
            "delivery envelope version 9 is not supported (this sender reads [1, 2])"
        );
        d.v = 2;
        m.body = Some(d.to_message());
        assert_eq!(parse(&m).unwrap().to_message(), d.to_message());
        assert_eq!(receipts(&m), 1);
        m.attributes
            .insert("ApproximateReceiveCount".into(), "7".into());
        assert_eq!(receipts(&m), 7);
    }
}
