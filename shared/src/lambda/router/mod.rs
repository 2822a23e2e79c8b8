//! The router: DynamoDB stream records of the case tables → deliveries on
//! the delivery queue.
//!
//! Records are processed in order. The first record that fails for a reason
//! worth retrying (an I/O error, a case not written yet) stops the batch and
//! its sequence number is reported in `batchItemFailures`, so Lambda retries
//! from there. A record that can never be processed (it does not match the
//! documented shape) is parked on the router's failure queue with its reason
//! and skipped, so it never blocks the shard.
//!
//! The rooms: `record` (one record → its deliveries), `park` (the failure
//! queue), `enqueued` (enqueueing, and the ledger of what went), `aws`.
mod aws;
mod dead_letter;
mod enqueued;
mod record;
#[cfg(test)]
mod tests;

pub use crate::backoff::Backoff;
pub use aws::AwsRouter;
pub use enqueued::EnqueuedIds;

use crate::config_cache::ConfigCache;
use crate::delivery::Delivery;
use crate::outcome::Setback;
use crate::ports::{CaseStore, DeadLetters, DeliveryQueue, PayloadStore};
use crate::tables::TableNames;
use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use std::sync::Arc;

pub struct Router {
    pub tables: TableNames,
    pub cases: Arc<dyn CaseStore>,
    pub config: ConfigCache,
    pub queue: Arc<dyn DeliveryQueue>,
    pub failures: Arc<dyn DeadLetters>,
    /// Where bodies too large for a queue message go, and the full records
    /// of dead letters too large to park whole.
    pub payloads: Arc<dyn PayloadStore>,
    /// Deliveries this warm instance has enqueued: a retried record skips
    /// them instead of sending them again.
    pub enqueued: EnqueuedIds,
    /// Tries and first pause for enqueueing and parking within one
    /// invocation, before the record is left to the stream's own retry.
    pub backoff: Backoff,
}

/// Counts for one batch, logged at the end.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct BatchSummary {
    pub records: usize,
    pub routed: usize,
    pub ignored: usize,
    pub dead_lettered: usize,
    pub deliveries: usize,
    /// Webhooks a subscription's filter held back (not enqueued).
    pub filtered: usize,
    /// Deliveries skipped because this instance had enqueued them already.
    pub already_enqueued: usize,
    /// Why the batch stopped at its failed record, if it did.
    pub failure: Option<String>,
}

impl Router {
    pub async fn handle(
        &self,
        event: Event,
    ) -> Result<DynamoDbEventResponse, lambda_runtime::Error> {
        Ok(self.invoke(&event.records).await.0)
    }

    /// One invocation: routes the batch, then meters and logs it.
    pub async fn invoke(&self, records: &[EventRecord]) -> (DynamoDbEventResponse, BatchSummary) {
        let (response, summary) = self.route_batch(records).await;
        crate::meter::router_batch(
            summary.records,
            summary.dead_lettered,
            summary.ignored,
            summary.deliveries,
            summary.filtered,
        );
        tracing::info!(
            records = summary.records,
            routed = summary.routed,
            ignored = summary.ignored,
            dead_lettered = summary.dead_lettered,
            deliveries = summary.deliveries,
            filtered = summary.filtered,
            already_enqueued = summary.already_enqueued,
            failed_from = response
                .batch_item_failures
                .first()
                .and_then(|f| f.item_identifier.as_deref()),
            failure = summary.failure.as_deref(),
            "router batch done"
        );
        (response, summary)
    }

    pub async fn route_batch(
        &self,
        records: &[EventRecord],
    ) -> (DynamoDbEventResponse, BatchSummary) {
        let mut summary = BatchSummary {
            records: records.len(),
            ..Default::default()
        };
        let mut stop = Stop::default();
        let mut deliveries = self.route_records(records, &mut summary, &mut stop).await;
        self.offload_large_bodies(&mut deliveries, &mut stop).await;
        stop.drop_from(&mut deliveries);
        let before = deliveries.len();
        let mut memo = None;
        deliveries.retain(|(i, d)| !self.enqueued.sent(*i, d, &mut memo));
        summary.already_enqueued = before - deliveries.len();
        summary.deliveries = deliveries.len();
        for (i, d, e) in self.enqueue(deliveries).await {
            tracing::error!(delivery_id = %d.id, subscription_id = %d.subscription_id, error = %e, "enqueue failed");
            stop.at(i, format!("enqueueing delivery {}: {e}", d.id));
        }
        let mut response = DynamoDbEventResponse::default();
        if let Some((i, why)) = stop.first {
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = records[i].change.sequence_number.clone();
            response.batch_item_failures.push(failure);
            summary.failure = Some(why);
        }
        (response, summary)
    }

    /// Routes the records in order, up to the first that must be retried:
    /// (record index, delivery) for every delivery of the records routed.
    async fn route_records(
        &self,
        records: &[EventRecord],
        summary: &mut BatchSummary,
        stop: &mut Stop,
    ) -> Vec<(usize, Delivery)> {
        let mut deliveries = Vec::with_capacity(records.len() * 4);
        let config = match self.config.get().await {
            Ok(config) => config,
            Err(e) => {
                tracing::error!(error = %e, "config unavailable; retrying the whole batch");
                if !records.is_empty() {
                    stop.at(0, format!("config unavailable: {e}"));
                }
                return deliveries;
            }
        };
        for (i, record) in records.iter().enumerate() {
            match self.route_record(&config, record).await {
                Ok(None) => summary.ignored += 1,
                Ok(Some(routed)) => {
                    summary.routed += 1;
                    summary.filtered += routed.filtered;
                    deliveries.extend(routed.deliveries.into_iter().map(|d| (i, d)));
                }
                Err(Setback::Park(reason)) => {
                    if let Err(e) = self.dead_letter_record(record, &reason).await {
                        stop.at(
                            i,
                            format!("could not park a malformed record ({reason}): {e}"),
                        );
                        break;
                    }
                    summary.dead_lettered += 1;
                }
                Err(Setback::Retry(reason)) => {
                    tracing::warn!(event_id = %record.event_id, reason = %reason, "record will be retried");
                    stop.at(i, reason);
                    break;
                }
            }
        }
        deliveries
    }

    /// A message over SQS's limit with its body inline (sized as sent: the
    /// body's escapes count twice) carries its body in the payload store
    /// instead; a failure there retries from that record.
    async fn offload_large_bodies(&self, deliveries: &mut [(usize, Delivery)], stop: &mut Stop) {
        for (i, d) in deliveries.iter_mut() {
            if d.fits_inline() || stop.covers(*i) {
                continue;
            }
            let key = format!("bodies/{}.json", d.id);
            match self
                .backoff
                .retry("storing a large body", || self.payloads.put(&key, &d.body))
                .await
            {
                Ok(()) => {
                    d.body_ref = Some(key);
                    d.body.clear();
                }
                Err(e) => {
                    tracing::error!(delivery_id = %d.id, error = %e, "could not store a large body; retrying from its record");
                    stop.at(*i, format!("storing the body of delivery {}: {e}", d.id));
                }
            }
        }
    }
}

/// The first record of a batch that must be retried, and why: Lambda
/// retries the batch from there, so nothing from it on is enqueued.
#[derive(Debug, Default, PartialEq, Eq)]
struct Stop {
    first: Option<(usize, String)>,
}

impl Stop {
    /// Record `i` must be retried; the earliest such record wins.
    fn at(&mut self, i: usize, why: String) {
        if self.first.as_ref().is_none_or(|(s, _)| i < *s) {
            self.first = Some((i, why));
        }
    }

    /// Whether record `i` is retried anyway.
    fn covers(&self, i: usize) -> bool {
        self.first.as_ref().is_some_and(|(s, _)| i >= *s)
    }

    /// Drops the deliveries of the records that will be retried.
    fn drop_from<T>(&self, deliveries: &mut Vec<(usize, T)>) {
        deliveries.retain(|(i, _)| !self.covers(*i));
    }
}

#[cfg(test)]
mod stop_tests {
    use super::Stop;

    #[test]
    fn the_earliest_record_to_retry_wins_and_covers_every_later_one() {
        // (records stopped at, in the order found, → the stop)
        let table: [(&[usize], Option<usize>); 4] = [
            (&[], None),
            (&[3], Some(3)),
            (&[5, 2, 4], Some(2)),
            (&[0, 0], Some(0)),
        ];
        for (found, first) in table {
            let mut stop = Stop::default();
            for &i in found {
                stop.at(i, format!("record {i}"));
            }
            assert_eq!(stop.first.as_ref().map(|(i, _)| *i), first, "{found:?}");
            let mut deliveries: Vec<(usize, ())> = (0..6).map(|i| (i, ())).collect();
            stop.drop_from(&mut deliveries);
            let kept: Vec<usize> = deliveries.iter().map(|(i, _)| *i).collect();
            assert_eq!(
                kept,
                (0..first.unwrap_or(6)).collect::<Vec<_>>(),
                "{found:?}"
            );
        }
        let mut stop = Stop::default();
        stop.at(2, "first found".into());
        stop.at(2, "found again".into());
        assert_eq!(
            stop.first,
            Some((2, "first found".into())),
            "the first reason stays"
        );
    }
}
