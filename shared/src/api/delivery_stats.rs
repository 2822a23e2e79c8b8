//! `/v1/delivery-stats`: the caller's deliveries per hour by outcome, over
//! the last days (the portal's chart). A delivery counts once, in the hour
//! of its first attempt, under the outcome of its latest.
use super::deliveries::{own_ids, summarise, unavailable};
use super::{ApiState, Problem, Scoped};
use crate::attempt::{AttemptRecord, Filter};
use crate::timestamp::Timestamp;
use axum::Json;
use axum::extract::{Query, State};
use chrono::{DurationRound, TimeDelta};
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

/// How many days the chart shows unless asked.
const DEFAULT_DAYS: u32 = 7;

/// One hour's deliveries by the outcome of their latest attempt.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Hour {
    /// The hour's start (UTC).
    pub hour: String,
    pub delivered: u32,
    /// Failed so far; another attempt follows.
    pub retrying: u32,
    /// Failed for good: dead-lettered, refused or gone.
    pub failed: u32,
}

/// Every hour of the window, oldest first; hours without deliveries are 0.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryStats {
    pub since: String,
    pub until: String,
    pub hours: Vec<Hour>,
}

/// The window's hours, `until`'s hour last, with `attempts` counted in.
pub fn hourly(attempts: &[AttemptRecord], until: Timestamp, days: u32) -> Vec<Hour> {
    let last = until
        .0
        .duration_trunc(TimeDelta::hours(1))
        .unwrap_or(until.0);
    let count = i64::from(days) * 24;
    let first = last - TimeDelta::hours(count - 1);
    let mut hours: Vec<Hour> = (0..count)
        .map(|i| Hour {
            hour: Timestamp(first + TimeDelta::hours(i)).to_contract_string(),
            ..Hour::default()
        })
        .collect();
    for d in summarise(attempts) {
        // Before the window (also less than an hour before, which
        // `num_hours` would round to hour 0): not counted.
        let Some(at) = Timestamp::parse(&d.first_attempt_at)
            .ok()
            .filter(|at| at.0 >= first)
        else {
            continue;
        };
        let index = (at.0 - first).num_hours();
        let Some(hour) = usize::try_from(index).ok().and_then(|i| hours.get_mut(i)) else {
            continue;
        };
        match d.outcome.as_str() {
            "delivered" => hour.delivered += 1,
            "retrying" => hour.retrying += 1,
            _ => hour.failed += 1,
        }
    }
    hours
}

pub async fn stats(
    scoped: Scoped,
    State(state): State<Arc<ApiState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<DeliveryStats>, Problem> {
    super::cursor::known_only(&q, &["days"])?;
    let days = match q.get("days") {
        None => DEFAULT_DAYS,
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|d| (1..=state.attempt_log_days).contains(d))
            .ok_or_else(|| {
                Problem::invalid(
                    "/days",
                    format!(
                        "must be a whole number of days from 1 to {}",
                        state.attempt_log_days
                    ),
                )
            })?,
    };
    let now = state.clock.now();
    let span = TimeDelta::days(i64::from(days));
    let mut attempts = Vec::new();
    for id in own_ids(&state, scoped.0).await? {
        let found = state
            .attempts
            .attempts(&Filter::Subscription(id), span)
            .await
            .map_err(unavailable)?;
        attempts.extend(found);
    }
    let hours = hourly(&attempts, now, days);
    Ok(Json(DeliveryStats {
        since: hours.first().map(|h| h.hour.clone()).unwrap_or_default(),
        until: now.to_contract_string(),
        hours,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attempt::AttemptOutcome;

    fn attempt(id: &str, n: u32, at: &str, outcome: AttemptOutcome) -> AttemptRecord {
        serde_json::from_value(serde_json::json!({
            "deliveryId": id, "attempt": n, "subscriptionId": "s-1", "eventType": "newStatus",
            "caseGuid": "c", "transport": "http", "outcome": outcome, "at": at
        }))
        .unwrap()
    }

    #[test]
    fn a_delivery_counts_once_in_its_first_hour_under_its_latest_outcome() {
        use AttemptOutcome::*;
        let until = Timestamp::parse("2026-12-05T10:30:00.000Z").unwrap();
        let attempts = [
            // retried across an hour, then delivered: in 09:00, delivered
            attempt("d1", 1, "2026-12-05T09:59:00.000Z", Retrying),
            attempt("d1", 2, "2026-12-05T10:01:00.000Z", Delivered),
            attempt("d2", 1, "2026-12-05T10:10:00.000Z", Retrying),
            attempt("d3", 1, "2026-12-05T10:11:00.000Z", DeadLettered),
            attempt("d4", 1, "2026-12-05T10:12:00.000Z", Gone),
            // before the window: not counted
            attempt("d5", 1, "2026-12-04T10:59:00.000Z", Delivered),
        ];
        let hours = hourly(&attempts, until, 1);
        assert_eq!(hours.len(), 24);
        assert_eq!(hours[0].hour, "2026-12-04T11:00:00.000Z");
        let last_two: Vec<(u32, u32, u32)> = hours[22..]
            .iter()
            .map(|h| (h.delivered, h.retrying, h.failed))
            .collect();
        assert_eq!(last_two, [(1, 0, 0), (0, 1, 2)]);
        assert_eq!(hours[23].hour, "2026-12-05T10:00:00.000Z");
        let total: u32 = hours
            .iter()
            .map(|h| h.delivered + h.retrying + h.failed)
            .sum();
        assert_eq!(total, 4);
    }
}
