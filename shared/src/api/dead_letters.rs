//! `/v1/admin/dead-letters`: the deliveries that never reached their
//! receiver, with the reason, listed and replayed by an operator (as
//! `hubhooks dlq list` and `dlq replay`, over `dead_letter`).
//!
//! SQS keeps no order and offers no cursor, and a request has 30 s (API
//! Gateway's limit). So a request makes one pass over the dead-letter
//! queues within [`BUDGET`]. `complete` says whether the pass met every
//! letter. When it did not, the same request again goes on: a replay
//! deletes what it sent back, so the next pass meets the rest. A listing
//! can only show the first `limit` letters it meets. Letters are hidden
//! while a pass holds them, so two passes at once each see part of them.
use super::operator::Operator;
use super::{ApiState, Problem, body::Body, cursor, fields};
use crate::dead_letter::{
    DrainPolicy, Letter, Pass, QueueKind, Replay, ReplayReport, Selected, Selection,
};
use crate::event::EventType;
use crate::party::Party;
use crate::ports::IoError;
use crate::timestamp::Timestamp;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long one request may pass over the queues.
pub const BUDGET: Duration = Duration::from_secs(20);

/// How long a letter stays hidden while a pass holds it; extended while
/// the pass runs, released when it ends (by itself if the function dies).
const HOLD: Duration = Duration::from_secs(30);

/// The most of a body that is not a delivery shown in a listing.
const BODY_SHOWN: usize = 1024;

/// A dead letter as an operator sees it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetterView {
    /// SQS's id of the message.
    pub message_id: String,
    /// The dead-letter queue it sits in.
    pub queue: QueueKind,
    /// When it was dead-lettered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dead_lettered_at: Option<Timestamp>,
    /// Its last error.
    pub reason: String,
    /// What dead-lettered it.
    pub origin: String,
    /// A test send.
    pub test: bool,
    /// The delivery, when the message is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery: Option<DeadDelivery>,
    /// When it is not a delivery: the first 1 KiB of the message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// The delivery a dead letter holds (its body is not shown: read it with
/// `GET /v1/admin/deliveries/{id}`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeadDelivery {
    pub id: String,
    pub subscription_id: String,
    pub party: Party,
    pub event_type: EventType,
    pub case_guid: String,
    /// Attempts made in its earlier lives (before earlier dead letters).
    pub prior_attempts: u32,
}

/// One listing pass.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetterList {
    /// The letters the filters take, oldest first.
    pub data: Vec<DeadLetterView>,
    /// Letters the pass met, taken or not.
    pub read: usize,
    /// The pass met every letter: none is missing from `data` but those
    /// the filters leave out.
    pub complete: bool,
}

/// Which dead letters to replay.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeadLetterReplayInput {
    /// Only this subscription's.
    #[serde(default)]
    pub subscription: Option<String>,
    /// Only this webhook type's.
    #[serde(default)]
    pub event_type: Option<EventType>,
    /// Only those whose reason holds this text (any case), e.g. `503`.
    #[serde(default)]
    pub reason: Option<String>,
    /// Only those dead-lettered at or after (RFC 3339).
    #[serde(default)]
    pub since: Option<String>,
    /// Test sends too (left otherwise).
    #[serde(default)]
    pub tests: bool,
    /// Counts what would be replayed; changes nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// What a replay pass did.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetterReplayResult {
    pub dry_run: bool,
    /// Letters the pass met.
    pub read: usize,
    /// Sent back to their delivery queue and deleted (or that would be).
    pub replayed: usize,
    /// Not selected: left.
    pub kept: usize,
    /// Selected test sends, left (`tests` takes them).
    pub tests: usize,
    /// Not a delivery: never replayed, left.
    pub unreadable: usize,
    /// Replayed in this pass and dead-lettered again before it ended: left.
    pub came_back: usize,
    /// Why they came back, each reason with its count.
    pub came_back_why: BTreeMap<String, usize>,
    /// The pass met every letter; when false, the same request again
    /// goes on.
    pub complete: bool,
}

impl DeadLetterReplayResult {
    fn of(r: ReplayReport, dry_run: bool) -> Self {
        DeadLetterReplayResult {
            dry_run,
            read: r.read,
            replayed: r.replayed,
            kept: r.kept,
            tests: r.tests,
            unreadable: r.unreadable,
            came_back: r.came_back,
            came_back_why: r.came_back_why,
            complete: !r.cut_short,
        }
    }
}

impl DeadLetterView {
    fn of(l: &Letter, queue: QueueKind) -> Self {
        let delivery = l.delivery.as_ref().map(|d| DeadDelivery {
            id: d.id.to_string(),
            subscription_id: d.subscription_id.to_string(),
            party: d.party,
            event_type: d.event_type,
            case_guid: d.case_guid.to_string(),
            prior_attempts: d.prior_attempts,
        });
        let body = l
            .delivery
            .is_none()
            .then(|| crate::delivery::clip(&l.body, BODY_SHOWN).to_owned());
        DeadLetterView {
            message_id: l.message_id.clone(),
            queue,
            dead_lettered_at: l.sent_at,
            reason: l.reason.clone(),
            origin: l.origin.clone(),
            test: l.delivery.as_ref().is_some_and(|d| d.test),
            delivery,
            body,
        }
    }
}

/// The parameters a listing takes.
const PARAMETERS: [&str; 5] = ["subscription", "eventType", "reason", "since", "limit"];

/// A pass over one queue within what is left of the request's budget.
fn policy(started: Instant, now: Instant) -> DrainPolicy {
    DrainPolicy {
        wait_secs: 1,
        budget: Some(BUDGET.saturating_sub(now.duration_since(started))),
        ..DrainPolicy::default()
    }
}

fn unavailable(e: IoError) -> Problem {
    tracing::error!(error = %e, "a dead-letter queue could not be read");
    Problem::unavailable()
}

/// `GET /v1/admin/dead-letters`: one pass, the letters the filters take.
pub async fn list(
    who: Operator,
    State(state): State<Arc<ApiState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<DeadLetterList>, Problem> {
    cursor::known_only(&q, &PARAMETERS)?;
    let selection = Selection {
        subscription: q.get("subscription").cloned(),
        event_type: q
            .get("eventType")
            .map(|t| fields::event_type("eventType", t))
            .transpose()?,
        since: q
            .get("since")
            .map(|t| fields::time("since", t))
            .transpose()?,
        reason: q.get("reason").cloned(),
        // A listing shows test sends, marked.
        tests: true,
    };
    let limit = cursor::limit(&q)?;
    tracing::info!(operator = %who.0, "dead letters listed");
    let started = state.clock.instant();
    let (mut data, mut read, mut complete) = (Vec::new(), 0, true);
    for queue in &state.dead_letters {
        let policy = policy(started, state.clock.instant());
        let mut pass = Pass::new(queue.letters.as_ref(), policy, HOLD, state.clock.as_ref());
        let walked = async {
            while let Some(l) = pass.next().await? {
                if selection.select(&l) == Selected::No {
                    continue;
                }
                if data.len() == limit {
                    // One more than the page holds: there are more.
                    pass.enough();
                    break;
                }
                data.push(DeadLetterView::of(&l, queue.kind));
            }
            Ok::<(), IoError>(())
        }
        .await;
        // Released also when the pass failed part way.
        let passed = pass.end().await;
        walked.map_err(unavailable)?;
        let passed = passed.map_err(unavailable)?;
        read += passed.read;
        if passed.cut_short {
            complete = false;
            break;
        }
    }
    data.sort_by_key(|l| l.dead_lettered_at);
    Ok(Json(DeadLetterList {
        data,
        read,
        complete,
    }))
}

/// `POST /v1/admin/dead-letters/replay`: one pass, the selected letters
/// sent back to their delivery queue (before each is deleted).
pub async fn replay(
    who: Operator,
    State(state): State<Arc<ApiState>>,
    body: Body<DeadLetterReplayInput>,
) -> Result<(StatusCode, Json<DeadLetterReplayResult>), Problem> {
    let input = body.value;
    let selection = Selection {
        subscription: input.subscription,
        event_type: input.event_type,
        since: input
            .since
            .as_deref()
            .map(|t| fields::time("since", t))
            .transpose()?,
        reason: input.reason,
        tests: input.tests,
    };
    tracing::info!(operator = %who.0, dry_run = input.dry_run, "dead letters replayed");
    let started = state.clock.instant();
    let mut total = ReplayReport::default();
    for queue in &state.dead_letters {
        let replay = Replay {
            letters: queue.letters.as_ref(),
            back: queue.back.as_ref(),
            selection: selection.clone(),
            dry_run: input.dry_run,
            rate: None,
            hold: HOLD,
            policy: policy(started, state.clock.instant()),
            clock: state.clock.as_ref(),
        };
        let report = replay.run(|_, _| {}).await;
        // What was sent back before a failure is gone from the DLQ and on
        // its way: the answer says only that the pass stopped.
        let report = report.map_err(unavailable)?;
        let cut_short = report.cut_short;
        total.add(report);
        if cut_short {
            break;
        }
    }
    Ok((
        super::replay::status_of(input.dry_run),
        Json(DeadLetterReplayResult::of(total, input.dry_run)),
    ))
}
