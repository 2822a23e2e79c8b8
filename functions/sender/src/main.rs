//! Sender Lambda: SQS batches of deliveries → HTTP or AMQP.
use hubhooks::lambda::sender::AwsSender;
use hubhooks::settings::{AwsEnvironment, SenderSettings};
use lambda_runtime::Error;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

// One thread: a 256 MB function has a seventh of a vCPU, and a second
// worker only adds cross-thread wake-ups and frees (docs/benchmarks.md).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    hubhooks::telemetry::init();
    let settings = SenderSettings::from_env()?;
    let sdk = hubhooks::adapters::aws_sdk_config(&AwsEnvironment::from_env()?);
    let sender = AwsSender::from_aws(&sdk, settings)?;
    let sender = &sender;
    hubhooks::lambda::serve("sender", move |event| sender.handle(event)).await
}
