//! The router: DynamoDB stream records of the case tables → deliveries on
//! the delivery queue.
//!
//! Records are processed in order. The first record that fails for a reason
//! worth retrying (an I/O error, a case not written yet) stops the batch and
//! its sequence number is reported in `batchItemFailures`, so Lambda retries
//! from there. A record that can never be processed (it does not match the
//! documented shape) is parked on the router's failure queue with its reason
//! and skipped, so it never blocks the shard.
use crate::case_update;
use crate::config::ConfigSet;
use crate::config_cache::ConfigCache;
use crate::delivery::{Delivery, ENVELOPE_VERSION, INLINE_BODY_LIMIT, delivery_id};
use crate::ports::{
    CaseStore, CaseStoreError, ConfigSource, DeadLetter, DeadLetters, DeliveryQueue, PayloadStore,
};
use crate::record::{CaseRecord, CostProposal, FileUpload, Invoice, Message, StatusRecord};
use crate::routing::{self, Change};
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
    /// Where bodies over [`INLINE_BODY_LIMIT`] go.
    pub payloads: Box<dyn PayloadStore>,
}

/// Why a record was not routed.
#[derive(Debug, thiserror::Error)]
enum RecordFailure {
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
        crate::meter::router_batch(&summary);
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
                        Err(RecordFailure::Malformed(reason)) => {
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
                        Err(RecordFailure::Retry(reason)) => {
                            tracing::warn!(event_id = %record.event_id, reason = %reason, "record will be retried");
                            stopped_at = Some(i);
                            break;
                        }
                    }
                }
            }
        }

        // Bodies too large for a queue message go to the payload store; a
        // failure there retries from that record, and nothing of it or after
        // it is enqueued.
        for (i, d) in deliveries.iter_mut() {
            if d.body.len() <= INLINE_BODY_LIMIT || stopped_at.is_some_and(|s| *i >= s) {
                continue;
            }
            let key = format!("bodies/{}.json", d.id);
            match self.payloads.put(&key, &d.body).await {
                Ok(()) => {
                    d.body_ref = Some(key);
                    d.body.clear();
                }
                Err(e) => {
                    tracing::error!(delivery_id = %d.id, error = %e, "could not store a large body; retrying from its record");
                    stopped_at = Some(stopped_at.map_or(*i, |s| s.min(*i)));
                }
            }
        }
        if let Some(s) = stopped_at {
            deliveries.retain(|(i, _)| *i < s);
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
        config: &ConfigSet,
        record: &EventRecord,
    ) -> Result<Option<Vec<Delivery>>, RecordFailure> {
        let table = record_table(record).ok_or_else(|| {
            RecordFailure::Malformed("record names no table (eventSourceARN or tableName)".into())
        })?;
        let kind = self.tables.case_table(table).ok_or_else(|| {
            RecordFailure::Malformed(format!(
                "table `{table}` is not a case table of this deployment"
            ))
        })?;
        let event_name = record.event_name.as_str();
        if !matches!(event_name, "INSERT" | "MODIFY" | "REMOVE") {
            return Err(RecordFailure::Malformed(format!(
                "unknown eventName `{event_name}`"
            )));
        }
        let new = || image_json(&record.change.new_image, "NewImage");
        let old = || image_json(&record.change.old_image, "OldImage");
        let at = Origin {
            table,
            source: format!("{table}/{}", source_id(record)),
        };
        match (kind, event_name) {
            // Removals fire nothing; neither do edits the contract has no
            // webhook for (a status edited, a cost proposal answered).
            (_, "REMOVE") => Ok(None),
            (CaseTable::CaseStatuses, "INSERT") => {
                let status = parse(new()?, StatusRecord::from_json)?;
                let case = self.case_of(&status.guid, "status", status.id).await?;
                if case.id != status.case_id {
                    return Err(RecordFailure::Malformed(format!(
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
                    .map_err(store_failure)?;
                let change = Change::StatusAdded {
                    status: &status,
                    previous: &previous,
                };
                self.plan(config, &case, &change, &at).map(Some)
            }
            (CaseTable::Cases, "MODIFY") => {
                let case = parse(new()?, CaseRecord::from_json)?;
                let before = parse(old()?, CaseRecord::from_json)?;
                let Some(update) = case_update::diff(&before, &case) else {
                    return Ok(None);
                };
                if case.changed_by.is_none() {
                    tracing::warn!(case_guid = %case.guid, "case updated without `changedBy`: both parties are told");
                }
                self.plan(config, &case, &Change::CaseUpdated(&update), &at)
                    .map(Some)
            }
            (CaseTable::CostProposals, "INSERT") => {
                let proposal = parse(new()?, CostProposal::from_json)?;
                let case = self
                    .case_of(&proposal.guid, "cost proposal", proposal.id)
                    .await?;
                if proposal.service_provider_id != case.service_provider_id {
                    return Err(RecordFailure::Malformed(format!(
                        "cost proposal {} says serviceProviderId {} but case `{}` has {}",
                        proposal.id,
                        proposal.service_provider_id,
                        case.guid,
                        case.service_provider_id
                    )));
                }
                self.plan(config, &case, &Change::CostProposalAdded(&proposal), &at)
                    .map(Some)
            }
            (CaseTable::Messages, "INSERT") => {
                let message = parse(new()?, Message::from_json)?;
                let case = self.case_of(&message.guid, "message", message.id).await?;
                self.plan(config, &case, &Change::MessageAdded(&message), &at)
                    .map(Some)
            }
            (CaseTable::Messages, "MODIFY") => {
                let message = parse(new()?, Message::from_json)?;
                // Only the moment `confirmedAt` becomes set is a confirmation.
                let was_confirmed = old()?.get("confirmedAt").is_some_and(|v| !v.is_null());
                if was_confirmed || message.confirmed_at.is_none() {
                    return Ok(None);
                }
                let case = self.case_of(&message.guid, "message", message.id).await?;
                self.plan(config, &case, &Change::MessageConfirmed(&message), &at)
                    .map(Some)
            }
            (CaseTable::Files, "INSERT") => {
                let upload = parse(new()?, FileUpload::from_json)?;
                let case = self
                    .case_of(&upload.guid, "upload", &upload.upload_id)
                    .await?;
                self.plan(config, &case, &Change::FilesUploaded(&upload), &at)
                    .map(Some)
            }
            (CaseTable::Invoices, "INSERT" | "MODIFY") => {
                let invoice = parse(new()?, Invoice::from_json)?;
                if event_name == "MODIFY"
                    && old().ok().and_then(|v| Invoice::from_json(v).ok()).as_ref()
                        == Some(&invoice)
                {
                    return Ok(None);
                }
                let case = self.case_of(&invoice.guid, "invoice", invoice.id).await?;
                self.plan(config, &case, &Change::InvoiceSaved(&invoice), &at)
                    .map(Some)
            }
            _ => Ok(None),
        }
    }

    /// The case a record belongs to. Not there yet is worth retrying: the
    /// case item may still be on its way, and after the mapping's retry
    /// limit the batch goes to the failure destination.
    async fn case_of(
        &self,
        guid: &str,
        what: &str,
        id: impl std::fmt::Display,
    ) -> Result<CaseRecord, RecordFailure> {
        match self.cases.case(guid).await {
            Ok(Some(c)) => Ok(c),
            Ok(None) => Err(RecordFailure::Retry(format!(
                "case `{guid}` of {what} {id} not found"
            ))),
            Err(e) => Err(store_failure(e)),
        }
    }

    fn plan(
        &self,
        config: &ConfigSet,
        case: &CaseRecord,
        change: &Change<'_>,
        at: &Origin<'_>,
    ) -> Result<Vec<Delivery>, RecordFailure> {
        let planned = routing::route(config, case, change).map_err(|e| {
            RecordFailure::Malformed(format!("cannot render a body from {}: {e}", at.table))
        })?;
        let now = Timestamp::now();
        Ok(planned
            .into_iter()
            .map(|p| Delivery {
                v: ENVELOPE_VERSION,
                id: delivery_id(&at.source, &p.subscription.id, p.event_type),
                subscription_id: p.subscription.id.clone(),
                event_type: p.event_type,
                party: p.subscription.party,
                case_guid: case.guid.clone(),
                destination: p.destination.clone(),
                body: p.body,
                body_ref: None,
                max_attempts: p.subscription.max_attempts(),
                auth: p.subscription.auth.clone(),
                test: false,
                source: at.source.clone(),
                created_at: now,
            })
            .collect())
    }
}

/// Where a record came from: its table and `<table>/<stream event id>`.
struct Origin<'a> {
    table: &'a str,
    source: String,
}

fn parse<T, E: std::fmt::Display>(
    value: Value,
    from_json: impl FnOnce(Value) -> Result<T, E>,
) -> Result<T, RecordFailure> {
    from_json(value).map_err(|e| RecordFailure::Malformed(e.to_string()))
}

fn store_failure(e: CaseStoreError) -> RecordFailure {
    match e {
        CaseStoreError::Malformed(m) => RecordFailure::Malformed(m),
        CaseStoreError::Io(e) => RecordFailure::Retry(e.to_string()),
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

fn image_json(image: &serde_dynamo::Item, which: &str) -> Result<Value, RecordFailure> {
    if image.is_empty() {
        return Err(RecordFailure::Malformed(format!(
            "{which} is missing (the stream must be NEW_AND_OLD_IMAGES)"
        )));
    }
    serde_dynamo::from_item(image.clone())
        .map_err(|e| RecordFailure::Malformed(format!("{which} is not a valid item: {e}")))
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
            queue: sqs::SqsDeliveryQueue::new(sqs_client.clone(), settings.delivery_queue_url),
            failures: sqs::SqsDeadLetters::new(sqs_client, settings.failure_queue_url),
            payloads: Box::new(s3::S3Payloads::new(
                s3::client(sdk),
                settings.payload_bucket,
            )),
            tables: settings.tables,
        }
    }
}
