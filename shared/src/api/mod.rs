//! The management API: what a partner or a provider may see and change of
//! its own, with its party key. An axum `Router` over ports, so the Lambda
//! and `hubhooks local run` serve the same application.
//!
//! Another party's id answers 404 exactly as a missing one does.
pub mod admin;
mod auth;
pub mod body;
pub mod config_items;
mod cursor;
pub mod dead_letters;
pub mod deliveries;
pub mod delivery_stats;
mod egress;
mod etag;
mod fields;
pub mod idempotency;
pub mod notices;
pub mod openapi;
pub mod operator;
pub mod portal;
mod problem;
pub mod replay;
pub mod send_test;
pub mod subscriptions;
pub mod tokens;
pub mod views;

pub use auth::{Caller, Scoped};
pub use problem::Problem;

use crate::clock::Clock;
use crate::event::EventType;
use crate::payload::catalogue;
use crate::ports::{
    AttemptSearch, ConfigSource, ConfigStore, DeliveryQueue, IdempotencyStore, PartyKeyStore,
    SecretStore, SecretWriter, Transport,
};
use axum::Json;
use axum::Router;
use axum::extract::Path;
use axum::routing::{get, post};
use serde_json::Value;
use std::sync::Arc;

/// What the handlers reach: ports, never AWS types.
pub struct ApiState {
    pub keys: Arc<dyn PartyKeyStore>,
    pub config: Arc<dyn ConfigSource>,
    pub store: Arc<dyn ConfigStore>,
    pub secrets: Arc<dyn SecretWriter>,
    /// What the sender may reach (`EGRESS_ALLOW`): destinations are checked
    /// against it when written.
    pub egress: crate::egress::AllowList,
    pub attempts: Arc<dyn AttemptSearch>,
    /// How many days the attempt log keeps (`AttemptLogDays`): the
    /// longest window a search may ask for.
    pub attempt_log_days: u32,
    /// Reads secret values: a notice destination's, for its test.
    pub secret_values: Arc<dyn SecretStore>,
    /// Sends a notice destination's test, as the sender sends notices
    /// (the same egress guard and proxy).
    pub transport: Arc<dyn Transport>,
    /// Where test sends, resends and replays go.
    pub queue: Arc<dyn DeliveryQueue>,
    /// `Idempotency-Key`s of creates and their answers.
    pub idempotency: Arc<dyn IdempotencyStore>,
    /// The local stack's operator token (its SHA-256); none in AWS, where
    /// `/v1/admin/…` is IAM-signed.
    pub operator_token: Option<Vec<u8>>,
    /// Signs paging cursors (`cursor`).
    pub cursor_key: ring::hmac::Key,
    /// The dead-letter queues an operator lists and replays.
    pub dead_letters: Vec<crate::dead_letter::DeadLetterQueue>,
    pub clock: Arc<dyn Clock>,
}

/// Every route under `/v1`.
pub fn router(state: Arc<ApiState>) -> Router {
    let routes = Router::new()
        .route("/v1/openapi.json", get(openapi_document))
        .route("/v1/event-types", get(event_types))
        .route("/v1/event-types/{name}", get(event_type))
        .route(
            "/v1/subscriptions",
            get(subscriptions::list).post(subscriptions::create),
        )
        .route(
            "/v1/notice-destination",
            get(notices::get).put(notices::put).delete(notices::delete),
        )
        .route("/v1/notice-destination/test", post(notices::test))
        .route("/v1/deliveries", get(deliveries::search))
        .route("/v1/delivery-stats", get(delivery_stats::stats))
        .route("/v1/admin/portal-links", post(portal::create_link))
        .route(
            "/v1/admin/keys",
            get(admin::list_keys).post(admin::create_key),
        )
        .route("/v1/admin/keys/{id}/revoke", post(admin::revoke_key))
        .route(
            "/v1/admin/subscriptions",
            get(admin::list_subscriptions).post(subscriptions::create),
        )
        .route("/v1/admin/deliveries", get(deliveries::search))
        .route("/v1/admin/config-items", get(config_items::list))
        .route(
            "/v1/admin/config-items/{id}",
            get(config_items::get)
                .put(config_items::put)
                .delete(config_items::delete),
        )
        .route("/v1/admin/dead-letters", get(dead_letters::list))
        .route("/v1/admin/dead-letters/replay", post(dead_letters::replay));
    let portal = Router::new()
        .route("/portal", get(portal::root))
        .route("/portal/", get(portal::page))
        .route("/portal/enter", get(portal::page))
        .route("/portal/assets/{name}", get(portal::asset))
        .route(
            "/portal/session",
            get(portal::session)
                .post(portal::open)
                .delete(portal::close),
        );
    scoped(scoped(routes, "/v1"), "/v1/admin")
        .merge(portal)
        .fallback(|| async { Problem::not_found("resource") })
        .method_not_allowed_fallback(|| async {
            Problem::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "this method is not allowed here",
            )
        })
        .layer(axum::extract::DefaultBodyLimit::max(body::MAX_BODY))
        .with_state(state)
}

/// The routes of one subscription or delivery, under `prefix`: a party's
/// (`/v1`) or an operator's (`/v1/admin`, every party's) with the same
/// handlers ([`Scoped`]).
fn scoped(routes: Router<Arc<ApiState>>, prefix: &str) -> Router<Arc<ApiState>> {
    let at = |path: &str| format!("{prefix}{path}");
    routes
        .route(
            &at("/subscriptions/{id}"),
            get(subscriptions::get)
                .put(subscriptions::replace)
                .patch(subscriptions::patch)
                .delete(subscriptions::delete),
        )
        .route(
            &at("/subscriptions/{id}/enable"),
            post(subscriptions::enable),
        )
        .route(
            &at("/subscriptions/{id}/disable"),
            post(subscriptions::disable),
        )
        .route(
            &at("/subscriptions/{id}/secret/rotate"),
            post(subscriptions::rotate),
        )
        .route(&at("/subscriptions/{id}/test"), post(send_test::test))
        .route(&at("/subscriptions/{id}/replay"), post(replay::replay))
        .route(&at("/deliveries/{id}"), get(deliveries::get))
        .route(&at("/deliveries/{id}/resend"), post(replay::resend))
}

/// The OpenAPI document, open to anyone (it holds no one's data); made
/// once per instance.
async fn openapi_document() -> Json<Value> {
    static DOCUMENT: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    Json(DOCUMENT.get_or_init(openapi::document).clone())
}

async fn event_types(_: Caller) -> Result<Json<views::Page<catalogue::EventTypeEntry>>, Problem> {
    let all = catalogue::all().map_err(|e| {
        tracing::error!(error = %e, "the catalogue could not be made");
        Problem::unavailable()
    })?;
    Ok(Json(views::Page {
        data: all,
        next_cursor: None,
    }))
}

async fn event_type(
    _: Caller,
    Path(name): Path<String>,
) -> Result<Json<catalogue::EventTypeEntry>, Problem> {
    let event_type: EventType = name.parse().map_err(|_| Problem::not_found("event type"))?;
    let entry = catalogue::entry(event_type).map_err(|e| {
        tracing::error!(error = %e, "the catalogue could not be made");
        Problem::unavailable()
    })?;
    Ok(Json(entry))
}
