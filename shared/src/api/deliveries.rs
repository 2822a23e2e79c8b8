//! `/v1/deliveries`: what was sent to the caller's subscriptions, from the
//! attempt log: a search (by subscription, case, event type, outcome and
//! time window, a page at a time) and one delivery with every attempt.
use super::cursor::{self, Position};
use super::fields;
use super::views::{AttemptView, DeliveryDetail, DeliverySummary, Page, RequestView};
use super::{ApiState, Problem, Scoped};
use crate::attempt::{AttemptOutcome, AttemptRecord, Filter};
use crate::event::EventType;
use crate::operations::{Scope, subscriptions as ops};
use crate::timestamp::Timestamp;
use axum::Json;
use axum::extract::{Path, Query, State};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// The parameters a search takes.
const PARAMETERS: [&str; 8] = [
    "subscription",
    "case",
    "eventType",
    "outcome",
    "since",
    "until",
    "limit",
    "cursor",
];

/// A search, as read from the query string.
#[derive(Debug, Clone, PartialEq)]
struct Search {
    subscription: Option<String>,
    case: Option<String>,
    event_type: Option<EventType>,
    /// `failed` is every outcome but delivered.
    outcome: Option<String>,
    since: Timestamp,
    until: Timestamp,
    limit: usize,
    cursor: Option<String>,
}

/// Reads the query string, naming a parameter it refuses.
fn read(q: &HashMap<String, String>, now: Timestamp, log_days: u32) -> Result<Search, Problem> {
    let bad = |name: &str, why: String| Problem::invalid(format!("/{name}"), why);
    cursor::known_only(q, &PARAMETERS)?;
    let time = |name: &str| q.get(name).map(|v| fields::time(name, v)).transpose();
    let oldest = Timestamp(now.0 - chrono::Duration::days(i64::from(log_days)));
    let since = time("since")?.unwrap_or(Timestamp(
        now.0 - chrono::Duration::days(crate::attempt::DEFAULT_SEARCH_DAYS),
    ));
    let until = time("until")?.unwrap_or(now);
    if since < oldest {
        return Err(bad(
            "since",
            format!("the attempt log keeps {log_days} days; `since` is before that"),
        ));
    }
    if until < since {
        return Err(bad("until", "is before `since`".into()));
    }
    let event_type = q
        .get("eventType")
        .map(|t| fields::event_type("eventType", t))
        .transpose()?;
    let outcomes: Vec<&str> = AttemptOutcome::ALL
        .iter()
        .map(|o| o.as_str())
        .chain(["failed"])
        .collect();
    let outcome = q.get("outcome").cloned();
    if let Some(o) = &outcome
        && !outcomes.contains(&o.as_str())
    {
        return Err(bad(
            "outcome",
            format!("must be one of {}", outcomes.join(", ")),
        ));
    }
    let limit = cursor::limit(q)?;
    Ok(Search {
        subscription: q.get("subscription").cloned(),
        case: q.get("case").cloned(),
        event_type,
        outcome,
        since,
        until,
        limit,
        cursor: q.get("cursor").cloned(),
    })
}

/// The deliveries among `attempts`, newest last attempt first.
pub fn summarise(attempts: &[AttemptRecord]) -> Vec<DeliverySummary> {
    let mut by_id: BTreeMap<&str, Vec<&AttemptRecord>> = BTreeMap::new();
    for a in attempts {
        by_id.entry(a.delivery_id.as_str()).or_default().push(a);
    }
    let mut out: Vec<DeliverySummary> = by_id
        .into_values()
        .filter_map(|mut list| {
            list.sort_by_key(|a| (a.at, a.attempt));
            let (first, last) = (*list.first()?, *list.last()?);
            Some(DeliverySummary {
                id: last.delivery_id.to_string(),
                subscription_id: last.subscription_id.to_string(),
                event_type: last.event_type.as_str().to_owned(),
                case_guid: (!last.case_guid.is_empty()).then(|| last.case_guid.to_string()),
                test: last.test,
                attempts: last.attempt,
                outcome: last.outcome.as_str().to_owned(),
                status: last.status,
                first_attempt_at: first.at.to_contract_string(),
                last_attempt_at: last.at.to_contract_string(),
            })
        })
        .collect();
    out.sort_by_key(|d| std::cmp::Reverse(sort_key(d)));
    out
}

/// Newest first: by last attempt, then id.
fn sort_key(d: &DeliverySummary) -> String {
    format!("{} {}", d.last_attempt_at, d.id)
}

fn matches(s: &Search, d: &DeliverySummary) -> bool {
    s.event_type.is_none_or(|t| d.event_type == t.as_str())
        && s.outcome.as_deref().is_none_or(|o| match o {
            "failed" => d.outcome != "delivered",
            o => d.outcome == o,
        })
        && d.last_attempt_at.as_str() <= s.until.to_contract_string().as_str()
}

pub(super) fn unavailable(e: impl std::fmt::Display) -> Problem {
    tracing::error!(error = %e, "the attempt log could not be read");
    Problem::unavailable()
}

/// The caller's subscription ids (all of them, also disabled ones).
pub(super) async fn own_ids(state: &ApiState, scope: Scope) -> Result<BTreeSet<String>, Problem> {
    let own = ops::list(state.config.as_ref(), scope)
        .await
        .map_err(|e| super::subscriptions::refused(e, "subscription"))?;
    Ok(own.into_iter().map(|raw| raw.id).collect())
}

pub async fn search(
    scoped: Scoped,
    State(state): State<Arc<ApiState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Page<DeliverySummary>>, Problem> {
    let now = state.clock.now();
    let s = read(&q, now, state.attempt_log_days)?;
    let query = cursor::fingerprint(&scoped.label(), &q);
    let after = s
        .cursor
        .as_deref()
        .map(|c| cursor::open(&state.cursor_key, c, &query, now).map(|p| p.after))
        .transpose()?;
    let own = own_ids(&state, scoped.0).await?;
    let filters: Vec<Filter> = match (&s.subscription, &s.case) {
        (Some(id), _) if !own.contains(id) => return Err(Problem::not_found("subscription")),
        (Some(id), _) => vec![Filter::Subscription(id.clone())],
        (None, Some(case)) => vec![Filter::Case(case.clone())],
        (None, None) => own.iter().cloned().map(Filter::Subscription).collect(),
    };
    let span = now.0 - s.since.0;
    let mut attempts = Vec::new();
    for f in &filters {
        let found = state
            .attempts
            .attempts(f, span)
            .await
            .map_err(unavailable)?;
        attempts.extend(found.into_iter().filter(|a| {
            own.contains(a.subscription_id.as_str())
                && s.case.as_deref().is_none_or(|c| a.case_guid.as_str() == c)
        }));
    }
    let mut listed: Vec<DeliverySummary> = summarise(&attempts)
        .into_iter()
        .filter(|d| matches(&s, d))
        .filter(|d| after.as_deref().is_none_or(|a| sort_key(d).as_str() < a))
        .collect();
    let more = listed.len() > s.limit;
    listed.truncate(s.limit);
    let next = match listed.last() {
        Some(last) if more => Some(cursor::seal(
            &state.cursor_key,
            &Position {
                query,
                after: sort_key(last),
                expires: Timestamp(now.0 + cursor::LIFETIME),
            },
        )),
        _ => None,
    };
    Ok(Json(Page {
        data: listed,
        next_cursor: next,
    }))
}

pub async fn get(
    scoped: Scoped,
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
) -> Result<Json<DeliveryDetail>, Problem> {
    let span = chrono::Duration::days(i64::from(state.attempt_log_days));
    let attempts = crate::operations::deliveries::attempts_of(
        state.attempts.as_ref(),
        state.store.as_ref(),
        scoped.0,
        &id,
        span,
    )
    .await
    .map_err(|e| super::subscriptions::refused(e, "delivery"))?;
    let summary = summarise(&attempts)
        .pop()
        .ok_or_else(|| Problem::not_found("delivery"))?;
    let request = crate::operations::deliveries::logged_of(state.attempts.as_ref(), &attempts, &id)
        .await
        .map_err(unavailable)?
        .into_iter()
        .find_map(|(_, envelope)| envelope)
        .map(|d| RequestView::of(&d));
    Ok(Json(DeliveryDetail {
        summary,
        attempt_log: attempts.iter().map(AttemptView::from).collect(),
        request,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// Every parameter, refused with its name and the rule.
    #[test]
    fn each_search_parameter_is_refused_with_its_name() {
        let now = Timestamp::parse("2026-12-05T10:00:00.000Z").unwrap();
        for (pairs, pointer, words) in [
            (vec![("colour", "red")], "/colour", "unknown parameter"),
            (vec![("since", "yesterday")], "/since", "RFC 3339"),
            (vec![("until", "soon")], "/until", "RFC 3339"),
            (
                vec![("since", "2026-10-01T00:00:00Z")],
                "/since",
                "keeps 30 days",
            ),
            (
                vec![
                    ("since", "2026-12-05T09:00:00Z"),
                    ("until", "2026-12-05T08:00:00Z"),
                ],
                "/until",
                "before",
            ),
            (
                vec![("eventType", "newThing")],
                "/eventType",
                "unknown event type",
            ),
            (vec![("outcome", "won")], "/outcome", "one of"),
            (vec![("limit", "0")], "/limit", "1 to 100"),
            (vec![("limit", "101")], "/limit", "1 to 100"),
            (vec![("limit", "ten")], "/limit", "1 to 100"),
        ] {
            let e = read(&q(&pairs), now, 30).unwrap_err();
            assert_eq!(e.pointer.as_deref(), Some(pointer), "{pairs:?}");
            assert!(e.detail.contains(words), "{pairs:?}: {}", e.detail);
        }
        let s = read(&q(&[("outcome", "failed"), ("limit", "100")]), now, 30).unwrap();
        assert_eq!((s.limit, s.outcome.as_deref()), (100, Some("failed")));
        assert_eq!(s.until, now);
    }
}
