//! `hubhooks dlq`: the delivery dead-letter queue.
use super::Ctx;
use crate::{attempts, dlq, output};
use anyhow::{Context, Result};
use clap::Subcommand;
use hubhooks::event::EventType;
use std::time::Duration;

#[derive(Subcommand)]
pub enum DlqCommand {
    /// What sits in the DLQ, with its last error.
    List {
        /// Same as `--output json`.
        #[arg(long)]
        json: bool,
        /// Seconds a letter stays hidden once read (the hold is extended
        /// while the listing runs; letters come back at once when it ends,
        /// or by themselves if it is stopped).
        #[arg(long, default_value_t = 60)]
        hold_secs: u64,
    },
    /// Puts matching deliveries back on the delivery queue (sent before it
    /// is deleted from the DLQ: an interrupted replay loses nothing).
    Replay {
        /// Only this subscription's dead letters.
        #[arg(long)]
        subscription: Option<String>,
        /// Only dead letters of this webhook type, e.g. newStatus.
        #[arg(long = "type")]
        event_type: Option<EventType>,
        /// Dead-lettered this recently: 30m, 1h, 2d.
        #[arg(long)]
        since: Option<String>,
        /// Shows what would be replayed; changes nothing.
        #[arg(long)]
        dry_run: bool,
        /// At most this many per second.
        #[arg(long)]
        rate: Option<u32>,
        /// Seconds messages stay hidden while being replayed (they return
        /// after this if the replay stops).
        #[arg(long, default_value_t = 60)]
        hold_secs: u64,
    },
}

pub async fn run(command: DlqCommand, ctx: &Ctx) -> Result<()> {
    let sqs = aws_sdk_sqs::Client::new(&ctx.sdk().await);
    let dep = &ctx.dep;
    let dlq_url = dep.queue_url(&sqs, &dep.dead_letter_queue()).await?;
    match command {
        DlqCommand::List { json, hold_secs } => {
            let json = ctx.output.or_json(json) == output::Output::Json;
            if !json {
                println!("{}", output::header(&dlq::COLUMNS));
            }
            let report = dlq::list(&sqs, &dlq_url, Duration::from_secs(hold_secs), |l| {
                if json {
                    println!(
                        "{}",
                        serde_json::json!({
                            "deadLetteredAt": l.sent_at.map(|t| t.to_contract_string()),
                            "reason": l.reason, "origin": l.origin,
                            "delivery": l.delivery.as_ref().map(|d| d.as_written()),
                        })
                    );
                } else {
                    println!("{}", output::line(&dlq::COLUMNS, &dlq::row(l)));
                }
            })
            .await?;
            eprintln!("{} read", output::plural(report.read, "dead letter"));
        }
        DlqCommand::Replay {
            subscription,
            event_type,
            since,
            dry_run,
            rate,
            hold_secs,
        } => {
            if let Some(id) = &subscription {
                let ddb = aws_sdk_dynamodb::Client::new(&ctx.sdk().await);
                crate::items::require_subscription(&ddb, &dep.config_table(), id).await?;
            }
            let queue_url = dep.queue_url(&sqs, &dep.delivery_queue()).await?;
            let since = since
                .as_deref()
                .map(attempts::parse_since)
                .transpose()
                .context("--since")?
                .map(|d| hubhooks::timestamp::Timestamp(chrono::Utc::now() - d));
            let replay = dlq::Replay {
                sqs: &sqs,
                dlq_url: &dlq_url,
                queue_url: &queue_url,
                selection: dlq::Selection {
                    subscription,
                    event_type,
                    since,
                },
                dry_run,
                rate,
                hold: Duration::from_secs(hold_secs),
            };
            replay_with_progress(&replay, &sqs, &dlq_url).await?;
        }
    }
    Ok(())
}

/// Runs a replay with a bar on a terminal (stderr) and one line per
/// delivery on stdout, for scripts and logs.
async fn replay_with_progress(
    replay: &dlq::Replay<'_>,
    sqs: &aws_sdk_sqs::Client,
    dlq_url: &str,
) -> Result<()> {
    let verb = if replay.dry_run {
        "would replay"
    } else {
        "replayed"
    };
    let depth = dlq::SqsMailbox {
        sqs,
        url: dlq_url,
        wait_secs: 0,
    };
    let total = dlq::Mailbox::visible(&depth).await.unwrap_or(0);
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total),
        indicatif::ProgressDrawTarget::stderr(),
    );
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} replayed, {per_sec}, eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let report = replay
        .run(|l, r| {
            let id = l.delivery.as_ref().map(|d| d.id.as_str()).unwrap_or("?");
            bar.set_position(r.replayed as u64);
            bar.suspend(|| println!("{verb} {} ({id})", r.replayed));
        })
        .await?;
    bar.finish_and_clear();
    println!(
        "read {}: {verb} {}, kept {} (not selected), {} unreadable (not deliveries)",
        report.read, report.replayed, report.kept, report.unreadable
    );
    if report.came_back > 0 {
        println!(
            "{} came back to the DLQ during the replay and were left there (each letter is sent once a run):",
            report.came_back
        );
        for (why, n) in &report.came_back_why {
            println!("  {n} × {why}");
        }
    }
    Ok(())
}
