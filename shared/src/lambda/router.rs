//! The router: DynamoDB stream records of the case tables → deliveries on
//! the delivery queue.
//!
//! Records are processed in order. The first record that fails for a reason
//! worth retrying (an I/O error, a case not written yet) stops the batch and
//! its sequence number is reported in `batchItemFailures`, so Lambda retries
//! from there. A record that can never be processed (it does not match the
//! documented shape) is parked on the router's failure queue with its reason
//! and skipped, so it never blocks the shard.
use crate::config_cache::ConfigCache;
use crate::delivery::{Delivery, ENVELOPE_VERSION, delivery_id};
use crate::ports::{
    CaseStore, CaseStoreError, ConfigSource, DeadLetter, DeadLetters, DeliveryQueue,
};
use crate::record::StatusRecord;
use crate::routing;
use crate::tables::{CaseTable, TableNames, table_from_arn};
use crate::timestamp::Timestamp;
use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use serde_json::Value;

pub struct Router<C, S, Q, D> {
    pub tables: TableNames,
    pub cases: C,
    pub config: ConfigCache<S>,
    pub queue: Q,
    pub failures: D,
}

/// Why a record was not routed.
#[derive(Debug, thiserror::Error)]
enum RecordError {
    /// Worth retrying: stops the batch at this record.
    #[error("{0}")]
    Retry(String),
    /// Never going to work: parked with its reason, then skipped.
    #[error("{0}")]
    Malformed(String),
}

/// Counts for one batch, logged at the end.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct BatchSummary {
    pub records: usize,
    pub routed: usize,
    pub ignored: usize,
    pub parked: usize,
    pub deliveries: usize,
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
        let (response, summary) = self.route_batch(&event.records).await;
        tracing::info!(
            records = summary.records,
            routed = summary.routed,
            ignored = summary.ignored,
            parked = summary.parked,
            deliveries = summary.deliveries,
            failed_from = response
                .batch_item_failures
                .first()
                .and_then(|f| f.item_identifier.as_deref()),
            "router batch done"
        );
        Ok(response)
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
        let mut deliveries: Vec<(usize, Delivery)> = Vec::new();
        let mut stopped_at: Option<usize> = None;

        match self.config.get().await {
            Err(e) => {
                tracing::error!(error = %e, "config unavailable; retrying the whole batch");
                stopped_at = (!records.is_empty()).then_some(0);
            }
            Ok(config) => {
                for (i, record) in records.iter().enumerate() {
                    match self.route_record(&config, record).await {
                        Ok(None) => summary.ignored += 1,
                        Ok(Some(ds)) => {
                            summary.routed += 1;
                            deliveries.extend(ds.into_iter().map(|d| (i, d)));
                        }
                        Err(RecordError::Malformed(reason)) => {
                            tracing::error!(
                                table = record_table(record).unwrap_or("?"),
                                event_id = %record.event_id,
                                keys = %keys_json(record),
                                reason = %reason,
                                "malformed stream record parked on the failure queue"
                            );
                            if let Err(e) = self.failures.park(dead_letter(record, &reason)).await {
                                tracing::error!(error = %e, event_id = %record.event_id, "could not park record; retrying from it");
                                stopped_at = Some(i);
                                break;
                            }
                            summary.parked += 1;
                        }
                        Err(RecordError::Retry(reason)) => {
                            tracing::warn!(event_id = %record.event_id, reason = %reason, "record will be retried");
                            stopped_at = Some(i);
                            break;
                        }
                    }
                }
            }
        }

        summary.deliveries = deliveries.len();
        let batch: Vec<Delivery> = deliveries.iter().map(|(_, d)| d.clone()).collect();
        let results = self.queue.enqueue(&batch).await;
        for ((i, d), r) in deliveries.iter().zip(results) {
            if let Err(e) = r {
                tracing::error!(delivery_id = %d.id, subscription_id = %d.subscription_id, error = %e, "enqueue failed");
                stopped_at = Some(stopped_at.map_or(*i, |s| s.min(*i)));
            }
        }

        let mut response = DynamoDbEventResponse::default();
        if let Some(i) = stopped_at {
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = records[i].change.sequence_number.clone();
            response.batch_item_failures.push(failure);
        }
        (response, summary)
    }

    /// `Ok(None)`: nothing to route for this record (by design, not an error).
    async fn route_record(
        &self,
        config: &crate::config::ConfigSet,
        record: &EventRecord,
    ) -> Result<Option<Vec<Delivery>>, RecordError> {
        let table = record_table(record).ok_or_else(|| {
            RecordError::Malformed("record names no table (eventSourceARN or tableName)".into())
        })?;
        let kind = self.tables.case_table(table).ok_or_else(|| {
            RecordError::Malformed(format!(
                "table `{table}` is not a case table of this deployment"
            ))
        })?;
        match (kind, record.event_name.as_str()) {
            (CaseTable::CaseStatuses, "INSERT") => {}
            // Case updates and status edits fire nothing (yet): by design.
            (_, "INSERT" | "MODIFY" | "REMOVE") => return Ok(None),
            (_, other) => {
                return Err(RecordError::Malformed(format!(
                    "unknown eventName `{other}`"
                )));
            }
        }

        let status = image_json(&record.change.new_image, "NewImage")
            .and_then(|v| StatusRecord::from_json(v).map_err(|e| e.to_string()))
            .map_err(RecordError::Malformed)?;
        let case = match self.cases.case(&status.guid).await {
            Ok(Some(c)) => c,
            // The case item may not be written yet; retrying is right, and
            // after the mapping's retry limit the batch goes to the failure
            // destination.
            Ok(None) => {
                return Err(RecordError::Retry(format!(
                    "case `{}` of status {} not found",
                    status.guid, status.id
                )));
            }
            Err(CaseStoreError::Malformed(m)) => return Err(RecordError::Malformed(m)),
            Err(CaseStoreError::Io(e)) => return Err(RecordError::Retry(e.to_string())),
        };
        if case.id != status.case_id {
            return Err(RecordError::Malformed(format!(
                "status {} says caseId {} but case `{}` has id {}",
                status.id, status.case_id, case.guid, case.id
            )));
        }
        if !routing::wants_statuses(config, &case) {
            return Ok(Some(Vec::new()));
        }
        let previous = self
            .cases
            .previous_statuses(status.case_id, status.id)
            .await
            .map_err(|e| match e {
                CaseStoreError::Malformed(m) => RecordError::Malformed(m),
                CaseStoreError::Io(e) => RecordError::Retry(e.to_string()),
            })?;
        let planned = routing::route_new_status(config, &case, &status, &previous)
            .map_err(|e| RecordError::Malformed(format!("cannot render body: {e}")))?;

        let source = format!("{table}/{}", source_id(record));
        let now = Timestamp::now();
        Ok(Some(
            planned
                .into_iter()
                .map(|p| Delivery {
                    v: ENVELOPE_VERSION,
                    id: delivery_id(&source, &p.subscription.id, p.event_type),
                    subscription_id: p.subscription.id.clone(),
                    event_type: p.event_type,
                    party: p.subscription.party,
                    case_guid: case.guid.clone(),
                    destination: p.subscription.destination.clone(),
                    body: p.body,
                    source: source.clone(),
                    created_at: now,
                })
                .collect(),
        ))
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

fn image_json(image: &serde_dynamo::Item, which: &str) -> Result<Value, String> {
    if image.is_empty() {
        return Err(format!(
            "{which} is missing (the stream must be NEW_AND_OLD_IMAGES)"
        ));
    }
    serde_dynamo::from_item(image.clone()).map_err(|e| format!("{which} is not a valid item: {e}"))
}

fn keys_json(record: &EventRecord) -> String {
    serde_dynamo::from_item::<_, Value>(record.change.keys.clone())
        .map(|v| v.to_string())
        .unwrap_or_else(|e| format!("<unreadable keys: {e}>"))
}

fn dead_letter(record: &EventRecord, reason: &str) -> DeadLetter {
    DeadLetter {
        reason: reason.to_owned(),
        origin: format!(
            "{}/{}",
            record_table(record).unwrap_or("?"),
            source_id(record)
        ),
        body: serde_json::to_string(record)
            .unwrap_or_else(|e| format!("<unserializable record: {e}>")),
    }
}

/// The router as deployed: DynamoDB, SQS.
pub type AwsRouter = Router<
    crate::adapters::dynamo::DynamoCaseStore,
    crate::adapters::dynamo::DynamoConfigSource,
    crate::adapters::sqs::SqsDeliveryQueue,
    crate::adapters::sqs::SqsDeadLetters,
>;

impl AwsRouter {
    pub fn from_aws(
        sdk: &aws_config::SdkConfig,
        settings: crate::settings::RouterSettings,
    ) -> Self {
        use crate::adapters::{dynamo, sqs};
        let ddb = aws_sdk_dynamodb::Client::new(sdk);
        let sqs_client = aws_sdk_sqs::Client::new(sdk);
        Router {
            cases: dynamo::DynamoCaseStore::new(
                ddb.clone(),
                settings.tables.cases.clone(),
                settings.tables.case_statuses.clone(),
            ),
            config: ConfigCache::new(
                dynamo::DynamoConfigSource::new(ddb, settings.tables.config.clone()),
                settings.config_ttl,
            ),
            queue: sqs::SqsDeliveryQueue::new(sqs_client.clone(), settings.delivery_queue_url),
            failures: sqs::SqsDeadLetters::new(sqs_client, settings.failure_queue_url),
            tables: settings.tables,
        }
    }
}
