//! The management API on the local stack: the same router the api Lambda
//! serves (`hubhooks::api`), on 127.0.0.1, over the local tables.
use crate::cmd::Ctx;
use crate::local::provision::LocalStack;
use anyhow::{Context, Result};
use aws_config::SdkConfig;
use hubhooks::adapters::api::ApiResources;
use hubhooks::api::router;
use hubhooks::egress::AllowList;
use std::sync::Arc;

/// Where `hubhooks local run` serves the API unless told otherwise (and
/// where `hubhooks demo` and a local prefix's portal links point).
pub const DEFAULT_PORT: u16 = 8600;

/// Starts serving the deployment's tables on `127.0.0.1:port` (0: a free
/// port) in the background; its base URL and a fresh operator token for
/// `/v1/admin/…`. Destinations are checked against `egress`, as the
/// runner's sender checks them.
pub async fn serve(
    sdk: &SdkConfig,
    ctx: &Ctx,
    port: u16,
    egress: AllowList,
) -> Result<(String, String)> {
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let resources = ApiResources {
        party_keys: ctx.dep.party_keys_table()?,
        config: ctx.dep.config_table(),
        secrets: ctx.dep.secrets_table(),
        attempt_log: ctx.dep.attempt_log_table(),
        attempt_log_days: hubhooks::settings::DEFAULT_ATTEMPT_LOG_DAYS,
        delivery_queue_url: ctx.dep.queue_url(&sqs, &ctx.dep.delivery_queue()).await?,
        dead_letter_queue_url: ctx
            .dep
            .queue_url(&sqs, &ctx.dep.dead_letter_queue())
            .await?,
        ordered_queue_url: ctx
            .dep
            .queue_url(&sqs, &ctx.dep.ordered_delivery_queue())
            .await
            .ok(),
        ordered_dead_letter_queue_url: ctx
            .dep
            .queue_url(&sqs, &ctx.dep.ordered_dead_letter_queue())
            .await
            .ok(),
        idempotency: ctx.dep.idempotency_table()?,
        proxy: None,
    };
    let token = hubhooks::api::operator::new_local_token()
        .map_err(|_| anyhow::anyhow!("no randomness for an operator token"))?;
    let base = serve_on(sdk, &resources, egress, port, Some(&token)).await?;
    Ok((base, token))
}

/// A local stack's resources; the API's own tables are `<prefix>-party-keys`
/// and `<prefix>-idempotency`.
pub fn resources(stack: &LocalStack, prefix: &str) -> ApiResources {
    ApiResources {
        party_keys: format!("{prefix}-party-keys"),
        idempotency: format!("{prefix}-idempotency"),
        config: stack.tables.config.clone(),
        secrets: stack.secrets_table.clone(),
        attempt_log: stack.attempt_log_table.clone(),
        attempt_log_days: hubhooks::settings::DEFAULT_ATTEMPT_LOG_DAYS,
        delivery_queue_url: stack.delivery_queue_url.clone(),
        dead_letter_queue_url: stack.delivery_dlq_url.clone(),
        ordered_queue_url: Some(stack.ordered_queue_url.clone()),
        ordered_dead_letter_queue_url: Some(stack.ordered_dlq_url.clone()),
        proxy: None,
    }
}

/// The same, over these resources.
pub async fn serve_on(
    sdk: &SdkConfig,
    resources: &ApiResources,
    egress: AllowList,
    port: u16,
    operator_token: Option<&str>,
) -> Result<String> {
    let ddb = aws_sdk_dynamodb::Client::new(sdk);
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let state = hubhooks::adapters::api::state(&ddb, &sqs, resources, egress)
        .await
        .context("starting the management API")?;
    let mut state = state;
    state.operator_token = operator_token.map(hubhooks::api::operator::token_hash);
    let state = Arc::new(state);
    // A taken port is no reason to stop the pipeline: another one is used,
    // and the URL says which.
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
        Ok(l) => l,
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            tracing::warn!(port, "the management API's port is taken; using a free one");
            tokio::net::TcpListener::bind(("127.0.0.1", 0))
                .await
                .context("a port for the management API")?
        }
        Err(e) => {
            return Err(e).with_context(|| {
                format!("the management API's port 127.0.0.1:{port} (--api-port)")
            });
        }
    };
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router(state)).await {
            tracing::error!(error = %e, "the management API stopped");
        }
    });
    Ok(base)
}
