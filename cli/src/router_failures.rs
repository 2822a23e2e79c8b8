//! `hubhooks router-failures redrive`: stream records the router
//! dead-lettered, routed again through the router once the data or config
//! is fixed.
use crate::dlq::{DrainPolicy, Letter, Mailbox, SqsMailbox, Taken, pass};
use anyhow::{Context, Result};
use aws_lambda_events::event::dynamodb::EventRecord;
use hubhooks::clock::SystemClock;
use std::collections::HashSet;
use std::time::Duration;

/// Re-drives dead-lettered stream records through the router; a record that now
/// routes (or is dead-lettered again with a new reason) leaves the failure queue.
/// Lambda's own failure descriptions (whole batches, no record) cannot be
/// re-driven from here and stay. One pass: each letter once, held while the
/// re-drive runs (they come back by themselves if it stops); a record this
/// run dead-lettered again is met as a new letter and left, not re-driven.
pub async fn redrive(
    ddb: &aws_sdk_dynamodb::Client,
    sqs: &aws_sdk_sqs::Client,
    url: &str,
    router: &hubhooks::lambda::router::AwsRouter,
    mut progress: impl FnMut(&Letter, Redriven),
) -> Result<RedriveReport> {
    let mut report = RedriveReport::default();
    // Stream records re-driven in this run, by `eventID`.
    let mut tried: HashSet<String> = HashSet::new();
    let policy = DrainPolicy::default();
    let mailbox = SqsMailbox::new(sqs, url, policy.wait_secs);
    let hold = Duration::from_secs(300);
    pass::<anyhow::Error>(&mailbox, policy, hold, &SystemClock, async |l: Letter| {
        let mut record = record_of(router, &l).await?;
        if let Some(r) = record.as_mut() {
            now_as_stored(ddb, r).await?;
        }
        if record.as_ref().is_some_and(|r| tried.contains(&r.event_id)) {
            // The letter this run wrote for a record dead-lettered again.
            return Ok(Taken::Held);
        }
        let outcome = match &record {
            // Lambda's own failure descriptions hold no record to route.
            None => Redriven::Kept,
            Some(r) => {
                tried.insert(r.event_id.clone());
                let (response, summary) = router.invoke(std::slice::from_ref(r)).await;
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
                Ok(Taken::Held)
            }
            // Dead-lettered again, the router wrote a new letter with today's
            // reason: this one goes.
            Redriven::Routed | Redriven::DeadLetteredAgain => {
                mailbox.delete(&l.receipt_handle).await?;
                if outcome == Redriven::Routed {
                    report.routed += 1;
                } else {
                    report.dead_lettered_again += 1;
                }
                Ok(Taken::Gone)
            }
        }
    })
    .await?;
    Ok(report)
}

/// The stream record a letter holds, read whole from the payload bucket
/// when it was dead-lettered trimmed; `None` for Lambda's own failure
/// descriptions.
async fn record_of(
    router: &hubhooks::lambda::router::AwsRouter,
    l: &Letter,
) -> Result<Option<EventRecord>> {
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
    Ok(serde_json::from_str::<EventRecord>(&body).ok())
}

/// The record with its item as stored now: a record parked for its own
/// data is routed as the operator corrected it, not parked again forever
/// with the image it had. A removal, or an item no longer there, keeps
/// the image it was parked with.
async fn now_as_stored(ddb: &aws_sdk_dynamodb::Client, record: &mut EventRecord) -> Result<()> {
    if record.event_name == "REMOVE" || record.change.keys.is_empty() {
        return Ok(());
    }
    let Some(table) = record
        .event_source_arn
        .as_deref()
        .and_then(hubhooks::tables::table_from_arn)
        .or(record.table_name.as_deref())
    else {
        return Ok(());
    };
    let keys: std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> =
        record.change.keys.clone().into();
    let out = ddb
        .get_item()
        .table_name(table)
        .set_key(Some(keys))
        .consistent_read(true)
        .send()
        .await
        .map_err(crate::aws::sdk_err)
        .with_context(|| {
            format!(
                "reading the current item of {table} for record {}",
                record.event_id
            )
        })?;
    if let Some(item) = out.item {
        record.change.new_image = item.into();
    }
    Ok(())
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
