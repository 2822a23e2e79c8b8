//! `/v1/admin/config-items`: every kind of config item, any party's, as an
//! operator writes them with `hubhooks config put` — status mappings, black
//! lists, invoice settings, notice destinations and subscriptions, in the
//! data contract's form (docs/data-contract.md), one item a request, with
//! the same rules (`operations::config_items`).
use super::body::Body;
use super::operator::Operator;
use super::subscriptions::{answer, refused};
use super::views::Page;
use super::{ApiState, Problem, cursor, etag};
use crate::config::{ConfigItem, KINDS, REVISION};
use crate::operations::config_items as ops;
use crate::ports::{Expect, StoredItem};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

const WHAT: &str = "config item";

/// A stored config item.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfigItemView {
    pub id: String,
    pub kind: String,
    /// The item as stored, in the data contract's form (a subscription's
    /// operational state, `disabledReason`, `disabledAt`, `failingSince`,
    /// beside it).
    pub item: serde_json::Map<String, Value>,
    /// Why the router refuses it today, if it does (the field and the
    /// rule): an item stored before a rule changed, or written by hand.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

impl ConfigItemView {
    fn of(id: &str, value: &Value) -> Self {
        let mut item = value.as_object().cloned().unwrap_or_default();
        item.remove(REVISION);
        let problem = ops::read(id, value.clone()).err().map(|e| e.to_string());
        ConfigItemView {
            id: id.to_owned(),
            kind: item
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            item,
            problem,
        }
    }
}

/// `GET /v1/admin/config-items`: by id, a page at a time; `kind`, `party`.
pub async fn list(
    _: Operator,
    State(state): State<Arc<ApiState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Page<ConfigItemView>>, Problem> {
    cursor::known_only(&q, &["kind", "party", "limit", "cursor"])?;
    let kind = q.get("kind").map(String::as_str);
    if let Some(k) = kind
        && !KINDS.contains(&k)
    {
        return Err(Problem::invalid(
            "/kind",
            format!("must be one of {}", KINDS.join(", ")),
        ));
    }
    let party = super::admin::party_filter(&q)?;
    let all = ops::list(state.config.as_ref(), kind, party)
        .await
        .map_err(|e| refused(e, WHAT))?;
    let now = state.clock.now();
    let (items, next_cursor) = cursor::page_of(
        all,
        |r| r.id.clone(),
        &q,
        "operator",
        &state.cursor_key,
        now,
    )?;
    Ok(Json(Page {
        data: items
            .iter()
            .map(|r| ConfigItemView::of(&r.id, &r.value))
            .collect(),
        next_cursor,
    }))
}

/// `GET /v1/admin/config-items/{id}`, with its `ETag`.
pub async fn get(
    _: Operator,
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let stored = ops::get(state.store.as_ref(), &id)
        .await
        .map_err(|e| refused(e, WHAT))?;
    Ok(answer(
        StatusCode::OK,
        &stored,
        ConfigItemView::of(&id, &stored.value),
    ))
}

/// `PUT /v1/admin/config-items/{id}`: made (201) or replaced (200), under
/// `If-Match` when given.
pub async fn put(
    who: Operator,
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body<Value>,
) -> Result<Response, Problem> {
    let item: ConfigItem = ops::read(&id, body.value).map_err(|e| refused(e, WHAT))?;
    // The SSRF guard, as where a party writes a destination.
    match &item {
        ConfigItem::Subscription(s) => super::egress::check(&state, s).await?,
        ConfigItem::NoticeDestination(n) => {
            if let crate::config::Destination::Http(h) = &n.destination {
                super::egress::refuse(&state, "/destination/url", &h.url).await?;
            }
        }
        _ => {}
    }
    let existing = state.store.item(&id).await.map_err(|e| {
        tracing::error!(error = %e, "the config table could not be read");
        Problem::unavailable()
    })?;
    let expect = match &existing {
        Some(stored) => etag::expect(&headers, stored, WHAT)?,
        None if headers.contains_key(header::IF_MATCH) => {
            return Err(Problem::precondition_failed(WHAT));
        }
        None => Expect::Absent,
    };
    ops::put(
        state.store.as_ref(),
        state.config.as_ref(),
        state.secret_values.as_ref(),
        &item,
        expect,
    )
    .await
    .map_err(|e| refused(e, WHAT))?;
    tracing::info!(operator = %who.0, item = %id, kind = item.kind(), "config item written");
    let stored: StoredItem = ops::get(state.store.as_ref(), &id)
        .await
        .map_err(|e| refused(e, WHAT))?;
    let status = if existing.is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let mut response = answer(status, &stored, ConfigItemView::of(&id, &stored.value));
    if status == StatusCode::CREATED
        && let Ok(at) = format!("/v1/admin/config-items/{id}").parse()
    {
        response.headers_mut().insert(header::LOCATION, at);
    }
    Ok(response)
}

/// `DELETE /v1/admin/config-items/{id}`, under `If-Match` when given, with
/// the secrets the API kept for it (`api/<id>/…`); secrets an operator
/// named stay (`hubhooks secret delete`).
pub async fn delete(
    who: Operator,
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let stored = ops::get(state.store.as_ref(), &id)
        .await
        .map_err(|e| refused(e, WHAT))?;
    let expect = etag::expect(&headers, &stored, WHAT)?;
    ops::delete(state.store.as_ref(), &id, expect)
        .await
        .map_err(|e| refused(e, WHAT))?;
    super::tokens::forget_secrets(&state, &id).await;
    tracing::info!(operator = %who.0, item = %id, "config item deleted");
    Ok(StatusCode::NO_CONTENT.into_response())
}
