//! The management API: what a partner or a provider may see and change of
//! its own, with its party key. An axum `Router` over ports, so the Lambda
//! and `hubhooks local run` serve the same application.
//!
//! So far: the catalogue of event types and the caller's own
//! subscriptions (read). Another party's id answers 404 exactly as a
//! missing one does.
mod auth;
mod problem;

pub use auth::Caller;
pub use problem::Problem;

use crate::clock::Clock;
use crate::config::{ConfigItem, RawConfigItem};
use crate::event::EventType;
use crate::payload::catalogue;
use crate::ports::{ConfigSource, PartyKeyStore};
use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use serde_json::{Value, json};
use std::sync::Arc;

/// What the handlers reach: ports, never AWS types.
pub struct ApiState {
    pub keys: Arc<dyn PartyKeyStore>,
    pub config: Arc<dyn ConfigSource>,
    pub clock: Arc<dyn Clock>,
}

/// Every route under `/v1`.
pub fn router(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/v1/event-types", get(event_types))
        .route("/v1/event-types/{name}", get(event_type))
        .route("/v1/subscriptions", get(subscriptions))
        .route("/v1/subscriptions/{id}", get(subscription))
        .fallback(|| async { Problem::not_found("resource") })
        .with_state(state)
}

async fn event_types(_: Caller) -> Result<Json<Value>, Problem> {
    let all = catalogue::all().map_err(|e| {
        tracing::error!(error = %e, "the catalogue could not be made");
        Problem::unavailable()
    })?;
    Ok(Json(json!({ "data": all })))
}

async fn event_type(_: Caller, Path(name): Path<String>) -> Result<Json<Value>, Problem> {
    let event_type: EventType = name.parse().map_err(|_| Problem::not_found("event type"))?;
    let entry = catalogue::entry(event_type).map_err(|e| {
        tracing::error!(error = %e, "the catalogue could not be made");
        Problem::unavailable()
    })?;
    Ok(Json(serde_json::to_value(entry).unwrap_or_default()))
}

/// The caller's subscriptions, as stored (operational state included).
async fn own_subscriptions(state: &ApiState, caller: Caller) -> Result<Vec<Value>, Problem> {
    let items = state.config.load().await.map_err(|e| {
        tracing::error!(error = %e, "could not read the config");
        Problem::unavailable()
    })?;
    Ok(items
        .into_iter()
        .filter(|raw| is_subscription_of(raw, caller))
        .map(|raw| raw.value)
        .collect())
}

fn is_subscription_of(raw: &RawConfigItem, caller: Caller) -> bool {
    matches!(ConfigItem::parse(raw), Ok(ConfigItem::Subscription(s)) if s.party == caller.0)
}

async fn subscriptions(
    caller: Caller,
    State(state): State<Arc<ApiState>>,
) -> Result<Json<Value>, Problem> {
    let mut own = own_subscriptions(&state, caller).await?;
    own.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    Ok(Json(json!({ "data": own })))
}

async fn subscription(
    caller: Caller,
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    own_subscriptions(&state, caller)
        .await?
        .into_iter()
        .find(|s| s["id"].as_str() == Some(id.as_str()))
        .map(Json)
        .ok_or_else(|| Problem::not_found("subscription"))
}
