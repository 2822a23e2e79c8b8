//! `hubhooks replay`: a subscription's deliveries of a time window, again.
use super::Ctx;
use crate::replay::parse_time;
use anyhow::{Context, Result};
use clap::Args;
use hubhooks::operations::Scope;
use hubhooks::operations::deliveries::{Window, check_window, plan_window, send_plan};
use hubhooks::replay::Plan;
use hubhooks::replay::Which;
use hubhooks::timestamp::Timestamp;

#[derive(Args)]
pub struct ReplayArgs {
    /// The subscription whose deliveries to send again.
    #[arg(long)]
    subscription: String,
    /// From (attempted at or after): RFC 3339, or a duration ago (2d, 90m).
    #[arg(long)]
    since: String,
    /// To (attempted at or before); default now.
    #[arg(long)]
    until: Option<String>,
    /// Only deliveries with no successful attempt in the window.
    #[arg(long)]
    failed_only: bool,
    /// Shows what would be sent; sends nothing.
    #[arg(long)]
    dry_run: bool,
    /// At most this many per second.
    #[arg(long)]
    rate: Option<u32>,
    /// How many days the deployment's attempt log keeps attempts
    /// (the template's AttemptLogDays): a window older is refused.
    #[arg(long, env = "HUBHOOKS_ATTEMPT_LOG_DAYS", default_value_t = hubhooks::settings::DEFAULT_ATTEMPT_LOG_DAYS)]
    attempt_log_days: u32,
}

pub async fn run(args: ReplayArgs, ctx: &Ctx) -> Result<()> {
    let now = Timestamp::now();
    let since = parse_time(&args.since, now).context("--since")?;
    let until = args
        .until
        .as_deref()
        .map(|u| parse_time(u, now).context("--until"))
        .transpose()?
        .unwrap_or(now);
    if let Err(e) = check_window(since, until, now, args.attempt_log_days) {
        let hint = if e.field == "since" {
            " (--attempt-log-days if the deployment keeps more)"
        } else {
            ""
        };
        anyhow::bail!("--{} {}{hint}", e.field, e.detail);
    }
    if args.subscription.trim().is_empty() {
        anyhow::bail!("--subscription: give the id of a subscription");
    }
    let ops = ctx.operations().await?;
    let window = Window {
        subscription: args.subscription.clone(),
        since,
        until,
        which: if args.failed_only {
            Which::FailedOnly
        } else {
            Which::All
        },
    };
    let plan = plan_window(&ops.search, &ops.store, Scope::Operator, &window)
        .await
        .map_err(|e| ops.explain(e))?;
    if ctx.output == crate::output::Output::Json {
        return replay_json(&ops, &window, &plan, args.dry_run, args.rate).await;
    }
    let what = if args.failed_only {
        "failed deliveries"
    } else {
        "deliveries"
    };
    println!(
        "{} {what} of `{}` attempted from {since} to {until}",
        plan.deliveries.len(),
        args.subscription
    );
    if !plan.without_envelope.is_empty() {
        println!(
            "{} more cannot be replayed: the log kept no envelope for them (AttemptLogBodies off, or an older sender): {}",
            plan.without_envelope.len(),
            plan.without_envelope.join(", ")
        );
    }
    if plan.tests > 0 {
        println!("{} skipped", crate::output::plural(plan.tests, "test send"));
    }
    if args.dry_run {
        for (d, at) in plan.deliveries.iter().zip(&plan.first_attempted) {
            println!(
                "would replay {} ({}, case {}, first attempted {at}, {} so far)",
                d.id,
                d.event_type,
                d.case_guid,
                crate::output::plural(d.prior_attempts as usize, "attempt")
            );
        }
        return Ok(());
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(plan.deliveries.len() as u64),
        indicatif::ProgressDrawTarget::stderr(),
    );
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} replayed, {per_sec}, eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let sent = send_plan(&ops.queue, &plan, args.rate, |n| bar.set_position(n as u64)).await;
    bar.finish_and_clear();
    println!("replayed {}", sent?);
    Ok(())
}

/// `--output json`: a line per delivery selected, then the counts.
async fn replay_json(
    ops: &super::Operations,
    window: &Window,
    plan: &Plan,
    dry_run: bool,
    rate: Option<u32>,
) -> Result<()> {
    for (d, at) in plan.deliveries.iter().zip(&plan.first_attempted) {
        println!(
            "{}",
            serde_json::json!({"deliveryId": d.id.as_str(), "eventType": d.event_type.as_str(),
                "caseGuid": d.case_guid.as_str(), "firstAttempted": at.to_contract_string(),
                "priorAttempts": d.prior_attempts})
        );
    }
    let replayed = if dry_run {
        0
    } else {
        send_plan(&ops.queue, plan, rate, |_| {}).await?
    };
    println!(
        "{}",
        serde_json::json!({"selected": plan.deliveries.len(), "replayed": replayed, "dryRun": dry_run,
            "withoutEnvelope": plan.without_envelope, "tests": plan.tests,
            "since": window.since.to_contract_string(), "until": window.until.to_contract_string()})
    );
    Ok(())
}
