//! `hubhooks send-test`: one test webhook through the real delivery path,
//! then the receiver's answer from the attempt log
//! (`hubhooks::operations::send_test`, as the management API's `test`).
use super::Ctx;
use crate::attempts;
use anyhow::{Context, Result, bail};
use clap::Args;
use hubhooks::attempt::AttemptOutcome;
use hubhooks::event::EventType;
use hubhooks::operations::{Scope, send_test};
use hubhooks::timestamp::Timestamp;
use std::time::Duration;

#[derive(Args)]
pub struct SendTestArgs {
    /// The subscription to send it to (its destination, auth and headers).
    #[arg(long)]
    subscription: String,
    /// The webhook type, e.g. newStatus (default: the first it sends).
    #[arg(long = "type")]
    event_type: Option<EventType>,
    /// Build the webhook from this case instead of the documented sample.
    #[arg(long)]
    case: Option<String>,
    /// How long to wait for the answer.
    #[arg(long, default_value_t = 60)]
    timeout_secs: u64,
}

pub async fn run(args: SendTestArgs, ctx: &Ctx) -> Result<()> {
    let dep = &ctx.dep;
    let ops = ctx.operations().await?;
    let case = match &args.case {
        None => None,
        Some(guid) => {
            let store = hubhooks::adapters::dynamo::DynamoCaseStore::new(
                ops.ddb.clone(),
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
    let test = send_test::TestSend {
        subscription: &args.subscription,
        event_type: args.event_type,
        case: case.as_ref(),
        source: "hubhooks send-test",
        now: Timestamp::now(),
    };
    let delivery = send_test::send(&ops.store, &ops.queue, Scope::Operator, test)
        .await
        .map_err(|e| ops.explain(e))?;
    let json = ctx.output == crate::output::Output::Json;
    if !json {
        println!(
            "sent test delivery {} ({})",
            delivery.id, delivery.event_type
        );
    }
    let wait = Duration::from_secs(args.timeout_secs);
    let Some(a) = send_test::answer(&ops.search, &delivery.id, wait).await? else {
        bail!(
            "no attempt within {} s: is the sender running? (`hubhooks attempts --delivery {}` shows it later)",
            args.timeout_secs,
            delivery.id
        );
    };
    if json {
        // The attempt as the attempt log holds it: outcome, status,
        // latency, the answer's start, the error.
        println!("{}", serde_json::to_value(&a)?);
    } else {
        print!("{}", attempts::render(std::slice::from_ref(&a), false));
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
    Ok(())
}
