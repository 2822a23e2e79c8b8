//! `hubhooks resend --delivery ID`: one delivery again, from the envelope
//! the attempt log kept (`hubhooks::operations::deliveries::resend`, as the
//! management API's): same delivery id (receivers deduplicate), attempts
//! counting on, the subscription's current destination and auth.
use super::Ctx;
use crate::attempts;
use crate::output::{self, Output};
use anyhow::{Context, Result, bail};
use clap::Args;
use hubhooks::operations::{OpError, Scope, deliveries};

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
    let span = attempts::parse_since(&args.since).context("--since")?;
    let ops = ctx.operations().await?;
    let id = args.delivery.trim();
    let resent = deliveries::resend(
        &ops.search,
        &ops.store,
        &ops.queue,
        Scope::Operator,
        id,
        span,
    )
    .await;
    let delivery = match resent {
        Ok(d) => d,
        Err(OpError::NotFound {
            what: "delivery", ..
        }) => bail!(
            "delivery `{id}`: no attempt in the attempt log since {} ago (`--since` looks further back, up to what the log keeps)",
            args.since
        ),
        Err(e) => return Err(ops.explain(e)).with_context(|| format!("resending delivery {id}")),
    };
    let subscription = delivery.subscription_id.as_str();
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
