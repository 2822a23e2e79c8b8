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
    /// Routes dead-lettered records again (after the data or config was fixed).
    Redrive {
        /// The payload bucket; with `--stack`, the stack's (output
        /// PayloadBucketName), else `<prefix>-payloads`.
        #[arg(long, env = "PAYLOAD_BUCKET")]
        payload_bucket: Option<String>,
    },
}

pub async fn run(command: RouterFailuresCommand, ctx: &Ctx) -> Result<()> {
    let sdk = ctx.sdk().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let dep = &ctx.dep;
    let url = dep.queue_url(&sqs, &dep.router_failure_queue()).await?;
    match command {
        RouterFailuresCommand::List { json } => {
            let json = ctx.output.or_json(json) == output::Output::Json;
            let report = dlq::list(&sqs, &url, Duration::from_secs(60), |l| {
                if json {
                    let row =
                        serde_json::json!({"reason": l.reason, "origin": l.origin, "body": l.body});
                    println!("{row}");
                } else {
                    println!("{}  {}", l.origin, l.reason);
                }
            })
            .await?;
            eprintln!("{} dead-lettered", report.read);
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
            let report = router_failures::redrive(&sqs, &url, &router, |l, outcome| {
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
