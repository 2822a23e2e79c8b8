//! Time as a port: the sender's rules (breakers, rate windows, failure
//! streaks, the unreadable limit) read it here, so their tests move time
//! instead of sleeping.
use crate::timestamp::Timestamp;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub trait Clock: Send + Sync {
    /// The wall clock, for what is written down or compared across
    /// instances (a streak's start, since when a delivery is unreadable).
    fn now(&self) -> Timestamp;
    /// A monotonic instant, for windows within one instance.
    fn instant(&self) -> Instant;
}

/// The system's clocks.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }

    fn instant(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that moves only when told to (tests).
#[derive(Debug)]
pub struct ManualClock {
    at: Mutex<(Timestamp, Instant)>,
}

impl Default for ManualClock {
    fn default() -> Self {
        ManualClock {
            at: Mutex::new((Timestamp::now(), Instant::now())),
        }
    }
}

impl ManualClock {
    pub fn advance(&self, by: Duration) {
        let mut at = self.at.lock().unwrap_or_else(|e| e.into_inner());
        let wall = at.0.0 + chrono::Duration::from_std(by).unwrap_or(chrono::TimeDelta::MAX);
        *at = (Timestamp(wall), at.1 + by);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        self.at.lock().unwrap_or_else(|e| e.into_inner()).0
    }

    fn instant(&self) -> Instant {
        self.at.lock().unwrap_or_else(|e| e.into_inner()).1
    }
}

impl<C: Clock + ?Sized> Clock for std::sync::Arc<C> {
    fn now(&self) -> Timestamp {
        (**self).now()
    }

    fn instant(&self) -> Instant {
        (**self).instant()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_both_clocks_by_the_same_span() {
        let clock = ManualClock::default();
        let (wall, mono) = (clock.now(), clock.instant());
        clock.advance(Duration::from_secs(90));
        assert_eq!((clock.now().0 - wall.0).num_seconds(), 90);
        assert_eq!(clock.instant() - mono, Duration::from_secs(90));
    }
}
