//! Settling a message after its verdict: the attempt logged, then
//! delivered (the streak ends), retried later (hidden for the schedule's
//! delay), dead-lettered with its reason, or the subscription disabled on
//! `410 Gone`. Also what never reached an attempt: put back (ours could not
//! be read), malformed (dead-lettered at once).
use super::message::{
    NotADelivery, about, attempts_before, from_ordered_queue, span, unreadable_state,
    unreadable_too_long,
};
use super::{Sender, Settled, Streak};
use crate::attempt::AttemptRecord;
use crate::delivery::Delivery;
use crate::notice::{Fact, Notice, NoticeType};
use crate::outcome::Receipt;
use crate::ports::DeadLetter;
use crate::retry::{Failure, Verdict};
use aws_lambda_events::event::sqs::SqsMessage;
use std::time::Duration;

impl Sender {
    pub(super) async fn settle(
        &self,
        message: &SqsMessage,
        delivery: &Delivery,
        attempt: u32,
        verdict: Verdict,
        streak: Streak,
    ) -> Settled {
        let record = AttemptRecord::new(delivery, attempt, &verdict, self.clock.now());
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
            Verdict::Delivered(receipt) => self.delivered(delivery, attempt, receipt, streak).await,
            Verdict::Retry { delay, error } => {
                self.retry(message, delivery, attempt, delay, error, streak)
                    .await
            }
            Verdict::GiveUp { reason, .. } => self.give_up(delivery, attempt, reason, streak).await,
            Verdict::Gone { reason } => self.gone(delivery, attempt, reason).await,
            Verdict::Refused { reason } => self.give_up(delivery, attempt, reason, streak).await,
        }
    }

    async fn delivered(
        &self,
        delivery: &Delivery,
        attempt: u32,
        receipt: Receipt,
        streak: Streak,
    ) -> Settled {
        // Successes are in the attempt log and the metrics; at INFO the log
        // keeps one line per batch and one per failure.
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
        Settled::Delivered
    }

    async fn retry(
        &self,
        message: &SqsMessage,
        delivery: &Delivery,
        attempt: u32,
        delay: Duration,
        error: Failure,
        streak: Streak,
    ) -> Settled {
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
        Settled::Failed
    }

    async fn give_up(
        &self,
        delivery: &Delivery,
        attempt: u32,
        reason: String,
        streak: Streak,
    ) -> Settled {
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
        self.dead_letter_delivery(reason, delivery, attempt).await
    }

    /// `410 Gone`: the subscription is disabled (the operators told) and
    /// the delivery dead-lettered.
    async fn gone(&self, delivery: &Delivery, attempt: u32, reason: String) -> Settled {
        if delivery.test {
            tracing::warn!(delivery_id = %delivery.id, subscription_id = %delivery.subscription_id, reason = %reason, "receiver answered 410 Gone to a test send; the subscription stays enabled");
            return self.dead_letter_delivery(reason, delivery, attempt).await;
        }
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
                let notice = Notice::new(
                    NoticeType::SubscriptionDisabled,
                    delivery.party,
                    &delivery.subscription_id,
                    Fact::Gone(&delivery.id),
                    reason.clone(),
                )
                .about(about(delivery, attempt));
                self.notify(notice);
            }
        }
        // This instance's other deliveries for it stop at once.
        self.config.invalidate().await;
        self.dead_letter_delivery(reason, delivery, attempt).await
    }

    /// The subscription no longer wants the delivery (disabled, deleted,
    /// the type dropped): dead-lettered unsent, its attempts so far kept
    /// (this receipt was none), replayable once the subscription is back.
    pub(super) async fn withdrawn(
        &self,
        delivery: &Delivery,
        received: u32,
        why: String,
    ) -> Settled {
        let made = attempts_before(delivery.prior_attempts, received);
        tracing::warn!(delivery_id = %delivery.id, subscription_id = %delivery.subscription_id, reason = %why, "delivery withdrawn; dead-lettered unsent");
        self.dead_letter_delivery(why, delivery, made).await
    }

    /// A message that is no delivery: dead-lettered at once with why.
    pub(super) async fn malformed(&self, message: &SqsMessage, reason: NotADelivery) -> Settled {
        let message_id = message.message_id.as_deref().unwrap_or("<no message id>");
        tracing::error!(message_id, reason = %reason, "malformed delivery message moved to the DLQ");
        crate::meter::malformed_message();
        let body = message.body.clone().unwrap_or_default();
        let origin = format!("delivery queue message {message_id}");
        self.dead_letter(reason.to_string(), origin, body).await
    }

    /// Something of ours could not be read (`why`): the delivery goes back
    /// on the queue after a wait of our own schedule, spending none of the
    /// receiver's attempts, writing no attempt and feeding no streak. Past
    /// the unreadable limit it is dead-lettered, saying it was never sent.
    pub(super) async fn put_back(
        &self,
        message: &SqsMessage,
        delivery: &Delivery,
        received: u32,
        ordered: bool,
        why: String,
    ) -> Settled {
        crate::meter::unreadable();
        let now = self.clock.now();
        let state = unreadable_state(delivery, message, ordered, now);
        let made = attempts_before(delivery.prior_attempts, received);
        if unreadable_too_long(state.since, now, self.unreadable_limit) {
            let reason = format!(
                "never reached the receiver: {why}; unreadable since {}, over the limit of {}",
                state.since,
                span(self.unreadable_limit)
            );
            tracing::error!(delivery_id = %delivery.id, subscription_id = %delivery.subscription_id, reason = %reason, "delivery dead-lettered unsent");
            return self.dead_letter_delivery(reason, delivery, made).await;
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
        self.requeue(message, &again, wait).await
    }

    /// Puts `again` back on the queue, to be handed out after `wait`: a new
    /// message, so its receive count burns no attempt, and this one is
    /// done. If that fails, this message comes back after `wait` as a
    /// failed one would.
    pub(super) async fn requeue(
        &self,
        message: &SqsMessage,
        again: &Delivery,
        wait: Duration,
    ) -> Settled {
        match self.redelivery.defer(again, wait).await {
            Ok(()) => Settled::Deferred,
            Err(e) => {
                tracing::warn!(delivery_id = %again.id, error = %e, "could not put the delivery back; the message comes back instead");
                self.retry_later(message, wait).await;
                Settled::Failed
            }
        }
    }

    pub(super) async fn retry_later(&self, message: &SqsMessage, delay: Duration) {
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
    pub(super) async fn dead_letter_delivery(
        &self,
        reason: String,
        delivery: &Delivery,
        attempt: u32,
    ) -> Settled {
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
            .dead_letter(reason.clone(), format!("delivery {}", delivery.id), body)
            .await;
        if outcome == Settled::DeadLettered && !delivery.test {
            let notice = Notice::new(
                NoticeType::DeliveryDeadLettered,
                delivery.party,
                &delivery.subscription_id,
                Fact::DeadLettered(&delivery.id, attempt),
                reason,
            )
            .about(about(delivery, attempt));
            self.notify(notice);
        }
        outcome
    }

    pub(super) async fn dead_letter(
        &self,
        reason: String,
        origin: String,
        body: String,
    ) -> Settled {
        let letter = DeadLetter {
            reason,
            origin,
            body,
        };
        match self.dead_letters.dead_letter(letter).await {
            Ok(()) => Settled::DeadLettered,
            Err(e) => {
                tracing::error!(error = %e, "could not move to the DLQ; leaving it on the queue");
                Settled::Failed
            }
        }
    }
}
