//! What to do after a delivery attempt: done, try again later (and when),
//! give up into the dead-letter queue, or disable the subscription.
//!
//! The delay grows with the attempt number along a schedule (default 30 s,
//! 2 min, 10 min, 30 min, 2 h, 6 h, then 12 h, SQS's longest visibility
//! timeout), spread by a jitter of ±20% so that a receiver coming back is not
//! hit by every retry at once. A `Retry-After` answer can lengthen the delay
//! (up to 12 h) but never shorten it below the schedule's step.
use crate::outcome::{DeliveryError, Receipt};
use std::time::Duration;

pub use crate::backoff::MAX_DELAY;

/// A `Retry-After` value: whole seconds, or an HTTP date (a date past
/// gives zero). Anything else, a number past `u64` included, is no answer.
pub fn retry_after(value: &str, now: crate::timestamp::Timestamp) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let secs = at.timestamp().saturating_sub(now.0.timestamp()).max(0);
    Some(Duration::from_secs(secs.unsigned_abs()))
}

/// A retry schedule that cannot be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("`{0}` is not a whole number of seconds: {1}")]
    NotSeconds(String, String),
    #[error("{0} s is outside 1 s … 43200 s (12 h)")]
    OutOfRange(u64),
    #[error("no delays")]
    Empty,
}

/// Delays before the 2nd, 3rd, … attempt; the last one repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(Vec<Duration>);

impl Default for RetrySchedule {
    fn default() -> Self {
        RetrySchedule(
            [30, 120, 600, 1800, 7200, 21600, 43200]
                .map(Duration::from_secs)
                .to_vec(),
        )
    }
}

impl RetrySchedule {
    /// Parses `30,120,600` (seconds). Every delay must be 1 s … 12 h.
    pub fn parse(s: &str) -> Result<Self, ScheduleError> {
        let delays = s
            .split(',')
            .map(|p| {
                let secs: u64 = p.trim().parse().map_err(|e: std::num::ParseIntError| {
                    ScheduleError::NotSeconds(p.to_owned(), e.to_string())
                })?;
                let d = Duration::from_secs(secs);
                if secs == 0 || d > MAX_DELAY {
                    return Err(ScheduleError::OutOfRange(secs));
                }
                Ok(d)
            })
            .collect::<Result<Vec<_>, _>>()?;
        if delays.is_empty() {
            return Err(ScheduleError::Empty);
        }
        Ok(RetrySchedule(delays))
    }

    /// A schedule already checked (a subscription's `retry`); never empty.
    pub fn from_delays(delays: Vec<Duration>) -> Self {
        if delays.is_empty() {
            return RetrySchedule::default();
        }
        RetrySchedule(delays)
    }

    /// The delay after failed attempt `attempt` (1-based), before jitter.
    pub fn delay_after(&self, attempt: u32) -> Duration {
        let i = (attempt.max(1) as usize - 1).min(self.0.len() - 1);
        self.0[i]
    }
}

/// A failed attempt, as logs and the attempt log show it.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub message: String,
    pub status: Option<u16>,
    pub latency: Option<Duration>,
    pub excerpt: String,
}

impl From<&DeliveryError> for Failure {
    fn from(e: &DeliveryError) -> Self {
        let (status, latency, excerpt) = match e {
            DeliveryError::Rejected {
                status,
                latency,
                excerpt,
                ..
            } => (Some(*status), Some(*latency), excerpt.clone()),
            _ => (None, None, String::new()),
        };
        Failure {
            message: e.to_string(),
            status,
            latency,
            excerpt,
        }
    }
}

/// What became of an attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Delivered(Receipt),
    /// Try again after this delay.
    Retry {
        delay: Duration,
        error: Failure,
    },
    /// Stop trying: to the dead-letter queue with this reason (and the last
    /// failure, when an attempt was made).
    GiveUp {
        reason: String,
        last: Option<Failure>,
    },
    /// `410 Gone`: the receiver says the endpoint is gone for good; the
    /// subscription is disabled, the delivery dead-lettered.
    Gone {
        reason: String,
    },
    /// Not sent, by our own decision (the SSRF guard, a header that cannot
    /// be sent): retrying cannot help; dead-lettered at once.
    Refused {
        reason: String,
    },
}

/// How a 410's reason ends: for a webhook, and for a test send, which
/// leaves the subscription as it is.
const GONE_DISABLES: &str = "; the subscription is disabled";
const GONE_IN_TEST: &str =
    "; a test send: the subscription stays enabled (a webhook answered 410 disables it)";

impl Verdict {
    /// The verdict on a test send (`hubhooks send-test`): a 410 tells the
    /// operator, never disables the real subscription.
    pub fn for_test(self) -> Verdict {
        match self {
            Verdict::Gone { reason } => Verdict::Gone {
                reason: reason.replace(GONE_DISABLES, GONE_IN_TEST),
            },
            other => other,
        }
    }
}

/// Decides from the outcome of attempt `attempt` of at most `max_attempts`.
/// `jitter_seed` spreads deliveries (use the delivery id).
pub fn verdict(
    outcome: Result<Receipt, DeliveryError>,
    attempt: u32,
    max_attempts: u32,
    schedule: &RetrySchedule,
    jitter_seed: &str,
) -> Verdict {
    let error = match outcome {
        Ok(receipt) => return Verdict::Delivered(receipt),
        Err(e) => e,
    };
    match &error {
        DeliveryError::Rejected { status: 410, .. } => {
            return Verdict::Gone {
                reason: format!("attempt {attempt}: {error}{GONE_DISABLES}"),
            };
        }
        DeliveryError::Refused(_) => {
            return Verdict::Refused {
                reason: format!("attempt {attempt}: {error}"),
            };
        }
        _ => {}
    }
    if attempt >= max_attempts {
        return Verdict::GiveUp {
            reason: format!(
                "gave up after {attempt} of {max_attempts} attempts; last error: {error}"
            ),
            last: Some(Failure::from(&error)),
        };
    }
    let step = crate::backoff::jittered(schedule.delay_after(attempt), jitter_seed, attempt);
    let delay = match &error {
        // Retry-After may lengthen the wait, never shorten it: a receiver
        // answering `Retry-After: 0` would otherwise burn every attempt in
        // seconds.
        DeliveryError::Rejected {
            retry_after: Some(after),
            ..
        } => (*after).clamp(step, MAX_DELAY),
        _ => step,
    };
    Verdict::Retry {
        delay,
        error: Failure::from(&error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected(status: u16, retry_after: Option<u64>) -> Result<Receipt, DeliveryError> {
        Err(DeliveryError::Rejected {
            status,
            excerpt: "nope".into(),
            latency: Duration::from_millis(3),
            retry_after: retry_after.map(Duration::from_secs),
        })
    }

    #[test]
    fn delays_grow_along_the_schedule_with_bounded_jitter() {
        let s = RetrySchedule::default();
        let mut last = Duration::ZERO;
        for attempt in 1..=7 {
            let Verdict::Retry { delay, .. } = verdict(rejected(503, None), attempt, 8, &s, "id-1")
            else {
                panic!("attempt {attempt} should retry")
            };
            let base = s.delay_after(attempt).as_secs_f64();
            assert!(
                delay.as_secs_f64() >= base * 0.8
                    && delay.as_secs_f64() <= (base * 1.2).min(43200.0),
                "attempt {attempt}: {delay:?} vs {base}"
            );
            assert!(delay > last || delay == MAX_DELAY || delay.as_secs_f64() >= base * 0.8);
            last = delay;
        }
        assert_eq!(s.delay_after(50), MAX_DELAY);
        // Different deliveries spread differently.
        let a = verdict(rejected(500, None), 1, 8, &s, "a");
        let b = verdict(rejected(500, None), 1, 8, &s, "b");
        assert_ne!(a, b);
    }

    #[test]
    fn the_last_attempt_gives_up_with_the_last_error() {
        let s = RetrySchedule::default();
        let Verdict::GiveUp { reason, last } = verdict(rejected(500, None), 3, 3, &s, "x") else {
            panic!("should give up")
        };
        assert_eq!(
            reason,
            "gave up after 3 of 3 attempts; last error: receiver answered 500: nope"
        );
        assert_eq!(last.unwrap().status, Some(500));
    }

    #[test]
    fn retry_after_is_honoured_within_bounds() {
        let s = RetrySchedule::default();
        let delay = |after| match verdict(rejected(429, Some(after)), 1, 8, &s, "x") {
            Verdict::Retry { delay, .. } => delay,
            other => panic!("{other:?}"),
        };
        assert_eq!(delay(90), Duration::from_secs(90));
        assert_eq!(delay(10 * 86400), MAX_DELAY);
    }

    #[test]
    fn retry_after_never_shortens_the_schedule() {
        // A receiver answering `429, Retry-After: 0` must not burn every
        // attempt in seconds: the schedule's step is the floor.
        let s = RetrySchedule::default();
        let mut total = Duration::ZERO;
        for attempt in 1..8 {
            let Verdict::Retry { delay, .. } =
                verdict(rejected(429, Some(0)), attempt, 8, &s, "burst")
            else {
                panic!("attempt {attempt} should retry")
            };
            let step = s.delay_after(attempt).as_secs_f64();
            assert!(
                delay.as_secs_f64() >= step * 0.8,
                "attempt {attempt}: {delay:?} is below the schedule's {step} s"
            );
            total += delay;
        }
        // 7 waits of the default schedule, jitter included: over 10 hours.
        assert!(total > Duration::from_secs(10 * 3600), "{total:?}");
    }

    #[test]
    fn gone_disables_and_refused_never_retries() {
        let s = RetrySchedule::default();
        assert!(matches!(
            verdict(rejected(410, None), 1, 8, &s, "x"),
            Verdict::Gone { .. }
        ));
        assert!(matches!(
            verdict(
                Err(DeliveryError::Refused("loopback".into())),
                1,
                8,
                &s,
                "x"
            ),
            Verdict::Refused { .. }
        ));
        // A test's 410 says the subscription stays enabled.
        let Verdict::Gone { reason } = verdict(rejected(410, None), 1, 1, &s, "x").for_test()
        else {
            panic!("not gone")
        };
        assert_eq!(
            reason,
            "attempt 1: receiver answered 410: nope; a test send: the subscription stays enabled (a webhook answered 410 disables it)"
        );
    }

    #[test]
    fn schedules_parse_and_refuse_nonsense() {
        assert_eq!(
            RetrySchedule::parse("1, 2,3").unwrap().delay_after(9),
            Duration::from_secs(3)
        );
        assert!(RetrySchedule::parse("0").is_err());
        assert!(RetrySchedule::parse("50000").is_err());
        assert!(RetrySchedule::parse("x").is_err());
    }
}
