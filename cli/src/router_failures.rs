//! `hubhooks router-failures redrive`: stream records the router
//! dead-lettered, routed again through the router once the data or config
//! is fixed.
use crate::dlq::{Letter, receive_all, release};
use anyhow::{Context, Result};
use std::time::Duration;

/// Re-drives dead-lettered stream records through the router; a record that now
/// routes (or is dead-lettered again with a new reason) leaves the failure queue.
/// Lambda's own failure descriptions (whole batches, no record) cannot be
/// re-driven from here and stay. Messages are held while the re-drive runs
/// and come back by themselves if it stops.
pub async fn redrive(
    sqs: &aws_sdk_sqs::Client,
    url: &str,
    router: &hubhooks::lambda::router::AwsRouter,
    mut progress: impl FnMut(&Letter, Redriven),
) -> Result<RedriveReport> {
    use aws_lambda_events::event::dynamodb::EventRecord;
    let letters = receive_all(sqs, url, Duration::from_secs(300)).await?;
    let mut kept = Vec::new();
    let mut report = RedriveReport::default();
    for l in letters {
        // A record too large to dead-letter whole was dead-lettered trimmed, the whole of
        // it in the payload bucket.
        let body = match serde_json::from_str::<serde_json::Value>(&l.body)
            .ok()
            .and_then(|v| v["trimmedRecord"]["bodyRef"].as_str().map(str::to_owned))
        {
            Some(key) => router
                .payloads
                .get(&key)
                .await
                .with_context(|| format!("reading the dead-lettered record {key}"))?,
            None => l.body.clone(),
        };
        let outcome = match serde_json::from_str::<EventRecord>(&body) {
            // Lambda's own failure descriptions hold no record to route.
            Err(_) => Redriven::Kept,
            Ok(record) => {
                let (response, summary) = router.invoke(std::slice::from_ref(&record)).await;
                if !response.batch_item_failures.is_empty() {
                    Redriven::Kept
                } else if summary.dead_lettered > 0 {
                    Redriven::DeadLetteredAgain
                } else {
                    Redriven::Routed
                }
            }
        };
        progress(&l, outcome);
        match outcome {
            Redriven::Kept => {
                report.kept += 1;
                kept.push(l);
            }
            // Dead-lettered again, the router wrote a new letter with today's
            // reason: this one goes.
            Redriven::Routed | Redriven::DeadLetteredAgain => {
                sqs.delete_message()
                    .queue_url(url)
                    .receipt_handle(&l.receipt_handle)
                    .send()
                    .await
                    .map_err(crate::aws::sdk_err)?;
                if outcome == Redriven::Routed {
                    report.routed += 1;
                } else {
                    report.dead_lettered_again += 1;
                }
            }
        }
    }
    release(sqs, url, &kept).await?;
    Ok(report)
}

/// What became of one dead-lettered record on a re-drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redriven {
    /// Routed: its webhooks are on their way.
    Routed,
    /// Still malformed: dead-lettered again with today's reason (a new letter).
    DeadLetteredAgain,
    /// Not routable now (a retryable failure, or no record in it): left.
    Kept,
}

/// Counts of a re-drive.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RedriveReport {
    pub routed: usize,
    pub dead_lettered_again: usize,
    pub kept: usize,
}
