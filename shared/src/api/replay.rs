//! Sending again, from what the attempt log kept: one delivery
//! (`POST /v1/deliveries/{id}/resend`) or a subscription's window
//! (`POST /v1/subscriptions/{id}/replay`), through the delivery queue with
//! the same delivery ids (`operations::deliveries`, as `hubhooks resend`
//! and `hubhooks replay`).
use super::body::Body;
use super::fields::time;
use super::subscriptions::refused;
use super::views::{ReplayResult, Resent};
use super::{ApiState, Problem, Scoped};
use crate::operations::deliveries;
use crate::replay::Which;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use schemars::JsonSchema;
use serde::Deserialize;
use std::sync::Arc;

/// The most deliveries one replay request sends (a larger window is
/// replayed in parts: its dry run says how many it holds).
pub const MAX_REPLAY: usize = 1000;

pub async fn resend(
    scoped: Scoped,
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Resent>), Problem> {
    let span = chrono::Duration::days(i64::from(state.attempt_log_days));
    let delivery = deliveries::resend(
        state.attempts.as_ref(),
        state.store.as_ref(),
        state.queue.as_ref(),
        scoped.0,
        &id,
        span,
    )
    .await
    .map_err(|e| refused(e, "delivery"))?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Resent {
            delivery_id: delivery.id.to_string(),
            subscription_id: delivery.subscription_id.to_string(),
            event_type: delivery.event_type,
            prior_attempts: delivery.prior_attempts,
        }),
    ))
}

/// A window to send again.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplayInput {
    /// From (attempted at or after), RFC 3339.
    pub since: String,
    /// To (attempted at or before), RFC 3339; default now.
    #[serde(default)]
    pub until: Option<String>,
    /// Only deliveries with no successful attempt in the window.
    #[serde(default)]
    pub failed_only: bool,
    /// Counts what would be sent; sends nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// A replay's answer: `200` for a dry run (nothing changed), else `202`
/// (sent to the delivery queue).
pub(super) fn status_of(dry_run: bool) -> StatusCode {
    if dry_run {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    }
}

pub async fn replay(
    scoped: Scoped,
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
    body: Body<ReplayInput>,
) -> Result<(StatusCode, Json<ReplayResult>), Problem> {
    let input = body.value;
    let now = state.clock.now();
    let since = time("since", &input.since)?;
    let until = match &input.until {
        Some(u) => time("until", u)?,
        None => now,
    };
    deliveries::check_window(since, until, now, state.attempt_log_days)
        .map_err(|e| Problem::invalid(format!("/{}", e.field), e.detail))?;
    let window = deliveries::Window {
        subscription: id.clone(),
        since,
        until,
        which: if input.failed_only {
            Which::FailedOnly
        } else {
            Which::All
        },
    };
    let scope = scoped.0;
    let plan = deliveries::plan_window(
        state.attempts.as_ref(),
        state.store.as_ref(),
        scope,
        &window,
    )
    .await
    .map_err(|e| refused(e, "subscription"))?;
    let selected = plan.deliveries.len();
    if !input.dry_run && selected > MAX_REPLAY {
        return Err(Problem::invalid(
            "/until",
            format!(
                "the window holds {selected} deliveries; one request replays at most {MAX_REPLAY}: \
                 replay it in parts (an earlier `until`)"
            ),
        ));
    }
    let replayed = if input.dry_run {
        0
    } else {
        deliveries::send_plan(state.queue.as_ref(), &plan, None, |_| {})
            .await
            .map_err(|e| {
                tracing::error!(error = %e.error, sent = e.sent, "a replay stopped part way");
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!(
                        "sent {} of {}; nothing is lost: replay again with since {} to go on",
                        e.sent, e.total, e.resume
                    ),
                )
            })?
    };
    Ok((
        status_of(input.dry_run),
        Json(ReplayResult {
            subscription_id: id,
            since,
            until,
            failed_only: input.failed_only,
            dry_run: input.dry_run,
            selected,
            replayed,
            without_envelope: plan.without_envelope.len(),
            tests_skipped: plan.tests,
        }),
    ))
}
