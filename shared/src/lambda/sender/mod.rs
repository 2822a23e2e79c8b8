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
//! A test send (`hubhooks send-test`) has one attempt; a 410 to it leaves
//! the subscription enabled, and what we cannot or will not send for it (a
//! missing secret, the SSRF guard) is logged at once as refused, so the
//! operator waiting on it hears why instead of waiting on our backoff.
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
//!
//! The rooms: [`batch`] (gates, FIFO groups, the tally), [`admission`]
//! (breaker and rate), `prepare` (the current config, secrets, the body),
//! `settle` (after the verdict), `streaks`, `notify`, `message` (pure
//! readings of a queue message), `aws` (the deployed ports).
mod admission;
mod aws;
mod batch;
mod message;
mod notify;
mod prepare;
mod settle;
mod streaks;
#[cfg(test)]
mod tests;

pub use admission::{BREAKER_WINDOW, Breakers};
pub use notify::{DueNotices, NOTICE_BUDGET};
pub use streaks::Streaks;

use crate::attempt::{self, Secrets};
use crate::config_cache::ConfigCache;
use crate::delivery::Delivery;
use crate::outcome::{NotAttempted, Receipt};
use crate::ports::{
    AttemptLog, DeadLetters, DeliveryError, Holds, NoticeTopic, Outgoing, PayloadStore, RateLimits,
    Redelivery, SecretStore, SubscriptionControl, Transport,
};
use crate::retry::{RetrySchedule, Verdict, verdict};
use crate::timestamp::Timestamp;
use admission::Admission;
use aws_lambda_events::event::sqs::SqsMessage;
use std::sync::Arc;
use std::time::Duration;

pub struct Sender {
    pub transport: Arc<dyn Transport>,
    pub dead_letters: Arc<dyn DeadLetters>,
    pub redelivery: Arc<dyn Redelivery>,
    pub secrets: Arc<dyn SecretStore>,
    pub control: Arc<dyn SubscriptionControl>,
    pub payloads: Arc<dyn PayloadStore>,
    pub log: Arc<dyn AttemptLog>,
    pub schedule: RetrySchedule,
    /// The subscriptions as configured now.
    pub config: ConfigCache,
    /// The deployment's notice topic ([`crate::ports::NoTopic`] when none).
    pub notices: Arc<dyn NoticeTopic>,
    pub streaks: Streaks,
    /// `maxPerSecond` counters.
    pub rates: Arc<dyn RateLimits>,
    pub breakers: Breakers,
    /// Receipts of ordered deliveries held back (not attempts).
    pub holds: Arc<dyn Holds>,
    /// OAuth2 access tokens, one per subscription (`auth.oauth2`).
    pub tokens: crate::oauth2::Tokens,
    pub clock: Arc<dyn crate::clock::Clock>,
    /// How long a delivery may stay unreadable (its config, a secret, its
    /// stored body) before it is dead-lettered unsent.
    pub unreadable_limit: Duration,
    /// Notices made while a batch is settled, sent after it.
    pub due_notices: DueNotices,
    /// How long a batch spends on its notices ([`NOTICE_BUDGET`]).
    pub notice_budget: Duration,
}

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    Delivered,
    /// Comes back later (reported in `batchItemFailures`).
    Failed,
    /// In the DLQ with its reason.
    DeadLettered,
    /// Put back on the queue, not attempted (breaker open, over
    /// `maxPerSecond`); this message is done.
    Deferred,
}

/// Deliveries of one batch to one subscription in flight at once: a batch
/// of 100 to one receiver reaches it 10 at a time, as batches of 10 did.
pub const PER_SUBSCRIPTION_IN_FLIGHT: usize = 10;

/// The sender as deployed.
pub type AwsSender = Sender;

/// What a failed attempt tells of the subscription's failure streak.
#[derive(Debug, Default, Clone, Copy)]
struct Streak {
    /// The streak's start, as the config says.
    failing_since: Option<Timestamp>,
    /// An attempt was made and the receiver failed it.
    receiver_failed: bool,
}

impl Sender {
    /// One message of the standard queue.
    pub async fn process(&self, message: &SqsMessage) -> Settled {
        let outcome = self.process_from(message, false).await;
        self.send_notices().await;
        outcome
    }

    /// One message, as a pipeline: read → count its attempts → follow the
    /// current config → admission → read what it needs → attempt →
    /// verdict → settle. `ordered`: from the ordered queue, where a receipt
    /// may have been a hold rather than an attempt.
    async fn process_from(&self, message: &SqsMessage, ordered: bool) -> Settled {
        let mut delivery = match message::parse(message) {
            Ok(d) => d,
            Err(reason) => return self.malformed(message, reason).await,
        };
        let receipts = message::receipts(message);
        let held = if ordered && receipts > 1 {
            self.held(&delivery).await
        } else {
            0
        };
        // Attempts in this life bound the retries (maxAttempts); the number
        // sent and logged counts earlier lives too.
        let received = message::attempts_received(receipts, held, delivery.spent_attempts);
        let attempt = delivery.prior_attempts.saturating_add(received);
        let current = match self.follow_config(&mut delivery).await {
            Ok(current) => current,
            Err(e) if delivery.test => {
                return self
                    .refuse_test(message, &delivery, attempt, e.to_string())
                    .await;
            }
            Err(NotAttempted::Unreadable(why)) => {
                return self
                    .put_back(message, &delivery, received, ordered, why)
                    .await;
            }
            Err(NotAttempted::Withdrawn(why)) => {
                return self.withdrawn(&delivery, received, why).await;
            }
        };
        match self.admission(&delivery, current.max_per_second).await {
            Admission::Go => {}
            // Put back at the end of its group it would lose its place: it
            // waits at the head instead.
            Admission::Wait(..) if ordered => return self.hold(message, Duration::ZERO).await,
            Admission::Wait(wait, why) => {
                return self.defer(message, &delivery, received, wait, why).await;
            }
        }
        let prepared = match self.prepare(&delivery).await {
            Ok(prepared) => prepared,
            Err(why) if delivery.test => {
                return self.refuse_test(message, &delivery, attempt, why).await;
            }
            Err(why) => {
                return self
                    .put_back(message, &delivery, received, ordered, why)
                    .await;
            }
        };
        let result = self.attempt(&delivery, attempt, prepared).await;
        let failing_since = current.failing_since;
        let streak = Streak {
            failing_since,
            receiver_failed: message::receiver_failed(&result),
        };
        let verdict = verdict(
            result,
            received,
            delivery.max_attempts,
            current.schedule.as_ref().unwrap_or(&self.schedule),
            &delivery.id,
        );
        let verdict = if delivery.test {
            verdict.for_test()
        } else {
            verdict
        };
        self.settle(message, &delivery, attempt, verdict, streak)
            .await
    }

    /// A test send that cannot be sent as it is (its secret missing, its
    /// subscription withdrawn) is not put back to wait for a fix: the
    /// operator waiting on `send-test` hears at once that we refused it.
    async fn refuse_test(
        &self,
        message: &SqsMessage,
        delivery: &Delivery,
        attempt: u32,
        why: String,
    ) -> Settled {
        let verdict = Verdict::Refused {
            reason: format!("attempt {attempt}: not sent: {why}"),
        };
        let streak = Streak {
            failing_since: None,
            receiver_failed: false,
        };
        self.settle(message, delivery, attempt, verdict, streak)
            .await
    }

    /// Receipts of an ordered delivery held back behind an earlier one of
    /// its case (not attempts).
    async fn held(&self, delivery: &Delivery) -> u32 {
        match self.holds.held(&delivery.id).await {
            Ok(held) => held,
            Err(e) => {
                tracing::warn!(delivery_id = %delivery.id, error = %e, "could not read the holds; counting every receipt");
                0
            }
        }
    }

    /// Attempt number `attempt`: signed, sent; a timeout opens the
    /// receiver's breaker. With `auth.oauth2`, a `401` to a token from the
    /// cache buys one new token and the attempt is made again at once.
    async fn attempt(
        &self,
        delivery: &Delivery,
        attempt: u32,
        (body, mut secrets, broker_uri): (String, Secrets, Option<String>),
    ) -> Result<Receipt, DeliveryError> {
        let timestamp = self.clock.now().0.timestamp();
        let mut token = self.access_token(delivery, &secrets, false).await?;
        loop {
            if let Some(t) = &token {
                secrets.bearer = Some(t.value.clone());
            }
            let headers = attempt::headers(delivery, attempt, timestamp, &body, &secrets)
                .map_err(|e| DeliveryError::Refused(e.to_string()))?;
            let mut outgoing = Outgoing::of(delivery, &body, headers, broker_uri.clone());
            outgoing.client_tls = secrets.client_tls.clone();
            let result = self.transport.deliver(&outgoing).await;
            if matches!(result, Err(DeliveryError::Rejected { status: 401, .. }))
                && token.as_ref().is_some_and(|t| !t.fresh)
            {
                token = self.access_token(delivery, &secrets, true).await?;
                continue;
            }
            if matches!(result, Err(DeliveryError::Timeout(_))) {
                self.breakers
                    .trip(&delivery.subscription_id, self.clock.instant());
            }
            return result;
        }
    }

    /// The subscription's OAuth2 access token, if it asks for one (HTTP
    /// destinations only); `renew` when the receiver refused the last.
    async fn access_token(
        &self,
        delivery: &Delivery,
        secrets: &Secrets,
        renew: bool,
    ) -> Result<Option<crate::oauth2::Issued>, DeliveryError> {
        let Some(grant) = delivery.auth.as_ref().and_then(|a| a.oauth2.as_ref()) else {
            return Ok(None);
        };
        if !matches!(delivery.destination, crate::config::Destination::Http(_)) {
            return Ok(None);
        }
        let client_secret = secrets.oauth2_client.as_deref().ok_or_else(|| {
            DeliveryError::Refused("auth.oauth2.clientSecret was not read".into())
        })?;
        let request = crate::oauth2::TokenRequest {
            grant,
            client_secret,
        };
        self.tokens
            .token(
                &delivery.subscription_id,
                &request,
                self.clock.instant(),
                renew,
            )
            .await
            .map(Some)
    }
}
