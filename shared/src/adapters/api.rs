//! The management API's ports over the deployment's tables: one wiring for
//! the api Lambda, `hubhooks local run` and the tests.
use super::attempt_log::DynamoAttemptSearch;
use super::config_writer::ConfigWriter;
use super::dynamo::DynamoConfigSource;
use super::dynamo::DynamoSecrets;
use super::party_keys::DynamoPartyKeys;
use super::secrets::SecretAdmin;
use crate::api::ApiState;
use crate::egress::AllowList;
use crate::ports::{IoError, SecretStore};
use std::sync::Arc;

/// The tables the API reads and writes.
#[derive(Debug, Clone)]
pub struct ApiTables {
    pub party_keys: String,
    pub config: String,
    pub secrets: String,
    pub attempt_log: String,
    pub attempt_log_days: u32,
}

/// The secret that signs the API's paging cursors: made once per
/// deployment, read by every instance.
pub const CURSOR_KEY_SECRET: &str = "hubhooks/api-cursor-key";

/// The API's state over these tables; the cursor key is made on the first
/// start and read after.
pub async fn state(
    ddb: &aws_sdk_dynamodb::Client,
    tables: &ApiTables,
    egress: AllowList,
) -> Result<ApiState, IoError> {
    let secrets = SecretAdmin::new(ddb.clone(), tables.secrets.clone());
    let now = crate::timestamp::Timestamp::now();
    secrets.generate(CURSOR_KEY_SECRET, now).await?;
    let key = DynamoSecrets::new(ddb.clone(), tables.secrets.clone())
        .secret(CURSOR_KEY_SECRET)
        .await?
        .and_then(|values| values.into_iter().next())
        .ok_or_else(|| IoError::new("reading the cursor key", "it was made but is not there"))?;
    Ok(ApiState {
        keys: Arc::new(DynamoPartyKeys::new(ddb.clone(), tables.party_keys.clone())),
        config: Arc::new(DynamoConfigSource::new(ddb.clone(), tables.config.clone())),
        store: Arc::new(ConfigWriter::new(ddb.clone(), tables.config.clone())),
        secrets: Arc::new(secrets),
        egress,
        attempts: Arc::new(DynamoAttemptSearch::new(
            ddb.clone(),
            tables.attempt_log.clone(),
        )),
        attempt_log_days: tables.attempt_log_days,
        cursor_key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key.as_bytes()),
        clock: Arc::new(crate::clock::SystemClock),
    })
}

/// The same, from the AWS configuration (the api Lambda's wiring).
pub async fn from_aws(
    sdk: &aws_types::SdkConfig,
    tables: &ApiTables,
    egress: AllowList,
) -> Result<ApiState, IoError> {
    state(&aws_sdk_dynamodb::Client::new(sdk), tables, egress).await
}
