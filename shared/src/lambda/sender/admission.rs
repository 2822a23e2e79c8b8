//! Whether to attempt a delivery now: not while its receiver's breaker is
//! open (it timed out moments ago), not over its `maxPerSecond`. What
//! waits is deferred: put back on the queue, its attempts kept.
use super::{Sender, Settled};
use crate::delivery::Delivery;
use crate::ids::SubscriptionId;
use aws_lambda_events::event::sqs::SqsMessage;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a receiver's timeout keeps its subscription's breaker open in
/// an instance (the AMQP adapter leaves a silent broker alone as long).
pub const BREAKER_WINDOW: Duration = Duration::from_secs(10);

/// The subscriptions whose receiver timed out recently, per instance.
#[derive(Default)]
pub struct Breakers {
    open_until: Mutex<HashMap<SubscriptionId, Instant>>,
}

impl Breakers {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SubscriptionId, Instant>> {
        self.open_until.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How long the breaker of `id` stays open, if it is.
    pub(super) fn open(&self, id: &SubscriptionId, now: Instant) -> Option<Duration> {
        self.lock()
            .get(id)
            .and_then(|until| until.checked_duration_since(now))
            .filter(|left| !left.is_zero())
    }

    pub(super) fn trip(&self, id: &SubscriptionId, now: Instant) {
        self.lock().insert(id.clone(), now + BREAKER_WINDOW);
    }
}

/// What admission decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Admission {
    Go,
    /// Not now: back on the queue for this long, for this reason.
    Wait(Duration, &'static str),
}

impl Sender {
    /// Whether to attempt `delivery` now; if not, for how long it waits: its
    /// receiver timed out moments ago, or its subscription is over
    /// `maxPerSecond`.
    pub(super) async fn admission(
        &self,
        delivery: &Delivery,
        max_per_second: Option<u32>,
    ) -> Admission {
        if delivery.test {
            return Admission::Go;
        }
        let now = self.clock.instant();
        if let Some(left) = self.breakers.open(&delivery.subscription_id, now) {
            return Admission::Wait(left, "receiver timed out");
        }
        let Some(max) = max_per_second else {
            return Admission::Go;
        };
        match self
            .rates
            .admit(&delivery.subscription_id, max, self.clock.now())
            .await
        {
            Ok(true) => Admission::Go,
            Ok(false) => Admission::Wait(Duration::from_secs(1), "maxPerSecond"),
            Err(e) => {
                // Better a delivery over the rate than one held up.
                tracing::warn!(subscription_id = %delivery.subscription_id, error = %e, "could not count the rate; sending");
                Admission::Go
            }
        }
    }

    /// Puts the delivery back on the queue for `wait`, its attempts kept
    /// (`received` counts this receipt, which was no attempt); if that
    /// fails, the message comes back after `wait` as a failed one would.
    pub(super) async fn defer(
        &self,
        message: &SqsMessage,
        delivery: &Delivery,
        received: u32,
        wait: Duration,
        why: &'static str,
    ) -> Settled {
        let again = Delivery {
            spent_attempts: received.saturating_sub(1),
            ..delivery.clone()
        };
        let settled = self.requeue(message, &again, wait).await;
        if settled == Settled::Deferred {
            tracing::debug!(delivery_id = %delivery.id, subscription_id = %delivery.subscription_id, reason = why, wait_ms = wait.as_millis() as u64, "deferred");
            crate::meter::deferred(why);
        }
        settled
    }
}
