//! `hubhooks router-failures`: stream records the router set aside.
use super::Ctx;
use crate::{dlq, output, router_failures};
use anyhow::Result;
use clap::Subcommand;
use std::time::Duration;

#[derive(Subcommand)]
pub enum RouterFailuresCommand {
    /// Dead-lettered stream records and failed batches, with their reasons.
    List {
        /// Same as `--output json`.
        #[arg(long)]
        json: bool,
    },
    /// Deletes dead-lettered records for good (asks first on a terminal;
    /// elsewhere needs --yes).
    Delete {
        /// Only those whose reason holds this text (any case).
        #[arg(long)]
        reason: Option<String>,
        /// Only those whose origin (TABLE/EVENT-ID) holds this text.
        #[arg(long)]
        origin: Option<String>,
        /// Deletes without asking.
        #[arg(long)]
        yes: bool,
        /// Shows what would be deleted; deletes nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Routes dead-lettered records again, each with its item as stored now
    /// (after the data or config was fixed).
    Redrive {
        /// The payload bucket; with `--stack`, the stack's (output
        /// PayloadBucketName), else `<prefix>-payloads`.
        #[arg(long, env = "PAYLOAD_BUCKET")]
        payload_bucket: Option<String>,
    },
}

/// The columns of `router-failures list`.
const COLUMNS: [(&str, usize); 3] = [("DEAD-LETTERED", 24), ("ORIGIN", 50), ("REASON", 0)];

pub async fn run(command: RouterFailuresCommand, ctx: &Ctx) -> Result<()> {
    let sdk = ctx.sdk().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    let dep = &ctx.dep;
    let url = dep.queue_url(&sqs, &dep.router_failure_queue()).await?;
    match command {
        RouterFailuresCommand::List { json } => {
            let json = ctx.output.or_json(json) == output::Output::Json;
            if !json {
                println!("{}", output::header(&COLUMNS));
            }
            let report = dlq::list(&sqs, &url, Duration::from_secs(60), |l| {
                let at = l.sent_at.map(|t| t.to_contract_string());
                if json {
                    let row = serde_json::json!({"deadLetteredAt": at, "reason": l.reason,
                                                 "origin": l.origin, "body": l.body});
                    println!("{row}");
                } else {
                    let cells = [
                        at.unwrap_or_default(),
                        l.origin.clone(),
                        l.reason.replace('\n', " "),
                    ];
                    println!("{}", output::line(&COLUMNS, &cells));
                }
            })
            .await?;
            eprintln!("{} dead-lettered", output::plural(report.read, "record"));
        }
        RouterFailuresCommand::Delete {
            reason,
            origin,
            yes,
            dry_run,
        } => {
            let picked = |l: &dlq::Letter| {
                let has = |text: &str, part: &Option<String>| {
                    part.as_ref()
                        .is_none_or(|p| text.to_lowercase().contains(&p.to_lowercase()))
                };
                has(&l.reason, &reason) && has(&l.origin, &origin)
            };
            let verb = if dry_run { "would delete" } else { "deleted" };
            let deletion = dlq::Deletion {
                urls: &[url.as_str()],
                hold: Duration::from_secs(60),
                dry_run,
                yes,
                what: "dead-lettered record",
            };
            let n = dlq::delete_deliberately(&sqs, &deletion, &picked, |_, l| {
                println!("{verb} {}  {}", l.origin, l.reason.replace('\n', " "));
            })
            .await?;
            println!("{verb} {}", output::plural(n, "dead-lettered record"));
        }
        RouterFailuresCommand::Redrive { payload_bucket } => {
            let settings = hubhooks::settings::RouterSettings {
                tables: dep.tables(),
                delivery_queue_url: dep.queue_url(&sqs, &dep.delivery_queue()).await?,
                ordered_queue_url: dep
                    .queue_url(&sqs, &dep.ordered_delivery_queue())
                    .await
                    .ok(),
                failure_queue_url: url.clone(),
                config_ttl: Duration::ZERO,
                payload_bucket: payload_bucket.unwrap_or_else(|| dep.payload_bucket()),
            };
            let router = hubhooks::lambda::router::AwsRouter::from_aws(&sdk, settings);
            let report = router_failures::redrive(&ddb, &sqs, &url, &router, |l, outcome| {
                let what = match outcome {
                    router_failures::Redriven::Routed => "re-driven          ",
                    router_failures::Redriven::DeadLetteredAgain => "dead-lettered again",
                    router_failures::Redriven::Kept => "kept               ",
                };
                println!("{what} {}", l.origin);
            })
            .await?;
            println!(
                "re-drove {}, dead-lettered again {} (still malformed: see `router-failures list`), kept {}",
                report.routed, report.dead_lettered_again, report.kept
            );
        }
    }
    Ok(())
}
