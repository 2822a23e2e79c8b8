//! Implementations of [`crate::ports`] for AWS, HTTP and AMQP.
pub mod amqp;
pub mod api;
pub mod attempt_log;
pub mod client_tls;
pub mod config_writer;
pub mod dynamo;
pub mod http;
pub mod idempotency;
pub mod party_keys;
pub mod s3;
pub mod secrets;
pub mod sns;
pub mod sqs;
pub mod sqs_mailbox;

use crate::config::Destination;
use crate::ports::{DeliveryError, IoError, IoErrorKind, Outgoing, Receipt, Transport};
use async_trait::async_trait;

/// An SDK call's failure as an [`IoError`] of its kind: no answer (a
/// timeout, a lost connection, an unreadable answer) or the service's own
/// trouble is `Unavailable`, a missing resource `Missing`.
pub fn sdk_error<E, R>(
    operation: impl Into<String>,
    e: aws_smithy_runtime_api::client::result::SdkError<E, R>,
) -> IoError
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata
        + std::error::Error
        + Send
        + Sync
        + 'static,
    R: std::fmt::Debug,
{
    use aws_smithy_runtime_api::client::result::SdkError;
    let kind = match &e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            IoErrorKind::Unavailable
        }
        SdkError::ServiceError(s) => kind_of_code(s.err().code()),
        _ => IoErrorKind::Other,
    };
    IoError::of_kind(kind, operation, sdk_message(&e))
}

/// An SDK error's words, each once: the SDK wraps a service's error in an
/// operation error that displays the same words ("service error:
/// ResourceNotFoundException: …: ResourceNotFoundException: …"), and its
/// debug context dumps the response. Generic wrappers ("service error",
/// "dispatch failure") give way to what they wrap.
pub fn sdk_message(e: &dyn std::error::Error) -> String {
    const GENERIC: [&str; 4] = [
        "service error",
        "dispatch failure",
        "unhandled error",
        "response error",
    ];
    let mut parts: Vec<String> = Vec::new();
    let mut add = |err: &dyn std::error::Error| {
        let words = err.to_string();
        let words = words.split(" (ServiceError(").next().unwrap_or(&words);
        if !words.is_empty() && !parts.iter().any(|p| p.contains(words)) {
            parts.push(words.to_owned());
        }
    };
    add(e);
    let mut next = e.source();
    while let Some(err) = next {
        add(err);
        next = err.source();
    }
    if parts.len() > 1 {
        parts.retain(|p| !GENERIC.contains(&p.as_str()));
    }
    parts.join(": ")
}

/// The kind of an AWS error code (DynamoDB, SQS, S3, SNS).
pub fn kind_of_code(code: Option<&str>) -> IoErrorKind {
    match code {
        Some(
            "ResourceNotFoundException"
            | "QueueDoesNotExist"
            | "AWS.SimpleQueueService.NonExistentQueue"
            | "NoSuchBucket"
            | "NoSuchKey"
            | "NotFound"
            | "NotFoundException",
        ) => IoErrorKind::Missing,
        Some(
            "InternalServerError"
            | "InternalError"
            | "InternalFailure"
            | "ServiceUnavailable"
            | "ThrottlingException"
            | "Throttling"
            | "ThrottledException"
            | "ProvisionedThroughputExceededException"
            | "RequestLimitExceeded"
            | "RequestThrottled"
            | "SlowDown"
            | "KMSThrottlingException",
        ) => IoErrorKind::Unavailable,
        _ => IoErrorKind::Other,
    }
}

/// The Lambdas' SDK config, from what Lambda puts in the environment (the
/// role's keys, the region; `AWS_ENDPOINT_URL` for the local stack) and our
/// HTTPS client. Not aws-config's provider chain: profiles, SSO, web
/// identity and STS are never used in a Lambda, and leaving them out took
/// 0.7 MB off each binary (docs/benchmarks.md). The `hubhooks`
/// command keeps the whole chain.
pub fn aws_sdk_config(env: &crate::settings::AwsEnvironment) -> aws_types::SdkConfig {
    use aws_credential_types::Credentials;
    use aws_credential_types::provider::SharedCredentialsProvider;
    use aws_smithy_async::rt::sleep::{SharedAsyncSleep, TokioSleep};
    use aws_smithy_runtime_api::client::behavior_version::BehaviorVersion;
    use aws_smithy_types::retry::RetryConfig;
    use aws_smithy_types::timeout::TimeoutConfig;
    let credentials = Credentials::new(
        &env.access_key_id,
        &env.secret_access_key,
        env.session_token.clone(),
        None,
        "environment",
    );
    let mut sdk = aws_types::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(aws_types::region::Region::new(env.region.clone()))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .http_client(https_client())
        .sleep_impl(SharedAsyncSleep::new(TokioSleep::new()))
        .time_source(aws_smithy_async::time::SharedTimeSource::default())
        .retry_config(RetryConfig::standard())
        // aws-config's default: 3.1 s to connect, no other limit.
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(std::time::Duration::from_millis(3100))
                .build(),
        );
    sdk.set_endpoint_url(env.endpoint_url.clone());
    sdk.build()
}

/// The HTTPS client every SDK client uses: hyper 1 and rustls on ring, as
/// reqwest and lapin use. The SDK's own default client would bring
/// aws-lc-rs, a second crypto library of about a megabyte.
pub fn https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    tls::install();
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
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

#[async_trait]
impl crate::oauth2::TokenEndpoint for Transports {
    async fn request(
        &self,
        request: &crate::oauth2::TokenRequest<'_>,
    ) -> Result<crate::oauth2::TokenAnswer, DeliveryError> {
        self.http.request(request).await
    }
}

#[cfg(test)]
mod kind_tests {
    use super::*;

    #[test]
    fn aws_error_codes_have_their_kind() {
        let table = [
            (Some("ResourceNotFoundException"), IoErrorKind::Missing),
            (
                Some("AWS.SimpleQueueService.NonExistentQueue"),
                IoErrorKind::Missing,
            ),
            (Some("NoSuchBucket"), IoErrorKind::Missing),
            (Some("InternalServerError"), IoErrorKind::Unavailable),
            (
                Some("ProvisionedThroughputExceededException"),
                IoErrorKind::Unavailable,
            ),
            (Some("ThrottlingException"), IoErrorKind::Unavailable),
            (Some("SlowDown"), IoErrorKind::Unavailable),
            (Some("ConditionalCheckFailedException"), IoErrorKind::Other),
            (Some("ValidationException"), IoErrorKind::Other),
            (None, IoErrorKind::Other),
        ];
        for (code, kind) in table {
            assert_eq!(kind_of_code(code), kind, "{code:?}");
        }
    }
}
