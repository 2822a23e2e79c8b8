//! Replay by time range: which deliveries of a subscription's window of the
//! attempt log go out again (`hubhooks replay`), and how the log keeps what
//! was sent.
//!
//! Each attempt-log page (one per sender batch and subscription) carries,
//! beside its attempt records, the envelopes of its deliveries
//! ([`crate::attempt_page`]). A replay re-sends them
//! with their delivery ids and their attempts so far (`priorAttempts`), so
//! receivers deduplicate and `webhook-attempt` counts on; destination, auth
//! and attempt limit are the subscription's current ones, as for any
//! attempt.
use crate::attempt::{AttemptOutcome, AttemptRecord};
use crate::delivery::Delivery;
use crate::timestamp::Timestamp;
use std::collections::HashMap;

/// What to replay from the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// Every delivery attempted in the window (e.g. after the receiver
    /// lost its data).
    All,
    /// Only deliveries with no successful attempt in the window.
    FailedOnly,
}

/// The replay of a window.
#[derive(Debug, Default)]
pub struct Plan {
    /// To send, in the order they were first attempted in the window, each
    /// with its attempts so far in `prior_attempts`.
    pub deliveries: Vec<Delivery>,
    /// When each was first attempted in the window (for resuming).
    pub first_attempted: Vec<Timestamp>,
    /// Selected, but the log has no envelope for them (logged with
    /// `AttemptLogBodies` off, or by an older sender): not replayable.
    pub without_envelope: Vec<String>,
    /// Test sends in the window: never replayed.
    pub tests: usize,
}

/// Chooses what to replay from `logged` (attempt records with the envelope
/// their page kept, if any) for attempts made in `[since, until]`.
pub fn plan(
    logged: Vec<(AttemptRecord, Option<Delivery>)>,
    since: Timestamp,
    until: Timestamp,
    which: Which,
) -> Plan {
    struct Seen {
        /// The first attempt in the window; none: not in the window.
        first: Option<Timestamp>,
        delivered: bool,
        last_attempt: u32,
        envelope: Option<Delivery>,
        test: bool,
    }
    let mut by_id: HashMap<String, Seen> = HashMap::new();
    for (record, envelope) in logged {
        let in_window = record.at >= since && record.at <= until;
        let seen = by_id.entry(record.delivery_id.to_string()).or_insert(Seen {
            first: None,
            delivered: false,
            last_attempt: 0,
            envelope: None,
            test: record.test,
        });
        // Attempts outside the window count too (a replay counts on).
        seen.last_attempt = seen.last_attempt.max(record.attempt);
        if envelope.is_some() {
            seen.envelope = envelope;
        }
        if in_window {
            seen.first = Some(seen.first.map_or(record.at, |f| f.min(record.at)));
            seen.delivered |= record.outcome == AttemptOutcome::Delivered;
        }
    }
    let mut chosen: Vec<(String, Timestamp, Seen)> = by_id
        .into_iter()
        .filter_map(|(id, s)| s.first.map(|f| (id, f, s)))
        .collect();
    chosen.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    let mut out = Plan::default();
    for (id, first, seen) in chosen {
        if seen.test {
            out.tests += 1;
            continue;
        }
        if which == Which::FailedOnly && seen.delivered {
            continue;
        }
        match seen.envelope {
            None => out.without_envelope.push(id),
            Some(d) => {
                out.deliveries.push(Delivery {
                    prior_attempts: seen.last_attempt,
                    test: false,
                    ..d
                });
                out.first_attempted.push(first);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::delivery;
    use crate::retry::Verdict;

    fn at(s: &str) -> Timestamp {
        Timestamp::parse(&format!("2026-11-30T{s}.000Z")).unwrap()
    }

    fn attempt(d: &Delivery, n: u32, ok: bool, when: &str) -> AttemptRecord {
        let verdict = if ok {
            Verdict::Delivered(crate::outcome::Receipt {
                status: 200,
                latency: std::time::Duration::from_millis(3),
                excerpt: String::new(),
            })
        } else {
            Verdict::GiveUp {
                reason: "gave up".into(),
                last: None,
            }
        };
        AttemptRecord::new(d, n, &verdict, at(when))
    }

    #[test]
    fn a_window_replays_each_delivery_once_counting_its_attempts_on() {
        // GIVEN d-1 delivered at 10:00, d-2 failed at 10:05 and delivered
        // on its second attempt at 11:00, d-3 dead-lettered at 10:10, d-4
        // at 12:00 (outside the window), d-5 without an envelope
        let d = |id: &str| delivery(id, "s", "https://example.com/h");
        let (d1, d2, d3, d4, d5) = (d("d-1"), d("d-2"), d("d-3"), d("d-4"), d("d-5"));
        let logged = vec![
            (attempt(&d1, 1, true, "10:00:00"), Some(d1.clone())),
            (attempt(&d2, 1, false, "10:05:00"), Some(d2.clone())),
            (attempt(&d3, 3, false, "10:10:00"), Some(d3.clone())),
            (attempt(&d2, 2, true, "11:00:00"), Some(d2.clone())),
            (attempt(&d4, 1, true, "12:00:00"), Some(d4.clone())),
            (attempt(&d5, 1, false, "10:20:00"), None),
        ];
        // WHEN the window 09:00–11:30 is replayed whole
        let all = plan(logged.clone(), at("09:00:00"), at("11:30:00"), Which::All);
        // THEN d-1, d-2, d-3 go out once each, in order, counting on
        let ids: Vec<(&str, u32)> = all
            .deliveries
            .iter()
            .map(|d| (d.id.as_str(), d.prior_attempts))
            .collect();
        assert_eq!(ids, [("d-1", 1), ("d-2", 2), ("d-3", 3)]);
        assert_eq!(all.without_envelope, ["d-5"]);
        assert_eq!(all.first_attempted[1], at("10:05:00"));
        // WHEN only what failed in the window: d-3 (d-2 succeeded in it)
        let failed = plan(
            logged.clone(),
            at("09:00:00"),
            at("11:30:00"),
            Which::FailedOnly,
        );
        let ids: Vec<&str> = failed.deliveries.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["d-3"]);
        // A window ending before d-2's success: d-2 had not succeeded then.
        let early = plan(logged, at("09:00:00"), at("10:30:00"), Which::FailedOnly);
        let ids: Vec<&str> = early.deliveries.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["d-2", "d-3"]);
    }

    #[test]
    fn test_sends_are_never_replayed() {
        let t = delivery("d-t", "s", "https://example.com/h").test();
        let logged = vec![(attempt(&t, 1, true, "10:00:00"), Some(t.clone()))];
        let p = plan(logged, at("09:00:00"), at("11:00:00"), Which::All);
        assert!(p.deliveries.is_empty());
        assert_eq!(p.tests, 1);
    }
}
