//! `hubhooks dlq`: the delivery dead-letter queues (the delivery queue's
//! and the ordered queue's), listed, replayed and deleted with one set of
//! filters.
use super::Ctx;
use crate::{attempts, dlq, output};
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use hubhooks::dead_letter::QueueKind;
use hubhooks::event::EventType;
use std::time::Duration;

#[derive(Subcommand)]
pub enum DlqCommand {
    /// What sits in the DLQs, with its last error (test sends marked `[test]`).
    List {
        #[command(flatten)]
        filters: Filters,
        /// Same as `--output json`.
        #[arg(long)]
        json: bool,
        /// Seconds a letter stays hidden once read (the hold is extended
        /// while the listing runs; letters come back at once when it ends,
        /// or by themselves if it is stopped).
        #[arg(long, default_value_t = 60)]
        hold_secs: u64,
    },
    /// Puts matching deliveries back on their delivery queue (sent before it
    /// is deleted from the DLQ: an interrupted replay loses nothing).
    Replay {
        #[command(flatten)]
        filters: Filters,
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
    /// Deletes matching dead letters for good (asks first on a terminal;
    /// elsewhere needs --yes).
    Delete {
        #[command(flatten)]
        filters: Filters,
        /// Deletes without asking.
        #[arg(long)]
        yes: bool,
        /// Shows what would be deleted; deletes nothing.
        #[arg(long)]
        dry_run: bool,
        /// Seconds messages stay hidden while being read.
        #[arg(long, default_value_t = 60)]
        hold_secs: u64,
    },
}

/// Which dead letters a command takes.
#[derive(Args, Clone)]
pub struct Filters {
    /// Only this subscription's dead letters.
    #[arg(long)]
    subscription: Option<String>,
    /// Only dead letters of this webhook type, e.g. newStatus.
    #[arg(long = "type")]
    event_type: Option<EventType>,
    /// Only those whose reason holds this text (any case), e.g. 503.
    #[arg(long)]
    reason: Option<String>,
    /// Dead-lettered this recently: 30m, 1h, 2d.
    #[arg(long)]
    since: Option<String>,
    /// Test sends (`send-test`) too; replay and delete leave them otherwise.
    #[arg(long)]
    tests: bool,
}

impl Filters {
    async fn selection(self, sdk: &aws_config::SdkConfig, ctx: &Ctx) -> Result<dlq::Selection> {
        if let Some(id) = &self.subscription {
            let ddb = aws_sdk_dynamodb::Client::new(sdk);
            crate::items::require_subscription(&ddb, &ctx.dep.config_table(), id).await?;
        }
        let since = self
            .since
            .as_deref()
            .map(attempts::parse_since)
            .transpose()
            .context("--since")?
            .map(|d| hubhooks::timestamp::Timestamp(chrono::Utc::now() - d));
        Ok(dlq::Selection {
            subscription: self.subscription,
            event_type: self.event_type,
            since,
            reason: self.reason,
            tests: self.tests,
        })
    }
}

/// A DLQ of the deployment and the queue its letters go back to.
struct Queues {
    dlq: String,
    target: String,
    kind: QueueKind,
}

/// The delivery DLQ, and the ordered queue's where the deployment has one.
async fn queues(ctx: &Ctx, sqs: &aws_sdk_sqs::Client) -> Result<Vec<Queues>> {
    let dep = &ctx.dep;
    let mut all = vec![Queues {
        dlq: dep.queue_url(sqs, &dep.dead_letter_queue()).await?,
        target: dep.queue_url(sqs, &dep.delivery_queue()).await?,
        kind: QueueKind::Deliveries,
    }];
    if let (Ok(dlq), Ok(target)) = (
        dep.queue_url(sqs, &dep.ordered_dead_letter_queue()).await,
        dep.queue_url(sqs, &dep.ordered_delivery_queue()).await,
    ) {
        all.push(Queues {
            dlq,
            target,
            kind: QueueKind::Ordered,
        });
    }
    Ok(all)
}

pub async fn run(command: DlqCommand, ctx: &Ctx) -> Result<()> {
    let sdk = ctx.sdk().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queues = queues(ctx, &sqs).await?;
    match command {
        DlqCommand::List {
            filters,
            json,
            hold_secs,
        } => {
            let json = ctx.output.or_json(json) == output::Output::Json;
            list(
                &sqs,
                &queues,
                filters.selection(&sdk, ctx).await?,
                json,
                hold_secs,
            )
            .await
        }
        DlqCommand::Replay {
            filters,
            dry_run,
            rate,
            hold_secs,
        } => {
            let selection = filters.selection(&sdk, ctx).await?;
            let json = ctx.output == output::Output::Json;
            let mut total = dlq::ReplayReport::default();
            let policy = dlq::DrainPolicy::default();
            for q in &queues {
                let (letters, back) =
                    dlq::queues(&sqs, &q.dlq, &q.target, q.kind == QueueKind::Ordered);
                let replay = dlq::Replay {
                    letters: &letters,
                    back: &back,
                    selection: selection.clone(),
                    dry_run,
                    rate,
                    hold: Duration::from_secs(hold_secs),
                    policy,
                    clock: &hubhooks::clock::SystemClock,
                };
                let report = replay_with_progress(&replay, &sqs, &q.dlq, json).await?;
                total.add(report);
            }
            print_replay(&total, dry_run, json);
            Ok(())
        }
        DlqCommand::Delete {
            filters,
            yes,
            dry_run,
            hold_secs,
        } => {
            let selection = filters.selection(&sdk, ctx).await?;
            delete(&sqs, &queues, &selection, yes, dry_run, hold_secs, ctx).await
        }
    }
}

async fn list(
    sqs: &aws_sdk_sqs::Client,
    queues: &[Queues],
    selection: dlq::Selection,
    json: bool,
    hold_secs: u64,
) -> Result<()> {
    // A listing shows test sends (marked) unless told otherwise.
    let selection = dlq::Selection {
        tests: true,
        ..selection
    };
    if !json {
        println!("{}", output::header(&dlq::COLUMNS));
    }
    let (mut read, mut shown) = (0, 0);
    for q in queues {
        let report = dlq::list(sqs, &q.dlq, Duration::from_secs(hold_secs), |l| {
            if selection.select(l) == dlq::Selected::No {
                return;
            }
            shown += 1;
            if json {
                println!("{}", letter_json(l, q.kind));
            } else {
                println!("{}", output::line(&dlq::COLUMNS, &dlq::row(l)));
            }
        })
        .await?;
        read += report.read;
    }
    if shown == read {
        eprintln!("{} read", output::plural(read, "dead letter"));
    } else {
        eprintln!(
            "{} read, {shown} shown",
            output::plural(read, "dead letter")
        );
    }
    Ok(())
}

fn letter_json(l: &dlq::Letter, queue: QueueKind) -> serde_json::Value {
    serde_json::json!({
        "deadLetteredAt": l.sent_at.map(|t| t.to_contract_string()),
        "queue": queue,
        "reason": l.reason, "origin": l.origin,
        "test": l.delivery.as_ref().is_some_and(|d| d.test),
        "delivery": l.delivery.as_ref().map(|d| d.as_written()),
    })
}

/// Deletes what the selection takes from every DLQ, after a count and a
/// confirmation (or `--yes`).
async fn delete(
    sqs: &aws_sdk_sqs::Client,
    queues: &[Queues],
    selection: &dlq::Selection,
    yes: bool,
    dry_run: bool,
    hold_secs: u64,
    ctx: &Ctx,
) -> Result<()> {
    let verb = if dry_run { "would delete" } else { "deleted" };
    let json = ctx.output == output::Output::Json;
    let urls: Vec<&str> = queues.iter().map(|q| q.dlq.as_str()).collect();
    let deletion = dlq::Deletion {
        urls: &urls,
        hold: Duration::from_secs(hold_secs),
        dry_run,
        yes,
        what: "dead letter",
    };
    let deleted = dlq::delete_deliberately(sqs, &deletion, &|l| selection.deletes(l), |i, l| {
        if json {
            println!("{}", letter_json(l, queues[i].kind));
        } else {
            let id = l.delivery.as_ref().map(|d| d.id.as_str()).unwrap_or("?");
            println!("{verb} {id} ({})", l.reason.replace('\n', " "));
        }
    })
    .await?;
    let summary = format!("{verb} {}", output::plural(deleted, "dead letter"));
    if json {
        eprintln!("{summary}");
    } else {
        println!("{summary}");
    }
    Ok(())
}

/// Runs a replay with a bar on a terminal (stderr) and one line per
/// delivery on stdout, for scripts and logs (JSON with `--output json`).
async fn replay_with_progress(
    replay: &dlq::Replay<'_>,
    sqs: &aws_sdk_sqs::Client,
    dlq_url: &str,
    json: bool,
) -> Result<dlq::ReplayReport> {
    let verb = if replay.dry_run {
        "would replay"
    } else {
        "replayed"
    };
    let depth = dlq::SqsMailbox::new(sqs, dlq_url, 0);
    let total = dlq::Mailbox::visible(&depth).await.unwrap_or(0);
    if total == 0 {
        return Ok(dlq::ReplayReport::default());
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total),
        indicatif::ProgressDrawTarget::stderr(),
    );
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} read, {per_sec}, eta {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut read = 0u64;
    let report = replay
        .run(|l, r| {
            read += 1;
            bar.set_position(read.min(total));
            let id = l.delivery.as_ref().map(|d| d.id.as_str()).unwrap_or("?");
            if json {
                bar.suspend(|| {
                    println!(
                        "{}",
                        serde_json::json!({"deliveryId": id, "replayed": !replay.dry_run})
                    )
                });
            } else {
                bar.suspend(|| println!("{verb} {} ({id})", r.replayed));
            }
        })
        .await?;
    bar.finish_and_clear();
    Ok(report)
}

fn print_replay(report: &dlq::ReplayReport, dry_run: bool, json: bool) {
    let verb = if dry_run { "would replay" } else { "replayed" };
    if json {
        println!(
            "{}",
            serde_json::json!({
                "read": report.read, "replayed": report.replayed, "dryRun": dry_run,
                "kept": report.kept, "tests": report.tests, "unreadable": report.unreadable,
                "cameBack": report.came_back, "cameBackWhy": report.came_back_why,
            })
        );
        return;
    }
    println!(
        "read {}: {verb} {}, kept {} (not selected), {} unreadable (not deliveries)",
        report.read, report.replayed, report.kept, report.unreadable
    );
    if report.tests > 0 {
        println!(
            "{} left in the DLQ (--tests replays them)",
            output::plural(report.tests, "test send")
        );
    }
    if report.came_back > 0 {
        println!(
            "{} came back to the DLQ during the replay and were left there (each letter is sent once a run):",
            report.came_back
        );
        for (why, n) in &report.came_back_why {
            println!("  {n} × {why}");
        }
    }
}
