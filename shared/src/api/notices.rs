//! `/v1/notice-destination`: where the calling party hears about its
//! subscriptions (disabled, a delivery dead-lettered, a failure streak
//! begun). One per party; its signing key is made by the API and shown
//! once, its token values are write-only, as for a subscription.
use super::subscriptions::{answer, invalid, refused, unavailable};
use super::tokens::{AuthInput, forget_secrets, secret_name, store_tokens, with_tokens};
use super::views::AuthView;
use super::{ApiState, Caller, Problem, body::Body, etag};
use crate::config::{Auth, ConfigItem, Destination, HttpDestination, NoticeDestination};
use crate::operations::{Scope, notices as ops};
use crate::ports::{DeliveryError, Expect};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

const WHAT: &str = "notice destination";

/// A notice destination as a party writes it.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NoticeDestinationInput {
    /// Where notices are sent (HTTP only).
    pub destination: HttpDestination,
    #[serde(default)]
    pub description: Option<String>,
    /// Token values sent with every notice; write-only (never shown).
    #[serde(default)]
    pub auth: Option<AuthInput>,
}

/// A notice destination as the API shows it (secrets as presence only).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NoticeDestinationView {
    pub id: String,
    pub party: crate::party::Party,
    pub destination: Destination,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub auth: AuthView,
}

impl NoticeDestinationView {
    fn of(n: &NoticeDestination) -> Self {
        NoticeDestinationView {
            id: n.id.clone(),
            party: n.party,
            destination: n.destination.clone(),
            description: n.description.clone(),
            auth: AuthView::of(n.auth.as_ref()),
        }
    }
}

/// A notice destination just made: its signing key, shown this once.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedNoticeDestination {
    #[serde(flatten)]
    pub notice_destination: NoticeDestinationView,
    /// `whsec_…`: verify notices with it (Standard Webhooks). Not shown
    /// again.
    pub signing_secret: String,
}

/// A test notice and what the destination answered.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NoticeTestResult {
    /// The `webhook-id` of the `notice.test` sent.
    pub notice_id: String,
    pub delivered: bool,
    /// The destination's HTTP status, when it answered.
    pub status: Option<u16>,
    pub duration_ms: Option<u64>,
    /// The first KiB of its answer.
    pub answer: String,
    pub error: Option<String>,
}

pub async fn get(caller: Caller, State(state): State<Arc<ApiState>>) -> Result<Response, Problem> {
    let (stored, current) = ops::get(state.config.as_ref(), state.store.as_ref(), caller.0)
        .await
        .map_err(|e| refused(e, WHAT))?;
    Ok(answer(
        StatusCode::OK,
        &stored,
        NoticeDestinationView::of(&current),
    ))
}

/// Sets the party's notice destination: made (201, with its signing key)
/// when it has none, replaced (200, keeping its keys) when it has one.
pub async fn put(
    caller: Caller,
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    body: Body<NoticeDestinationInput>,
) -> Result<Response, Problem> {
    let existing = match ops::get(state.config.as_ref(), state.store.as_ref(), caller.0).await {
        Ok(found) => Some(found),
        Err(crate::operations::OpError::NotFound { .. }) => None,
        Err(e) => return Err(refused(e, WHAT)),
    };
    let input = body.value;
    let (base, expect) = match &existing {
        Some((stored, current)) => (current.clone(), etag::expect(&headers, stored, WHAT)?),
        None => {
            if headers.contains_key(header::IF_MATCH) {
                return Err(Problem::precondition_failed(WHAT));
            }
            let id = ops::id_for(caller.0);
            let base = NoticeDestination {
                auth: Some(Auth {
                    signing_secret: Some(secret_name(&id, "signing")),
                    ..Auth::default()
                }),
                id,
                party: caller.0,
                destination: Destination::Http(input.destination.clone()),
                description: None,
            };
            (base, Expect::Absent)
        }
    };
    let id = base.id.clone();
    let next = apply(&state, base, &input).await?;
    let now = state.clock.now();
    let signing = if existing.is_none() {
        let name = secret_name(&id, "signing");
        let made = state.secrets.generate(&name, now).await;
        // Taken: a leftover of a deleted destination; start afresh.
        let made = match made.map_err(unavailable)? {
            Some(key) => key,
            None => {
                forget_secrets(&state, &id).await;
                let again = state.secrets.generate(&name, now).await;
                again
                    .map_err(unavailable)?
                    .ok_or_else(Problem::unavailable)?
            }
        };
        Some(made)
    } else {
        None
    };
    store_tokens(&state, &id, input.auth.as_ref()).await?;
    let scope = Scope::Party(caller.0);
    if let Err(e) = ops::write(state.store.as_ref(), scope, next, expect).await {
        if existing.is_none() {
            forget_secrets(&state, &id).await;
        }
        return Err(refused(e, WHAT));
    }
    let (stored, current) = ops::read(state.store.as_ref(), caller.0, &id)
        .await
        .map_err(|e| refused(e, WHAT))?;
    let view = NoticeDestinationView::of(&current);
    Ok(match signing {
        Some(signing_secret) => answer(
            StatusCode::CREATED,
            &stored,
            CreatedNoticeDestination {
                notice_destination: view,
                signing_secret,
            },
        ),
        None => answer(StatusCode::OK, &stored, view),
    })
}

/// `input` applied to `base`, checked as `config put` checks and by the
/// SSRF guard.
async fn apply(
    state: &ApiState,
    base: NoticeDestination,
    input: &NoticeDestinationInput,
) -> Result<NoticeDestination, Problem> {
    let next = NoticeDestination {
        destination: Destination::Http(input.destination.clone()),
        description: input.description.clone(),
        auth: with_tokens(base.auth.clone(), &base.id, input.auth.as_ref())?,
        ..base
    };
    let item = ConfigItem::NoticeDestination(next);
    item.validate().map_err(invalid)?;
    if let Some(e) = crate::config::unencoded_urls(std::slice::from_ref(&item)).pop() {
        return Err(invalid(e));
    }
    let ConfigItem::NoticeDestination(next) = item else {
        unreachable!("built above as a notice destination")
    };
    super::egress::refuse(state, "/destination/url", &input.destination.url).await?;
    Ok(next)
}

pub async fn delete(
    caller: Caller,
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
) -> Result<StatusCode, Problem> {
    let (stored, current) = ops::get(state.config.as_ref(), state.store.as_ref(), caller.0)
        .await
        .map_err(|e| refused(e, WHAT))?;
    let expect = etag::expect(&headers, &stored, WHAT)?;
    ops::delete(state.store.as_ref(), &current, expect)
        .await
        .map_err(|e| refused(e, WHAT))?;
    forget_secrets(&state, &current.id).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends a `notice.test` to the destination now, once, and shows what it
/// answered.
pub async fn test(
    caller: Caller,
    State(state): State<Arc<ApiState>>,
) -> Result<Json<NoticeTestResult>, Problem> {
    let tested = ops::test(
        state.config.as_ref(),
        state.store.as_ref(),
        state.secret_values.as_ref(),
        state.transport.as_ref(),
        state.clock.as_ref(),
        caller.0,
    )
    .await
    .map_err(|e| refused(e, WHAT))?;
    let ms = |d: std::time::Duration| Some(d.as_millis() as u64);
    let (delivered, status, duration_ms, answer, error) = match tested.result {
        Ok(r) => (true, Some(r.status), ms(r.latency), r.excerpt, None),
        Err(DeliveryError::Rejected {
            status,
            excerpt,
            latency,
            ..
        }) => (
            false,
            Some(status),
            ms(latency),
            excerpt.clone(),
            Some(format!("the destination answered {status}")),
        ),
        Err(e) => (false, None, None, String::new(), Some(e.to_string())),
    };
    Ok(Json(NoticeTestResult {
        notice_id: tested.notice.id,
        delivered,
        status,
        duration_ms,
        answer,
        error,
    }))
}
