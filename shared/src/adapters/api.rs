//! The management API's ports over the deployment's tables: one wiring for
//! the api Lambda, `hubhooks local run` and the tests.
use super::attempt_log::DynamoAttemptSearch;
use super::config_writer::ConfigWriter;
use super::dynamo::DynamoConfigSource;
use super::dynamo::DynamoSecrets;
use super::idempotency::DynamoIdempotency;
use super::party_keys::DynamoPartyKeys;
use super::secrets::SecretAdmin;
use super::sqs::SqsDeliveryQueue;
use super::sqs_mailbox::{SqsMailbox, SqsRequeue};
use crate::api::ApiState;
use crate::dead_letter::{DeadLetterQueue, QueueKind};
use crate::egress::AllowList;
use crate::ports::{IoError, SecretStore};
use std::sync::Arc;

/// The tables the API reads and writes, and the queue test sends, resends
/// and replays go to.
#[derive(Debug, Clone)]
pub struct ApiResources {
    pub party_keys: String,
    pub config: String,
    pub secrets: String,
    pub attempt_log: String,
    pub attempt_log_days: u32,
    pub delivery_queue_url: String,
    /// The delivery DLQ an operator lists and replays.
    pub dead_letter_queue_url: String,
    /// The ordered queue and its DLQ, when the deployment has them.
    pub ordered_queue_url: Option<String>,
    pub ordered_dead_letter_queue_url: Option<String>,
    /// Creates' `Idempotency-Key`s.
    pub idempotency: String,
    /// The HTTP proxy a notice destination's test goes through.
    pub proxy: Option<String>,
}

impl From<crate::settings::ApiSettings> for ApiResources {
    fn from(s: crate::settings::ApiSettings) -> Self {
        ApiResources {
            party_keys: s.party_keys_table,
            config: s.config_table,
            secrets: s.secrets_table,
            attempt_log: s.attempt_log_table,
            attempt_log_days: s.attempt_log_days,
            delivery_queue_url: s.delivery_queue_url,
            dead_letter_queue_url: s.dead_letter_queue_url,
            ordered_queue_url: s.ordered_queue_url,
            ordered_dead_letter_queue_url: s.ordered_dead_letter_queue_url,
            idempotency: s.idempotency_table,
            proxy: s.proxy,
        }
    }
}

/// The secret that signs the API's paging cursors: made once per
/// deployment, read by every instance.
pub const CURSOR_KEY_SECRET: &str = "hubhooks/api-cursor-key";

/// The API's state over these resources; the cursor key is made on the
/// first start and read after.
pub async fn state(
    ddb: &aws_sdk_dynamodb::Client,
    sqs: &aws_sdk_sqs::Client,
    tables: &ApiResources,
    egress: AllowList,
) -> Result<ApiState, IoError> {
    let secrets = SecretAdmin::new(ddb.clone(), tables.secrets.clone());
    let key = cursor_key(ddb, &secrets, &tables.secrets).await?;
    let transport = super::http::HttpTransport::new(egress.clone(), tables.proxy.as_deref())
        .map_err(|e| IoError::new("making the HTTP client", e.to_string()))?;
    Ok(ApiState {
        keys: Arc::new(DynamoPartyKeys::new(ddb.clone(), tables.party_keys.clone())),
        config: Arc::new(DynamoConfigSource::new(ddb.clone(), tables.config.clone())),
        store: Arc::new(ConfigWriter::new(ddb.clone(), tables.config.clone())),
        secrets: Arc::new(secrets),
        secret_values: Arc::new(DynamoSecrets::new(ddb.clone(), tables.secrets.clone())),
        transport: Arc::new(transport),
        egress,
        attempts: Arc::new(DynamoAttemptSearch::new(
            ddb.clone(),
            tables.attempt_log.clone(),
        )),
        attempt_log_days: tables.attempt_log_days,
        queue: Arc::new(SqsDeliveryQueue::new(
            sqs.clone(),
            tables.delivery_queue_url.clone(),
        )),
        operator_token: None,
        idempotency: Arc::new(DynamoIdempotency::new(
            ddb.clone(),
            tables.idempotency.clone(),
        )),
        cursor_key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key.as_bytes()),
        dead_letters: dead_letter_queues(sqs, tables),
        clock: Arc::new(crate::clock::SystemClock),
    })
}

/// The delivery DLQ, and the ordered queue's where the deployment has one,
/// each with the queue its letters go back to. Receives wait at most a
/// second: a request has 30 s for its whole pass.
fn dead_letter_queues(sqs: &aws_sdk_sqs::Client, r: &ApiResources) -> Vec<DeadLetterQueue> {
    let queue = |kind, dlq: &str, target: &str, ordered| DeadLetterQueue {
        kind,
        letters: Arc::new(SqsMailbox::new(sqs, dlq, 1)),
        back: Arc::new(SqsRequeue {
            sqs: sqs.clone(),
            url: target.to_owned(),
            ordered,
        }),
    };
    let mut all = vec![queue(
        QueueKind::Deliveries,
        &r.dead_letter_queue_url,
        &r.delivery_queue_url,
        false,
    )];
    if let (Some(dlq), Some(target)) = (&r.ordered_dead_letter_queue_url, &r.ordered_queue_url) {
        all.push(queue(QueueKind::Ordered, dlq, target, true));
    }
    all
}

/// The deployment's cursor key: read; made first when there is none (a
/// start that races another makes nothing and reads the other's).
async fn cursor_key(
    ddb: &aws_sdk_dynamodb::Client,
    secrets: &SecretAdmin,
    table: &str,
) -> Result<String, IoError> {
    let store = DynamoSecrets::new(ddb.clone(), table.to_owned());
    let first = |values: Option<Vec<String>>| values.and_then(|v| v.into_iter().next());
    if let Some(key) = first(store.secret(CURSOR_KEY_SECRET).await?) {
        return Ok(key);
    }
    if let Some(made) = secrets
        .generate(CURSOR_KEY_SECRET, crate::timestamp::Timestamp::now())
        .await?
    {
        return Ok(made);
    }
    // Another start made it meanwhile: read it past the cached absence.
    let store = DynamoSecrets::new(ddb.clone(), table.to_owned());
    first(store.secret(CURSOR_KEY_SECRET).await?)
        .ok_or_else(|| IoError::new("reading the cursor key", "it was made but is not there"))
}

/// The same, from the AWS configuration (the api Lambda's wiring).
pub async fn from_aws(
    sdk: &aws_types::SdkConfig,
    tables: &ApiResources,
    egress: AllowList,
) -> Result<ApiState, IoError> {
    let ddb = aws_sdk_dynamodb::Client::new(sdk);
    state(&ddb, &aws_sdk_sqs::Client::new(sdk), tables, egress).await
}
