//! Router Lambda: DynamoDB stream batches of the case tables → delivery queue.
use hubhooks::lambda::router::AwsRouter;
use hubhooks::settings::{AwsEnvironment, RouterSettings};
use lambda_runtime::Error;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

// One thread: a 256 MB function has a seventh of a vCPU, and a second
// worker only adds cross-thread wake-ups and frees (docs/benchmarks.md).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    hubhooks::telemetry::init();
    let settings = RouterSettings::from_env()?;
    let sdk = hubhooks::adapters::aws_sdk_config(&AwsEnvironment::from_env()?);
    let router = AwsRouter::from_aws(&sdk, settings);
    let router = &router;
    hubhooks::lambda::serve("router", move |event| router.handle(event)).await
}
