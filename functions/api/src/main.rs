//! Management API Lambda: API Gateway HTTP API (payload 2.0) → the axum
//! application `hubhooks::api`, the same router `hubhooks local run` serves.
use hubhooks::adapters::api::ApiResources;
use hubhooks::settings::{ApiSettings, AwsEnvironment};
use lambda_http::Error;
use std::sync::Arc;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    hubhooks::telemetry::init();
    let settings = ApiSettings::from_env()?;
    let sdk = hubhooks::adapters::aws_sdk_config(&AwsEnvironment::from_env()?);
    let egress = settings.egress.clone();
    let resources = ApiResources::from(settings);
    let state = hubhooks::adapters::api::from_aws(&sdk, &resources, egress).await?;
    lambda_http::run(hubhooks::api::router(Arc::new(state))).await
}
