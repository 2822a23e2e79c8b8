//! `POST /v1/subscriptions/{id}/test`: a test webhook through the real
//! delivery path, answered with the receiver's answer once the sender has
//! made its attempt (`operations::send_test`, as `hubhooks send-test`).
use super::body::Body;
use super::subscriptions::refused;
use super::views::{AttemptView, TestResult};
use super::{ApiState, Problem, Scoped};
use crate::operations::send_test;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use schemars::JsonSchema;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

/// How long a test waits for the sender's attempt before answering 202
/// (API Gateway ends a request at 30 s).
pub const WAIT: Duration = Duration::from_secs(20);

/// What to test.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TestInput {
    /// The webhook type (default: the first the subscription sends). The
    /// body is the documented sample, in the version the subscription
    /// asks for.
    #[serde(default)]
    pub event_type: Option<String>,
}

pub async fn test(
    scoped: Scoped,
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
    body: Body<TestInput>,
) -> Result<Response, Problem> {
    let event_type = body
        .value
        .event_type
        .as_deref()
        .map(|t| super::fields::event_type("eventType", t))
        .transpose()?;
    let test = send_test::TestSend {
        subscription: &id,
        event_type,
        case: None,
        source: "api test",
        now: state.clock.now(),
    };
    let scope = scoped.0;
    let delivery = send_test::send(state.store.as_ref(), state.queue.as_ref(), scope, test)
        .await
        .map_err(|e| refused(e, "subscription"))?;
    let attempt = send_test::answer(state.attempts.as_ref(), &delivery.id, WAIT)
        .await
        .map_err(|e| refused(e, "subscription"))?;
    let body = TestResult {
        delivery_id: delivery.id.to_string(),
        subscription_id: id,
        event_type: delivery.event_type,
        attempt: attempt.as_ref().map(AttemptView::from),
    };
    let location = format!("{}/deliveries/{}", scoped.base(), delivery.id);
    // No attempt yet: accepted; the delivery's page shows it when made.
    let status = if attempt.is_some() {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    Ok((status, [(header::LOCATION, location)], Json(body)).into_response())
}
