//! `/v1/admin/…`: what an operator does across parties over HTTP, with the
//! same operations as the CLI: party keys (create, list, revoke) and every
//! party's subscriptions (list, read, enable, disable).
use super::body::Body;
use super::operator::Operator;
use super::subscriptions::{page, refused};
use super::views::{Page, SubscriptionView};
use super::{ApiState, Problem};
use crate::operations::{Scope, keys, subscriptions as ops};
use crate::party::Party;
use crate::party_key::PartyKey;
use crate::timestamp::Timestamp;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;

/// A key to make.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeyInput {
    /// The one party the key speaks for.
    pub party: Party,
    /// When it stops working (RFC 3339); none: when revoked.
    #[serde(default)]
    pub expires_at: Option<String>,
}

/// A key as an operator sees it: never the key or its hash.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeyView {
    pub id: String,
    pub party: Party,
    /// active, expired or revoked.
    pub state: String,
    /// `api` (a bearer key), `portalLink` or `portalSession`.
    pub purpose: crate::party_key::Purpose,
    pub created_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<Timestamp>,
}

impl KeyView {
    fn of(k: &PartyKey, now: Timestamp) -> Self {
        KeyView {
            id: k.id.clone(),
            party: k.party,
            state: keys::state(k, now).to_owned(),
            purpose: k.purpose,
            created_at: k.created_at,
            expires_at: k.expires_at,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// A key just made: the key itself, shown this once.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedKey {
    #[serde(flatten)]
    pub view: KeyView,
    /// `hhk_…`: give it to the party now; it is not shown again.
    pub key: String,
}

pub(super) fn party_filter(q: &HashMap<String, String>) -> Result<Option<Party>, Problem> {
    q.get("party")
        .map(|p| p.parse().map_err(|e: String| Problem::invalid("/party", e)))
        .transpose()
}

pub async fn create_key(
    _: Operator,
    State(state): State<Arc<ApiState>>,
    body: Body<KeyInput>,
) -> Result<Response, Problem> {
    let now = state.clock.now();
    let expires_at = body
        .value
        .expires_at
        .as_deref()
        .map(|t| {
            Timestamp::parse(t)
                .map_err(|_| Problem::invalid("/expiresAt", "must be an RFC 3339 time"))
        })
        .transpose()?;
    if expires_at.is_some_and(|t| t <= now) {
        return Err(Problem::invalid("/expiresAt", "must be in the future"));
    }
    let (plain, stored) = keys::create(state.keys.as_ref(), body.value.party, expires_at, now)
        .await
        .map_err(|e| refused(e, "key"))?;
    let created = CreatedKey {
        view: KeyView::of(&stored, now),
        key: plain.expose().to_owned(),
    };
    let location = format!("/v1/admin/keys/{}", stored.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(created),
    )
        .into_response())
}

pub async fn list_keys(
    _: Operator,
    State(state): State<Arc<ApiState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Page<KeyView>>, Problem> {
    super::cursor::known_only(&q, &["party"])?;
    let party = party_filter(&q)?;
    let now = state.clock.now();
    let found = keys::list(state.keys.as_ref(), party)
        .await
        .map_err(|e| refused(e, "key"))?;
    Ok(Json(Page {
        data: found.iter().map(|k| KeyView::of(k, now)).collect(),
        next_cursor: None,
    }))
}

pub async fn revoke_key(
    _: Operator,
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    keys::revoke(state.keys.as_ref(), &id, state.clock.now())
        .await
        .map_err(|e| refused(e, "key"))?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_subscriptions(
    _: Operator,
    State(state): State<Arc<ApiState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Page<SubscriptionView>>, Problem> {
    super::cursor::known_only(&q, &["party", "limit", "cursor"])?;
    let scope = match party_filter(&q)? {
        Some(p) => Scope::Party(p),
        None => Scope::Operator,
    };
    let all = ops::list(state.config.as_ref(), scope)
        .await
        .map_err(|e| refused(e, "subscription"))?;
    Ok(Json(page(&state, all, &q, "operator")?))
}
