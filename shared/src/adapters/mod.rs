//! Implementations of [`crate::ports`] for AWS, HTTP and AMQP.
pub mod amqp;
pub mod dynamo;
pub mod http;
pub mod s3;
pub mod sns;
pub mod sqs;

use crate::config::Destination;
use crate::ports::{DeliveryError, Outgoing, Receipt, Transport};
use async_trait::async_trait;

/// The SDK config from the usual chain (env, profile, role); honours
/// `AWS_ENDPOINT_URL`, which is how the local stack points it at moto.
pub async fn aws_sdk_config() -> aws_config::SdkConfig {
    aws_sdk_loader().load().await
}

/// The SDK's config loader with our HTTPS client: hyper 1 and rustls on
/// ring, as reqwest and lapin use. The SDK's own default client would bring
/// aws-lc-rs, a second crypto library of about a megabyte.
pub fn aws_sdk_loader() -> aws_config::ConfigLoader {
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    tls::install();
    let client = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(client)
}

/// The process's TLS crypto.
pub mod tls {
    /// Makes ring the process's rustls provider, which reqwest and lapin
    /// use; idempotent. Called before any TLS client is built.
    pub fn install() {
        // Err means a provider is installed already: ring, by an earlier call.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// Resolves `host` and checks every address it has against the SSRF guard
/// (for names no resolver of ours sees: an AMQP broker, a host behind the
/// deployment's HTTP proxy).
pub(crate) async fn check_resolved(
    egress: &crate::egress::AllowList,
    host: &str,
    port: u16,
) -> Result<(), DeliveryError> {
    let addrs = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| DeliveryError::Connect(format!("resolving `{host}`: {e}")))?;
    for addr in addrs {
        egress
            .check(addr.ip())
            .map_err(|why| DeliveryError::Refused(format!("`{host}` resolves to {why}")))?;
    }
    Ok(())
}

/// Every delivery by its destination's transport.
pub struct Transports {
    pub http: http::HttpTransport,
    pub amqp: amqp::AmqpTransport,
}

#[async_trait]
impl Transport for Transports {
    async fn deliver(&self, outgoing: &Outgoing<'_>) -> Result<Receipt, DeliveryError> {
        match outgoing.destination {
            Destination::Http(_) => self.http.deliver(outgoing).await,
            Destination::Amqp(_) => self.amqp.deliver(outgoing).await,
        }
    }
}
