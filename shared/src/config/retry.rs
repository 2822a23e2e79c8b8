//! `retry`: a subscription's own retry schedule, replacing the
//! deployment's (`RetryScheduleSeconds`) for its deliveries. Each delay is
//! used once: `[10, 60, 600]` means four attempts, the 2nd 10 s after the
//! 1st failed, the 3rd a minute after the 2nd, the last ten minutes later.
use super::{FieldError, MAX_ATTEMPTS_LIMIT};
use crate::retry::RetrySchedule;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The longest delay: SQS hides a message for at most 12 hours, the
/// template's `RetryScheduleSeconds` allows no more.
pub const MAX_RETRY_DELAY_SECONDS: u32 = 43_200;

/// The delivery queues keep a message 14 days (`MessageRetentionPeriod`).
pub const QUEUE_RETENTION: Duration = Duration::from_secs(14 * 24 * 3600);

/// Delays in seconds before the 2nd, 3rd, … attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
#[schemars(
    description = "Delays in seconds before the 2nd, 3rd, ... attempt, each used once (attempts = delays + 1); each 1..43200, at most 19."
)]
pub struct RetryDelays(pub Vec<u32>);

// The longest schedule allowed, stretched by the +20% jitter, ends well
// within the queues' retention: a retried message is never dropped by age.
const _: () = assert!(
    (MAX_ATTEMPTS_LIMIT as u64 - 1) * MAX_RETRY_DELAY_SECONDS as u64 * 12 / 10
        < QUEUE_RETENTION.as_secs() - 24 * 3600
);

impl RetryDelays {
    /// The attempts it allows: one, then one after each delay.
    pub fn attempts(&self) -> u32 {
        u32::try_from(self.0.len())
            .unwrap_or(u32::MAX)
            .saturating_add(1)
    }

    /// The schedule the sender follows.
    pub fn schedule(&self) -> RetrySchedule {
        RetrySchedule::from_delays(
            self.0
                .iter()
                .map(|s| Duration::from_secs(u64::from(*s)))
                .collect(),
        )
    }

    /// At least one delay, each 1 s … 12 h, at most `MAX_ATTEMPTS_LIMIT`
    /// attempts in all (the redrive limit `MaxReceiveCount`, at least 21,
    /// stays above them).
    pub fn validate(&self) -> Result<(), FieldError> {
        let most = MAX_ATTEMPTS_LIMIT - 1;
        if self.0.is_empty() {
            return Err(FieldError::new(
                "",
                "give at least one delay (for a single attempt use maxAttempts: 1)",
            ));
        }
        if self.0.len() > most as usize {
            return Err(FieldError::new(
                "",
                format!(
                    "{} delays make {} attempts; at most {most} delays ({MAX_ATTEMPTS_LIMIT} attempts)",
                    self.0.len(),
                    self.0.len() + 1
                ),
            ));
        }
        for (i, s) in self.0.iter().enumerate() {
            if !(1..=MAX_RETRY_DELAY_SECONDS).contains(s) {
                return Err(FieldError::new(
                    format!("[{i}]"),
                    format!(
                        "{s} s is outside 1 … {MAX_RETRY_DELAY_SECONDS} s (12 h, the longest SQS hides a message)"
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

    #[test]
    fn delays_are_bounded_by_sqs_and_the_attempt_limit() {
        let err = |v: Vec<u32>| {
            RetryDelays(v)
                .validate()
                .map_err(|e| format!("{}: {}", e.path, e.message))
        };
        assert_eq!(err(vec![5, 60, 43_200]), Ok(()));
        assert_eq!(err(vec![1; 19]), Ok(()));
        assert_eq!(
            err(vec![1; 20]),
            Err(": 20 delays make 21 attempts; at most 19 delays (20 attempts)".into())
        );
        assert_eq!(
            err(vec![]),
            Err(": give at least one delay (for a single attempt use maxAttempts: 1)".into())
        );
        assert_eq!(
            err(vec![5, 0]),
            Err("[1]: 0 s is outside 1 … 43200 s (12 h, the longest SQS hides a message)".into())
        );
        assert_eq!(
            err(vec![43_201]),
            Err(
                "[0]: 43201 s is outside 1 … 43200 s (12 h, the longest SQS hides a message)"
                    .into()
            )
        );
    }

    #[test]
    fn each_delay_is_used_once_in_order() {
        let d = RetryDelays(vec![10, 60, 600]);
        assert_eq!(d.attempts(), 4);
        let s = d.schedule();
        assert_eq!(
            (1..=3)
                .map(|a| s.delay_after(a).as_secs())
                .collect::<Vec<_>>(),
            vec![10, 60, 600]
        );
    }
}
