//! The router: DynamoDB stream records of the case tables → deliveries on
//! the delivery queue.
//!
//! Records are processed in order. The first record that fails for a reason
//! worth retrying (an I/O error, a case not written yet) stops the batch and
//! its sequence number is reported in `batchItemFailures`, so Lambda retries
//! from there. A record that can never be processed (it does not match the
//! documented shape) is parked on the router's failure queue with its reason
//! and skipped, so it never blocks the shard.
use crate::classify::{Classified, EventName, Images, Malformed, classify};
use crate::config::ConfigSet;
use crate::config_cache::ConfigCache;
use crate::delivery::{Delivery, QUEUE_MESSAGE_LIMIT, delivery_id};
use crate::outcome::Setback;
use crate::ports::{
    CaseStore, CaseStoreError, ConfigSource, DeadLetter, DeadLetters, DeliveryQueue, IoError,
    PayloadStore,
};
use crate::record::CaseRecord;
use crate::routing::{self, Change};
use crate::tables::{TableNames, table_from_arn};
use crate::timestamp::Timestamp;
use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use serde_json::{Value, json};
use std::collections::{HashSet, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Mutex;

pub use crate::backoff::Backoff;

pub struct Router<C, S, Q, D> {
    pub tables: TableNames,
    pub cases: C,
    pub config: ConfigCache<S>,
    pub queue: Q,
    pub failures: D,
    /// Where bodies too large for a queue message go, and the full records
    /// of dead letters too large to park whole.
    pub payloads: Box<dyn PayloadStore>,
    /// Deliveries this warm instance has enqueued: a retried record skips
    /// them instead of sending them again.
    pub enqueued: EnqueuedIds,
    /// Tries and first pause for enqueueing and parking within one
    /// invocation, before the record is left to the stream's own retry.
    pub backoff: Backoff,
}

/// The ids of the deliveries enqueued most recently by this instance (the
/// oldest are forgotten past `capacity`). Lambda retries a stream batch on
/// the same warm instance as a rule, so a record retried after a partial
/// enqueue does not send its other deliveries again; after a cold start it
/// may, and receivers deduplicate on `webhook-id`.
///
/// Ids are kept as their 128 bits (delivery ids are UUIDs; anything else is
/// reduced to a UUIDv5 of it): no allocation per id, and a collision, which
/// would skip a delivery, is as unlikely as two equal UUIDs.
pub struct EnqueuedIds {
    capacity: usize,
    ids: Mutex<Ledger>,
}

/// The remembered keys, and the order to forget them in.
type Ledger = (HashSet<u128, BuildHasherDefault<IdHasher>>, VecDeque<u128>);

/// The keys are UUIDs (v5: SHA-1 output), already uniformly spread: folding
/// them is hash enough, where SipHash cost a tenth of the router's work.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = self.0.rotate_left(5) ^ u64::from_le_bytes(word);
        }
    }

    fn write_u128(&mut self, n: u128) {
        self.0 ^= (n as u64) ^ ((n >> 64) as u64);
    }
}

impl Default for EnqueuedIds {
    fn default() -> Self {
        EnqueuedIds::with_capacity(50_000)
    }
}

impl EnqueuedIds {
    pub fn with_capacity(capacity: usize) -> Self {
        EnqueuedIds {
            capacity,
            ids: Mutex::default(),
        }
    }

    fn key(id: &str) -> u128 {
        uuid::Uuid::try_parse(id)
            .unwrap_or_else(|_| uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, id.as_bytes()))
            .as_u128()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ids.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn contains(&self, id: &str) -> bool {
        self.lock().0.contains(&Self::key(id))
    }

    pub fn insert(&self, id: &str) {
        let key = Self::key(id);
        let mut guard = self.lock();
        let (set, order) = &mut *guard;
        if set.insert(key) {
            order.push_back(key);
            while order.len() > self.capacity {
                if let Some(old) = order.pop_front() {
                    set.remove(&old);
                }
            }
        }
    }

    /// Remembers what one enqueue made it: a record whose every delivery
    /// went is one entry (its `source`), where a delivery each cost a tenth
    /// of the router's work; of a record only partly enqueued, the
    /// deliveries that went. `sent` is in record order.
    fn remember(&self, sent: &[(usize, Delivery)], failed: &[(usize, Delivery, IoError)]) {
        let partial: HashSet<usize> = failed.iter().map(|(i, _, _)| *i).collect();
        let mut previous = None;
        for (i, d) in sent {
            if partial.contains(i) {
                self.insert(&d.id);
            } else if previous != Some(*i) {
                self.insert(&Self::record(&d.source));
            }
            previous = Some(*i);
        }
    }

    fn record(source: &str) -> String {
        format!("record\n{source}")
    }

    /// Whether `d` went already: its record whole, or itself. `memo` keeps
    /// the answer for the record `d` is of, as deliveries come in order.
    fn sent(&self, i: usize, d: &Delivery, memo: &mut Option<(usize, bool)>) -> bool {
        let whole = match *memo {
            Some((at, whole)) if at == i => whole,
            _ => {
                let whole = self.contains(&Self::record(&d.source));
                *memo = Some((i, whole));
                whole
            }
        };
        whole || self.contains(&d.id)
    }
}

/// Counts for one batch, logged at the end.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct BatchSummary {
    pub records: usize,
    pub routed: usize,
    pub ignored: usize,
    pub parked: usize,
    pub deliveries: usize,
    /// Deliveries skipped because this instance had enqueued them already.
    pub already_enqueued: usize,
    /// Why the batch stopped at its failed record, if it did.
    pub failure: Option<String>,
}

impl<C, S, Q, D> Router<C, S, Q, D>
where
    C: CaseStore,
    S: ConfigSource,
    Q: DeliveryQueue,
    D: DeadLetters,
{
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
            summary.parked,
            summary.ignored,
            summary.deliveries,
        );
        tracing::info!(
            records = summary.records,
            routed = summary.routed,
            ignored = summary.ignored,
            parked = summary.parked,
            deliveries = summary.deliveries,
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
        // (record index, delivery) for every delivery of the records processed.
        let mut deliveries: Vec<(usize, Delivery)> = Vec::with_capacity(records.len() * 4);
        // The first record that must be retried, and why.
        let mut stop: Option<(usize, String)> = None;
        let stop_at = |stop: &mut Option<(usize, String)>, i: usize, why: String| {
            if stop.as_ref().is_none_or(|(s, _)| i < *s) {
                *stop = Some((i, why));
            }
        };

        match self.config.get().await {
            Err(e) => {
                tracing::error!(error = %e, "config unavailable; retrying the whole batch");
                if !records.is_empty() {
                    stop_at(&mut stop, 0, format!("config unavailable: {e}"));
                }
            }
            Ok(config) => {
                for (i, record) in records.iter().enumerate() {
                    match self.route_record(&config, record).await {
                        Ok(None) => summary.ignored += 1,
                        Ok(Some(ds)) => {
                            summary.routed += 1;
                            deliveries.extend(ds.into_iter().map(|d| (i, d)));
                        }
                        Err(Setback::Park(reason)) => {
                            if let Err(e) = self.park_record(record, &reason).await {
                                stop_at(
                                    &mut stop,
                                    i,
                                    format!("could not park a malformed record ({reason}): {e}"),
                                );
                                break;
                            }
                            summary.parked += 1;
                        }
                        Err(Setback::Retry(reason)) => {
                            tracing::warn!(event_id = %record.event_id, reason = %reason, "record will be retried");
                            stop_at(&mut stop, i, reason);
                            break;
                        }
                    }
                }
            }
        }

        // A message over SQS's limit with its body inline (sized as sent:
        // the body's escapes count twice) carries its body in the payload
        // store instead; a failure there retries from that record.
        for (i, d) in deliveries.iter_mut() {
            if d.fits_inline() || stop.as_ref().is_some_and(|(s, _)| *i >= *s) {
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
                    stop_at(
                        &mut stop,
                        *i,
                        format!("storing the body of delivery {}: {e}", d.id),
                    );
                }
            }
        }
        if let Some((s, _)) = &stop {
            deliveries.retain(|(i, _)| i < s);
        }
        let before = deliveries.len();
        let mut memo = None;
        deliveries.retain(|(i, d)| !self.enqueued.sent(*i, d, &mut memo));
        summary.already_enqueued = before - deliveries.len();
        summary.deliveries = deliveries.len();
        for (i, d, e) in self.enqueue(deliveries).await {
            tracing::error!(delivery_id = %d.id, subscription_id = %d.subscription_id, error = %e, "enqueue failed");
            stop_at(&mut stop, i, format!("enqueueing delivery {}: {e}", d.id));
        }

        let mut response = DynamoDbEventResponse::default();
        if let Some((i, why)) = stop {
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = records[i].change.sequence_number.clone();
            response.batch_item_failures.push(failure);
            summary.failure = Some(why);
        }
        (response, summary)
    }

    /// Enqueues, retrying what failed a few times within this invocation;
    /// what was enqueued is remembered. Returns what still failed.
    async fn enqueue(&self, pending: Vec<(usize, Delivery)>) -> Vec<(usize, Delivery, IoError)> {
        let (mut records, mut batch): (Vec<usize>, Vec<Delivery>) = pending.into_iter().unzip();
        let mut sent = Vec::with_capacity(batch.len());
        let mut attempt = 1;
        let failed = loop {
            if batch.is_empty() {
                break Vec::new();
            }
            let results = self.queue.enqueue(&batch).await;
            let mut failed = Vec::new();
            for ((i, d), r) in records.into_iter().zip(batch).zip(results) {
                match r {
                    Ok(()) => sent.push((i, d)),
                    Err(e) => failed.push((i, d, e)),
                }
            }
            if failed.is_empty() || attempt >= self.backoff.tries {
                break failed;
            }
            let pause = self.backoff.pause(attempt);
            tracing::warn!(
                failed = failed.len(),
                attempt,
                pause_ms = pause.as_millis() as u64,
                "some deliveries were not enqueued; trying them again"
            );
            tokio::time::sleep(pause).await;
            attempt += 1;
            (records, batch) = failed.into_iter().map(|(i, d, _)| (i, d)).unzip();
        };
        // A retry's successes come after the first try's: record order
        // again, so a record's deliveries are together.
        sent.sort_by_key(|(i, _)| *i);
        self.enqueued.remember(&sent, &failed);
        failed
    }

    /// Sets a record aside on the failure queue with its reason. A record
    /// too large for a queue message is stored whole in the payload store
    /// and parked trimmed: its keys, event, size and where it is. Bounded
    /// retries with backoff; `Err` leaves the record to the stream's retry.
    pub async fn park_record(&self, record: &EventRecord, reason: &str) -> Result<(), IoError> {
        let origin = format!(
            "{}/{}",
            record_table(record).unwrap_or("?"),
            source_id(record)
        );
        let body = serde_json::to_string(record)
            .unwrap_or_else(|e| format!("<unserializable record: {e}>"));
        let mut letter = DeadLetter {
            reason: reason.to_owned(),
            origin: origin.clone(),
            body,
        };
        let size = letter.body.len();
        if letter.queue_message_bytes() > QUEUE_MESSAGE_LIMIT {
            let key = format!("router-failures/{origin}.json");
            self.backoff
                .retry("storing a record too large to park", || {
                    self.payloads.put(&key, &letter.body)
                })
                .await?;
            letter.body = json!({"trimmedRecord": {
                "bodyRef": key,
                "sizeBytes": size,
                "table": record_table(record),
                "eventID": record.event_id,
                "eventName": record.event_name,
                "sequenceNumber": record.change.sequence_number,
                "keys": keys_json(record),
            }})
            .to_string();
        }
        let trimmed = letter.body.len() != size;
        self.backoff
            .retry("parking a record", || self.failures.park(letter.clone()))
            .await?;
        tracing::error!(
            table = record_table(record).unwrap_or("?"),
            event_id = %record.event_id,
            keys = %keys_json(record),
            size_bytes = size,
            trimmed,
            reason = %reason,
            "stream record parked on the failure queue"
        );
        Ok(())
    }

    /// `Ok(None)`: nothing to route for this record (by design, not an error).
    async fn route_record(
        &self,
        config: &ConfigSet,
        record: &EventRecord,
    ) -> Result<Option<Vec<Delivery>>, Setback> {
        let table = record_table(record).ok_or_else(|| {
            Setback::Park("record names no table (eventSourceARN or tableName)".into())
        })?;
        let kind = self.tables.case_table(table).ok_or_else(|| {
            Setback::Park(format!(
                "table `{table}` is not a case table of this deployment"
            ))
        })?;
        let event = EventName::parse(&record.event_name)?;
        let new = image_json(&record.change.new_image, "NewImage")?;
        let old = image_json(&record.change.old_image, "OldImage")?;
        let images = Images {
            new: new.as_ref(),
            old: old.as_ref(),
        };
        let classified = classify(kind, event, images)?;
        let at = Origin {
            table,
            source: format!("{table}/{}", source_id(record)),
        };
        let case = match (&classified, classified.case_to_fetch()) {
            (Classified::Ignore, _) => return Ok(None),
            (Classified::CaseUpdated { case, .. }, _) => {
                if case.changed_by.is_none() {
                    tracing::warn!(case_guid = %case.guid, "case updated without `changedBy`: both parties are told");
                }
                case.clone()
            }
            (_, Some((guid, what))) => {
                let case = self.case_of(guid, &what).await?;
                classified.check_case(&case)?;
                case
            }
            (_, None) => return Ok(None),
        };
        let earlier;
        let change = match &classified {
            Classified::StatusAdded(status) => {
                if !routing::wants_statuses(config, &case) {
                    return Ok(Some(Vec::new()));
                }
                earlier = self
                    .cases
                    .previous_statuses(status.case_id, status.id)
                    .await
                    .map_err(store_failure)?;
                // An unreadable earlier status was parked on its own; skipping
                // it keeps every later status of the case flowing.
                for why in &earlier.unreadable {
                    tracing::warn!(status_id = %status.id, reason = %why, "skipping an unreadable earlier status");
                    crate::meter::unreadable_earlier_status();
                }
                Change::StatusAdded {
                    status,
                    previous: &earlier.readable,
                }
            }
            Classified::CaseUpdated { update, .. } => Change::CaseUpdated(update),
            Classified::CostProposalAdded(p) => Change::CostProposalAdded(p),
            Classified::MessageAdded(m) => Change::MessageAdded(m),
            Classified::MessageConfirmed(m) => Change::MessageConfirmed(m),
            Classified::FilesUploaded(u) => Change::FilesUploaded(u),
            Classified::InvoiceSaved(i) => Change::InvoiceSaved(i),
            Classified::Ignore => return Ok(None),
        };
        self.plan(config, &case, &change, &at).map(Some)
    }

    /// The case a record belongs to. Not there yet is worth retrying: the
    /// case item may still be on its way, and after the mapping's retry
    /// limit the batch goes to the failure destination.
    async fn case_of(&self, guid: &str, what: &str) -> Result<CaseRecord, Setback> {
        match self.cases.case(guid).await {
            Ok(Some(c)) => Ok(c),
            Ok(None) => Err(Setback::Retry(format!("case `{guid}` of {what} not found"))),
            Err(e) => Err(store_failure(e)),
        }
    }

    fn plan(
        &self,
        config: &ConfigSet,
        case: &CaseRecord,
        change: &Change<'_>,
        at: &Origin<'_>,
    ) -> Result<Vec<Delivery>, Setback> {
        let planned = routing::route(config, case, change)
            .map_err(|e| Setback::Park(format!("cannot render a body from {}: {e}", at.table)))?;
        let now = Timestamp::now();
        Ok(planned
            .into_iter()
            .map(|p| {
                Delivery::new(
                    delivery_id(&at.source, &p.subscription.id, p.event_type),
                    p.subscription,
                    p.event_type,
                    p.destination,
                    &case.guid,
                    p.body,
                    at.source.clone(),
                    now,
                )
            })
            .collect())
    }
}

/// Where a record came from: its table and `<table>/<stream event id>`.
struct Origin<'a> {
    table: &'a str,
    source: String,
}

impl From<Malformed> for Setback {
    fn from(e: Malformed) -> Self {
        Setback::Park(e.0)
    }
}

fn store_failure(e: CaseStoreError) -> Setback {
    match e {
        CaseStoreError::Malformed(m) => Setback::Park(m),
        CaseStoreError::Io(e) => Setback::Retry(e.to_string()),
    }
}

fn record_table(record: &EventRecord) -> Option<&str> {
    record
        .event_source_arn
        .as_deref()
        .and_then(table_from_arn)
        .or(record.table_name.as_deref())
}

/// The stream's event id, or the sequence number where a source omits it.
fn source_id(record: &EventRecord) -> &str {
    if record.event_id.is_empty() {
        record.change.sequence_number.as_deref().unwrap_or("")
    } else {
        &record.event_id
    }
}

/// An image as JSON; `None` when the record has none.
fn image_json(image: &serde_dynamo::Item, which: &str) -> Result<Option<Value>, Setback> {
    if image.is_empty() {
        return Ok(None);
    }
    serde_dynamo::from_item(image.clone())
        .map(Some)
        .map_err(|e| Setback::Park(format!("{which} is not a valid item: {e}")))
}

fn keys_json(record: &EventRecord) -> Value {
    serde_dynamo::from_item::<_, Value>(record.change.keys.clone())
        .unwrap_or_else(|e| Value::String(format!("<unreadable keys: {e}>")))
}

/// The router as deployed: DynamoDB, SQS.
pub type AwsRouter = Router<
    crate::adapters::dynamo::DynamoCaseStore,
    crate::adapters::dynamo::DynamoConfigSource,
    crate::adapters::sqs::SqsDeliveryQueue,
    crate::adapters::sqs::SqsDeadLetters,
>;

impl AwsRouter {
    pub fn from_aws(sdk: &aws_types::SdkConfig, settings: crate::settings::RouterSettings) -> Self {
        use crate::adapters::{dynamo, s3, sqs};
        let ddb = aws_sdk_dynamodb::Client::new(sdk);
        let sqs_client = aws_sdk_sqs::Client::new(sdk);
        Router {
            cases: dynamo::DynamoCaseStore::new(
                ddb.clone(),
                settings.tables.cases().to_owned(),
                settings.tables.case_statuses().to_owned(),
            ),
            config: ConfigCache::new(
                dynamo::DynamoConfigSource::new(ddb, settings.tables.config.clone()),
                settings.config_ttl,
            ),
            queue: sqs::SqsDeliveryQueue::new(sqs_client.clone(), settings.delivery_queue_url)
                .with_ordered_queue(settings.ordered_queue_url),
            failures: sqs::SqsDeadLetters::new(sqs_client, settings.failure_queue_url),
            payloads: Box::new(s3::S3Payloads::new(
                s3::client(sdk),
                settings.payload_bucket,
            )),
            tables: settings.tables,
            enqueued: EnqueuedIds::default(),
            backoff: Backoff::default(),
        }
    }
}

/// The router over in-memory ports, fed the `events/` samples: the rules of
/// a batch, in milliseconds.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventType;
    use crate::memory::{
        MemoryCases, MemoryConfig, MemoryDeadLetters, MemoryPayloads, MemoryQueue,
    };
    use std::sync::Arc;
    use std::time::Duration;

    type Memory = Router<MemoryCases, MemoryConfig, Arc<MemoryQueue>, Arc<MemoryDeadLetters>>;

    struct World {
        router: Memory,
        queue: Arc<MemoryQueue>,
        parked: Arc<MemoryDeadLetters>,
        payloads: Arc<MemoryPayloads>,
    }

    const STATUSES: &str = "hubhooks-dev-case-statuses";

    fn world(subscriptions: &[&str]) -> World {
        let config = subscriptions
            .iter()
            .map(|id| {
                json!({"id": id, "kind": "subscription", "party": {"type": "partner", "id": 1413},
                       "eventTypes": ["newStatus"], "destination": {"method": "POST", "url": format!("https://example.com/{id}")}})
            })
            .collect();
        let cases = MemoryCases::default();
        cases.put_case(
            json!({"guid": "68ea1505-a44f-4434-be5a-dcc959be250e", "id": 1290485,
                              "partnerId": 1413, "serviceProviderId": 1004}),
        );
        let (queue, parked, payloads) = (
            Arc::default(),
            Arc::default(),
            Arc::<MemoryPayloads>::default(),
        );
        World {
            router: Router {
                tables: TableNames::with_prefix("hubhooks-dev"),
                cases,
                config: ConfigCache::new(MemoryConfig::new(config), Duration::from_secs(60)),
                queue: Arc::clone(&queue),
                failures: Arc::clone(&parked),
                payloads: Box::new(Arc::clone(&payloads)),
                enqueued: EnqueuedIds::default(),
                backoff: Backoff {
                    tries: 3,
                    first: Duration::ZERO,
                },
            },
            queue,
            parked,
            payloads,
        }
    }

    /// The sample status record (events/status-insert.json).
    fn status_record() -> EventRecord {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../events/status-insert.json");
        let text = std::fs::read_to_string(path).expect("events/status-insert.json");
        let event: Event = serde_json::from_str(&text).expect("a DynamoDB stream event");
        event.records.into_iter().next().expect("one record")
    }

    fn id_for(record: &EventRecord, subscription: &str) -> String {
        delivery_id(
            &format!("{STATUSES}/{}", record.event_id),
            subscription,
            EventType::NewStatus,
        )
        .to_string()
    }

    /// The queue refuses `subscription`'s delivery of `record` `times` times.
    fn refuse(w: &World, record: &EventRecord, subscription: &str, times: u32) {
        let id = id_for(record, subscription);
        w.queue.fail_next.lock().unwrap().insert(id, times);
    }

    fn sent_to(queue: &MemoryQueue) -> Vec<String> {
        let mut subs: Vec<String> = queue
            .sent()
            .into_iter()
            .map(|d| d.subscription_id.to_string())
            .collect();
        subs.sort();
        subs
    }

    #[tokio::test]
    async fn an_enqueue_that_fails_once_is_retried_within_the_invocation() {
        // GIVEN two subscribers, and a queue that refuses b's delivery once
        let (w, record) = (world(&["a", "b"]), status_record());
        refuse(&w, &record, "b", 1);
        // WHEN the record is routed
        let (response, summary) = w.router.route_batch(&[record]).await;
        // THEN both are enqueued once, and the batch succeeds
        assert!(response.batch_item_failures.is_empty(), "{summary:?}");
        assert_eq!(sent_to(&w.queue), ["a", "b"]);
    }

    #[tokio::test]
    async fn a_retried_record_does_not_send_again_what_was_enqueued() {
        // GIVEN b's enqueue fails on every try of the first invocation
        let (w, record) = (world(&["a", "b"]), status_record());
        refuse(&w, &record, "b", 3);
        let (response, summary) = w.router.route_batch(std::slice::from_ref(&record)).await;
        // THEN the record is reported for retry with the cause
        assert_eq!(
            response.batch_item_failures[0].item_identifier,
            record.change.sequence_number
        );
        assert!(
            summary
                .failure
                .as_deref()
                .unwrap_or("")
                .starts_with("enqueueing delivery "),
            "{summary:?}"
        );
        assert_eq!(sent_to(&w.queue), ["a"]);
        // WHEN Lambda retries it
        let (response, summary) = w.router.route_batch(&[record]).await;
        // THEN only b goes out: a is not sent twice
        assert!(response.batch_item_failures.is_empty());
        assert_eq!(summary.already_enqueued, 1);
        assert_eq!(sent_to(&w.queue), ["a", "b"]);
    }

    #[tokio::test]
    async fn a_malformed_record_too_large_to_park_is_parked_trimmed_with_the_whole_in_the_bucket() {
        // GIVEN a status whose key is a number and whose name is 300 KB
        let w = world(&["a"]);
        let mut record = status_record();
        record
            .change
            .new_image
            .insert("key".into(), serde_dynamo::AttributeValue::N("100".into()));
        record.change.new_image.insert(
            "name".into(),
            serde_dynamo::AttributeValue::S("x".repeat(300 * 1024)),
        );
        // WHEN it is routed
        let (response, summary) = w.router.route_batch(&[record.clone()]).await;
        // THEN the shard goes on, and the letter fits a queue message
        assert!(response.batch_item_failures.is_empty());
        assert_eq!(summary.parked, 1);
        let letters = w.parked.letters();
        assert_eq!(letters.len(), 1);
        assert!(
            letters[0].reason.contains("attribute `key`"),
            "{}",
            letters[0].reason
        );
        let letter: Value = serde_json::from_str(&letters[0].body).unwrap();
        let key = format!("router-failures/{STATUSES}/{}.json", record.event_id);
        assert_eq!(letter["trimmedRecord"]["bodyRef"], key.as_str());
        assert_eq!(
            letter["trimmedRecord"]["keys"],
            json!({"caseId": 1290485, "id": 5005})
        );
        let stored = w.payloads.objects.lock().unwrap()[&key].clone();
        assert_eq!(
            serde_json::from_str::<EventRecord>(&stored).unwrap(),
            record
        );
        assert!(w.queue.sent().is_empty());
    }

    #[tokio::test]
    async fn parking_that_keeps_failing_is_bounded_and_leaves_the_record_to_the_stream() {
        // GIVEN a malformed record and a failure queue that keeps failing
        let w = world(&["a"]);
        let mut record = status_record();
        record
            .change
            .new_image
            .insert("key".into(), serde_dynamo::AttributeValue::N("1".into()));
        *w.parked.failures.lock().unwrap() = 100;
        // WHEN it is routed
        let (response, summary) = w.router.route_batch(&[record]).await;
        // THEN the park is tried three times, then the stream retries it
        assert_eq!(*w.parked.calls.lock().unwrap(), 3);
        assert_eq!(response.batch_item_failures.len(), 1);
        assert!(
            summary
                .failure
                .as_deref()
                .unwrap_or("")
                .starts_with("could not park a malformed record"),
            "{summary:?}"
        );
    }

    #[tokio::test]
    async fn an_envelope_is_sized_as_sent_and_offloaded_when_escapes_push_it_over() {
        // GIVEN a status whose name is 70,000 quotes: a ~140 KB body, a
        // ~280 KB queue message
        let w = world(&["a"]);
        let mut record = status_record();
        record.change.new_image.insert(
            "name".into(),
            serde_dynamo::AttributeValue::S("\"".repeat(70_000)),
        );
        let (response, _) = w.router.route_batch(&[record]).await;
        assert!(response.batch_item_failures.is_empty());
        let sent = w.queue.sent();
        assert_eq!(sent.len(), 1);
        assert!(sent[0].body.is_empty());
        let key = sent[0].body_ref.clone().expect("offloaded");
        let body = w.payloads.objects.lock().unwrap()[&key].clone();
        assert!(
            body.len() < 200 * 1024,
            "the body alone is small: {}",
            body.len()
        );
    }

    /// The sample status, as the `n`th record of a batch with its own ids.
    fn nth_status(n: u64, guid: &str) -> EventRecord {
        let mut r = status_record();
        r.event_id = format!("event-{n}");
        r.change.sequence_number = Some(format!("{}", 1000 + n));
        r.change.new_image.insert(
            "id".into(),
            serde_dynamo::AttributeValue::N(format!("{}", 5000 + n)),
        );
        r.change.new_image.insert(
            "guid".into(),
            serde_dynamo::AttributeValue::S(guid.to_owned()),
        );
        r
    }

    const GUID: &str = "68ea1505-a44f-4434-be5a-dcc959be250e";

    #[tokio::test]
    async fn a_batch_stops_at_the_first_record_worth_retrying_and_reports_it() {
        // GIVEN three records, the second for a case not written yet
        let w = world(&["a"]);
        let batch = [
            nth_status(1, GUID),
            nth_status(2, "not-written-yet"),
            nth_status(3, GUID),
        ];
        // WHEN the batch is routed
        let (response, summary) = w.router.route_batch(&batch).await;
        // THEN the first is delivered, and Lambda retries from the second
        assert_eq!(
            response
                .batch_item_failures
                .iter()
                .map(|f| f.item_identifier.clone())
                .collect::<Vec<_>>(),
            [Some("1002".to_owned())]
        );
        assert_eq!(
            summary.failure.as_deref(),
            Some("case `not-written-yet` of status 5002 not found")
        );
        let sent: Vec<String> = w.queue.sent().into_iter().map(|d| d.source).collect();
        assert_eq!(sent, [format!("{STATUSES}/event-1")]);
    }

    #[tokio::test]
    async fn records_enqueued_whole_are_not_sent_again_when_their_batch_is_retried() {
        // GIVEN two subscriptions and a batch whose third record enqueues
        // only in part (b refused), so Lambda retries the batch
        let w = world(&["a", "b"]);
        let batch = [
            nth_status(1, GUID),
            nth_status(2, GUID),
            nth_status(3, GUID),
        ];
        refuse(&w, &batch[2], "b", 3);
        let (response, _) = w.router.route_batch(&batch).await;
        assert_eq!(response.batch_item_failures.len(), 1);
        assert_eq!(w.queue.sent().len(), 5);
        // WHEN the whole batch comes again
        let (response, summary) = w.router.route_batch(&batch).await;
        // THEN only the refused delivery goes: the whole records are
        // remembered as records, the partial one by its deliveries
        assert!(response.batch_item_failures.is_empty(), "{summary:?}");
        assert_eq!(summary.already_enqueued, 5);
        let sent: Vec<(String, String)> = w
            .queue
            .sent()
            .into_iter()
            .map(|d| (d.source, d.subscription_id.to_string()))
            .collect();
        assert_eq!(sent.len(), 6);
        assert_eq!(sent[5], (format!("{STATUSES}/event-3"), "b".to_owned()));
        // AND a third time nothing at all
        let (_, summary) = w.router.route_batch(&batch).await;
        assert_eq!((summary.already_enqueued, summary.deliveries), (6, 0));
        assert_eq!(w.queue.sent().len(), 6);
    }

    #[tokio::test]
    async fn a_malformed_record_is_parked_and_the_records_after_it_go_on() {
        let w = world(&["a"]);
        let mut bad = nth_status(1, GUID);
        bad.change.new_image.insert(
            "createdAt".into(),
            serde_dynamo::AttributeValue::S("yesterday".into()),
        );
        let (response, summary) = w.router.route_batch(&[bad, nth_status(2, GUID)]).await;
        assert!(response.batch_item_failures.is_empty());
        assert_eq!((summary.parked, summary.routed), (1, 1));
        let letters = w.parked.letters();
        assert_eq!(letters[0].origin, format!("{STATUSES}/event-1"));
        assert_eq!(
            letters[0].reason,
            "status record: attribute `createdAt`: invalid timestamp `yesterday`: premature end of input"
        );
        assert_eq!(w.queue.sent().len(), 1);
    }
}
