//! Sender Lambda: SQS batches of deliveries → HTTP or AMQP.
use hubhooks::lambda::sender::AwsSender;
use hubhooks::settings::SenderSettings;
use lambda_runtime::{Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    hubhooks::telemetry::init();
    let settings = SenderSettings::from_env()?;
    let sdk = hubhooks::adapters::aws_sdk_config().await;
    let sender = AwsSender::from_aws(&sdk, settings)?;
    let sender = &sender;
    // CloudWatch metrics in EMF, flushed after every invocation.
    let metrics = metrics_cloudwatch_embedded::Builder::new()
        .cloudwatch_namespace(hubhooks::meter::NAMESPACE)
        .with_dimension("Function", "sender")
        .lambda_cold_start_metric("ColdStart")
        .init()
        .map_err(|e| Error::from(format!("metrics: {e}")))?;
    metrics_cloudwatch_embedded::lambda::handler::run(
        metrics,
        move |event: LambdaEvent<_>| async move { sender.handle(event.payload).await },
    )
    .await
}
