//! Router Lambda: DynamoDB stream batches of the case tables → delivery queue.
use hubhooks::lambda::router::AwsRouter;
use hubhooks::settings::{AwsEnvironment, RouterSettings};
use lambda_runtime::Error;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    hubhooks::telemetry::init();
    let settings = RouterSettings::from_env()?;
    let sdk = hubhooks::adapters::aws_sdk_config(&AwsEnvironment::from_env()?);
    let router = AwsRouter::from_aws(&sdk, settings);
    let router = &router;
    hubhooks::lambda::serve("router", move |event| router.handle(event)).await
}
