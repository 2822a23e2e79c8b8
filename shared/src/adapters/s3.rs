//! S3: bodies too large for a queue message.
use crate::ports::{IoError, PayloadStore};
use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;

pub struct S3Payloads {
    client: Client,
    bucket: String,
}

impl S3Payloads {
    pub fn new(client: Client, bucket: String) -> Self {
        S3Payloads { client, bucket }
    }
}

/// The client for the SDK config; path-style addressing when an endpoint is
/// set (moto and other local stand-ins do not resolve bucket subdomains).
pub fn client(sdk: &aws_types::SdkConfig) -> Client {
    let mut config = aws_sdk_s3::config::Builder::from(sdk);
    if sdk.endpoint_url().is_some() {
        config = config.force_path_style(true);
    }
    Client::from_conf(config.build())
}

#[async_trait]
impl PayloadStore for S3Payloads {
    async fn put(&self, key: &str, body: &str) -> Result<(), IoError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("application/json")
            .body(ByteStream::from(body.as_bytes().to_vec()))
            .send()
            .await
            .map_err(|e| super::sdk_error(format!("PutObject s3://{}/{key}", self.bucket), e))?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<String, IoError> {
        let op = || format!("GetObject s3://{}/{key}", self.bucket);
        let out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| super::sdk_error(op(), e))?;
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| IoError::new(op(), e))?
            .into_bytes();
        String::from_utf8(bytes.to_vec()).map_err(|e| IoError::new(op(), e))
    }
}
