//! Deliveries: one delivery's attempts, resending one, replaying a window
//! of a subscription's, within a scope. Both read the attempt log (the
//! envelopes its pages kept) and send through the delivery queue, so a
//! resend or a replay takes the real path: same delivery ids (receivers
//! deduplicate), attempts counting on, the subscription's current
//! destination and auth.
use super::{OpError, Scope, subscriptions};
use crate::attempt::{AttemptRecord, Filter};
use crate::delivery::Delivery;
use crate::ports::{AttemptSearch, ConfigStore, DeliveryQueue, IoError};
use crate::replay::{Plan, Which, plan};
use crate::timestamp::Timestamp;
use std::time::Duration;

/// The attempts of delivery `id` of the last `span`, oldest first, if the
/// scope reaches its subscription.
pub async fn attempts_of(
    search: &dyn AttemptSearch,
    store: &dyn ConfigStore,
    scope: Scope,
    id: &str,
    span: chrono::Duration,
) -> Result<Vec<AttemptRecord>, OpError> {
    let not_found = || OpError::NotFound {
        what: "delivery",
        id: id.to_owned(),
    };
    let mut found = search
        .attempts(&Filter::Delivery(id.to_owned()), span)
        .await?;
    found.sort_by_key(|a| (a.at, a.attempt));
    let subscription = found.first().ok_or_else(not_found)?.subscription_id.clone();
    // Ids are the hub's own (UUIDs), one subscription's each; should two
    // ever meet, only the first's attempts are shown.
    found.retain(|a| a.subscription_id == subscription);
    match subscriptions::get(store, scope, subscription.as_str()).await {
        Ok(_) => Ok(found),
        // A party learns nothing of a subscription not its own; an
        // operator hears that the subscription is gone.
        Err(OpError::NotFound { .. }) if scope != Scope::Operator => Err(not_found()),
        Err(e) => Err(e),
    }
}

/// Sends delivery `id` (attempted in the last `span`) again, from the
/// envelope the attempt log kept; the delivery as enqueued.
pub async fn resend(
    search: &dyn AttemptSearch,
    store: &dyn ConfigStore,
    queue: &dyn DeliveryQueue,
    scope: Scope,
    id: &str,
    span: chrono::Duration,
) -> Result<Delivery, OpError> {
    let attempts = attempts_of(search, store, scope, id, span).await?;
    let (Some(first), Some(last)) = (attempts.first(), attempts.last()) else {
        return Err(OpError::NotFound {
            what: "delivery",
            id: id.to_owned(),
        });
    };
    let logged = logged_of(search, &attempts, id).await?;
    let chosen = plan(logged, first.at, last.at, Which::All);
    if chosen.tests > 0 {
        return Err(OpError::Refused(format!(
            "delivery `{id}` was a test send: send another test instead"
        )));
    }
    let Some(delivery) = chosen.deliveries.into_iter().next() else {
        return Err(OpError::Refused(format!(
            "delivery `{id}` cannot be resent: the attempt log kept no envelope for it \
             (AttemptLogBodies off, or an older sender)"
        )));
    };
    enqueue_one(queue, &delivery).await?;
    Ok(delivery)
}

/// Delivery `id`'s pages of the attempt log, each with the envelope it
/// kept, given its `attempts` (oldest first, as [`attempts_of`] reads them).
pub async fn logged_of(
    search: &dyn AttemptSearch,
    attempts: &[AttemptRecord],
    id: &str,
) -> Result<Vec<(AttemptRecord, Option<Delivery>)>, IoError> {
    let (Some(first), Some(last)) = (attempts.first(), attempts.last()) else {
        return Ok(Vec::new());
    };
    Ok(search
        .logged(first.subscription_id.as_str(), first.at, last.at)
        .await?
        .into_iter()
        .filter(|(r, _)| r.delivery_id.as_str() == id)
        .collect())
}

/// Enqueues one delivery, its failure an error.
pub(super) async fn enqueue_one(
    queue: &dyn DeliveryQueue,
    delivery: &Delivery,
) -> Result<(), OpError> {
    match queue.enqueue(std::slice::from_ref(delivery)).await.pop() {
        Some(Err(e)) => Err(OpError::Io(e)),
        _ => Ok(()),
    }
}

/// A window of a subscription's deliveries to send again.
#[derive(Debug, Clone)]
pub struct Window {
    pub subscription: String,
    pub since: Timestamp,
    pub until: Timestamp,
    pub which: Which,
}

/// Why a window cannot be read from an attempt log that keeps attempts
/// `log_days` days, naming the bound it passes (`since` or `until`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct WindowError {
    /// `since` or `until`.
    pub field: &'static str,
    pub detail: String,
}

/// A start before what the log keeps (nothing is there, and reading it
/// would query every day's partitions), an end in the future, an end before
/// the start.
pub fn check_window(
    since: Timestamp,
    until: Timestamp,
    now: Timestamp,
    log_days: u32,
) -> Result<(), WindowError> {
    let oldest = now.0 - chrono::Duration::days(i64::from(log_days));
    let refuse = |field, detail: String| Err(WindowError { field, detail });
    if since.0 < oldest {
        return refuse(
            "since",
            format!(
                "{since} is older than the attempt log keeps ({log_days} days, AttemptLogDays)"
            ),
        );
    }
    // A minute of leeway for clocks.
    if until.0 > now.0 + chrono::Duration::minutes(1) {
        return refuse(
            "until",
            format!("{until} is in the future: the attempt log holds nothing after now"),
        );
    }
    if until < since {
        return refuse("until", format!("{until} is before since ({since})"));
    }
    Ok(())
}

/// What `window` holds to send again, if the scope reaches its
/// subscription.
pub async fn plan_window(
    search: &dyn AttemptSearch,
    store: &dyn ConfigStore,
    scope: Scope,
    window: &Window,
) -> Result<Plan, OpError> {
    subscriptions::get(store, scope, &window.subscription).await?;
    let logged = search
        .logged(&window.subscription, window.since, window.until)
        .await?;
    Ok(plan(logged, window.since, window.until, window.which))
}

/// A replay that stopped part way: how far it got and where to go on.
#[derive(Debug, thiserror::Error)]
#[error(
    "sent {sent} of {total}; delivery {failed} failed: {error}. Nothing is lost: replay again from {resume} to go on"
)]
pub struct Interrupted {
    pub sent: usize,
    pub total: usize,
    pub failed: String,
    /// The first attempt time of the chunk that failed: a replay from it
    /// repeats at most nine deliveries (same ids).
    pub resume: Timestamp,
    pub error: crate::ports::IoError,
}

/// Sends the plan's deliveries to the queue, ten a call, in order, at most
/// `rate` a second if given; `progress` is told after each call.
pub async fn send_plan(
    queue: &dyn DeliveryQueue,
    plan: &Plan,
    rate: Option<u32>,
    mut progress: impl FnMut(usize),
) -> Result<usize, Interrupted> {
    let mut sent = 0;
    for chunk in plan.deliveries.chunks(10) {
        let results = queue.enqueue(chunk).await;
        if let Some((i, Err(e))) = results.into_iter().enumerate().find(|(_, r)| r.is_err()) {
            return Err(Interrupted {
                sent: sent + i,
                total: plan.deliveries.len(),
                failed: chunk[i].id.to_string(),
                resume: plan.first_attempted[sent],
                error: e,
            });
        }
        sent += chunk.len();
        progress(sent);
        if let Some(rate) = rate {
            let pause = chunk.len() as f64 / f64::from(rate.max(1));
            tokio::time::sleep(Duration::from_secs_f64(pause)).await;
        }
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_outside_the_log_or_in_the_future_are_refused() {
        let now = Timestamp::parse("2026-12-04T12:00:00.000Z").unwrap();
        let ago = |h: i64| Timestamp(now.0 - chrono::Duration::hours(h));
        let later = |s: i64| Timestamp(now.0 + chrono::Duration::seconds(s));
        // (since, until, → refused at, with)
        let table = [
            (ago(24), now, None),
            (ago(30 * 24), now, None),
            (
                ago(31 * 24),
                now,
                Some(("since", "older than the attempt log keeps")),
            ),
            (ago(24), later(59), None),
            (ago(24), later(3600), Some(("until", "in the future"))),
            (ago(1), ago(2), Some(("until", "is before since"))),
        ];
        for (since, until, refused) in table {
            let got = check_window(since, until, now, 30);
            match refused {
                None => assert!(got.is_ok(), "{since} {until}: {got:?}"),
                Some((field, why)) => {
                    let e = got.unwrap_err();
                    assert_eq!(e.field, field, "{since} {until}");
                    assert!(e.detail.contains(why), "{since} {until}: {e}")
                }
            }
        }
    }
}
