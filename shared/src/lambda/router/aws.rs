//! The router as deployed: DynamoDB, SQS, S3.
use super::{Backoff, EnqueuedIds, Router};
use crate::config_cache::ConfigCache;
use std::sync::Arc;

/// The router as deployed (its ports on DynamoDB, SQS and S3).
pub type AwsRouter = Router;

impl Router {
    pub fn from_aws(sdk: &aws_types::SdkConfig, settings: crate::settings::RouterSettings) -> Self {
        use crate::adapters::{dynamo, s3, sqs};
        let ddb = aws_sdk_dynamodb::Client::new(sdk);
        let sqs_client = aws_sdk_sqs::Client::new(sdk);
        Router {
            cases: Arc::new(dynamo::DynamoCaseStore::new(
                ddb.clone(),
                settings.tables.cases().to_owned(),
                settings.tables.case_statuses().to_owned(),
            )),
            config: ConfigCache::new(
                Arc::new(dynamo::DynamoConfigSource::new(
                    ddb,
                    settings.tables.config.clone(),
                )),
                settings.config_ttl,
            ),
            queue: Arc::new(
                sqs::SqsDeliveryQueue::new(sqs_client.clone(), settings.delivery_queue_url)
                    .with_ordered_queue(settings.ordered_queue_url),
            ),
            failures: Arc::new(sqs::SqsDeadLetters::new(
                sqs_client,
                settings.failure_queue_url,
            )),
            payloads: Arc::new(s3::S3Payloads::new(
                s3::client(sdk),
                settings.payload_bucket,
            )),
            tables: settings.tables,
            enqueued: EnqueuedIds::default(),
            backoff: Backoff::default(),
        }
    }
}
