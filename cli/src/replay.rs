//! `hubhooks replay`: sends again what a subscription was sent (or what
//! failed) in a time window, from the attempt log: e.g. after a receiver
//! lost its data, not only what waits in the DLQ.
//!
//! Same delivery ids (receivers deduplicate), attempts counting on, the
//! subscription's current destination and auth (as for any attempt). The
//! log is only read: an interrupted replay loses nothing, and running it
//! again from where it stopped (`--since` the time it printed) goes on.
use crate::attempts;
use anyhow::{Context, Result, bail};
use hubhooks::delivery::Delivery;
use hubhooks::ports::DeliveryQueue;
use hubhooks::replay::{Plan, Which, plan};
use hubhooks::timestamp::Timestamp;
use std::time::Duration;

/// Parses a point in time: RFC 3339 (`2026-11-30T08:00:00Z`) or a duration
/// ago (`90m`, `2d`).
pub fn parse_time(s: &str, now: Timestamp) -> Result<Timestamp> {
    if let Ok(t) = Timestamp::parse(s) {
        return Ok(t);
    }
    attempts::parse_since(s)
        .and_then(|d| {
            now.0
                .checked_sub_signed(d)
                .map(Timestamp)
                .context("before the first representable time")
        })
        .with_context(|| {
            format!("`{s}`: expected a time (2026-11-30T08:00:00Z) or a duration ago (90m, 2d)")
        })
}

/// Why a window cannot be served from an attempt log that keeps attempts
/// `log_days` days: a start before that (nothing is there, and reading it
/// would query every day's partitions), an end in the future, an end
/// before the start.
pub fn check_window(
    since: Timestamp,
    until: Timestamp,
    now: Timestamp,
    log_days: u32,
) -> Result<()> {
    let oldest = now.0 - chrono::Duration::days(i64::from(log_days));
    if since.0 < oldest {
        bail!(
            "--since {since} is older than the attempt log keeps ({log_days} days, AttemptLogDays; \
             --attempt-log-days if the deployment keeps more)"
        );
    }
    // A minute of leeway for clocks.
    if until.0 > now.0 + chrono::Duration::minutes(1) {
        bail!("--until {until} is in the future: the attempt log holds nothing after now");
    }
    if until < since {
        bail!("--until {until} is before --since {since}");
    }
    Ok(())
}

pub struct WindowReplay<'a> {
    pub ddb: &'a aws_sdk_dynamodb::Client,
    pub sqs: &'a aws_sdk_sqs::Client,
    pub table: &'a str,
    pub queue_url: &'a str,
    pub subscription: &'a str,
    pub since: Timestamp,
    pub until: Timestamp,
    pub which: Which,
    /// At most this many per second (spares a receiver that just came back).
    pub rate: Option<u32>,
}

impl WindowReplay<'_> {
    /// What the window holds to replay.
    pub async fn plan(&self) -> Result<Plan> {
        if self.until < self.since {
            bail!("--until {} is before --since {}", self.until, self.since);
        }
        let from_sk = Timestamp(self.since.0 - attempts::LONGEST_BATCH).to_contract_string();
        // Every sort key of a page begun by `until` sorts before this.
        let to_sk = format!("{}~", self.until.to_contract_string());
        let logged = attempts::logged(self.ddb, self.table, self.subscription, &from_sk, &to_sk)
            .await
            .with_context(|| format!("reading the attempt log {}", self.table))?;
        Ok(plan(logged, self.since, self.until, self.which))
    }

    /// Sends the plan's deliveries to the delivery queue, ten a call, in
    /// order; `progress` is told after each call. On a failure the error
    /// says how far it got and how to go on.
    pub async fn send(
        &self,
        plan: &Plan,
        mut progress: impl FnMut(usize, &Delivery),
    ) -> Result<usize> {
        let queue = hubhooks::adapters::sqs::SqsDeliveryQueue::new(
            self.sqs.clone(),
            self.queue_url.to_owned(),
        );
        let mut sent = 0;
        for chunk in plan.deliveries.chunks(10) {
            let results = queue.enqueue(chunk).await;
            if let Some((i, Err(e))) = results.iter().enumerate().find(|(_, r)| r.is_err()) {
                // Everything before `sent + i` went out; resending from the
                // chunk's start repeats at most nine (same ids).
                let resume = plan.first_attempted[sent].to_contract_string();
                bail!(
                    "sent {} of {}; delivery {} failed: {e}. Nothing is lost: run again with --since {resume} to go on",
                    sent + i,
                    plan.deliveries.len(),
                    chunk[i].id
                );
            }
            sent += chunk.len();
            if let Some(last) = chunk.last() {
                progress(sent, last);
            }
            if let Some(rate) = self.rate {
                tokio::time::sleep(Duration::from_secs_f64(
                    chunk.len() as f64 / f64::from(rate.max(1)),
                ))
                .await;
            }
        }
        Ok(sent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_absolute_or_ago() {
        let now = Timestamp::parse("2026-11-30T12:00:00.000Z").unwrap();
        assert_eq!(
            parse_time("2026-11-30T08:00:00Z", now).unwrap(),
            Timestamp::parse("2026-11-30T08:00:00.000Z").unwrap()
        );
        assert_eq!(
            parse_time("90m", now).unwrap(),
            Timestamp::parse("2026-11-30T10:30:00.000Z").unwrap()
        );
        let e = parse_time("yesterday", now).unwrap_err();
        assert!(format!("{e:#}").contains("expected a time"), "{e:#}");
    }
}

#[cfg(test)]
mod window_tests {
    use super::*;

    #[test]
    fn windows_outside_the_log_or_in_the_future_are_refused() {
        let now = Timestamp::parse("2026-12-04T12:00:00.000Z").unwrap();
        let ago = |d: &str| parse_time(d, now).unwrap();
        // (since, until, → refused with)
        let table = [
            (ago("1d"), now, None),
            (ago("30d"), now, None),
            (ago("31d"), now, Some("older than the attempt log keeps")),
            (
                ago("1d"),
                Timestamp(now.0 + chrono::Duration::seconds(59)),
                None,
            ),
            (
                ago("1d"),
                Timestamp(now.0 + chrono::Duration::hours(1)),
                Some("in the future"),
            ),
            (ago("1h"), ago("2h"), Some("is before --since")),
        ];
        for (since, until, refused) in table {
            let got = check_window(since, until, now, 30);
            match refused {
                None => assert!(got.is_ok(), "{since} {until}: {got:?}"),
                Some(why) => {
                    let e = got.unwrap_err().to_string();
                    assert!(e.contains(why), "{since} {until}: {e}")
                }
            }
        }
        for hostile in [
            "99999999999999d",
            "9223372036854775807s",
            "999999999d",
            "36526d",
        ] {
            let e = parse_time(hostile, now).unwrap_err();
            assert!(format!("{e:#}").contains(hostile), "{hostile}: {e:#}");
        }
    }
}
