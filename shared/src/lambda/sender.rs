//! The sender: SQS batches of deliveries → HTTP requests or AMQP messages.
//!
//! Messages of a batch are delivered concurrently. After each attempt the
//! [`retry`](crate::retry) verdict decides:
//!
//! - delivered: the message is deleted (Lambda does it for us);
//! - retry: the message is hidden for the next delay of the schedule
//!   (ChangeMessageVisibility) and reported in `batchItemFailures`, so SQS
//!   hands it out again after the delay, with the same delivery id;
//! - give up (attempts exhausted, destination refused): the delivery goes
//!   to the DLQ with its last error, and is deleted here;
//! - `410 Gone`: the subscription is disabled (with the reason recorded) and
//!   the delivery goes to the DLQ.
//!
//! Before each attempt the subscription is looked up in the current config
//! (cached for `CONFIG_TTL_SECONDS`): a disabled, deleted or refused
//! subscription, or one that dropped the type, sends nothing more and the
//! delivery goes to the DLQ with that reason; otherwise destination, auth
//! and attempt limit are the subscription's as they are now, so retries and
//! replays follow what the operator just fixed. The body stays as rendered.
//!
//! Attempts count across replays: the envelope carries the attempts of its
//! earlier lives (`priorAttempts`, written when it is dead-lettered), so
//! `webhook-attempt` and the attempt log go on from there.
//!
//! Fair sharing: a receiver that times out opens its subscription's breaker
//! in this instance for [`BREAKER_WINDOW`]: the subscription's deliveries
//! then waiting (in this batch or the next) are deferred, put back on the
//! queue for the rest of the window without an attempt, so one hanging
//! receiver costs a batch one timeout, not one per delivery, and the other
//! subscriptions' deliveries are not held behind it. A subscription's
//! `maxPerSecond` defers the excess by a second the same way. A deferred
//! delivery keeps its attempts (`spentAttempts`).
//!
//! Failure streaks: the first failed attempt after a success marks the
//! subscription `failingSince` (and sends a `delivery.failing` notice); the
//! next success removes the mark. A subscription whose mark is older than
//! the limit (`FAILURE_STREAK_HOURS`, default 120) is disabled with the
//! reason recorded. Refusals of our own (the SSRF guard), what we could not read and
//! withdrawn deliveries are not the receiver's failures and do not count.
//! Notices (`crate::notice`) go to the notice topic and to the party's
//! notice destination.
//!
//! Our outages are not attempts: a delivery whose config, secret or stored
//! body cannot be read (a store not answering, a secret missing) is put
//! back with our own backoff ([`crate::backoff::unreadable_wait`]), spends
//! none of the receiver's attempts, writes no attempt and feeds no streak;
//! past the unreadable limit it is dead-lettered as never sent.
//!
//! A message that is not a delivery at all goes to the DLQ at once with its
//! reason, so it neither blocks the batch nor burns retries. The queue's
//! redrive policy (maxReceiveCount above any subscription's attempts) is
//! only a safety net for a sender that keeps crashing.
use crate::attempt::{self, AttemptRecord, Secrets};
use crate::config::{Auth, Destination};
use crate::config_cache::ConfigCache;
use crate::delivery::{Delivery, READABLE_VERSIONS};
use crate::ids::SubscriptionId;
use crate::notice::{AboutDelivery, Notice, NoticeType, streak_exceeded};
use crate::outcome::NotAttempted;
use crate::ports::{
    AttemptLog, ConfigSource, DeadLetter, DeadLetters, DeliveryError, Holds, NoticeTopic, Outgoing,
    PayloadStore, RateLimits, Redelivery, SecretStore, SubscriptionControl, Transport,
};
use crate::retry::{RetrySchedule, Verdict, verdict};
use crate::timestamp::Timestamp;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use futures::future::join_all;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Sender {
    pub transport: Box<dyn Transport>,
    pub dead_letters: Box<dyn DeadLetters>,
    pub redelivery: Box<dyn Redelivery>,
    pub secrets: Box<dyn SecretStore>,
    pub control: Box<dyn SubscriptionControl>,
    pub payloads: Box<dyn PayloadStore>,
    pub log: Box<dyn AttemptLog>,
    pub schedule: RetrySchedule,
    /// The subscriptions as configured now.
    pub config: ConfigCache<Box<dyn ConfigSource>>,
    /// The deployment's notice topic ([`crate::ports::NoTopic`] when none).
    pub notices: Box<dyn NoticeTopic>,
    pub streaks: Streaks,
    /// `maxPerSecond` counters.
    pub rates: Box<dyn RateLimits>,
    pub breakers: Breakers,
    /// Receipts of ordered deliveries held back (not attempts).
    pub holds: Box<dyn Holds>,
    pub clock: std::sync::Arc<dyn crate::clock::Clock>,
    /// How long a delivery may stay unreadable (its config, a secret, its
    /// stored body) before it is dead-lettered unsent.
    pub unreadable_limit: Duration,
}

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
    fn open(&self, id: &SubscriptionId) -> Option<Duration> {
        let now = Instant::now();
        self.lock()
            .get(id)
            .and_then(|until| until.checked_duration_since(now))
            .filter(|left| !left.is_zero())
    }

    fn trip(&self, id: &SubscriptionId) {
        self.lock()
            .insert(id.clone(), Instant::now() + BREAKER_WINDOW);
    }
}

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
    fn known(&self, id: &SubscriptionId, configured: Option<Timestamp>) -> Option<Timestamp> {
        match self.lock().get(id) {
            Some((since, at)) if at.elapsed() < self.memo_ttl => *since,
            _ => configured,
        }
    }

    fn remember(&self, id: &SubscriptionId, since: Option<Timestamp>) {
        self.lock().insert(id.clone(), (since, Instant::now()));
    }

    fn forget(&self, id: &SubscriptionId) {
        self.lock().remove(id);
    }
}

/// Tries to reach a party's notice destination (within the batch: notices
/// are rare; the notice topic is the durable copy).
const NOTICE_TRIES: u32 = 3;

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// Comes back later (reported in `batchItemFailures`).
    Failed,
    /// In the DLQ with its reason.
    Parked,
    /// Put back on the queue, not attempted (breaker open, over
    /// `maxPerSecond`); this message is done.
    Deferred,
}

/// Deliveries of one batch to one subscription in flight at once: a batch
/// of 100 to one receiver reaches it 10 at a time, as batches of 10 did.
pub const PER_SUBSCRIPTION_IN_FLIGHT: usize = 10;

impl Sender {
    pub async fn handle(&self, event: SqsEvent) -> Result<SqsBatchResponse, lambda_runtime::Error> {
        // The subscription from the message attribute the router sets; a
        // message without it shares the "" gate.
        let subscription = |m: &SqsMessage| -> String {
            m.message_attributes
                .get(crate::delivery::attributes::SUBSCRIPTION_ID)
                .and_then(|a| a.string_value.clone())
                .unwrap_or_default()
        };
        let mut gates: std::collections::HashMap<String, std::sync::Arc<tokio::sync::Semaphore>> =
            Default::default();
        for m in &event.records {
            gates.entry(subscription(m)).or_insert_with(|| {
                std::sync::Arc::new(tokio::sync::Semaphore::new(PER_SUBSCRIPTION_IN_FLIGHT))
            });
        }
        let records = &event.records;
        let run = |i: usize, ordered: bool| {
            let m = &records[i];
            let gate = gates.get(&subscription(m)).cloned();
            async move {
                // A closed semaphore cannot happen (never closed): go on.
                let _permit = match &gate {
                    Some(g) => g.acquire().await.ok(),
                    None => None,
                };
                self.process_from(m, ordered).await
            }
        };
        // The ordered queue's messages by message group (subscription and
        // case), in the order received: one after another, and after the
        // first that must come again the rest of its group is held back.
        let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
        let mut standard = Vec::new();
        for (i, m) in event.records.iter().enumerate() {
            if !from_ordered_queue(m) {
                standard.push(i);
                continue;
            }
            let group = m
                .attributes
                .get("MessageGroupId")
                .cloned()
                .unwrap_or_default();
            match groups.iter_mut().find(|(g, _)| *g == group) {
                Some((_, members)) => members.push(i),
                None => groups.push((group, vec![i])),
            }
        }
        let unordered = join_all(standard.iter().map(|&i| {
            let run = &run;
            async move { (i, run(i, false).await) }
        }));
        let ordered = join_all(groups.iter().map(|(_, members)| {
            let run = &run;
            async move {
                let mut out = Vec::with_capacity(members.len());
                let mut held = false;
                for &i in members {
                    let outcome = if held {
                        self.hold(&records[i], Duration::ZERO).await
                    } else {
                        run(i, true).await
                    };
                    held |= outcome == Outcome::Failed;
                    out.push((i, outcome));
                }
                out
            }
        }));
        let (unordered, ordered) = futures::join!(unordered, ordered);
        let mut outcomes = vec![Outcome::Failed; records.len()];
        for (i, o) in unordered.into_iter().chain(ordered.into_iter().flatten()) {
            outcomes[i] = o;
        }
        // The batch's attempts in as few writes as the log can make them.
        if let Err(e) = self.log.flush().await {
            tracing::warn!(error = %e, "could not write the attempt log");
        }
        let mut response = SqsBatchResponse::default();
        let (mut delivered, mut parked, mut deferred) = (0, 0, 0);
        for (message, outcome) in event.records.iter().zip(&outcomes) {
            match outcome {
                Outcome::Delivered => delivered += 1,
                Outcome::Parked => parked += 1,
                Outcome::Deferred => deferred += 1,
                Outcome::Failed => {
                    response.add_failure(message.message_id.clone().unwrap_or_default())
                }
            }
        }
        tracing::info!(
            messages = event.records.len(),
            delivered,
            parked,
            deferred,
            failed = response.batch_item_failures.len(),
            "sender batch done"
        );
        Ok(response)
    }

    /// One message of the standard queue.
    pub async fn process(&self, message: &SqsMessage) -> Outcome {
        self.process_from(message, false).await
    }

    /// A message of the ordered queue held back behind an earlier one of
    /// its group that must come again: not attempted, the receipt counted
    /// as a hold (not an attempt), and visible again at once (the earlier
    /// one, hidden until its retry, keeps the group waiting).
    async fn hold(&self, message: &SqsMessage, wait: Duration) -> Outcome {
        // The id from the attribute the router sets, else from the body.
        let id = message
            .message_attributes
            .get(crate::delivery::attributes::DELIVERY_ID)
            .and_then(|a| a.string_value.clone())
            .or_else(|| parse(message).ok().map(|d| d.id.to_string()));
        if let Some(id) = id
            && let Err(e) = self.holds.hold(&id).await
        {
            tracing::warn!(delivery_id = id, error = %e, "could not count a hold; it counts as an attempt");
        }
        self.retry_later(message, wait).await;
        Outcome::Failed
    }

    /// One message; `ordered`: from the ordered queue, where a receipt may
    /// have been a hold rather than an attempt.
    async fn process_from(&self, message: &SqsMessage, ordered: bool) -> Outcome {
        let message_id = message.message_id.as_deref().unwrap_or("<no message id>");
        let mut delivery = match parse(message) {
            Ok(d) => d,
            Err(reason) => {
                tracing::error!(message_id, reason = %reason, "malformed delivery message moved to the DLQ");
                crate::meter::malformed_message();
                let body = message.body.clone().unwrap_or_default();
                return self
                    .park(
                        reason.to_string(),
                        format!("delivery queue message {message_id}"),
                        body,
                    )
                    .await;
            }
        };
        // Attempts in this life bound the retries (maxAttempts); the
        // number sent and logged counts earlier lives too.
        let received: u32 = message
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|c| c.parse().ok())
            .unwrap_or(1);
        // Receipts held back behind an earlier delivery of the case were no
        // attempts (read only for a message received before).
        let received = if ordered && received > 1 {
            match self.holds.held(&delivery.id).await {
                Ok(held) => received.saturating_sub(held).max(1),
                Err(e) => {
                    tracing::warn!(delivery_id = %delivery.id, error = %e, "could not read the holds; counting every receipt");
                    received
                }
            }
        } else {
            received
        };
        // This life's attempts: this one and those before a deferral.
        let received = received.saturating_add(delivery.spent_attempts);
        let attempt = delivery.prior_attempts.saturating_add(received);
        let mut streak = Streak::default();
        let current = match self.follow_config(&mut delivery).await {
            Ok(current) => Ok(current),
            Err(NotAttempted::Unreadable(why)) => {
                return self
                    .put_back(message, &delivery, received, ordered, why)
                    .await;
            }
            Err(NotAttempted::Withdrawn(why)) => Err(DeliveryError::Withdrawn(why)),
        };
        let prepared = match current {
            Ok(current) => {
                streak.failing_since = current.failing_since;
                if let Some((wait, why)) = self.hold_back(&delivery, current.max_per_second).await {
                    if ordered {
                        // Put back at the end of its group it would lose
                        // its place: it waits at the head instead.
                        tracing::debug!(delivery_id = %delivery.id, reason = why, "ordered delivery waits");
                        return self.hold(message, Duration::ZERO).await;
                    }
                    return self.defer(message, &delivery, received, wait, why).await;
                }
                match self.prepare(&delivery).await {
                    Ok(prepared) => Ok(prepared),
                    Err(why) => {
                        return self
                            .put_back(message, &delivery, received, ordered, why)
                            .await;
                    }
                }
            }
            Err(e) => Err(e),
        };
        let result = match prepared {
            Err(e) => Err(e),
            Ok((body, secrets, broker_uri)) => {
                let timestamp = chrono::Utc::now().timestamp();
                match attempt::headers(&delivery, attempt, timestamp, &body, &secrets) {
                    Err(e) => Err(DeliveryError::Refused(e.to_string())),
                    Ok(headers) => {
                        let outgoing = Outgoing::of(&delivery, &body, headers, broker_uri);
                        let result = self.transport.deliver(&outgoing).await;
                        if matches!(result, Err(DeliveryError::Timeout(_))) {
                            self.breakers.trip(&delivery.subscription_id);
                        }
                        // The receiver's failure, not a refusal of ours.
                        streak.receiver_failed = matches!(
                            &result,
                            Err(e) if !matches!(e, DeliveryError::Refused(_) | DeliveryError::Withdrawn(_))
                        );
                        result
                    }
                }
            }
        };
        let verdict = verdict(
            result,
            received,
            delivery.max_attempts,
            &self.schedule,
            &delivery.id,
        );
        self.settle(message, &delivery, attempt, verdict, streak)
            .await
    }

    /// Takes destination, auth and attempt limit from the subscription as
    /// configured now; `Withdrawn` when it must not be sent any more. Says
    /// since when the subscription is failing, if it is.
    async fn follow_config(&self, delivery: &mut Delivery) -> Result<Current, NotAttempted> {
        let config =
            self.config.get().await.map_err(|e| {
                NotAttempted::Unreadable(format!("the config could not be read: {e}"))
            })?;
        let (subscription, route) =
            crate::routing::current_route(&config, &delivery.subscription_id, delivery.event_type)
                .map_err(NotAttempted::Withdrawn)?;
        delivery.destination = route.destination.clone();
        delivery.auth = subscription.auth.clone();
        // A test send (`hubhooks send-test`) keeps its single attempt.
        if !delivery.test {
            delivery.max_attempts = subscription.max_attempts();
        }
        Ok(Current {
            failing_since: subscription.failing_since,
            max_per_second: subscription.max_per_second,
        })
    }

    /// Why not to attempt `delivery` now, and for how long: its receiver
    /// timed out moments ago, or its subscription is over `maxPerSecond`.
    async fn hold_back(
        &self,
        delivery: &Delivery,
        max_per_second: Option<u32>,
    ) -> Option<(Duration, &'static str)> {
        if delivery.test {
            return None;
        }
        if let Some(left) = self.breakers.open(&delivery.subscription_id) {
            return Some((left, "receiver timed out"));
        }
        let max = max_per_second?;
        match self.rates.admit(&delivery.subscription_id, max).await {
            Ok(true) => None,
            Ok(false) => Some((Duration::from_secs(1), "maxPerSecond")),
            Err(e) => {
                // Better a delivery over the rate than one held up.
                tracing::warn!(subscription_id = %delivery.subscription_id, error = %e, "could not count the rate; sending");
                None
            }
        }
    }

    /// Puts the delivery back on the queue for `wait`, its attempts kept
    /// (`received` counts this receipt, which was no attempt); if that
    /// fails, the message comes back after `wait` as a failed one would.
    async fn defer(
        &self,
        message: &SqsMessage,
        delivery: &Delivery,
        received: u32,
        wait: Duration,
        why: &'static str,
    ) -> Outcome {
        let again = Delivery {
            spent_attempts: received.saturating_sub(1),
            ..delivery.clone()
        };
        match self.redelivery.defer(&again, wait).await {
            Ok(()) => {
                tracing::debug!(delivery_id = %delivery.id, subscription_id = %delivery.subscription_id, reason = why, wait_ms = wait.as_millis() as u64, "deferred");
                crate::meter::deferred(why);
                Outcome::Deferred
            }
            Err(e) => {
                tracing::warn!(delivery_id = %delivery.id, error = %e, "could not defer; the message comes back instead");
                self.retry_later(message, wait).await;
                Outcome::Failed
            }
        }
    }

    /// The body (fetched when offloaded), the secret values and, for AMQP,
    /// the broker URI.
    async fn prepare(
        &self,
        delivery: &Delivery,
    ) -> Result<(String, Secrets, Option<String>), String> {
        let body = match &delivery.body_ref {
            None => delivery.body.clone(),
            Some(key) => self
                .payloads
                .get(key)
                .await
                .map_err(|e| format!("the stored body could not be read: {e}"))?,
        };
        let secrets = self.secrets_of(delivery.auth.as_ref()).await?;
        let broker_uri = match &delivery.destination {
            Destination::Amqp(a) => Some(self.first(&a.uri_secret, "destination.uriSecret").await?),
            Destination::Http(_) => None,
        };
        Ok((body, secrets, broker_uri))
    }

    /// The values of the secrets `auth` names; what could not be read.
    async fn secrets_of(&self, auth: Option<&Auth>) -> Result<Secrets, String> {
        let mut secrets = Secrets::default();
        if let Some(Auth {
            x_token_secret,
            bearer_secret,
            signing_secret,
        }) = auth
        {
            if let Some(name) = x_token_secret {
                secrets.x_token = Some(self.first(name, "auth.xTokenSecret").await?);
            }
            if let Some(name) = bearer_secret {
                secrets.bearer = Some(self.first(name, "auth.bearerSecret").await?);
            }
            if let Some(name) = signing_secret {
                secrets.signing = self.all(name, "auth.signingSecret").await?;
            }
        }
        Ok(secrets)
    }

    /// A missing secret is unreadable too: written again (a rotation, a
    /// restore), it is read within seconds.
    async fn all(&self, name: &str, field: &str) -> Result<Vec<String>, String> {
        match self.secrets.secret(name).await {
            Ok(Some(values)) if !values.is_empty() => Ok(values),
            Ok(_) => Err(format!(
                "secret `{name}` named by {field} does not exist or is empty"
            )),
            Err(e) => Err(format!(
                "secret `{name}` named by {field} could not be read: {e}"
            )),
        }
    }

    async fn first(&self, name: &str, field: &str) -> Result<String, String> {
        let mut values = self.all(name, field).await?;
        Ok(values.swap_remove(0))
    }

    async fn settle(
        &self,
        message: &SqsMessage,
        delivery: &Delivery,
        attempt: u32,
        verdict: Verdict,
        streak: Streak,
    ) -> Outcome {
        let record = AttemptRecord::new(delivery, attempt, &verdict, Timestamp::now());
        crate::meter::attempt(
            delivery.event_type.as_str(),
            delivery.destination.transport(),
            &verdict,
        );
        // The log is for people; a failure to write it never fails a delivery.
        if let Err(e) = self.log.record(&record, delivery).await {
            tracing::warn!(delivery_id = %delivery.id, error = %e, "could not write the attempt log")
        }
        match verdict {
            Verdict::Delivered(receipt) => {
                // Successes are in the attempt log and the metrics; at INFO
                // the log keeps one line per batch and one per failure.
                tracing::debug!(
                    delivery_id = %delivery.id,
                    subscription_id = %delivery.subscription_id,
                    event_type = %delivery.event_type,
                    case_guid = %delivery.case_guid,
                    transport = delivery.destination.transport(),
                    attempt,
                    status = receipt.status,
                    latency_ms = receipt.latency.as_millis() as u64,
                    "delivered"
                );
                self.ended_streak(delivery, streak.failing_since).await;
                Outcome::Delivered
            }
            Verdict::Retry { delay, error } => {
                tracing::warn!(
                    delivery_id = %delivery.id,
                    subscription_id = %delivery.subscription_id,
                    event_type = %delivery.event_type,
                    case_guid = %delivery.case_guid,
                    transport = delivery.destination.transport(),
                    attempt,
                    max_attempts = delivery.max_attempts,
                    retry_in_s = delay.as_secs(),
                    error = %error.message,
                    "delivery failed; retrying later"
                );
                if streak.receiver_failed {
                    self.failed_attempt(delivery, attempt, &error.message, streak.failing_since)
                        .await;
                }
                self.retry_later(message, delay).await;
                Outcome::Failed
            }
            Verdict::GiveUp { reason, .. } => {
                tracing::error!(
                    delivery_id = %delivery.id,
                    subscription_id = %delivery.subscription_id,
                    event_type = %delivery.event_type,
                    case_guid = %delivery.case_guid,
                    attempt,
                    reason = %reason,
                    "delivery dead-lettered"
                );
                if streak.receiver_failed {
                    self.failed_attempt(delivery, attempt, &reason, streak.failing_since)
                        .await;
                }
                self.park_delivery(reason, delivery, attempt).await
            }
            Verdict::Gone { reason } => {
                tracing::error!(
                    delivery_id = %delivery.id,
                    subscription_id = %delivery.subscription_id,
                    reason = %reason,
                    "receiver answered 410 Gone; disabling the subscription"
                );
                match self
                    .control
                    .disable(&delivery.subscription_id, &reason)
                    .await
                {
                    Err(e) => {
                        tracing::error!(subscription_id = %delivery.subscription_id, error = %e, "could not disable the subscription");
                    }
                    Ok(()) => {
                        let fact = format!("gone#{}", delivery.id);
                        self.notify(
                            Notice::new(
                                NoticeType::SubscriptionDisabled,
                                delivery.party,
                                &delivery.subscription_id,
                                &fact,
                                reason.clone(),
                            )
                            .about(about(delivery, attempt)),
                        )
                        .await;
                    }
                }
                // This instance's other deliveries for it stop at once.
                self.config.invalidate().await;
                self.park_delivery(reason, delivery, attempt).await
            }
        }
    }

    /// A failed attempt of the receiver's: marks the streak's start (the
    /// first failure after a success: a `delivery.failing` notice), and
    /// disables the subscription once the streak is over the limit.
    async fn failed_attempt(
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
        let now = Timestamp::now();
        let since = match self.streaks.known(id, configured) {
            Some(since) => since,
            None => match self.control.failing(id, now).await {
                Ok((since, began)) => {
                    self.streaks.remember(id, Some(since));
                    if began {
                        let notice = Notice::new(
                            NoticeType::DeliveryFailing,
                            delivery.party,
                            id,
                            &since.to_contract_string(),
                            format!(
                                "attempt {attempt} of delivery {} failed: {error}",
                                delivery.id
                            ),
                        )
                        .failing_since(since)
                        .about(about(delivery, attempt));
                        self.notify(notice).await;
                    }
                    since
                }
                Err(e) => {
                    tracing::warn!(subscription_id = %id, error = %e, "could not mark the failure streak");
                    return;
                }
            },
        };
        if !streak_exceeded(since, now, self.streaks.limit) {
            return;
        }
        let limit = span(self.streaks.limit);
        let reason = format!(
            "every attempt failed since {since} (the limit is {limit}); last error: {error}"
        );
        match self.control.disable_failing(id, since, &reason).await {
            Ok(true) => {
                tracing::error!(subscription_id = %id, failing_since = %since, "failing too long; the subscription is disabled");
                let notice = Notice::new(
                    NoticeType::SubscriptionDisabled,
                    delivery.party,
                    id,
                    &format!("streak#{}", since.to_contract_string()),
                    reason,
                )
                .failing_since(since)
                .about(about(delivery, attempt));
                self.notify(notice).await;
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
    async fn ended_streak(&self, delivery: &Delivery, configured: Option<Timestamp>) {
        let id = &delivery.subscription_id;
        if self.streaks.limit.is_zero() || self.streaks.known(id, configured).is_none() {
            return;
        }
        match self.control.recovered(id).await {
            Ok(()) => self.streaks.remember(id, None),
            Err(e) => {
                tracing::warn!(subscription_id = %id, error = %e, "could not end the failure streak")
            }
        }
    }

    /// Sends a notice to the notice topic and to the party's notice
    /// destination (signed like its webhooks; a few tries). Never fails
    /// the delivery it is about.
    async fn notify(&self, notice: Notice) {
        let kind = notice.notice_type.as_str();
        crate::meter::notice(kind);
        if let Err(e) = self.notices.publish(&notice).await {
            tracing::error!(notice_id = %notice.id, notice_type = kind, error = %e, "could not publish a notice");
        }
        let config = match self.config.get().await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(notice_id = %notice.id, error = %e, "config unavailable; notice not sent to the party");
                return;
            }
        };
        let Some(to) = config.notice_destination(notice.party) else {
            return;
        };
        let secrets = match self.secrets_of(to.auth.as_ref()).await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(notice_id = %notice.id, destination = %to.id, error = %e, "notice not sent");
                return;
            }
        };
        let body = notice.to_json();
        for try_number in 1..=NOTICE_TRIES {
            let timestamp = chrono::Utc::now().timestamp();
            let headers = match attempt::signed_headers(
                &notice.id, kind, try_number, timestamp, &body, &secrets, false,
            ) {
                Ok(h) => h,
                Err(e) => {
                    tracing::error!(notice_id = %notice.id, destination = %to.id, error = %e, "notice not sent");
                    return;
                }
            };
            let outgoing = Outgoing {
                id: &notice.id,
                kind,
                subscription_id: &to.id,
                destination: &to.destination,
                body: &body,
                headers,
                broker_uri: None,
            };
            match self.transport.deliver(&outgoing).await {
                Ok(_) => return,
                // A refusal (the SSRF guard, a bad header) will not change.
                Err(e) if try_number == NOTICE_TRIES || matches!(e, DeliveryError::Refused(_)) => {
                    tracing::error!(notice_id = %notice.id, notice_type = kind, destination = %to.id, error = %e, "could not deliver a notice");
                    return;
                }
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(250 * u64::from(try_number))).await
                }
            }
        }
    }

    /// Something of ours could not be read (`why`): the delivery goes back
    /// on the queue after a wait of our own schedule, spending none of the
    /// receiver's attempts, writing no attempt and feeding no streak. Past
    /// the unreadable limit it is dead-lettered, saying it was never sent.
    async fn put_back(
        &self,
        message: &SqsMessage,
        delivery: &Delivery,
        received: u32,
        ordered: bool,
        why: String,
    ) -> Outcome {
        crate::meter::unreadable();
        let now = self.clock.now();
        let state = unreadable_state(delivery, message, ordered, now);
        // This receipt was no attempt: `received` counted it.
        let made = delivery
            .prior_attempts
            .saturating_add(received.saturating_sub(1));
        if unreadable_too_long(state.since, now, self.unreadable_limit) {
            let reason = format!(
                "never reached the receiver: {why}; unreadable since {}, over the limit of {}",
                state.since,
                span(self.unreadable_limit)
            );
            tracing::error!(delivery_id = %delivery.id, subscription_id = %delivery.subscription_id, reason = %reason, "delivery dead-lettered unsent");
            return self.park_delivery(reason, delivery, made).await;
        }
        let wait = crate::backoff::unreadable_wait(state.times, delivery.id.as_str());
        tracing::warn!(delivery_id = %delivery.id, subscription_id = %delivery.subscription_id, error = %why, times = state.times, wait_ms = wait.as_millis() as u64, "not attempted: ours could not be read; put back");
        if ordered {
            return self.hold(message, wait).await;
        }
        let again = Delivery {
            spent_attempts: received.saturating_sub(1),
            unreadable: Some(state),
            ..delivery.clone()
        };
        match self.redelivery.defer(&again, wait).await {
            Ok(()) => Outcome::Deferred,
            Err(e) => {
                tracing::warn!(delivery_id = %delivery.id, error = %e, "could not put back; the message comes back instead");
                self.retry_later(message, wait).await;
                Outcome::Failed
            }
        }
    }

    async fn retry_later(&self, message: &SqsMessage, delay: Duration) {
        let Some(handle) = message.receipt_handle.as_deref() else {
            return;
        };
        // If this fails the message still comes back, after the queue's own
        // visibility timeout.
        let ordered = from_ordered_queue(message);
        if let Err(e) = self.redelivery.retry_later(handle, delay, ordered).await {
            tracing::warn!(error = %e, "could not set the retry delay; the queue's visibility timeout applies");
        }
    }

    /// Dead-letters a delivery with its attempts so far, so a replay counts
    /// on (the envelope is only written out here, off the success path).
    /// The operators hear of it (`delivery.deadLettered`).
    async fn park_delivery(&self, reason: String, delivery: &Delivery, attempt: u32) -> Outcome {
        let reason = if delivery.ordered {
            format!(
                "{reason}; the later webhooks of case {} to this subscription go on without it",
                delivery.case_guid
            )
        } else {
            reason
        };
        let body = Delivery {
            prior_attempts: attempt,
            spent_attempts: 0,
            ..delivery.clone()
        }
        .to_message();
        let outcome = self
            .park(reason.clone(), format!("delivery {}", delivery.id), body)
            .await;
        if outcome == Outcome::Parked && !delivery.test {
            let fact = format!("{}#{attempt}", delivery.id);
            let notice = Notice::new(
                NoticeType::DeliveryDeadLettered,
                delivery.party,
                &delivery.subscription_id,
                &fact,
                reason,
            )
            .about(about(delivery, attempt));
            self.notify(notice).await;
        }
        outcome
    }

    async fn park(&self, reason: String, origin: String, body: String) -> Outcome {
        let letter = DeadLetter {
            reason,
            origin,
            body,
        };
        match self.dead_letters.park(letter).await {
            Ok(()) => Outcome::Parked,
            Err(e) => {
                tracing::error!(error = %e, "could not move to the DLQ; leaving it on the queue");
                Outcome::Failed
            }
        }
    }
}

/// The subscription as configured now, beyond where a delivery goes.
struct Current {
    failing_since: Option<Timestamp>,
    max_per_second: Option<u32>,
}

/// What a failed attempt tells of the subscription's failure streak.
#[derive(Debug, Default, Clone, Copy)]
struct Streak {
    /// The streak's start, as the config says.
    failing_since: Option<Timestamp>,
    /// An attempt was made and the receiver failed it.
    receiver_failed: bool,
}

fn about(delivery: &Delivery, attempt: u32) -> AboutDelivery {
    AboutDelivery {
        delivery_id: delivery.id.clone(),
        event_type: delivery.event_type,
        case_guid: delivery.case_guid.clone(),
        attempt,
    }
}

/// Whether a message comes from the ordered (FIFO) queue: its event source
/// is a `.fifo` queue (Lambda's event, and the local runner's).
fn from_ordered_queue(message: &SqsMessage) -> bool {
    message
        .event_source_arn
        .as_deref()
        .is_some_and(|arn| arn.ends_with(".fifo"))
}

/// Since when, and how often, `delivery` has been unreadable, counting
/// this time. A put-back delivery is a new message, received once: a
/// message received before was attempted (or held) meanwhile, so its
/// unreadable spell starts anew. The ordered queue holds its message
/// instead, whose envelope cannot change: there the spell is the message's
/// age (`SentTimestamp`) and its receipts.
fn unreadable_state(
    delivery: &Delivery,
    message: &SqsMessage,
    ordered: bool,
    now: Timestamp,
) -> crate::delivery::Unreadable {
    let attribute = |name: &str| {
        message
            .attributes
            .get(name)
            .and_then(|v| v.parse::<i64>().ok())
    };
    let receipts = attribute("ApproximateReceiveCount").unwrap_or(1).max(1);
    if ordered {
        let since = attribute("SentTimestamp")
            .and_then(Timestamp::from_millis)
            .unwrap_or(now);
        return crate::delivery::Unreadable {
            since: since.min(now),
            times: u32::try_from(receipts).unwrap_or(u32::MAX),
        };
    }
    match delivery.unreadable {
        Some(before) if receipts == 1 => crate::delivery::Unreadable {
            since: before.since,
            times: before.times.saturating_add(1),
        },
        _ => crate::delivery::Unreadable {
            since: now,
            times: 1,
        },
    }
}

/// Whether a delivery unreadable `since` has waited past `limit`.
fn unreadable_too_long(since: Timestamp, now: Timestamp, limit: Duration) -> bool {
    (now.0 - since.0)
        .to_std()
        .is_ok_and(|waited| waited > limit)
}

/// A limit as people read it: whole hours as hours, else seconds.
fn span(limit: Duration) -> String {
    let secs = limit.as_secs();
    if secs > 0 && secs.is_multiple_of(3600) {
        format!("{} hours", secs / 3600)
    } else {
        format!("{secs} seconds")
    }
}

/// A queue message that is not a delivery this sender can read.
#[derive(Debug, thiserror::Error)]
enum NotADelivery {
    #[error("message has no body")]
    NoBody,
    #[error("not a delivery: {0}")]
    Unreadable(#[from] serde_json::Error),
    #[error(
        "delivery envelope version {0} is not supported (this sender reads {READABLE_VERSIONS:?})"
    )]
    Version(u8),
}

fn parse(message: &SqsMessage) -> Result<Delivery, NotADelivery> {
    let body = message.body.as_deref().ok_or(NotADelivery::NoBody)?;
    let delivery: Delivery = serde_json::from_str(body)?;
    if !READABLE_VERSIONS.contains(&delivery.v) {
        return Err(NotADelivery::Version(delivery.v));
    }
    Ok(delivery)
}

/// The sender as deployed.
pub type AwsSender = Sender;

impl Sender {
    pub fn from_aws(
        sdk: &aws_types::SdkConfig,
        settings: crate::settings::SenderSettings,
    ) -> Result<Self, lambda_runtime::Error> {
        use crate::adapters::{amqp, dynamo, http, s3, sqs};
        let sqs_client = aws_sdk_sqs::Client::new(sdk);
        let ddb = aws_sdk_dynamodb::Client::new(sdk);
        Ok(Sender {
            transport: Box::new(crate::adapters::Transports {
                http: http::HttpTransport::new(settings.egress.clone(), settings.proxy.as_deref())?,
                amqp: amqp::AmqpTransport::new(settings.egress.clone()),
            }),
            dead_letters: Box::new(sqs::SqsDeadLetters::new(
                sqs_client.clone(),
                settings.dead_letter_queue_url,
            )),
            redelivery: Box::new(sqs::SqsRedelivery::new(
                sqs_client,
                settings.delivery_queue_url,
                settings.ordered_queue_url,
            )),
            holds: Box::new(dynamo::DynamoCounters::new(
                ddb.clone(),
                settings.deliveries_table.clone(),
            )),
            secrets: Box::new(dynamo::DynamoSecrets::new(
                ddb.clone(),
                settings.secrets_table,
            )),
            control: Box::new(dynamo::DynamoSubscriptionControl::new(
                ddb.clone(),
                settings.config_table.clone(),
            )),
            payloads: Box::new(s3::S3Payloads::new(
                s3::client(sdk),
                settings.payload_bucket,
            )),
            rates: Box::new(dynamo::DynamoCounters::new(
                ddb.clone(),
                settings.deliveries_table.clone(),
            )),
            log: Box::new(dynamo::DynamoAttemptLog::new(
                ddb.clone(),
                settings.deliveries_table,
                settings.attempt_log_days,
                settings.attempt_log_bodies,
            )),
            schedule: settings.retry_schedule,
            config: ConfigCache::new(
                Box::new(dynamo::DynamoConfigSource::new(ddb, settings.config_table)),
                settings.config_ttl,
            ),
            notices: match settings.notice_topic_arn {
                Some(arn) => Box::new(crate::adapters::sns::SnsNotices::new(
                    aws_sdk_sns::Client::new(sdk),
                    arn,
                )),
                None => Box::new(crate::ports::NoTopic),
            },
            streaks: Streaks::new(settings.failure_streak, settings.config_ttl),
            breakers: Breakers::default(),
            clock: std::sync::Arc::new(crate::clock::SystemClock),
            unreadable_limit: settings.unreadable_limit,
        })
    }
}

/// The sender over in-memory ports: each verdict, and the rules that make
/// retries and replays follow the operator.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use crate::memory::{
        self, MemoryAttemptLog, MemoryConfig, MemoryControl, MemoryDeadLetters, MemoryPayloads,
        MemoryRedelivery, MemorySecrets, MemoryTopic, ScriptedTransport,
    };
    use serde_json::{Value, json};
    use std::sync::Arc;

    struct World {
        sender: Sender,
        transport: Arc<ScriptedTransport>,
        parked: Arc<MemoryDeadLetters>,
        log: Arc<MemoryAttemptLog>,
        redelivery: Arc<MemoryRedelivery>,
        control: Arc<MemoryControl>,
        topic: Arc<MemoryTopic>,
        clock: Arc<crate::clock::ManualClock>,
        config: Arc<MemoryConfig>,
        secrets: Arc<MemorySecrets>,
    }

    fn subscription(extra: Value) -> Value {
        let mut s = json!({"id": "s", "kind": "subscription", "party": {"type": "partner", "id": 1413},
                           "eventTypes": ["newStatus"],
                           "destination": {"method": "POST", "url": "https://example.com/now"}});
        s.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        s
    }

    fn world(config: Vec<Value>, transport: ScriptedTransport) -> World {
        let transport = Arc::new(transport);
        let (parked, log, redelivery) = (Arc::default(), Arc::default(), Arc::default());
        let (control, topic) = (
            Arc::<MemoryControl>::default(),
            Arc::<MemoryTopic>::default(),
        );
        let holds = Arc::<memory::MemoryHolds>::default();
        let clock = Arc::<crate::clock::ManualClock>::default();
        let secrets = Arc::<MemorySecrets>::default();
        secrets
            .values
            .lock()
            .unwrap()
            .insert(OPS_SECRET.into(), vec![OPS_KEY.into()]);
        let config = Arc::new(MemoryConfig::new(config));
        World {
            sender: Sender {
                transport: Box::new(Arc::clone(&transport)),
                dead_letters: Box::new(Arc::clone(&parked)),
                redelivery: Box::new(Arc::clone(&redelivery)),
                secrets: Box::new(Arc::clone(&secrets)),
                control: Box::new(Arc::clone(&control)),
                payloads: Box::new(MemoryPayloads::default()),
                log: Box::new(Arc::clone(&log)),
                schedule: RetrySchedule::default(),
                config: ConfigCache::new(Box::new(Arc::clone(&config)), Duration::from_secs(60)),
                notices: Box::new(Arc::clone(&topic)),
                streaks: Streaks::new(
                    crate::notice::DEFAULT_FAILURE_STREAK,
                    Duration::from_secs(60),
                ),
                rates: Box::new(memory::MemoryRates::default()),
                breakers: Breakers::default(),
                holds: Box::new(Arc::clone(&holds)),
                clock: clock.clone(),
                unreadable_limit: crate::settings::DEFAULT_UNREADABLE_LIMIT,
            },
            clock,
            config,
            secrets,
            transport,
            parked,
            log,
            redelivery,
            control,
            topic,
        }
    }

    const OPS_SECRET: &str = "ops-signing";
    const OPS_KEY: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    /// The notice destination of partner 1413 (the subscription's party).
    fn operators() -> Value {
        json!({"id": "ops-1413", "kind": "noticeDestination", "party": {"type": "partner", "id": 1413},
               "destination": {"method": "POST", "url": "https://example.com/ops"},
               "auth": {"signingSecret": OPS_SECRET}})
    }

    fn types(topic: &MemoryTopic) -> Vec<&'static str> {
        topic
            .published()
            .iter()
            .map(|n| n.notice_type.as_str())
            .collect()
    }

    fn other_subscription() -> Value {
        json!({"id": "b", "kind": "subscription", "party": {"type": "partner", "id": 1413},
               "eventTypes": ["newStatus"],
               "destination": {"method": "POST", "url": "https://example.com/b"}})
    }

    #[tokio::test]
    async fn a_receiver_that_timed_out_has_its_waiting_deliveries_deferred_not_attempted() {
        // GIVEN `s`'s receiver times out once
        let w = world(
            vec![subscription(json!({})), other_subscription()],
            ScriptedTransport::new(
                [Err(DeliveryError::Timeout(Duration::from_secs(10)))],
                memory::ok(),
            ),
        );
        assert_eq!(
            w.sender.process(&message(&envelope(), 1)).await,
            Outcome::Failed
        );
        // WHEN another delivery of `s` (its third receipt) comes up
        let second = memory::delivery("d-2", "s", "https://example.com/x");
        assert_eq!(
            w.sender.process(&message(&second, 3)).await,
            Outcome::Deferred
        );
        // THEN it is put back for the rest of the window, not attempted,
        // keeping its two earlier attempts
        assert_eq!(w.transport.attempts().len(), 1);
        let deferred = w.redelivery.deferred.lock().unwrap().clone();
        assert_eq!(deferred.len(), 1);
        assert_eq!(deferred[0].0.id.as_str(), "d-2");
        assert_eq!(deferred[0].0.spent_attempts, 2);
        assert!(
            deferred[0].1 > BREAKER_WINDOW - Duration::from_secs(2)
                && deferred[0].1 <= BREAKER_WINDOW,
            "{:?}",
            deferred[0].1
        );
        // AND another subscription's delivery goes out at once
        let other = memory::delivery("d-3", "b", "https://example.com/x");
        assert_eq!(
            w.sender.process(&message(&other, 1)).await,
            Outcome::Delivered
        );
        assert_eq!(
            w.transport.attempts()[1].destination,
            "https://example.com/b"
        );
        // AND nothing was logged for the deferral (no attempt was made)
        let mut event = SqsEvent::default();
        event.records.push(message(
            &memory::delivery("d-4", "s", "https://example.com/x"),
            1,
        ));
        let response = w.sender.handle(event).await.unwrap();
        assert!(response.batch_item_failures.is_empty());
        assert!(
            w.log
                .records()
                .iter()
                .all(|r| r.delivery_id.as_str() != "d-4")
        );
    }

    #[tokio::test]
    async fn max_per_second_defers_the_excess_by_a_second() {
        // GIVEN a subscription allowed 2 deliveries a second
        let w = world(
            vec![subscription(json!({"maxPerSecond": 2}))],
            ScriptedTransport::accepting(),
        );
        // WHEN a batch of 3 comes (within one second)
        let mut event = SqsEvent::default();
        for i in 1..=3 {
            let mut m = message(&memory::delivery(&format!("d-{i}"), "s", "https://x/"), 1);
            m.message_id = Some(format!("m-{i}"));
            event.records.push(m);
        }
        let response = w.sender.handle(event).await.unwrap();
        // THEN two go out, one is put back for a second, none failed
        assert!(response.batch_item_failures.is_empty());
        assert_eq!(w.transport.attempts().len(), 2);
        let deferred = w.redelivery.deferred.lock().unwrap().clone();
        assert_eq!(deferred.len(), 1);
        assert_eq!(deferred[0].1, Duration::from_secs(1));
        assert_eq!(deferred[0].0.spent_attempts, 0);
    }

    #[tokio::test]
    async fn a_deferred_delivery_counts_its_spent_attempts_against_max_attempts() {
        // GIVEN a delivery deferred after two attempts, maxAttempts 3
        let w = world(
            vec![subscription(json!({"maxAttempts": 3}))],
            ScriptedTransport::new([], memory::answered(500)),
        );
        let deferred = Delivery {
            spent_attempts: 2,
            ..envelope()
        };
        // WHEN its copy fails on first receipt
        assert_eq!(
            w.sender.process(&message(&deferred, 1)).await,
            Outcome::Parked
        );
        // THEN that was attempt 3 of 3
        assert_eq!(
            w.transport.attempts()[0].header("webhook-attempt"),
            Some("3")
        );
        assert_eq!(
            w.parked.letters()[0].reason,
            "gave up after 3 of 3 attempts; last error: receiver answered 500: "
        );
        let parked: Delivery = serde_json::from_str(&w.parked.letters()[0].body).unwrap();
        assert_eq!((parked.prior_attempts, parked.spent_attempts), (3, 0));
    }

    /// A message of the ordered queue, as Lambda hands it over.
    fn ordered_message(delivery: &Delivery, id: &str, received: u32) -> SqsMessage {
        let mut m = message(delivery, received);
        m.message_id = Some(id.into());
        m.receipt_handle = Some(format!("h-{id}"));
        m.event_source_arn =
            Some("arn:aws:sqs:eu-west-1:123456789012:hubhooks-dev-deliveries-ordered.fifo".into());
        m.attributes
            .insert("MessageGroupId".into(), delivery.order_group());
        let mut attr = aws_lambda_events::event::sqs::SqsMessageAttribute::default();
        attr.string_value = Some(delivery.id.to_string());
        m.message_attributes.insert("deliveryId".into(), attr);
        m
    }

    #[tokio::test]
    async fn an_ordered_delivery_that_must_come_again_holds_back_its_case_only() {
        // GIVEN two ordered deliveries of case g and one of case h; the
        // receiver fails the first
        let w = world(
            vec![subscription(json!({"ordering": "perCase"}))],
            ScriptedTransport::new([memory::answered(500)], memory::ok()),
        );
        let on = |id: &str, case: &str| Delivery {
            ordered: true,
            case_guid: case.into(),
            ..memory::delivery(id, "s", "https://x/")
        };
        let (d1, d2, d3) = (on("d-1", "g"), on("d-2", "g"), on("d-3", "h"));
        let mut event = SqsEvent::default();
        event.records = vec![
            ordered_message(&d1, "m-1", 1),
            ordered_message(&d2, "m-2", 1),
            ordered_message(&d3, "m-3", 1),
        ];
        // WHEN the batch is handled
        let response = w.sender.handle(event).await.unwrap();
        // THEN d-2 is not attempted: held behind d-1, visible again at once
        // (d-1, hidden until its retry, keeps the group waiting), and the
        // hold is counted; case h's goes out
        let failed: Vec<&str> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(failed, ["m-1", "m-2"]);
        let mut sent: Vec<String> = w
            .transport
            .attempts()
            .iter()
            .map(|a| a.delivery_id.clone())
            .collect();
        sent.sort();
        assert_eq!(sent, ["d-1", "d-3"]);
        let delays = w.redelivery.delays.lock().unwrap().clone();
        assert!(
            delays
                .iter()
                .any(|(h, d)| h == "h-m-1" && *d >= Duration::from_secs(24)),
            "{delays:?}"
        );
        assert!(
            delays.contains(&("h-m-2".to_owned(), Duration::ZERO)),
            "{delays:?}"
        );
        // WHEN both come again, d-1 is taken
        let mut event = SqsEvent::default();
        event.records = vec![
            ordered_message(&d1, "m-1", 2),
            ordered_message(&d2, "m-2", 2),
        ];
        let response = w.sender.handle(event).await.unwrap();
        assert!(response.batch_item_failures.is_empty());
        // THEN d-2's second receipt is its first attempt
        let attempts = w.transport.attempts();
        let d2_attempt = attempts.iter().find(|a| a.delivery_id == "d-2").unwrap();
        assert_eq!(d2_attempt.header("webhook-attempt"), Some("1"));
        let d1_again = attempts
            .iter()
            .filter(|a| a.delivery_id == "d-1")
            .nth(1)
            .unwrap();
        assert_eq!(d1_again.header("webhook-attempt"), Some("2"));
    }

    #[tokio::test]
    async fn a_receivers_first_failure_marks_the_streak_once_and_a_success_ends_it() {
        // GIVEN a receiver that fails twice, then answers
        let w = world(
            vec![subscription(json!({}))],
            ScriptedTransport::new([memory::answered(500), memory::answered(503)], memory::ok()),
        );
        // WHEN the first attempt fails
        assert_eq!(
            w.sender.process(&message(&envelope(), 1)).await,
            Outcome::Failed
        );
        // THEN the streak is marked and the operators told, once
        let since = *w.control.failing.lock().unwrap().get("s").expect("marked");
        assert_eq!(types(&w.topic), ["delivery.failing"]);
        let notice = &w.topic.published()[0];
        assert_eq!(notice.failing_since, Some(since));
        assert_eq!(notice.delivery.as_ref().unwrap().attempt, 1);
        assert_eq!(
            notice.reason,
            "attempt 1 of delivery d-1 failed: receiver answered 500: "
        );
        // WHEN the second fails: the same streak, no second notice
        assert_eq!(
            w.sender.process(&message(&envelope(), 2)).await,
            Outcome::Failed
        );
        assert_eq!(w.control.failing.lock().unwrap().get("s"), Some(&since));
        assert_eq!(types(&w.topic), ["delivery.failing"]);
        // WHEN the third is delivered: the streak is over
        assert_eq!(
            w.sender.process(&message(&envelope(), 3)).await,
            Outcome::Delivered
        );
        assert!(w.control.failing.lock().unwrap().is_empty());
        assert!(w.control.disabled.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_subscription_failing_past_the_limit_is_disabled_and_its_operators_told_signed() {
        // GIVEN a subscription failing for six days, and its party's
        // notice destination
        // (as stored: to the millisecond)
        let since = Timestamp::from_millis(
            (chrono::Utc::now() - chrono::Duration::days(6)).timestamp_millis(),
        )
        .unwrap();
        let w = world(
            vec![
                subscription(json!({"failingSince": since.to_contract_string()})),
                operators(),
            ],
            // The receiver fails; the operators' endpoint answers.
            ScriptedTransport::new([memory::answered(503)], memory::ok()),
        );
        w.control.failing.lock().unwrap().insert("s".into(), since);
        // WHEN another attempt fails
        assert_eq!(
            w.sender.process(&message(&envelope(), 4)).await,
            Outcome::Failed
        );
        // THEN the subscription is disabled with the reason recorded
        let disabled = w.control.disabled.lock().unwrap().clone();
        let reason = format!(
            "every attempt failed since {since} (the limit is 120 hours); last error: receiver answered 503: "
        );
        assert_eq!(disabled, [("s".to_owned(), reason.clone())]);
        // AND the topic and the party's operators hear of it, signed
        assert_eq!(types(&w.topic), ["subscription.disabled"]);
        let notice = &w.topic.published()[0];
        assert_eq!(notice.reason, reason);
        assert_eq!(notice.failing_since, Some(since));
        let sent = w.transport.attempts();
        assert_eq!(sent.len(), 2, "{sent:?}");
        assert_eq!(sent[1].destination, "https://example.com/ops");
        assert_eq!(sent[1].header("event-type"), Some("subscription.disabled"));
        assert_eq!(sent[1].header("webhook-id"), Some(notice.id.as_str()));
        assert_eq!(sent[1].body, notice.to_json());
        let timestamp: i64 = sent[1]
            .header("webhook-timestamp")
            .unwrap()
            .parse()
            .unwrap();
        let expected =
            crate::signature::sign(&[OPS_KEY.into()], &notice.id, timestamp, &sent[1].body)
                .unwrap();
        assert_eq!(sent[1].header("webhook-signature"), Some(expected.as_str()));
    }

    #[tokio::test]
    async fn a_streak_ended_elsewhere_disables_nothing() {
        // GIVEN a stale config saying the subscription fails since six
        // days, while another instance's success ended that streak
        // (as stored: to the millisecond)
        let since = Timestamp::from_millis(
            (chrono::Utc::now() - chrono::Duration::days(6)).timestamp_millis(),
        )
        .unwrap();
        let w = world(
            vec![subscription(
                json!({"failingSince": since.to_contract_string()}),
            )],
            ScriptedTransport::new([], memory::answered(503)),
        );
        // WHEN an attempt fails
        assert_eq!(
            w.sender.process(&message(&envelope(), 2)).await,
            Outcome::Failed
        );
        // THEN nothing is disabled: the disable is conditional on that streak
        assert!(w.control.disabled.lock().unwrap().is_empty());
        assert!(types(&w.topic).is_empty());
    }

    #[tokio::test]
    async fn refusals_of_our_own_are_not_the_receivers_failures_but_dead_letters_are_told() {
        // GIVEN a destination the SSRF guard refuses, and the operators
        let w = world(
            vec![subscription(json!({})), operators()],
            ScriptedTransport::new(
                [Err(DeliveryError::Refused(
                    "10.0.0.7 is a private address".into(),
                ))],
                memory::ok(),
            ),
        );
        // WHEN it is tried
        assert_eq!(
            w.sender.process(&message(&envelope(), 1)).await,
            Outcome::Parked
        );
        // THEN no streak begins, and the dead letter is told
        assert!(w.control.failing.lock().unwrap().is_empty());
        assert_eq!(types(&w.topic), ["delivery.deadLettered"]);
        let notice = &w.topic.published()[0];
        assert_eq!(
            notice.reason,
            "attempt 1: refused: 10.0.0.7 is a private address"
        );
        assert_eq!(
            notice.delivery.as_ref().unwrap().delivery_id.as_str(),
            "d-1"
        );
        let sent = w.transport.attempts();
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[1].header("event-type"), Some("delivery.deadLettered"));
    }

    /// The message SQS hands over on receive number `received`.
    fn message(delivery: &Delivery, received: u32) -> SqsMessage {
        let mut m = SqsMessage::default();
        m.message_id = Some("m-1".into());
        m.receipt_handle = Some("h-1".into());
        m.body = Some(delivery.to_message());
        m.attributes
            .insert("ApproximateReceiveCount".into(), received.to_string());
        m
    }

    fn envelope() -> Delivery {
        memory::delivery("d-1", "s", "https://example.com/when-routed")
    }

    #[tokio::test]
    async fn a_delivery_goes_where_the_subscription_points_now() {
        let w = world(
            vec![subscription(json!({}))],
            ScriptedTransport::accepting(),
        );
        let outcome = w.sender.process(&message(&envelope(), 1)).await;
        assert_eq!(outcome, Outcome::Delivered);
        let sent = w.transport.attempts();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].destination, "https://example.com/now");
    }

    #[tokio::test]
    async fn a_disabled_subscription_is_sent_nothing_and_the_delivery_waits_in_the_dlq() {
        let w = world(
            vec![subscription(
                json!({"enabled": false, "disabledReason": "receiver down"}),
            )],
            ScriptedTransport::accepting(),
        );
        let outcome = w.sender.process(&message(&envelope(), 3)).await;
        assert_eq!(outcome, Outcome::Parked);
        assert!(w.transport.attempts().is_empty());
        let letters = w.parked.letters();
        assert_eq!(
            letters[0].reason,
            "attempt 3: subscription `s` is disabled (receiver down); not sent"
        );
        // Dead-lettered with its count, so a replay counts on.
        let parked: Delivery = serde_json::from_str(&letters[0].body).unwrap();
        assert_eq!(parked.prior_attempts, 3);
    }

    #[tokio::test]
    async fn a_deleted_subscription_is_sent_nothing() {
        let w = world(vec![], ScriptedTransport::accepting());
        assert_eq!(
            w.sender.process(&message(&envelope(), 1)).await,
            Outcome::Parked
        );
        assert!(w.transport.attempts().is_empty());
        assert_eq!(
            w.parked.letters()[0].reason,
            "attempt 1: subscription `s` no longer exists; not sent"
        );
    }

    #[tokio::test]
    async fn a_replayed_delivery_counts_its_attempts_on() {
        let w = world(
            vec![subscription(json!({}))],
            ScriptedTransport::accepting(),
        );
        let replayed = Delivery {
            prior_attempts: 2,
            ..envelope()
        };
        let mut event = SqsEvent::default();
        event.records.push(message(&replayed, 1));
        w.sender.handle(event).await.unwrap();
        assert_eq!(
            w.transport.attempts()[0].header("webhook-attempt"),
            Some("3")
        );
        let log = w.log.records();
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].attempt, 3);
    }

    #[tokio::test]
    async fn a_failed_attempt_is_hidden_for_the_schedules_delay_even_with_retry_after_zero() {
        let w = world(
            vec![subscription(json!({}))],
            ScriptedTransport::new(
                [Err(DeliveryError::Rejected {
                    status: 429,
                    excerpt: String::new(),
                    latency: Duration::from_millis(1),
                    retry_after: Some(Duration::ZERO),
                })],
                memory::ok(),
            ),
        );
        assert_eq!(
            w.sender.process(&message(&envelope(), 1)).await,
            Outcome::Failed
        );
        let delays = w.redelivery.delays.lock().unwrap().clone();
        assert_eq!(delays.len(), 1);
        assert!(delays[0].1 >= Duration::from_secs(24), "{delays:?}");
    }

    #[tokio::test]
    async fn the_last_allowed_attempt_dead_letters_with_the_last_error() {
        let w = world(
            vec![subscription(json!({"maxAttempts": 2}))],
            ScriptedTransport::new([], memory::answered(500)),
        );
        assert_eq!(
            w.sender.process(&message(&envelope(), 2)).await,
            Outcome::Parked
        );
        assert_eq!(
            w.parked.letters()[0].reason,
            "gave up after 2 of 2 attempts; last error: receiver answered 500: "
        );
    }

    /// Counts deliveries in flight at once, per subscription.
    #[derive(Default)]
    struct Gauge {
        now: std::sync::Mutex<std::collections::HashMap<String, usize>>,
        peak: std::sync::Mutex<std::collections::HashMap<String, usize>>,
    }

    #[async_trait::async_trait]
    impl crate::ports::Transport for Gauge {
        async fn deliver(
            &self,
            outgoing: &Outgoing<'_>,
        ) -> Result<crate::outcome::Receipt, DeliveryError> {
            let sub = outgoing.subscription_id.to_owned();
            {
                let mut now = self.now.lock().unwrap();
                let n = now.entry(sub.clone()).or_default();
                *n += 1;
                let mut peak = self.peak.lock().unwrap();
                let p = peak.entry(sub.clone()).or_default();
                *p = (*p).max(*n);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            *self.now.lock().unwrap().get_mut(&sub).unwrap() -= 1;
            memory::ok()
        }
    }

    #[tokio::test]
    async fn a_batch_of_100_reaches_each_subscription_10_at_a_time() {
        // GIVEN a batch of 100: 60 deliveries for `a`, 40 for `b`
        let mut w = world(
            vec![
                subscription(json!({"id": "a"})),
                subscription(json!({"id": "b"})),
            ],
            ScriptedTransport::accepting(),
        );
        let gauge = Arc::new(Gauge::default());
        w.sender.transport = Box::new(Arc::clone(&gauge));
        let mut event = SqsEvent::default();
        for i in 0..100 {
            let sub = if i < 60 { "a" } else { "b" };
            let mut m = message(
                &Delivery {
                    id: format!("d-{i}").into(),
                    subscription_id: sub.into(),
                    ..envelope()
                },
                1,
            );
            m.message_id = Some(format!("m-{i}"));
            let mut attribute = aws_lambda_events::event::sqs::SqsMessageAttribute::default();
            attribute.string_value = Some(sub.into());
            m.message_attributes.insert(
                crate::delivery::attributes::SUBSCRIPTION_ID.into(),
                attribute,
            );
            event.records.push(m);
        }
        // WHEN it is handled
        let response = w.sender.handle(event).await.unwrap();
        // THEN all are delivered, never more than 10 at once to either,
        // and both subscriptions were served side by side
        assert!(response.batch_item_failures.is_empty());
        let peak = gauge.peak.lock().unwrap().clone();
        assert_eq!(peak.get("a"), Some(&PER_SUBSCRIPTION_IN_FLIGHT));
        assert_eq!(peak.get("b"), Some(&PER_SUBSCRIPTION_IN_FLIGHT));
        assert_eq!(w.log.records().len(), 100);
    }

    #[tokio::test]
    async fn a_batch_reports_only_the_messages_to_retry() {
        // GIVEN a batch: one delivered, one the receiver refuses with 503,
        // one that is not a delivery at all
        let w = world(
            vec![subscription(json!({}))],
            ScriptedTransport::new([memory::ok(), memory::answered(503)], memory::ok()),
        );
        let mut first = message(&envelope(), 1);
        first.message_id = Some("ok".into());
        let mut second = message(
            &Delivery {
                id: "d-2".into(),
                ..envelope()
            },
            1,
        );
        second.message_id = Some("retry".into());
        let mut third = message(&envelope(), 1);
        third.message_id = Some("junk".into());
        third.body = Some("{not json".into());
        let mut event = SqsEvent::default();
        event.records = vec![first, second, third];
        // WHEN it is handled
        let response = w.sender.handle(event).await.unwrap();
        // THEN only the 503 comes back; the junk waits in the DLQ
        let failed: Vec<String> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.clone())
            .collect();
        assert_eq!(failed, ["retry"]);
        let letters = w.parked.letters();
        assert_eq!(letters.len(), 1);
        assert_eq!(letters[0].body, "{not json");
        assert!(
            letters[0].reason.starts_with("not a delivery: "),
            "{}",
            letters[0].reason
        );
    }

    #[tokio::test]
    async fn gone_disables_the_subscription_and_dead_letters_the_delivery() {
        let w = world(
            vec![subscription(json!({}))],
            ScriptedTransport::new([], memory::answered(410)),
        );
        assert_eq!(
            w.sender.process(&message(&envelope(), 1)).await,
            Outcome::Parked
        );
        assert_eq!(
            types(&w.topic),
            ["subscription.disabled", "delivery.deadLettered"]
        );
        let disabled = w.control.disabled.lock().unwrap().clone();
        assert_eq!(
            disabled,
            [(
                "s".to_owned(),
                "attempt 1: receiver answered 410: ; the subscription is disabled".to_owned()
            )]
        );
    }

    /// GIVEN a signed subscription WHEN something of ours cannot be read
    /// THEN nothing is attempted: the delivery is put back with our own
    /// backoff, its attempts unspent, nothing logged, no streak marked.
    #[tokio::test]
    async fn what_we_cannot_read_is_put_back_unattempted() {
        let signed = subscription(json!({"auth": {"signingSecret": "acme"}}));
        // (what fails, the reason's start)
        let cases: [(&str, &str); 3] = [
            ("config", "the config could not be read: "),
            (
                "secret",
                "secret `acme` named by auth.signingSecret does not exist",
            ),
            ("body", "the stored body could not be read: "),
        ];
        for (fails, _) in cases {
            let w = world(vec![signed.clone()], ScriptedTransport::accepting());
            let mut d = envelope();
            match fails {
                "config" => *w.config.failing.lock().unwrap() = 1,
                "body" => d.body_ref = Some("bodies/nowhere.json".into()),
                _ => {}
            }
            if fails != "secret" {
                w.secrets
                    .values
                    .lock()
                    .unwrap()
                    .insert("acme".into(), vec!["whsec_AAAA".into()]);
            }
            let outcome = w.sender.process(&message(&d, 1)).await;
            assert_eq!(outcome, Outcome::Deferred, "{fails}");
            assert!(w.transport.attempts().is_empty(), "{fails}: nothing sent");
            w.sender.log.flush().await.unwrap();
            assert!(w.log.records().is_empty(), "{fails}: no attempt logged");
            assert!(w.parked.letters().is_empty(), "{fails}");
            assert!(
                w.control.failing.lock().unwrap().is_empty(),
                "{fails}: no streak"
            );
            let deferred = w.redelivery.deferred.lock().unwrap().clone();
            let (again, wait) = &deferred[0];
            assert_eq!(again.spent_attempts, 0, "{fails}");
            assert_eq!(
                again.unreadable,
                Some(crate::delivery::Unreadable {
                    since: w.clock.now(),
                    times: 1
                }),
                "{fails}"
            );
            assert!((1..=3).contains(&wait.as_secs()), "{fails}: {wait:?}");
        }
    }

    #[tokio::test]
    async fn a_delivery_put_back_is_attempt_one_once_ours_can_be_read() {
        let w = world(
            vec![subscription(json!({}))],
            ScriptedTransport::accepting(),
        );
        *w.config.failing.lock().unwrap() = 1;
        w.sender.process(&message(&envelope(), 1)).await;
        let (again, _) = w.redelivery.deferred.lock().unwrap()[0].clone();
        // The put-back message, received once.
        let outcome = w.sender.process(&message(&again, 1)).await;
        assert_eq!(outcome, Outcome::Delivered);
        let sent = w.transport.attempts();
        assert_eq!(sent[0].header("webhook-attempt"), Some("1"));
        w.sender.log.flush().await.unwrap();
        assert_eq!(w.log.records()[0].attempt, 1);
    }

    #[tokio::test]
    async fn a_delivery_unreadable_past_the_limit_is_dead_lettered_unsent() {
        let w = world(
            vec![subscription(json!({"auth": {"bearerSecret": "gone"}}))],
            ScriptedTransport::accepting(),
        );
        let since = w.clock.now();
        let mut d = envelope();
        d.prior_attempts = 2;
        d.unreadable = Some(crate::delivery::Unreadable { since, times: 20 });
        w.clock
            .advance(crate::settings::DEFAULT_UNREADABLE_LIMIT + Duration::from_secs(1));
        assert_eq!(w.sender.process(&message(&d, 1)).await, Outcome::Parked);
        assert!(w.transport.attempts().is_empty());
        let letter = &w.parked.letters()[0];
        assert_eq!(
            letter.reason,
            format!(
                "never reached the receiver: secret `gone` named by auth.bearerSecret does not \
                 exist or is empty; unreadable since {since}, over the limit of 72 hours"
            )
        );
        let parked: Delivery = serde_json::from_str(&letter.body).unwrap();
        assert_eq!(parked.prior_attempts, 2, "no attempt added");
        assert_eq!(types(&w.topic), ["delivery.deadLettered"]);
    }

    #[test]
    fn an_unreadable_spell_goes_on_only_in_a_put_back_message_received_once() {
        // Whole milliseconds, as SQS's SentTimestamp.
        let now = Timestamp::from_millis(Timestamp::now().0.timestamp_millis()).unwrap();
        let earlier = Timestamp(now.0 - chrono::Duration::seconds(60));
        let before = Some(crate::delivery::Unreadable {
            since: earlier,
            times: 4,
        });
        // (envelope's spell, receipts, ordered, sent, → since, times)
        let table = [
            (None, 1, false, None, now, 1),
            (before, 1, false, None, earlier, 5),
            // Received again: attempted meanwhile, a new spell.
            (before, 2, false, None, now, 1),
            // The ordered queue: the message's age and receipts.
            (None, 3, true, Some(earlier), earlier, 3),
            (None, 1, true, None, now, 1),
        ];
        for (spell, receipts, ordered, sent, since, times) in table {
            let mut d = envelope();
            d.unreadable = spell;
            let mut m = message(&d, receipts);
            if let Some(sent) = sent {
                m.attributes.insert(
                    "SentTimestamp".into(),
                    sent.0.timestamp_millis().to_string(),
                );
            }
            let got = unreadable_state(&d, &m, ordered, now);
            assert_eq!(
                got,
                crate::delivery::Unreadable { since, times },
                "{spell:?} {receipts} {ordered}"
            );
        }
        let limit = Duration::from_secs(60);
        assert!(!unreadable_too_long(earlier, now, limit));
        assert!(unreadable_too_long(earlier, now, Duration::from_secs(59)));
        assert_eq!(span(Duration::from_secs(72 * 3600)), "72 hours");
        assert_eq!(span(Duration::from_secs(3)), "3 seconds");
    }

    #[tokio::test]
    async fn a_refused_destination_is_dead_lettered_at_once() {
        let w = world(
            vec![subscription(json!({}))],
            ScriptedTransport::new(
                [],
                Err(DeliveryError::Refused(
                    "10.0.0.7 is a private address".into(),
                )),
            ),
        );
        assert_eq!(
            w.sender.process(&message(&envelope(), 1)).await,
            Outcome::Parked
        );
        assert_eq!(
            w.parked.letters()[0].reason,
            "attempt 1: refused: 10.0.0.7 is a private address"
        );
        assert!(w.redelivery.delays.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn the_sample_sqs_event_is_delivered_with_its_identity_headers() {
        // GIVEN the sample event (events/deliveries.json) and its subscription
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../events/deliveries.json");
        let event: SqsEvent =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let w = world(
            vec![
                json!({"id": "fixit-provider-status", "kind": "subscription",
                        "party": {"type": "provider", "id": 1004}, "eventTypes": ["newStatus"],
                        "destination": {"method": "POST", "url": "https://fixit.example/hooks"}}),
            ],
            ScriptedTransport::accepting(),
        );
        // WHEN the sender handles it
        let response = w.sender.handle(event).await.unwrap();
        // THEN it is delivered once, with the delivery id and type
        assert!(response.batch_item_failures.is_empty());
        let sent = w.transport.attempts();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].destination, "https://fixit.example/hooks");
        assert_eq!(
            sent[0].header("webhook-id"),
            Some("8b0e2a5c-6a8e-5a7e-9d7c-0f3e1c2b4a11")
        );
        assert_eq!(sent[0].header("event-type"), Some("newStatus"));
        assert!(
            sent[0].body.contains("\"key\":\"repair_done\""),
            "{}",
            sent[0].body
        );
    }
}
