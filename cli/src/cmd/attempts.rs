//! `hubhooks attempts` (also `deliveries`): the attempt log.
use super::Ctx;
use crate::{attempts, output};
use anyhow::{Context, Result};
use clap::Args;

#[derive(Args)]
#[group(required = true, multiple = false)]
pub struct AttemptsFilter {
    /// Attempts of one case's webhooks, by the case guid.
    #[arg(long)]
    case: Option<String>,
    /// Attempts of one subscription's deliveries, by its id.
    #[arg(long)]
    subscription: Option<String>,
    /// Every attempt of one delivery, by its id (`webhook-id`).
    #[arg(long)]
    delivery: Option<String>,
    /// Failed attempts (retried, dead-lettered, gone).
    #[arg(long)]
    failed: bool,
}

#[derive(Args)]
pub struct AttemptsArgs {
    #[command(flatten)]
    filter: AttemptsFilter,
    /// Only attempts this recent: 30m, 1h, 2d (default 7d).
    #[arg(long)]
    since: Option<String>,
    /// Same as `--output json`.
    #[arg(long)]
    json: bool,
    /// Each error or answer whole (a table line shows its first 80
    /// characters).
    #[arg(long)]
    wide: bool,
}

pub async fn run(args: AttemptsArgs, ctx: &Ctx) -> Result<()> {
    let f = args.filter;
    let filter = match (f.case, f.subscription, f.delivery, f.failed) {
        (Some(c), ..) => attempts::Filter::Case(c),
        (_, Some(s), ..) => attempts::Filter::Subscription(s),
        (_, _, Some(d), _) => attempts::Filter::Delivery(d),
        _ => attempts::Filter::Failed,
    };
    let since = args
        .since
        .as_deref()
        .map(attempts::parse_since)
        .transpose()
        .context("--since")?;
    let ddb = aws_sdk_dynamodb::Client::new(&ctx.sdk().await);
    let found = attempts::query(&ddb, &ctx.dep.attempt_log_table(), &filter, since).await?;
    // Nothing logged: a typo, unless the subscription exists (a deleted
    // one's history is still shown while the log keeps it).
    if let (true, attempts::Filter::Subscription(id)) = (found.is_empty(), &filter) {
        crate::items::require_subscription(&ddb, &ctx.dep.config_table(), id).await?;
    }
    output::emit(
        ctx.output.or_json(args.json),
        &found,
        |a| serde_json::to_value(a).unwrap_or_default(),
        |rows| attempts::render(rows, args.wide),
        "attempt",
    );
    Ok(())
}
