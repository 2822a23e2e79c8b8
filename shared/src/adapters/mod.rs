//! Implementations of [`crate::ports`] for AWS and HTTP.
pub mod dynamo;
pub mod http;
pub mod sqs;
