//! `hubhooks send-test`: one test webhook through the real delivery path,
//! then the receiver's answer from the attempt log.
use super::Ctx;
use crate::items::{self, Family};
use crate::{attempts, send_test};
use anyhow::{Context, Result, bail};
use clap::Args;
use hubhooks::attempt::AttemptOutcome;
use hubhooks::event::EventType;
use std::time::Duration;

#[derive(Args)]
pub struct SendTestArgs {
    /// The subscription to send it to (its destination, auth and headers).
    #[arg(long)]
    subscription: String,
    /// The webhook type, e.g. newStatus.
    #[arg(long = "type")]
    event_type: EventType,
    /// Build the webhook from this case instead of the documented sample.
    #[arg(long)]
    case: Option<String>,
    /// How long to wait for the answer.
    #[arg(long, default_value_t = 60)]
    timeout_secs: u64,
}

pub async fn run(args: SendTestArgs, ctx: &Ctx) -> Result<()> {
    let dep = &ctx.dep;
    let sdk = &ctx.sdk().await;
    let ddb = aws_sdk_dynamodb::Client::new(sdk);
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let stored = items::get_in(
        &ddb,
        &dep.config_table(),
        Family::Subscriptions,
        &args.subscription,
    )
    .await?;
    let subscription = send_test::parse_subscription(stored)?;
    let case = match &args.case {
        None => None,
        Some(guid) => {
            let store = hubhooks::adapters::dynamo::DynamoCaseStore::new(
                ddb.clone(),
                dep.tables().cases().to_owned(),
                dep.tables().case_statuses().to_owned(),
            );
            use hubhooks::ports::CaseStore;
            Some(
                store
                    .case(guid)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?
                    .with_context(|| format!("no case `{guid}`"))?,
            )
        }
    };
    let body = send_test::body(&subscription, args.event_type, case.as_ref())?;
    let guid = case.as_ref().map(|c| c.guid.clone()).unwrap_or_default();
    let delivery = send_test::delivery(&subscription, args.event_type, &guid, body)?;
    let queue = hubhooks::adapters::sqs::SqsDeliveryQueue::new(
        sqs.clone(),
        dep.queue_url(&sqs, &dep.delivery_queue()).await?,
    );
    use hubhooks::ports::DeliveryQueue;
    if let Some(Err(e)) = queue.enqueue(std::slice::from_ref(&delivery)).await.pop() {
        bail!("enqueueing the test delivery: {e}");
    }
    let json = ctx.output == crate::output::Output::Json;
    if !json {
        println!("sent test delivery {} ({})", delivery.id, args.event_type);
    }
    let filter = attempts::Filter::Delivery(delivery.id.to_string());
    let deadline = std::time::Instant::now() + Duration::from_secs(args.timeout_secs);
    loop {
        let found = attempts::query(&ddb, &dep.attempt_log_table(), &filter, None).await?;
        if let Some(a) = found.last() {
            if json {
                // The attempt as the attempt log holds it: outcome, status,
                // latency, the answer's start, the error.
                println!("{}", serde_json::to_value(a)?);
            } else {
                print!("{}", attempts::render(&found, false));
            }
            let error = a.error.clone().unwrap_or_default();
            match a.outcome {
                AttemptOutcome::Delivered => {}
                AttemptOutcome::Refused => bail!(
                    "hubhooks refused to send the test webhook (the receiver was not contacted): {error}"
                ),
                AttemptOutcome::Gone => {
                    bail!("the receiver answered 410 Gone to the test webhook: {error}")
                }
                AttemptOutcome::Retrying | AttemptOutcome::DeadLettered => {
                    bail!("the receiver did not accept the test webhook: {error}")
                }
            }
            if !json {
                println!(
                    "receiver answered {} in {} ms: {}",
                    a.status.unwrap_or_default(),
                    a.latency_ms.unwrap_or_default(),
                    a.excerpt
                );
            }
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            bail!(
                "no attempt within {} s: is the sender running? (`hubhooks attempts --delivery {}` shows it later)",
                args.timeout_secs,
                delivery.id
            );
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}
