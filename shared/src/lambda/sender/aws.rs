//! The sender as deployed: its ports on DynamoDB, SQS, S3, SNS, HTTP and
//! AMQP.
use super::{Breakers, Sender, Streaks};
use crate::config_cache::ConfigCache;
use std::sync::Arc;

impl Sender {
    pub fn from_aws(
        sdk: &aws_types::SdkConfig,
        settings: crate::settings::SenderSettings,
    ) -> Result<Self, lambda_runtime::Error> {
        use crate::adapters::{amqp, dynamo, http, s3, sqs};
        let sqs_client = aws_sdk_sqs::Client::new(sdk);
        let ddb = aws_sdk_dynamodb::Client::new(sdk);
        let transports = Arc::new(crate::adapters::Transports {
            http: http::HttpTransport::new(settings.egress.clone(), settings.proxy.as_deref())?,
            amqp: amqp::AmqpTransport::new(settings.egress.clone()),
        });
        Ok(Sender {
            transport: transports.clone(),
            tokens: crate::oauth2::Tokens::new(transports),
            dead_letters: Arc::new(sqs::SqsDeadLetters::new(
                sqs_client.clone(),
                settings.dead_letter_queue_url,
            )),
            redelivery: Arc::new(sqs::SqsRedelivery::new(
                sqs_client,
                settings.delivery_queue_url,
                settings.ordered_queue_url,
            )),
            holds: Arc::new(dynamo::DynamoCounters::new(
                ddb.clone(),
                settings.attempt_log_table.clone(),
            )),
            secrets: Arc::new(dynamo::DynamoSecrets::new(
                ddb.clone(),
                settings.secrets_table,
            )),
            control: Arc::new(dynamo::DynamoSubscriptionControl::new(
                ddb.clone(),
                settings.config_table.clone(),
            )),
            payloads: Arc::new(s3::S3Payloads::new(
                s3::client(sdk),
                settings.payload_bucket,
            )),
            rates: Arc::new(dynamo::DynamoCounters::new(
                ddb.clone(),
                settings.attempt_log_table.clone(),
            )),
            log: Arc::new(dynamo::DynamoAttemptLog::new(
                ddb.clone(),
                settings.attempt_log_table,
                settings.attempt_log_days,
                settings.attempt_log_bodies,
            )),
            schedule: settings.retry_schedule,
            config: ConfigCache::new(
                Arc::new(dynamo::DynamoConfigSource::new(ddb, settings.config_table)),
                settings.config_ttl,
            ),
            notices: match settings.notice_topic_arn {
                Some(arn) => Arc::new(crate::adapters::sns::SnsNotices::new(
                    aws_sdk_sns::Client::new(sdk),
                    arn,
                )),
                None => Arc::new(crate::ports::NoTopic),
            },
            streaks: Streaks::new(settings.failure_streak, settings.config_ttl),
            breakers: Breakers::default(),
            clock: Arc::new(crate::clock::SystemClock),
            unreadable_limit: settings.unreadable_limit,
            due_notices: Default::default(),
            notice_budget: settings.notice_budget,
        })
    }
}
