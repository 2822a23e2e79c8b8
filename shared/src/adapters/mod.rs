//! Implementations of [`crate::ports`] for AWS and HTTP.
pub mod dynamo;
pub mod http;
pub mod sqs;

/// The SDK config from the usual chain (env, profile, role); honours
/// `AWS_ENDPOINT_URL`, which is how the local stack points it at moto.
pub async fn aws_sdk_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}
