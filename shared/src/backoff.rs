//! Waiting before trying again, in the three places we do it: bounded
//! retries inside one invocation (the router's enqueue and parking), the
//! jitter that spreads the receiver's retry schedule, and our own schedule
//! for a delivery put back because something of ours could not be read.
use std::time::Duration;

/// SQS cannot hide a message for longer than 12 hours.
pub const MAX_DELAY: Duration = Duration::from_secs(12 * 60 * 60);

/// Bounded retries inside one invocation: `tries` in all, pausing `first`,
/// then four times as long each time.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub tries: u32,
    pub first: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            tries: 3,
            first: Duration::from_millis(100),
        }
    }
}

impl Backoff {
    /// The pause after try `after_try` (1-based).
    pub fn pause(&self, after_try: u32) -> Duration {
        self.first * 4u32.saturating_pow(after_try.saturating_sub(1))
    }

    /// Runs `op` until it succeeds or the tries are spent; the last error.
    pub async fn retry<T, E, F, Fut>(&self, what: &str, mut op: F) -> Result<T, E>
    where
        E: std::fmt::Display,
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, E>>,
    {
        let mut attempt = 1;
        loop {
            match op().await {
                Ok(v) => return Ok(v),
                Err(e) if attempt >= self.tries => return Err(e),
                Err(e) => {
                    let pause = self.pause(attempt);
                    tracing::warn!(error = %e, attempt, pause_ms = pause.as_millis() as u64, "{what} failed; trying again");
                    tokio::time::sleep(pause).await;
                    attempt += 1;
                }
            }
        }
    }
}

/// ±20%, derived from `seed` (a delivery id) and `attempt`: no RNG needed,
/// and the same delivery always gets the same spread, which keeps tests
/// exact. At least 1 s, at most SQS's 12 hours.
pub fn jittered(base: Duration, seed: &str, attempt: u32) -> Duration {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in seed.bytes().chain(attempt.to_le_bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let fraction = (h % 4001) as f64 / 10_000.0 - 0.2; // -0.2 ..= 0.2
    let secs = base.as_secs_f64() * (1.0 + fraction);
    Duration::from_secs_f64(secs.max(1.0)).min(MAX_DELAY)
}

/// The longest wait between two reads of something of ours that did not
/// answer: short enough that a store back within minutes costs minutes.
pub const UNREADABLE_MAX_WAIT: Duration = Duration::from_secs(300);

/// Our own schedule for a delivery put back the `times`-th time because
/// its config, a secret or its stored body could not be read: 2 s, 4 s,
/// 8 s, … at most five minutes, jittered. Not the receiver's schedule: the
/// receiver was never asked.
pub fn unreadable_wait(times: u32, seed: &str) -> Duration {
    let base = Duration::from_secs(1u64 << times.clamp(1, 9)).min(UNREADABLE_MAX_WAIT);
    jittered(base, seed, times).min(UNREADABLE_MAX_WAIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_invocation_pauses_grow_fourfold() {
        let b = Backoff::default();
        let pauses: Vec<u128> = (1..=3).map(|t| b.pause(t).as_millis()).collect();
        assert_eq!(pauses, [100, 400, 1600]);
    }

    #[test]
    fn the_unreadable_schedule_doubles_to_five_minutes_within_its_jitter() {
        let table: [(u32, u64); 10] = [
            (0, 2),
            (1, 2),
            (2, 4),
            (3, 8),
            (4, 16),
            (5, 32),
            (6, 64),
            (7, 128),
            (8, 256),
            (30, 300),
        ];
        for (times, base) in table {
            for seed in ["d-1", "d-2", "a-much-longer-delivery-id"] {
                let wait = unreadable_wait(times, seed).as_secs_f64();
                let (low, high) = ((base as f64 * 0.8).max(1.0), (base as f64 * 1.2).min(300.0));
                assert!(
                    (low..=high).contains(&wait),
                    "times {times}, seed {seed}: {wait} s outside {low}..={high}"
                );
            }
        }
    }

    #[tokio::test]
    async fn retry_stops_at_the_first_success_or_after_its_tries() {
        let b = Backoff {
            tries: 3,
            first: Duration::from_millis(1),
        };
        let mut calls = 0;
        let ok: Result<u32, String> = b
            .retry("op", || {
                calls += 1;
                let n = calls;
                async move { if n < 2 { Err(format!("no {n}")) } else { Ok(n) } }
            })
            .await;
        assert_eq!(ok, Ok(2));
        let mut calls = 0;
        let failed: Result<u32, String> = b
            .retry("op", || {
                calls += 1;
                let n = calls;
                async move { Err(format!("no {n}")) }
            })
            .await;
        assert_eq!(failed, Err("no 3".to_owned()));
    }
}
