//! Creates the tables and queues of a local stack, as template.yaml does in
//! AWS (same key schemas, streams and redrive).
use crate::deployment::Deployment;
use anyhow::{Context, Result};
use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    StreamSpecification, StreamViewType,
};
use aws_sdk_sqs::types::QueueAttributeName;
use hubhooks::tables::{self, CONFIG_KEY, CaseTable, SECRETS_KEY, TableNames};

/// The runner's checkpoint table's key: `<stream ARN>/<shard id>`.
pub const CHECKPOINT_KEY: &str = "shard";

/// Everything a local stack consists of.
#[derive(Debug, Clone)]
pub struct LocalStack {
    pub tables: TableNames,
    pub delivery_queue_url: String,
    /// The ordered (FIFO) delivery queue (`<prefix>-deliveries-ordered.fifo`)
    /// and its own FIFO dead-letter queue (SQS's safety net only).
    pub ordered_queue_url: String,
    pub ordered_dlq_url: String,
    pub delivery_dlq_url: String,
    pub router_failure_queue_url: String,
    /// Token, signing and broker secrets (`<prefix>-secrets`).
    pub secrets_table: String,
    /// Bodies too large for a queue message (`<prefix>-payloads`).
    pub payload_bucket: String,
    /// The attempt log (`<prefix>-delivery-log`).
    pub attempt_log_table: String,
    /// Where the local runner keeps its place in each stream shard
    /// (`<prefix>-runner-checkpoints`; Lambda's event source mappings keep
    /// theirs themselves).
    pub checkpoints_table: String,
    /// Operational notices (`<prefix>-notices`, an SNS topic), and the
    /// queue subscribed to it (raw messages) so they can be read locally.
    /// Attached to a stack: its NoticeTopicArn (empty: none) and no queue.
    pub notice_topic_arn: String,
    pub notice_queue_url: String,
}

#[derive(Debug, Clone)]
pub struct QueueSettings {
    /// Seconds a received delivery stays invisible; a failed one comes back
    /// after this. Lambda's default is 30 s; tests use 1 s.
    pub visibility_timeout_secs: u32,
    /// Receives before SQS moves a delivery to the DLQ: a safety net above
    /// any subscription's `maxAttempts` (the sender dead-letters exhausted
    /// deliveries itself, with their last error).
    pub max_receive_count: u32,
}

impl Default for QueueSettings {
    fn default() -> Self {
        QueueSettings {
            visibility_timeout_secs: 30,
            max_receive_count: 25,
        }
    }
}

fn key(name: &str, kind: KeyType) -> Result<KeySchemaElement> {
    Ok(KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()?)
}

fn scalar(kind: tables::KeyType) -> ScalarAttributeType {
    match kind {
        tables::KeyType::S => ScalarAttributeType::S,
        tables::KeyType::N => ScalarAttributeType::N,
    }
}

fn attr(name: &str, kind: ScalarAttributeType) -> Result<AttributeDefinition> {
    Ok(AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(kind)
        .build()?)
}

async fn create_table(
    client: &aws_sdk_dynamodb::Client,
    name: &str,
    keys: Vec<KeySchemaElement>,
    attrs: Vec<AttributeDefinition>,
    stream: Option<StreamViewType>,
) -> Result<()> {
    let mut req = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_key_schema(Some(keys))
        .set_attribute_definitions(Some(attrs));
    if let Some(view) = stream {
        req = req.stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(view)
                .build()?,
        );
    }
    match req.send().await {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_in_use_exception()) =>
        {
            Ok(())
        }
        Err(e) => Err(crate::aws::sdk_err(e)).context(format!("creating table {name}")),
    }
}

/// The attempt log: generic keys, no index, a TTL
/// (`hubhooks::tables::attempt_log`).
async fn create_attempt_log(client: &aws_sdk_dynamodb::Client, name: &str) -> Result<()> {
    use hubhooks::tables::attempt_log as l;
    let created = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(l::PARTITION_KEY, KeyType::Hash)?)
        .key_schema(key(l::SORT_KEY, KeyType::Range)?)
        .attribute_definitions(attr(l::PARTITION_KEY, ScalarAttributeType::S)?)
        .attribute_definitions(attr(l::SORT_KEY, ScalarAttributeType::S)?)
        .send()
        .await;
    match created {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_in_use_exception()) =>
        {
            return Ok(());
        }
        Err(e) => return Err(crate::aws::sdk_err(e)).context(format!("creating table {name}")),
    }
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            aws_sdk_dynamodb::types::TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(l::TTL)
                .build()?,
        )
        .send()
        .await
        .map_err(crate::aws::sdk_err)
        .with_context(|| format!("enabling TTL on {name}"))?;
    Ok(())
}

async fn create_queue(
    client: &aws_sdk_sqs::Client,
    name: &str,
    attributes: Vec<(QueueAttributeName, String)>,
) -> Result<String> {
    // SQS's default message size, stated: moto's default is 1 MiB, and the
    // local stack must refuse what AWS refuses.
    let mut req = client
        .create_queue()
        .queue_name(name)
        .attributes(QueueAttributeName::MaximumMessageSize, "262144");
    for (k, v) in attributes {
        req = req.attributes(k, v);
    }
    match req.send().await {
        Ok(out) => out.queue_url.context("CreateQueue returned no URL"),
        // There with other settings (an older or differently set stack):
        // used as it is, and said so.
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_queue_name_exists()) =>
        {
            tracing::warn!(
                queue = name,
                "queue exists with other settings; using it as it is"
            );
            crate::aws::queue_url(client, name).await
        }
        Err(e) => Err(crate::aws::sdk_err(e)).with_context(|| format!("creating queue {name}")),
    }
}

impl LocalStack {
    /// What the stack consists of, by name: for `local provision --json`.
    pub fn describe(&self) -> serde_json::Value {
        let mut tables = serde_json::Map::new();
        for t in CaseTable::ALL {
            tables.insert(t.suffix().to_owned(), self.tables.name(t).into());
        }
        tables.insert("config".into(), self.tables.config.clone().into());
        tables.insert("secrets".into(), self.secrets_table.clone().into());
        tables.insert("deliveryLog".into(), self.attempt_log_table.clone().into());
        tables.insert(
            "runner-checkpoints".into(),
            self.checkpoints_table.clone().into(),
        );
        serde_json::json!({
            "tables": tables,
            "queues": {
                "deliveries": self.delivery_queue_url,
                "deliveries-ordered": self.ordered_queue_url,
                "deliveries-ordered-dlq": self.ordered_dlq_url,
                "deliveries-dlq": self.delivery_dlq_url,
                "router-failures": self.router_failure_queue_url,
                "notices": self.notice_queue_url,
            },
            "noticeTopic": self.notice_topic_arn,
            "payloadBucket": self.payload_bucket,
        })
    }

    /// The same as aligned lines for people.
    pub fn render(&self) -> String {
        let d = self.describe();
        let mut rows = Vec::new();
        for (kind, group) in [("table", &d["tables"]), ("queue", &d["queues"])] {
            for (name, value) in group.as_object().into_iter().flatten() {
                rows.push(vec![
                    kind.to_owned(),
                    name.clone(),
                    value.as_str().unwrap_or_default().to_owned(),
                ]);
            }
        }
        rows.push(vec![
            "bucket".into(),
            "payloads".into(),
            self.payload_bucket.clone(),
        ]);
        rows.push(vec![
            "topic".into(),
            "notices".into(),
            self.notice_topic_arn.clone(),
        ]);
        crate::output::table(&["KIND", "ROLE", "NAME"], rows)
    }
}

async fn queue_arn(sqs: &aws_sdk_sqs::Client, url: &str) -> Result<String> {
    sqs.get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(crate::aws::sdk_err)
        .with_context(|| format!("reading the ARN of {url}"))?
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .with_context(|| format!("{url} has no ARN"))
}

/// The notice topic and a queue subscribed to it with raw delivery (the
/// queue holds each notice's JSON as published). Both calls are idempotent.
async fn notices(
    sdk: &SdkConfig,
    sqs: &aws_sdk_sqs::Client,
    prefix: &str,
) -> Result<(String, String)> {
    let sns = aws_sdk_sns::Client::new(sdk);
    let name = Deployment::new(prefix).notices();
    let topic_arn = sns
        .create_topic()
        .name(&name)
        .send()
        .await
        .map_err(crate::aws::sdk_err)
        .with_context(|| format!("creating topic {name}"))?
        .topic_arn
        .context("CreateTopic returned no ARN")?;
    let queue_url = create_queue(
        sqs,
        &name,
        vec![(QueueAttributeName::MessageRetentionPeriod, "1209600".into())],
    )
    .await?;
    let queue = queue_arn(sqs, &queue_url).await?;
    sns.subscribe()
        .topic_arn(&topic_arn)
        .protocol("sqs")
        .endpoint(&queue)
        .attributes("RawMessageDelivery", "true")
        .send()
        .await
        .map_err(crate::aws::sdk_err)
        .with_context(|| format!("subscribing {name} to its topic"))?;
    Ok((topic_arn, queue_url))
}

/// Creates (or finds) every table and queue of the stack named `prefix`.
pub async fn provision(
    sdk: &SdkConfig,
    prefix: &str,
    queues: &QueueSettings,
) -> Result<LocalStack> {
    let ddb = aws_sdk_dynamodb::Client::new(sdk);
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let tables = TableNames::with_prefix(prefix);
    create_case_and_config_tables(&ddb, &tables).await?;
    let names = Deployment::new(prefix);
    let secrets_table = names.secrets_table();
    let attempt_log_table = names.attempt_log_table();
    let checkpoints_table = names.checkpoints_table();
    let party_keys_table = format!("{prefix}-party-keys");
    let idempotency_table = format!("{prefix}-idempotency");
    for (table, key_name) in [
        (&secrets_table, SECRETS_KEY),
        (&checkpoints_table, CHECKPOINT_KEY),
        (&party_keys_table, "id"),
        (&idempotency_table, "id"),
    ] {
        let keys = vec![key(key_name, KeyType::Hash)?];
        let attrs = vec![attr(key_name, ScalarAttributeType::S)?];
        create_table(&ddb, table, keys, attrs, None).await?;
    }
    create_attempt_log(&ddb, &attempt_log_table).await?;
    let payload_bucket = names.payload_bucket();
    create_bucket(sdk, &payload_bucket).await?;
    let (delivery_queue_url, delivery_dlq_url) = delivery_queues(&sqs, prefix, queues).await?;
    let (ordered_queue_url, ordered_dlq_url) = ordered_queues(&sqs, prefix, queues).await?;
    let router_failure_queue_url = create_queue(
        &sqs,
        &names.router_failure_queue(),
        vec![(QueueAttributeName::MessageRetentionPeriod, "1209600".into())],
    )
    .await?;
    let (notice_topic_arn, notice_queue_url) = notices(sdk, &sqs, prefix).await?;
    Ok(LocalStack {
        ordered_queue_url,
        ordered_dlq_url,
        notice_topic_arn,
        notice_queue_url,
        tables,
        delivery_queue_url,
        delivery_dlq_url,
        router_failure_queue_url,
        secrets_table,
        payload_bucket,
        attempt_log_table,
        checkpoints_table,
    })
}

/// A deployed stack's resources as the local runner sees them: names from
/// the stack's outputs, URLs from SQS, and the runner's own checkpoint
/// table (`<stack>-runner-checkpoints`, created here: the stack has none,
/// its event source mappings keep their own place). Nothing of the stack's
/// is created or changed.
pub async fn attach(sdk: &SdkConfig, dep: &Deployment) -> Result<LocalStack> {
    let ddb = aws_sdk_dynamodb::Client::new(sdk);
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let checkpoints_table = dep.checkpoints_table();
    create_table(
        &ddb,
        &checkpoints_table,
        vec![key(CHECKPOINT_KEY, KeyType::Hash)?],
        vec![attr(CHECKPOINT_KEY, ScalarAttributeType::S)?],
        None,
    )
    .await?;
    let url = |name: String| {
        let sqs = sqs.clone();
        async move { dep.queue_url(&sqs, &name).await }
    };
    Ok(LocalStack {
        tables: dep.tables(),
        delivery_queue_url: url(dep.delivery_queue()).await?,
        ordered_queue_url: url(dep.ordered_delivery_queue()).await?,
        ordered_dlq_url: url(dep.ordered_dead_letter_queue()).await?,
        delivery_dlq_url: url(dep.dead_letter_queue()).await?,
        router_failure_queue_url: url(dep.router_failure_queue()).await?,
        secrets_table: dep.secrets_table(),
        payload_bucket: dep.payload_bucket(),
        attempt_log_table: dep.attempt_log_table(),
        checkpoints_table,
        notice_topic_arn: dep
            .stack
            .as_ref()
            .and_then(|s| s.notice_topic.clone())
            .unwrap_or_default(),
        notice_queue_url: String::new(),
    })
}

/// A case table with the data contract's keys, and a stream of `stream`'s
/// view (None: no stream). Idempotent.
pub async fn create_case_table(
    ddb: &aws_sdk_dynamodb::Client,
    table: CaseTable,
    name: &str,
    stream: Option<StreamViewType>,
) -> Result<()> {
    let schema = table.key_schema();
    let mut keys = vec![key(schema.partition.0, KeyType::Hash)?];
    let mut attrs = vec![attr(schema.partition.0, scalar(schema.partition.1))?];
    if let Some((n, kind)) = schema.sort {
        keys.push(key(n, KeyType::Range)?);
        attrs.push(attr(n, scalar(kind))?);
    }
    create_table(ddb, name, keys, attrs, stream).await
}

/// The six case tables (with their streams) and the config table.
async fn create_case_and_config_tables(
    ddb: &aws_sdk_dynamodb::Client,
    tables: &TableNames,
) -> Result<()> {
    for table in CaseTable::ALL {
        create_case_table(
            ddb,
            table,
            tables.name(table),
            Some(StreamViewType::NewAndOldImages),
        )
        .await?;
    }
    create_table(
        ddb,
        &tables.config,
        vec![key(CONFIG_KEY, KeyType::Hash)?],
        vec![attr(CONFIG_KEY, ScalarAttributeType::S)?],
        None,
    )
    .await
}

async fn create_bucket(sdk: &SdkConfig, bucket: &str) -> Result<()> {
    let s3 = hubhooks::adapters::s3::client(sdk);
    match s3.create_bucket().bucket(bucket).send().await {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error().is_some_and(|s| {
                s.is_bucket_already_owned_by_you() || s.is_bucket_already_exists()
            }) =>
        {
            Ok(())
        }
        Err(e) => Err(crate::aws::sdk_err(e)).context(format!("creating bucket {bucket}")),
    }
}

/// The delivery queue and its dead-letter queue: (queue, DLQ) URLs.
async fn delivery_queues(
    sqs: &aws_sdk_sqs::Client,
    prefix: &str,
    queues: &QueueSettings,
) -> Result<(String, String)> {
    let dlq_url = create_queue(
        sqs,
        &Deployment::new(prefix).dead_letter_queue(),
        vec![(QueueAttributeName::MessageRetentionPeriod, "1209600".into())],
    )
    .await?;
    let dlq_arn = queue_arn(sqs, &dlq_url).await?;
    let redrive = serde_json::json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": queues.max_receive_count});
    let queue_url = create_queue(
        sqs,
        &Deployment::new(prefix).delivery_queue(),
        vec![
            (QueueAttributeName::RedrivePolicy, redrive.to_string()),
            (
                QueueAttributeName::VisibilityTimeout,
                queues.visibility_timeout_secs.to_string(),
            ),
        ],
    )
    .await?;
    Ok((queue_url, dlq_url))
}

/// The ordered queue: FIFO, deduplicated by delivery id, high throughput
/// (per message group). Held-back receipts count towards SQS's receive
/// count, so its redrive limit is SQS's highest; the sender dead-letters to
/// the DLQ itself. (queue, its own FIFO DLQ) URLs.
async fn ordered_queues(
    sqs: &aws_sdk_sqs::Client,
    prefix: &str,
    queues: &QueueSettings,
) -> Result<(String, String)> {
    let fifo = |extra: Vec<(QueueAttributeName, String)>| {
        let mut attrs = vec![
            (QueueAttributeName::FifoQueue, "true".to_owned()),
            (
                QueueAttributeName::DeduplicationScope,
                "messageGroup".to_owned(),
            ),
            (
                QueueAttributeName::FifoThroughputLimit,
                "perMessageGroupId".to_owned(),
            ),
        ];
        attrs.extend(extra);
        attrs
    };
    let dlq_url = create_queue(
        sqs,
        &Deployment::new(prefix).ordered_dead_letter_queue(),
        fifo(vec![(
            QueueAttributeName::MessageRetentionPeriod,
            "1209600".into(),
        )]),
    )
    .await?;
    let dlq_arn = queue_arn(sqs, &dlq_url).await?;
    let redrive = serde_json::json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1000});
    let queue_url = create_queue(
        sqs,
        &Deployment::new(prefix).ordered_delivery_queue(),
        fifo(vec![
            (QueueAttributeName::RedrivePolicy, redrive.to_string()),
            (
                QueueAttributeName::VisibilityTimeout,
                queues.visibility_timeout_secs.to_string(),
            ),
        ]),
    )
    .await?;
    Ok((queue_url, dlq_url))
}
