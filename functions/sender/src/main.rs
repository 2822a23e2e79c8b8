//! Sender Lambda: SQS batches of deliveries → HTTP or AMQP.
use hubhooks::lambda::sender::AwsSender;
use hubhooks::settings::SenderSettings;
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    hubhooks::telemetry::init();
    let settings = SenderSettings::from_env()?;
    let sdk = hubhooks::adapters::aws_sdk_config().await;
    let sender = AwsSender::from_aws(&sdk, settings)?;
    let sender = &sender;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<_>| async move {
        sender.handle(event.payload).await
    }))
    .await
}
