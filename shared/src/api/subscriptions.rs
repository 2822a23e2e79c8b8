//! `/v1/subscriptions`: a party's own subscriptions, as the API shows and
//! takes them. Secrets are never named by a party (it could name another
//! party's): the API keeps each subscription's secrets under
//! `api/<id>/…`, generates its signing key (shown once) and stores the
//! token values a party gives, write-only.
use super::body::{Body, from_value};
use super::tokens::{AuthInput, forget_secrets, secret_name, store_tokens, with_tokens};
use super::views::{CreatedSubscription, Page, RotatedKey, SubscriptionView};
use super::{ApiState, Problem, Scoped, etag};
use crate::config::{Auth, ConfigItem, Destination, HttpDestination, Subscription, TypeSettings};
use crate::event::{EventType, Version};
use crate::ids::SubscriptionId;
use crate::operations::{OpError, Scope, subscriptions as ops};
use crate::ports::{Expect, StoredItem};
use crate::transition::TransitionRule;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// A subscription as a party writes it (create, replace; a patch is
/// merged into this form of the stored one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubscriptionInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Types, or one wildcard: `allCurrent` or `any`.
    pub event_types: Vec<crate::config::Registered>,
    /// Payload version for every type; absent, v3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<Version>,
    /// Where every type goes unless `perType` says otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<HttpDestination>,
    /// Per-type destination and version, by event type name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub per_type: BTreeMap<String, TypeInput>,
    /// Conditions for `statusTransition`; any one matching fires it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transitions: Vec<TransitionRule>,
    /// Conditions on the rendered body; a webhook failing them is not sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<crate::config::Filter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    /// Its own retry schedule in seconds, each delay used once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<crate::config::RetryDelays>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordering: Option<crate::config::Ordering>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_per_second: Option<u32>,
    /// Token values sent with every webhook; write-only (never shown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<AuthInput>,
    /// How webhooks are signed; absent: Standard Webhooks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<crate::config::Signature>,
}

/// One type's own destination and version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TypeInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<HttpDestination>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<Version>,
    /// Conditions on this type's body instead of the subscription's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<crate::config::Filter>,
}

/// Why a subscription was disabled.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DisableInput {
    /// Shown with the subscription while it is disabled (1–500 characters).
    pub reason: String,
}

/// The longest disable reason.
const MAX_REASON: usize = 500;

impl DisableInput {
    /// The reason, trimmed, if it is 1 to 500 characters.
    pub fn reason(&self) -> Result<String, Problem> {
        let reason = self.reason.trim();
        if reason.is_empty() || reason.chars().count() > MAX_REASON {
            return Err(Problem::invalid(
                "/reason",
                format!("must be 1 to {MAX_REASON} characters"),
            ));
        }
        Ok(reason.to_owned())
    }
}

/// The stored item as the API shows it (secrets as presence only); one
/// that no longer parses is the operator's to mend, said without detail.
pub fn view(stored: &StoredItem) -> Result<SubscriptionView, Problem> {
    let id = stored.value["id"].as_str().unwrap_or_default();
    SubscriptionView::of_stored(id, &stored.value).map_err(|e| {
        tracing::error!(subscription = id, error = %e, "a stored subscription does not parse");
        Problem::unavailable()
    })
}

/// The writable part of a stored subscription (what a patch merges into).
fn input_of(s: &Subscription) -> Result<SubscriptionInput, Problem> {
    let http = |d: &Option<Destination>, at: &str| match d {
        None => Ok(None),
        Some(Destination::Http(h)) => Ok(Some(h.clone())),
        Some(Destination::Amqp(_)) => Err(Problem::conflict(format!(
            "{at} is an AMQP destination, which an operator manages; ask one to change it"
        ))),
    };
    let mut per_type = BTreeMap::new();
    for (t, settings) in &s.per_type {
        let destination = http(&settings.destination, &format!("perType.{t}"))?;
        per_type.insert(
            t.to_string(),
            TypeInput {
                destination,
                filter: settings.filter.clone(),
                version: settings.version,
            },
        );
    }
    Ok(SubscriptionInput {
        description: s.description.clone(),
        event_types: s.event_types.clone(),
        version: s.version,
        destination: http(&s.destination, "the destination")?,
        per_type,
        transitions: s.transitions.clone(),
        filter: s.filter.clone(),
        max_attempts: s.max_attempts,
        retry: s.retry.clone(),
        ordering: s.ordering,
        max_per_second: s.max_per_second,
        auth: None,
        signature: s.signature.clone(),
    })
}

/// `input` applied to `base` (a new subscription, or the stored one whose
/// id, party, state and secrets it keeps), checked as `config put` checks.
async fn apply(
    state: &ApiState,
    base: Subscription,
    input: SubscriptionInput,
) -> Result<Subscription, Problem> {
    let mut per_type = BTreeMap::new();
    for (name, i) in input.per_type {
        // Keys by name here, so a wrong one is named with its path.
        let t: EventType = name.parse().map_err(|_| {
            Problem::invalid(
                format!("/perType/{}", name.replace('~', "~0").replace('/', "~1")),
                format!(
                    "unknown event type `{name}` (known: {})",
                    EventType::known()
                ),
            )
        })?;
        let settings = TypeSettings {
            destination: i.destination.map(Destination::Http),
            version: i.version,
            filter: i.filter,
        };
        per_type.insert(t, settings);
    }
    let auth = with_tokens(base.auth.clone(), base.id.as_str(), input.auth.as_ref())?;
    let s = Subscription {
        description: input.description,
        event_types: input.event_types,
        version: input.version,
        destination: input.destination.map(Destination::Http),
        per_type,
        transitions: input.transitions,
        filter: input.filter,
        max_attempts: input.max_attempts,
        retry: input.retry,
        ordering: input.ordering,
        max_per_second: input.max_per_second,
        auth,
        signature: input.signature,
        ..base
    };
    let item = ConfigItem::Subscription(s);
    item.validate().map_err(invalid)?;
    if let Some(e) = crate::config::unencoded_urls(std::slice::from_ref(&item)).pop() {
        return Err(invalid(e));
    }
    let ConfigItem::Subscription(s) = item else {
        unreachable!("built above as a subscription")
    };
    super::egress::check(state, &s).await?;
    Ok(s)
}

/// A config error as a problem naming the field by pointer.
pub(super) fn invalid(e: crate::config::ConfigError) -> Problem {
    Problem::invalid(super::problem::pointer(&e.field), e.message)
}

/// An operation's refusal as the API's answer.
pub(super) fn refused(e: OpError, what: &str) -> Problem {
    match e {
        OpError::NotFound { .. } => Problem::not_found(what),
        OpError::Conflict(_) => Problem::precondition_failed(what),
        OpError::Invalid(e) => invalid(e),
        OpError::Refused(why) => Problem::conflict(why),
        OpError::Io(e) => {
            tracing::error!(error = %e, "a store could not be reached");
            Problem::unavailable()
        }
    }
}

pub(super) fn unavailable(e: impl std::fmt::Display) -> Problem {
    tracing::error!(error = %e, "a store could not be reached");
    Problem::unavailable()
}

/// A representation with its `ETag`.
pub(super) fn answer(status: StatusCode, stored: &StoredItem, body: impl Serialize) -> Response {
    let mut response = (status, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&stored.etag) {
        response.headers_mut().insert(header::ETAG, v);
    }
    response
}

pub async fn list(
    scoped: Scoped,
    State(state): State<Arc<ApiState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Page<SubscriptionView>>, Problem> {
    super::cursor::known_only(&q, &["limit", "cursor"])?;
    let own = ops::list(state.config.as_ref(), scoped.0)
        .await
        .map_err(|e| refused(e, "subscription"))?;
    Ok(Json(page(&state, own, &q, &scoped.label())?))
}

/// One page of stored subscriptions (by id; `limit`, `cursor`) as views;
/// one that no longer parses is logged and left out: the others show.
pub(super) fn page(
    state: &ApiState,
    stored: Vec<crate::config::RawConfigItem>,
    q: &HashMap<String, String>,
    who: &str,
) -> Result<Page<SubscriptionView>, Problem> {
    let now = state.clock.now();
    let (items, next_cursor) =
        super::cursor::page_of(stored, |r| r.id.clone(), q, who, &state.cursor_key, now)?;
    let data = items
        .iter()
        .filter_map(|raw| match SubscriptionView::of_stored(&raw.id, &raw.value) {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::error!(subscription = %raw.id, error = %e, "a stored subscription does not parse");
                None
            }
        })
        .collect();
    Ok(Page { data, next_cursor })
}

pub async fn get(
    scoped: Scoped,
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let stored = ops::get(state.store.as_ref(), scoped.0, &id)
        .await
        .map_err(|e| refused(e, "subscription"))?;
    Ok(answer(StatusCode::OK, &stored, view(&stored)?))
}

/// Creates a subscription (once per `Idempotency-Key`, if one is sent).
/// Creates a subscription (once per `Idempotency-Key`, if one is sent):
/// the caller's own, or, for an operator, the party `?party=` names.
pub async fn create(
    scoped: Scoped,
    State(state): State<Arc<ApiState>>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body<SubscriptionInput>,
) -> Result<Response, Problem> {
    let party = match scoped.0 {
        Scope::Party(p) => {
            super::cursor::known_only(&q, &[])?;
            p
        }
        Scope::Operator => {
            super::cursor::known_only(&q, &["party"])?;
            let given = q.get("party").ok_or_else(|| {
                Problem::invalid("/party", "an operator names the party: ?party=partner:1413")
            })?;
            given
                .parse()
                .map_err(|e: String| Problem::invalid("/party", e))?
        }
    };
    let key = super::idempotency::key(&headers)?;
    let raw = body.raw.clone();
    let path = format!("{}/subscriptions", scoped.base());
    let path = path.as_str();
    super::idempotency::once(&state, &scoped.label(), key, path, &raw, || {
        create_new(&state, party, path, body.value)
    })
    .await
}

async fn create_new(
    state: &ApiState,
    party: crate::party::Party,
    path: &str,
    input: SubscriptionInput,
) -> Result<Response, Problem> {
    let id = format!("sub_{}", uuid::Uuid::new_v4().simple());
    let base = Subscription {
        id: SubscriptionId::new(id.clone()),
        party,
        enabled: true,
        event_types: Vec::new(),
        version: None,
        destination: None,
        per_type: BTreeMap::new(),
        transitions: Vec::new(),
        filter: None,
        max_attempts: None,
        retry: None,
        ordering: None,
        max_per_second: None,
        auth: Some(Auth {
            signing_secret: Some(secret_name(&id, "signing")),
            ..Auth::default()
        }),
        description: None,
        signature: None,
        disabled_reason: None,
        disabled_at: None,
        failing_since: None,
    };
    let tokens = input.auth.clone();
    let subscription = apply(state, base, input).await?;
    let now = state.clock.now();
    let signing = state
        .secrets
        .generate(&secret_name(&id, "signing"), now)
        .await
        .map_err(unavailable)?
        .ok_or_else(Problem::unavailable)?;
    store_tokens(state, &id, tokens.as_ref()).await?;
    let scope = Scope::Party(party);
    if let Err(e) = ops::write(state.store.as_ref(), scope, subscription, Expect::Absent).await {
        forget_secrets(state, &id).await;
        return Err(refused(e, "subscription"));
    }
    let stored = ops::get(state.store.as_ref(), scope, &id)
        .await
        .map_err(|e| refused(e, "subscription"))?;
    let created = CreatedSubscription {
        subscription: view(&stored)?,
        signing_secret: signing,
    };
    let mut response = answer(StatusCode::CREATED, &stored, created);
    if let Ok(v) = HeaderValue::from_str(&format!("{path}/{id}")) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

pub async fn replace(
    scoped: Scoped,
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body<SubscriptionInput>,
) -> Result<Response, Problem> {
    write_input(&state, scoped, &id, &headers, |_| Ok(body.value)).await
}

pub async fn patch(
    scoped: Scoped,
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body<Value>,
) -> Result<Response, Problem> {
    let patch = body.value;
    if !patch.is_object() {
        return Err(Problem::invalid(
            "",
            "a merge patch (RFC 7396) is an object",
        ));
    }
    write_input(&state, scoped, &id, &headers, move |current| {
        let mut merged = serde_json::to_value(current).unwrap_or_default();
        super::body::merge(&mut merged, &patch);
        from_value(merged)
    })
    .await
}

/// Reads the subscription, makes its new input from the current one, and
/// writes it if unchanged since (`If-Match`, when given).
async fn write_input(
    state: &ApiState,
    scoped: Scoped,
    id: &str,
    headers: &HeaderMap,
    make: impl FnOnce(SubscriptionInput) -> Result<SubscriptionInput, Problem>,
) -> Result<Response, Problem> {
    let scope = scoped.0;
    let stored = ops::get(state.store.as_ref(), scope, id)
        .await
        .map_err(|e| refused(e, "subscription"))?;
    let expect = etag::expect(headers, &stored, "subscription")?;
    let current = ops::parse(&stored).map_err(|e| refused(e, "subscription"))?;
    let input = make(input_of(&current)?)?;
    let tokens = input.auth.clone();
    let next = apply(state, current, input).await?;
    store_tokens(state, id, tokens.as_ref()).await?;
    ops::write(state.store.as_ref(), scope, next, expect)
        .await
        .map_err(|e| refused(e, "subscription"))?;
    let stored = ops::get(state.store.as_ref(), scope, id)
        .await
        .map_err(|e| refused(e, "subscription"))?;
    Ok(answer(StatusCode::OK, &stored, view(&stored)?))
}

pub async fn delete(
    scoped: Scoped,
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, Problem> {
    let scope = scoped.0;
    let stored = ops::get(state.store.as_ref(), scope, &id)
        .await
        .map_err(|e| refused(e, "subscription"))?;
    let expect = etag::expect(&headers, &stored, "subscription")?;
    ops::delete(state.store.as_ref(), scope, &id, expect)
        .await
        .map_err(|e| refused(e, "subscription"))?;
    forget_secrets(&state, &id).await;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn enable(
    scoped: Scoped,
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    set_enabled(&state, scoped, &id, true, "").await
}

pub async fn disable(
    scoped: Scoped,
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
    body: Body<DisableInput>,
) -> Result<Response, Problem> {
    let reason = body.value.reason()?;
    set_enabled(&state, scoped, &id, false, &reason).await
}

async fn set_enabled(
    state: &ApiState,
    scoped: Scoped,
    id: &str,
    enabled: bool,
    reason: &str,
) -> Result<Response, Problem> {
    let scope = scoped.0;
    ops::set_enabled(state.store.as_ref(), scope, id, enabled, reason)
        .await
        .map_err(|e| refused(e, "subscription"))?;
    let stored = ops::get(state.store.as_ref(), scope, id)
        .await
        .map_err(|e| refused(e, "subscription"))?;
    Ok(answer(StatusCode::OK, &stored, view(&stored)?))
}

/// A rotation's grace period.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RotateInput {
    /// How long the current key goes on signing beside the new one
    /// (0 to 604800 seconds, 7 days; default 86400, a day).
    #[serde(default = "default_grace")]
    pub grace_seconds: u64,
}

fn default_grace() -> u64 {
    86_400
}

/// Rotates the subscription's signing key: the new key signs at once, the
/// current one beside it for the grace period (webhooks carry both
/// signatures), then only the new one. The new key is shown this once. A
/// key another party's subscription also uses is an operator's to rotate.
pub async fn rotate(
    scoped: Scoped,
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
    body: Body<RotateInput>,
) -> Result<Response, Problem> {
    let grace = std::time::Duration::from_secs(body.value.grace_seconds);
    if grace > crate::rotation::MAX_GRACE {
        return Err(Problem::invalid(
            "/graceSeconds",
            "must be at most 604800 (7 days)",
        ));
    }
    let scope = scoped.0;
    let stored = ops::get(state.store.as_ref(), scope, &id)
        .await
        .map_err(|e| refused(e, "subscription"))?;
    let current = ops::parse(&stored).map_err(|e| refused(e, "subscription"))?;
    let now = state.clock.now();
    let name = current.auth.as_ref().and_then(|a| a.signing_secret.clone());
    let (key, retire_at) = match name {
        Some(name) => {
            shared_only_within(&state, scoped, &id, &name).await?;
            let (key, rotated) = state
                .secrets
                .rotate(&name, grace, now)
                .await
                .map_err(|e| match e {
                    crate::ports::RotateError::Raced(_) => Problem::conflict(
                        "the signing key changed while it was rotated; nothing was written, try again",
                    ),
                    other => unavailable(other),
                })?;
            (key, rotated.retire_at)
        }
        None => {
            // No key yet: its first one, kept by the API for it.
            let name = secret_name(&id, "signing");
            let key = state
                .secrets
                .generate(&name, now)
                .await
                .map_err(unavailable)?
                .ok_or_else(Problem::unavailable)?;
            let mut next = current.clone();
            let mut auth = next.auth.take().unwrap_or_default();
            auth.signing_secret = Some(name);
            next.auth = Some(auth);
            let expect = Expect::Etag(stored.etag.clone());
            ops::write(state.store.as_ref(), scope, next, expect)
                .await
                .map_err(|e| refused(e, "subscription"))?;
            (key, None)
        }
    };
    let rotated = RotatedKey {
        signing_secret: key,
        previous_key_retires_at: retire_at,
    };
    Ok((StatusCode::OK, Json(rotated)).into_response())
}

/// Refuses a rotation of a secret that a subscription of another party
/// also names (one party must not change another's signatures).
async fn shared_only_within(
    state: &ApiState,
    scoped: Scoped,
    id: &str,
    name: &str,
) -> Result<(), Problem> {
    if name.starts_with(&format!("api/{id}/")) {
        return Ok(());
    }
    let all = ops::list(state.config.as_ref(), Scope::Operator)
        .await
        .map_err(|e| refused(e, "subscription"))?;
    let shared = all.iter().any(|raw| {
        raw.value["auth"]["signingSecret"].as_str() == Some(name)
            && !scoped.0.reaches(ops::owner(&raw.value))
    });
    if shared {
        return Err(Problem::conflict(
            "this subscription's signing key is shared beyond your subscriptions; an operator rotates it",
        ));
    }
    Ok(())
}
