//! SDK config for the CLI: AWS's usual chain, or a local endpoint (moto).
use aws_config::{Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;

/// With an endpoint (the local stack), region and credentials default to
/// harmless local values unless the environment sets them.
pub async fn sdk_config(endpoint: Option<&str>) -> SdkConfig {
    sdk_config_with(endpoint, None, None).await
}

/// The same, with a named profile and region (else the environment's).
pub async fn sdk_config_with(
    endpoint: Option<&str>,
    profile: Option<&str>,
    region: Option<&str>,
) -> SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(hubhooks::adapters::https_client());
    if let Some(p) = profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = region {
        loader = loader.region(Region::new(r.to_owned()));
    }
    if let Some(endpoint) = endpoint {
        loader = loader.endpoint_url(endpoint);
        if region.is_none()
            && std::env::var_os("AWS_REGION").is_none()
            && std::env::var_os("AWS_DEFAULT_REGION").is_none()
        {
            loader = loader.region(Region::new("us-east-1"));
        }
        if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
            loader = loader.credentials_provider(Credentials::new(
                "local",
                "local",
                None,
                None,
                "hubhooks-local",
            ));
        }
    }
    loader.load().await
}

/// A queue's URL by its name.
pub async fn queue_url(sqs: &aws_sdk_sqs::Client, name: &str) -> anyhow::Result<String> {
    use anyhow::Context;
    sqs.get_queue_url()
        .queue_name(name)
        .send()
        .await
        .map_err(sdk_err)
        .with_context(|| format!("finding queue {name}"))?
        .queue_url
        .with_context(|| format!("queue {name} has no URL"))
}

/// An SDK error as a message: the service's words once, no debug dump
/// (see [`hubhooks::adapters::sdk_message`]).
pub fn sdk_err<E: std::error::Error>(e: E) -> anyhow::Error {
    anyhow::anyhow!("{}", hubhooks::adapters::sdk_message(&e))
}
