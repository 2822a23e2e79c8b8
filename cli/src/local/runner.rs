//! The local runner: plays Lambda's event source mappings against the local
//! stack. It polls each case table's stream and the delivery queue and calls
//! the very handlers the Lambda binaries run, honouring batch sizes and the
//! batchItemFailures contract.
use crate::local::provision::LocalStack;
use anyhow::{Context, Result};
use aws_config::SdkConfig;
use aws_lambda_events::event::dynamodb::EventRecord;
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use aws_sdk_dynamodbstreams::types::ShardIteratorType;
use hubhooks::egress::AllowList;
use hubhooks::lambda::router::AwsRouter;
use hubhooks::lambda::sender::AwsSender;
use hubhooks::retry::RetrySchedule;
use hubhooks::settings::{RouterSettings, SenderSettings};
use hubhooks::tables::CaseTable;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

use crate::local::idle::idle_wait;
pub use crate::local::provision::CHECKPOINT_KEY;

/// What the local stack's sender may reach despite the SSRF guard.
pub const LOCAL_EGRESS: &str = "127.0.0.1/32,::1/128";

#[derive(Debug, Clone)]
pub struct RunnerOptions {
    /// Stream records per router invocation (template: BatchSize 100).
    pub stream_batch_size: i32,
    /// Messages per sender invocation (template: BatchSize 10).
    pub queue_batch_size: i32,
    /// Retries of a failing stream record before it goes to the failure
    /// queue, as MaximumRetryAttempts does (template: 5).
    pub max_record_retries: u32,
    /// A stream poller's pause after its first empty read; it doubles with
    /// each empty read in a row up to `idle_poll_max`, and a read that
    /// finds records starts over (an idle stack costs a few requests a
    /// second). Queues are long-polled instead.
    pub idle_poll: Duration,
    pub idle_poll_max: Duration,
    pub config_ttl: Duration,
    /// Sender invocations running at once (Lambda runs several); 0 runs
    /// the router alone.
    pub queue_pollers: usize,
    /// Retry delays; the deployed default is 30 s, 2 min, 10 min, … — the
    /// local stack retries within seconds.
    pub retry_schedule: RetrySchedule,
    /// The SSRF guard's allow-list: the local stack's receivers are on
    /// 127.0.0.1.
    pub egress: AllowList,
    /// The failure-streak limit (deployed default: 5 days).
    pub failure_streak: Duration,
    /// How long a delivery may stay unreadable before it is dead-lettered
    /// unsent (deployed default: 3 days).
    pub unreadable_limit: Duration,
    /// How long a batch spends on its notices (deployed: 5 s).
    pub notice_budget: Duration,
}

impl Default for RunnerOptions {
    fn default() -> Self {
        RunnerOptions {
            stream_batch_size: 100,
            queue_batch_size: 10,
            max_record_retries: 5,
            idle_poll: Duration::from_millis(200),
            idle_poll_max: Duration::from_secs(1),
            config_ttl: Duration::from_secs(1),
            queue_pollers: 2,
            retry_schedule: RetrySchedule::parse("1,1,2").unwrap_or_default(),
            egress: AllowList::parse(LOCAL_EGRESS).unwrap_or_default(),
            failure_streak: hubhooks::notice::DEFAULT_FAILURE_STREAK,
            unreadable_limit: hubhooks::settings::DEFAULT_UNREADABLE_LIMIT,
            notice_budget: hubhooks::lambda::sender::NOTICE_BUDGET,
        }
    }
}

/// The sender's settings for a local stack.
pub fn local_sender_settings(stack: &LocalStack, options: &RunnerOptions) -> SenderSettings {
    SenderSettings {
        dead_letter_queue_url: stack.delivery_dlq_url.clone(),
        delivery_queue_url: stack.delivery_queue_url.clone(),
        ordered_queue_url: Some(stack.ordered_queue_url.clone()),
        config_table: stack.tables.config.clone(),
        secrets_table: stack.secrets_table.clone(),
        payload_bucket: stack.payload_bucket.clone(),
        retry_schedule: options.retry_schedule.clone(),
        egress: options.egress.clone(),
        attempt_log_table: stack.attempt_log_table.clone(),
        attempt_log_days: hubhooks::settings::DEFAULT_ATTEMPT_LOG_DAYS,
        attempt_log_bodies: true,
        config_ttl: options.config_ttl,
        proxy: None,
        failure_streak: options.failure_streak,
        notice_topic_arn: Some(stack.notice_topic_arn.clone()).filter(|a| !a.is_empty()),
        unreadable_limit: options.unreadable_limit,
        notice_budget: options.notice_budget,
    }
}

/// The running pollers; dropping it stops them.
pub struct Runner {
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Runner {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Runner {
    /// Starts one poller per case table stream and one for the delivery queue.
    /// A shard is read from where the last run left it (its checkpoint), or
    /// from its start (TRIM_HORIZON) the first time, like a new mapping with
    /// StartingPosition TRIM_HORIZON.
    pub async fn start(
        sdk: &SdkConfig,
        stack: &LocalStack,
        options: RunnerOptions,
    ) -> Result<Runner> {
        let router = Arc::new(AwsRouter::from_aws(
            sdk,
            RouterSettings {
                tables: stack.tables.clone(),
                delivery_queue_url: stack.delivery_queue_url.clone(),
                ordered_queue_url: Some(stack.ordered_queue_url.clone()),
                failure_queue_url: stack.router_failure_queue_url.clone(),
                config_ttl: options.config_ttl,
                payload_bucket: stack.payload_bucket.clone(),
            },
        ));
        let sender = Arc::new(
            AwsSender::from_aws(sdk, local_sender_settings(stack, &options))
                .map_err(|e| anyhow::anyhow!("building the sender: {e}"))?,
        );
        let ddb = aws_sdk_dynamodb::Client::new(sdk);
        let streams = aws_sdk_dynamodbstreams::Client::new(sdk);
        let sqs = aws_sdk_sqs::Client::new(sdk);
        let mut tasks = Vec::new();
        for table in CaseTable::ALL.map(|t| stack.tables.name(t)) {
            let arn = ddb
                .describe_table()
                .table_name(table)
                .send()
                .await
                .map_err(crate::aws::sdk_err)
                .with_context(|| format!("describing {table}"))?
                .table
                .and_then(|t| t.latest_stream_arn)
                .with_context(|| format!("{table} has no stream"))?;
            let shards = streams
                .describe_stream()
                .stream_arn(&arn)
                .send()
                .await
                .map_err(crate::aws::sdk_err)
                .with_context(|| format!("describing the stream of {table}"))?
                .stream_description
                .and_then(|d| d.shards)
                .unwrap_or_default();
            for shard in shards {
                let Some(shard_id) = shard.shard_id else {
                    continue;
                };
                let poller = StreamPoller {
                    streams: streams.clone(),
                    router: router.clone(),
                    stream_arn: arn.clone(),
                    shard_id,
                    options: options.clone(),
                    checkpoints: Checkpoints {
                        ddb: ddb.clone(),
                        table: stack.checkpoints_table.clone(),
                    },
                };
                tasks.push(tokio::spawn(poller.run()));
            }
        }
        // The ordered queue's pollers play its event source mapping: Lambda
        // hands a FIFO queue's messages over with the queue's ARN, which is
        // how the sender knows them.
        for url in [&stack.delivery_queue_url, &stack.ordered_queue_url] {
            for _ in 0..options.queue_pollers {
                let queue = QueuePoller {
                    sqs: sqs.clone(),
                    sender: sender.clone(),
                    queue_url: url.clone(),
                    queue_arn: local_queue_arn(url),
                    options: options.clone(),
                };
                tasks.push(tokio::spawn(queue.run()));
            }
        }
        Ok(Runner { tasks })
    }

    /// Runs until Ctrl-C.
    pub async fn run_until_interrupted(self) -> Result<()> {
        tokio::signal::ctrl_c()
            .await
            .context("waiting for Ctrl-C")?;
        Ok(())
    }
}

struct StreamPoller {
    streams: aws_sdk_dynamodbstreams::Client,
    router: Arc<AwsRouter>,
    stream_arn: String,
    shard_id: String,
    options: RunnerOptions,
    checkpoints: Checkpoints,
}

/// The last sequence number handled in each shard, kept in the local stack.
struct Checkpoints {
    ddb: aws_sdk_dynamodb::Client,
    table: String,
}

impl Checkpoints {
    async fn get(&self, shard: &str) -> Option<String> {
        use aws_sdk_dynamodb::types::AttributeValue;
        let out = self
            .ddb
            .get_item()
            .table_name(&self.table)
            .key(CHECKPOINT_KEY, AttributeValue::S(shard.to_owned()))
            .consistent_read(true)
            .send()
            .await;
        match out {
            Ok(o) => o
                .item
                .and_then(|i| i.get("sequenceNumber").and_then(|v| v.as_s().ok()).cloned()),
            Err(e) => {
                tracing::warn!(error = %aws_sdk_dynamodb::error::DisplayErrorContext(e), "reading the runner's checkpoint; starting from the shard's start");
                None
            }
        }
    }

    async fn set(&self, shard: &str, sequence: &str) {
        use aws_sdk_dynamodb::types::AttributeValue;
        // A lost checkpoint only means re-reading (at-least-once, as Lambda).
        if let Err(e) = self
            .ddb
            .put_item()
            .table_name(&self.table)
            .item(CHECKPOINT_KEY, AttributeValue::S(shard.to_owned()))
            .item("sequenceNumber", AttributeValue::S(sequence.to_owned()))
            .send()
            .await
        {
            tracing::warn!(error = %aws_sdk_dynamodb::error::DisplayErrorContext(e), "writing the runner's checkpoint");
        }
    }
}

impl StreamPoller {
    async fn iterator(&self, kind: ShardIteratorType, sequence: Option<&str>) -> Option<String> {
        let mut req = self
            .streams
            .get_shard_iterator()
            .stream_arn(&self.stream_arn)
            .shard_id(&self.shard_id)
            .shard_iterator_type(kind);
        if let Some(s) = sequence {
            req = req.sequence_number(s);
        }
        match req.send().await {
            Ok(out) => out.shard_iterator,
            Err(e) => {
                tracing::error!(error = %aws_sdk_dynamodbstreams::error::DisplayErrorContext(e), "GetShardIterator failed");
                None
            }
        }
    }

    async fn run(self) {
        let shard = format!("{}/{}", self.stream_arn, self.shard_id);
        let mut iterator = match self.checkpoints.get(&shard).await {
            Some(seq) => {
                self.iterator(ShardIteratorType::AfterSequenceNumber, Some(&seq))
                    .await
            }
            None => None,
        };
        let mut state = RetryState::default();
        let mut empties = 0;
        loop {
            if iterator.is_none() {
                iterator = self.iterator(ShardIteratorType::TrimHorizon, None).await;
            }
            let Some(at) = iterator.clone() else {
                tokio::time::sleep(self.options.idle_poll).await;
                continue;
            };
            let Some((records, next)) = self.read(at).await else {
                tokio::time::sleep(self.options.idle_poll).await;
                continue;
            };
            if records.is_empty() {
                iterator = next;
                empties += 1;
                let o = &self.options;
                tokio::time::sleep(idle_wait(empties, o.idle_poll, o.idle_poll_max)).await;
                continue;
            }
            empties = 0;
            let (response, summary) = self.router.invoke(&records).await;
            let failed = response
                .batch_item_failures
                .first()
                .and_then(|f| f.item_identifier.clone());
            iterator = match failed {
                None => {
                    state.record = None;
                    if let Some(seq) = records
                        .last()
                        .and_then(|r| r.change.sequence_number.as_deref())
                    {
                        self.checkpoints.set(&shard, seq).await;
                    }
                    next
                }
                Some(seq) => {
                    let failure = summary.failure.as_deref();
                    self.failed(&shard, seq, &records, failure, &mut state)
                        .await
                }
            };
        }
    }

    /// One GetRecords: the records as Lambda delivers them and the next
    /// iterator; `None` when the call failed (poll again).
    async fn read(&self, iterator: String) -> Option<(Vec<EventRecord>, Option<String>)> {
        let out = match self
            .streams
            .get_records()
            .shard_iterator(iterator)
            .limit(self.options.stream_batch_size)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                tracing::warn!(error = %aws_sdk_dynamodbstreams::error::DisplayErrorContext(e), "GetRecords failed; polling again");
                return None;
            }
        };
        let records = out
            .records
            .unwrap_or_default()
            .into_iter()
            .map(|r| to_lambda_record(r, &self.stream_arn))
            .collect();
        Some((records, out.next_shard_iterator))
    }

    /// A batch that failed at record `seq`: read again from it up to
    /// `max_record_retries` times, then, as the OnFailure destination,
    /// parked with why it kept failing (Lambda's own failure description
    /// does not say) and passed. The iterator to read next.
    async fn failed(
        &self,
        shard: &str,
        seq: String,
        records: &[EventRecord],
        failure: Option<&str>,
        state: &mut RetryState,
    ) -> Option<String> {
        let count = match &state.record {
            Some((s, n)) if *s == seq => n + 1,
            _ => 1,
        };
        if count <= self.options.max_record_retries {
            state.record = Some((seq.clone(), count));
            tokio::time::sleep(self.options.idle_poll).await;
            return self
                .iterator(ShardIteratorType::AtSequenceNumber, Some(&seq))
                .await;
        }
        let reason = format!(
            "retries exhausted ({count} attempts); last error: {}",
            failure.unwrap_or("unknown")
        );
        let parked = match records
            .iter()
            .find(|r| r.change.sequence_number.as_deref() == Some(&seq))
        {
            Some(record) => self.router.dead_letter_record(record, &reason).await,
            None => Ok(()),
        };
        if let Err(e) = parked {
            state.park_failures += 1;
            let pause = (self.options.idle_poll * 2u32.saturating_pow(state.park_failures))
                .min(Duration::from_secs(5));
            tracing::error!(error = %e, pause_ms = pause.as_millis() as u64, "could not park the exhausted record; retrying it after a pause");
            tokio::time::sleep(pause).await;
            return self
                .iterator(ShardIteratorType::AtSequenceNumber, Some(&seq))
                .await;
        }
        state.park_failures = 0;
        state.record = None;
        self.checkpoints.set(shard, &seq).await;
        self.iterator(ShardIteratorType::AfterSequenceNumber, Some(&seq))
            .await
    }
}

/// A shard's record being retried, as Lambda's mapping keeps it.
#[derive(Default)]
struct RetryState {
    /// (sequence number, failures so far) of the record being retried.
    record: Option<(String, u32)>,
    /// Failed parks in a row: each waits longer (at most 5 s).
    park_failures: u32,
}

/// A DynamoDB Streams API record in the shape Lambda delivers it.
fn to_lambda_record(r: aws_sdk_dynamodbstreams::types::Record, stream_arn: &str) -> EventRecord {
    let mut out = EventRecord::default();
    out.aws_region = r.aws_region.unwrap_or_default();
    out.event_id = r.event_id.unwrap_or_default();
    out.event_name = r
        .event_name
        .map(|n| n.as_str().to_owned())
        .unwrap_or_default();
    out.event_source = r.event_source.or(Some("aws:dynamodb".into()));
    out.event_version = r.event_version;
    // moto leaves eventSourceARN out; Lambda always sets it.
    out.event_source_arn = Some(stream_arn.to_owned());
    if let Some(s) = r.dynamodb {
        if let Some(t) = s.approximate_creation_date_time
            && let Some(dt) = chrono::DateTime::from_timestamp(t.secs(), t.subsec_nanos())
        {
            out.change.approximate_creation_date_time = dt;
        }
        out.change.keys = s.keys.unwrap_or_default().into();
        out.change.new_image = s.new_image.unwrap_or_default().into();
        out.change.old_image = s.old_image.unwrap_or_default().into();
        out.change.sequence_number = s.sequence_number;
        out.change.size_bytes = s.size_bytes.unwrap_or_default();
    }
    out
}

struct QueuePoller {
    sqs: aws_sdk_sqs::Client,
    sender: Arc<AwsSender>,
    queue_url: String,
    queue_arn: String,
    options: RunnerOptions,
}

/// The ARN of a local queue, from its URL's last segment (moto's account).
fn local_queue_arn(url: &str) -> String {
    let name = url.rsplit('/').next().unwrap_or(url);
    format!("arn:aws:sqs:us-east-1:123456789012:{name}")
}

impl QueuePoller {
    async fn run(self) {
        loop {
            let out = match self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(self.options.queue_batch_size)
                .wait_time_seconds(1)
                .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
                .message_attribute_names("All")
                .send()
                .await
            {
                Ok(out) => out,
                Err(e) => {
                    tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(e), "ReceiveMessage failed; polling again");
                    tokio::time::sleep(self.options.idle_poll).await;
                    continue;
                }
            };
            let messages = out.messages.unwrap_or_default();
            // An empty receive has waited its second (long polling): no
            // pause of our own.
            if messages.is_empty() {
                continue;
            }
            let mut event = SqsEvent::default();
            event.records = messages
                .iter()
                .map(|m| {
                    let mut lambda = to_lambda_message(m);
                    lambda.event_source_arn = Some(self.queue_arn.clone());
                    lambda
                })
                .collect();
            let failed: Vec<String> = match self.sender.handle(event).await {
                Ok(r) => r
                    .batch_item_failures
                    .into_iter()
                    .map(|f| f.item_identifier)
                    .collect(),
                // A failed invocation fails the whole batch.
                Err(_) => messages
                    .iter()
                    .filter_map(|m| m.message_id.clone())
                    .collect(),
            };
            // As Lambda does: delete what succeeded, in one batch call.
            let done: Vec<aws_sdk_sqs::types::DeleteMessageBatchRequestEntry> = messages
                .iter()
                .enumerate()
                .filter(|(_, m)| !failed.iter().any(|f| Some(f) == m.message_id.as_ref()))
                .filter_map(|(i, m)| {
                    aws_sdk_sqs::types::DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .set_receipt_handle(m.receipt_handle.clone())
                        .build()
                        .ok()
                })
                .collect();
            if !done.is_empty()
                && let Err(e) = self
                    .sqs
                    .delete_message_batch()
                    .queue_url(&self.queue_url)
                    .set_entries(Some(done))
                    .send()
                    .await
            {
                tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(e), "DeleteMessageBatch failed; the messages will be delivered again");
            }
        }
    }
}

/// An SQS API message in the shape Lambda delivers it.
fn to_lambda_message(m: &aws_sdk_sqs::types::Message) -> SqsMessage {
    let mut out = SqsMessage::default();
    out.message_id = m.message_id.clone();
    out.receipt_handle = m.receipt_handle.clone();
    out.body = m.body.clone();
    out.md5_of_body = m.md5_of_body.clone();
    out.event_source = Some("aws:sqs".into());
    out.attributes = m
        .attributes
        .iter()
        .flatten()
        .map(|(k, v)| (k.as_str().to_owned(), v.clone()))
        .collect();
    // As Lambda hands them over: the sender reads the subscription and the
    // delivery id from them without parsing the body.
    out.message_attributes = m
        .message_attributes
        .iter()
        .flatten()
        .map(|(k, v)| {
            let mut a = aws_lambda_events::event::sqs::SqsMessageAttribute::default();
            a.string_value = v.string_value.clone();
            a.data_type = Some(v.data_type.clone());
            (k.clone(), a)
        })
        .collect();
    out
}
