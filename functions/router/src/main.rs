//! Router Lambda: DynamoDB stream batches of the case tables → delivery queue.
use hubhooks::lambda::router::AwsRouter;
use hubhooks::settings::RouterSettings;
use lambda_runtime::{Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    hubhooks::telemetry::init();
    let settings = RouterSettings::from_env()?;
    let sdk = hubhooks::adapters::aws_sdk_config().await;
    let router = AwsRouter::from_aws(&sdk, settings);
    let router = &router;
    // CloudWatch metrics in EMF, flushed after every invocation.
    let metrics = metrics_cloudwatch_embedded::Builder::new()
        .cloudwatch_namespace(hubhooks::meter::NAMESPACE)
        .with_dimension("Function", "router")
        .lambda_cold_start_metric("ColdStart")
        .init()
        .map_err(|e| Error::from(format!("metrics: {e}")))?;
    metrics_cloudwatch_embedded::lambda::handler::run(
        metrics,
        move |event: LambdaEvent<_>| async move { router.handle(event.payload).await },
    )
    .await
}
