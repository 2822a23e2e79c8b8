//! Failure streaks: the first failed attempt of the receiver's after a
//! success marks the subscription `failingSince` (a `delivery.failing`
//! notice); the next success removes the mark; a mark older than the limit
//! disables the subscription (a `subscription.disabled` notice).
use super::Sender;
use super::message::{about, span};
use crate::delivery::Delivery;
use crate::ids::SubscriptionId;
use crate::notice::{Fact, Notice, NoticeType, streak_exceeded};
use crate::timestamp::Timestamp;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The failure-streak rule, and the streak marks this instance wrote: they
/// outrank the cached config (which may predate them) for as long as the
/// config may be stale, so a down receiver costs one mark, not one write
/// per failed attempt.
pub struct Streaks {
    /// Failing this long disables a subscription; zero turns the rule off.
    pub limit: Duration,
    memo_ttl: Duration,
    memo: Mutex<HashMap<SubscriptionId, (Option<Timestamp>, Instant)>>,
}

impl Streaks {
    pub fn new(limit: Duration, config_ttl: Duration) -> Self {
        Streaks {
            limit,
            memo_ttl: config_ttl,
            memo: Mutex::default(),
        }
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<SubscriptionId, (Option<Timestamp>, Instant)>> {
        self.memo.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The streak's start as this instance knows it.
    fn known(
        &self,
        id: &SubscriptionId,
        configured: Option<Timestamp>,
        now: Instant,
    ) -> Option<Timestamp> {
        match self.lock().get(id) {
            Some((since, at)) if now.saturating_duration_since(*at) < self.memo_ttl => *since,
            _ => configured,
        }
    }

    fn remember(&self, id: &SubscriptionId, since: Option<Timestamp>, now: Instant) {
        self.lock().insert(id.clone(), (since, now));
    }

    fn forget(&self, id: &SubscriptionId) {
        self.lock().remove(id);
    }
}

/// The streak step after a failed attempt: a subscription failing since
/// `since` is disabled, with this reason, once it is past `limit`.
pub(super) fn disable_reason(
    since: Timestamp,
    now: Timestamp,
    limit: Duration,
    error: &str,
) -> Option<String> {
    streak_exceeded(since, now, limit).then(|| {
        format!(
            "every attempt failed since {since} (the limit is {}); last error: {error}",
            span(limit)
        )
    })
}

impl Sender {
    /// A failed attempt of the receiver's: marks the streak's start (the
    /// first failure after a success: a `delivery.failing` notice), and
    /// disables the subscription once the streak is over the limit.
    pub(super) async fn failed_attempt(
        &self,
        delivery: &Delivery,
        attempt: u32,
        error: &str,
        configured: Option<Timestamp>,
    ) {
        if self.streaks.limit.is_zero() || delivery.test {
            return;
        }
        let id = &delivery.subscription_id;
        let now = self.clock.now();
        let since = match self.streaks.known(id, configured, self.clock.instant()) {
            Some(since) => since,
            None => match self.mark_streak(delivery, attempt, error, now).await {
                Some(since) => since,
                None => return,
            },
        };
        if let Some(reason) = disable_reason(since, now, self.streaks.limit, error) {
            self.disable_failing(delivery, attempt, since, reason).await;
        }
    }

    /// Marks the streak's start in the config table (the first instance
    /// to mark it tells the operators); the start as marked.
    async fn mark_streak(
        &self,
        delivery: &Delivery,
        attempt: u32,
        error: &str,
        now: Timestamp,
    ) -> Option<Timestamp> {
        let id = &delivery.subscription_id;
        let (since, began) = match self.control.failing(id, now).await {
            Ok(marked) => marked,
            Err(e) => {
                tracing::warn!(subscription_id = %id, error = %e, "could not mark the failure streak");
                return None;
            }
        };
        self.streaks.remember(id, Some(since), self.clock.instant());
        if began {
            let what = format!(
                "attempt {attempt} of delivery {} failed: {error}",
                delivery.id
            );
            let notice = Notice::new(
                NoticeType::DeliveryFailing,
                delivery.party,
                id,
                Fact::StreakBegan(since),
                what,
            )
            .failing_since(since)
            .about(about(delivery, attempt));
            self.notify(notice);
        }
        Some(since)
    }

    /// Disables a subscription failing too long, unless a success ended
    /// its streak meanwhile.
    async fn disable_failing(
        &self,
        delivery: &Delivery,
        attempt: u32,
        since: Timestamp,
        reason: String,
    ) {
        let id = &delivery.subscription_id;
        match self.control.disable_failing(id, since, &reason).await {
            Ok(true) => {
                tracing::error!(subscription_id = %id, failing_since = %since, "failing too long; the subscription is disabled");
                let notice = Notice::new(
                    NoticeType::SubscriptionDisabled,
                    delivery.party,
                    id,
                    Fact::StreakDisabled(since),
                    reason,
                )
                .failing_since(since)
                .about(about(delivery, attempt));
                self.notify(notice);
                self.config.invalidate().await;
            }
            // A success ended that streak meanwhile (or it is disabled
            // already): what this instance knew is stale.
            Ok(false) => self.streaks.forget(id),
            Err(e) => {
                tracing::warn!(subscription_id = %id, error = %e, "could not disable a failing subscription")
            }
        }
    }

    /// A success: the streak, if one is marked, is over.
    pub(super) async fn ended_streak(&self, delivery: &Delivery, configured: Option<Timestamp>) {
        let id = &delivery.subscription_id;
        let now = self.clock.instant();
        if self.streaks.limit.is_zero() || self.streaks.known(id, configured, now).is_none() {
            return;
        }
        match self.control.recovered(id).await {
            Ok(()) => self.streaks.remember(id, None, now),
            Err(e) => {
                tracing::warn!(subscription_id = %id, error = %e, "could not end the failure streak")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_streak_disables_only_past_its_limit_with_the_last_error() {
        let since = Timestamp::parse("2026-11-25T09:11:58.001Z").unwrap();
        let at = |secs: i64| Timestamp(since.0 + chrono::Duration::seconds(secs));
        let day = Duration::from_secs(24 * 3600);
        // (failing for, limit, → disabled)
        let table = [
            (0, day, false),
            (86_399, day, false),
            (86_401, day, true),
            (5, Duration::from_secs(3), true),
        ];
        for (failing, limit, disabled) in table {
            let reason = disable_reason(since, at(failing), limit, "receiver answered 503: busy");
            assert_eq!(reason.is_some(), disabled, "{failing} s against {limit:?}");
        }
        assert_eq!(
            disable_reason(since, at(86_401), day, "receiver answered 503: busy").unwrap(),
            "every attempt failed since 2026-11-25T09:11:58.001Z (the limit is 24 hours); \
             last error: receiver answered 503: busy"
        );
    }

    #[test]
    fn a_mark_this_instance_wrote_outranks_the_config_until_the_config_may_be_fresh() {
        let streaks = Streaks::new(Duration::from_secs(3600), Duration::from_secs(60));
        let id = SubscriptionId::new("s");
        let t0 = Instant::now();
        let configured = Timestamp::parse("2026-11-25T09:11:58.001Z").ok();
        let marked = Timestamp::parse("2026-11-26T00:00:00.000Z").ok();
        assert_eq!(streaks.known(&id, configured, t0), configured);
        streaks.remember(&id, marked, t0);
        assert_eq!(
            streaks.known(&id, configured, t0 + Duration::from_secs(59)),
            marked
        );
        assert_eq!(
            streaks.known(&id, configured, t0 + Duration::from_secs(60)),
            configured
        );
        streaks.remember(&id, None, t0);
        assert_eq!(
            streaks.known(&id, configured, t0),
            None,
            "a success this instance saw"
        );
        streaks.forget(&id);
        assert_eq!(streaks.known(&id, configured, t0), configured);
    }
}
