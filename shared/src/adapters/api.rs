//! The management API's ports over the deployment's tables: one wiring for
//! the api Lambda, `hubhooks local run` and the tests.
use super::config_writer::ConfigWriter;
use super::dynamo::DynamoConfigSource;
use super::party_keys::DynamoPartyKeys;
use super::secrets::SecretAdmin;
use crate::api::ApiState;
use crate::egress::AllowList;
use std::sync::Arc;

/// The tables the API reads and writes.
#[derive(Debug, Clone)]
pub struct ApiTables {
    pub party_keys: String,
    pub config: String,
    pub secrets: String,
}

pub fn state(ddb: &aws_sdk_dynamodb::Client, tables: &ApiTables, egress: AllowList) -> ApiState {
    ApiState {
        keys: Arc::new(DynamoPartyKeys::new(ddb.clone(), tables.party_keys.clone())),
        config: Arc::new(DynamoConfigSource::new(ddb.clone(), tables.config.clone())),
        store: Arc::new(ConfigWriter::new(ddb.clone(), tables.config.clone())),
        secrets: Arc::new(SecretAdmin::new(ddb.clone(), tables.secrets.clone())),
        egress,
        clock: Arc::new(crate::clock::SystemClock),
    }
}

/// The same, from the AWS configuration (the api Lambda's wiring).
pub fn from_aws(sdk: &aws_types::SdkConfig, tables: &ApiTables, egress: AllowList) -> ApiState {
    state(&aws_sdk_dynamodb::Client::new(sdk), tables, egress)
}
