//! `hubhooks resend --delivery ID`: one delivery again, from the envelope
//! the attempt log kept: same delivery id (receivers deduplicate), attempts
//! counting on, the subscription's current destination and auth.
use super::Ctx;
use crate::attempts;
use crate::output::{self, Output};
use anyhow::{Context, Result, bail};
use clap::Args;
use hubhooks::ports::DeliveryQueue;
use hubhooks::replay::{Which, plan};
use hubhooks::timestamp::Timestamp;

#[derive(Args)]
pub struct ResendArgs {
    /// The delivery to send again (its id, as `attempts` and `dlq list`
    /// show it).
    #[arg(long)]
    delivery: String,
    /// How far back its attempts are searched: 90m, 2d.
    #[arg(long, default_value = "7d")]
    since: String,
}

pub async fn run(args: ResendArgs, ctx: &Ctx) -> Result<()> {
    let since = attempts::parse_since(&args.since).context("--since")?;
    let sdk = ctx.sdk().await;
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let dep = &ctx.dep;
    let table = dep.attempt_log_table();
    let id = args.delivery.trim();
    let found = attempts::query(
        &ddb,
        &table,
        &attempts::Filter::Delivery(id.to_owned()),
        Some(since),
    )
    .await
    .with_context(|| format!("reading the attempt log {table}"))?;
    let (Some(first), Some(last)) = (found.first(), found.last()) else {
        bail!(
            "delivery `{id}`: no attempt in the attempt log since {} ago (`--since` looks further back, up to what the log keeps)",
            args.since
        );
    };
    let subscription = first.subscription_id.to_string();
    crate::items::require_subscription(&ddb, &dep.config_table(), &subscription).await?;
    let from_sk = Timestamp(first.at.0 - attempts::LONGEST_BATCH).to_contract_string();
    let to_sk = format!("{}~", last.at.to_contract_string());
    let logged = attempts::logged(&ddb, &table, &subscription, &from_sk, &to_sk)
        .await
        .with_context(|| format!("reading the attempt log {table}"))?
        .into_iter()
        .filter(|(r, _)| r.delivery_id.as_str() == id)
        .collect();
    let chosen = plan(logged, first.at, last.at, Which::All);
    if chosen.tests > 0 {
        bail!("delivery `{id}` was a test send: `hubhooks send-test` sends another");
    }
    let Some(delivery) = chosen.deliveries.first() else {
        bail!(
            "delivery `{id}` cannot be resent: the attempt log kept no envelope for it (AttemptLogBodies off, or an older sender)"
        );
    };
    let queue = hubhooks::adapters::sqs::SqsDeliveryQueue::new(
        sqs.clone(),
        dep.queue_url(&sqs, &dep.delivery_queue()).await?,
    );
    if let Some(Err(e)) = queue.enqueue(std::slice::from_ref(delivery)).await.pop() {
        bail!("resending delivery {id}: {e}");
    }
    let so_far = output::plural(delivery.prior_attempts as usize, "attempt");
    if ctx.output == Output::Json {
        println!(
            "{}",
            serde_json::json!({"deliveryId": id, "subscriptionId": subscription,
                "eventType": delivery.event_type.as_str(), "caseGuid": delivery.case_guid.as_str(),
                "priorAttempts": delivery.prior_attempts, "resent": true})
        );
    } else {
        println!(
            "resent delivery {id} ({}, case {}, {so_far} so far) to `{subscription}`",
            delivery.event_type, delivery.case_guid
        );
    }
    Ok(())
}
