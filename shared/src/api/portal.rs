//! The partner portal, served by the API itself: its pages and assets
//! (embedded in the binary, so no CDN and no second server), the exchange
//! of a portal link for a session cookie, and operators' portal links.
//!
//! Safe by construction: every portal answer carries a Content-Security-
//! Policy without inline script; the session cookie is `HttpOnly` and
//! `SameSite=Strict` (`Secure` behind HTTPS); the API takes it only with
//! the portal's header ([`HEADER`]), which no cross-site form can send.
use super::body::Body;
use super::operator::Operator;
use super::{ApiState, Caller, Problem};
use crate::operations::portal::{self, LinkRefusal};
use crate::party::Party;
use crate::party_key::Purpose;
use crate::timestamp::Timestamp;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The header every portal request carries: the API takes the session
/// cookie only with it.
pub const HEADER: &str = "x-hubhooks-portal";
/// The session cookie.
pub const COOKIE: &str = "hh_portal";

/// What the browser may run and load: only the portal's own files.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

/// The portal's files: name, media type, content.
const ASSETS: [(&str, &str, &str); 9] = [
    (
        "portal.css",
        "text/css",
        include_str!("../../portal/portal.css"),
    ),
    (
        "app.js",
        "text/javascript",
        include_str!("../../portal/app.js"),
    ),
    (
        "api.js",
        "text/javascript",
        include_str!("../../portal/api.js"),
    ),
    (
        "dom.js",
        "text/javascript",
        include_str!("../../portal/dom.js"),
    ),
    (
        "subscriptions.js",
        "text/javascript",
        include_str!("../../portal/subscriptions.js"),
    ),
    (
        "deliveries.js",
        "text/javascript",
        include_str!("../../portal/deliveries.js"),
    ),
    (
        "chart.js",
        "text/javascript",
        include_str!("../../portal/chart.js"),
    ),
    (
        "catalogue.js",
        "text/javascript",
        include_str!("../../portal/catalogue.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_str!("../../portal/favicon.svg"),
    ),
];
const INDEX: &str = include_str!("../../portal/index.html");

/// Whether a request carries the portal's header (a cross-site form
/// cannot): without it the session cookie opens nothing.
pub fn from_portal(headers: &HeaderMap) -> bool {
    headers.get(HEADER).is_some_and(|v| v.as_bytes() == b"1")
}

/// The session cookie's value in `headers`, if there is one.
pub fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

/// The headers of every portal answer.
fn guarded(mut res: Response, kind: &str, cache: &str) -> Response {
    let h = res.headers_mut();
    let set = |h: &mut HeaderMap, name: header::HeaderName, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(name, v);
        }
    };
    set(h, header::CONTENT_TYPE, kind);
    set(h, header::CACHE_CONTROL, cache);
    set(h, header::CONTENT_SECURITY_POLICY, CSP);
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    res
}

/// `/portal`: to the portal's page.
pub async fn root() -> Redirect {
    Redirect::permanent("/portal/")
}

/// The portal's one page (`/portal/`, and `/portal/enter` where a link
/// lands): never cached, so a new release is seen at once.
pub async fn page() -> Response {
    guarded(
        INDEX.into_response(),
        "text/html; charset=utf-8",
        "no-cache",
    )
}

/// A portal file, by name; revalidated by its `ETag` after five minutes.
pub async fn asset(Path(name): Path<String>, headers: HeaderMap) -> Response {
    let Some(i) = ASSETS.iter().position(|(n, _, _)| *n == name) else {
        return Problem::not_found("portal file").into_response();
    };
    let (_, kind, content) = &ASSETS[i];
    let tag = &tags()[i];
    let cache = "public, max-age=300";
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == tag);
    let mut res = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (*content).into_response()
    };
    if let Ok(v) = HeaderValue::from_str(tag) {
        res.headers_mut().insert(header::ETAG, v);
    }
    let kind = if kind.starts_with("text/") {
        format!("{kind}; charset=utf-8")
    } else {
        (*kind).to_owned()
    };
    guarded(res, &kind, cache)
}

/// A portal link to open.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OpenInput {
    pub link: String,
}

/// The session a portal page runs in.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    pub party: Party,
    pub expires_at: Option<Timestamp>,
}

/// Each asset's `ETag` (a quoted SHA-256 prefix), in [`ASSETS`]' order:
/// made once per instance, not per request.
fn tags() -> &'static [String] {
    static TAGS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    TAGS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|(_, _, content)| {
                let digest = ring::digest::digest(&ring::digest::SHA256, content.as_bytes());
                let hex: String = digest.as_ref()[..12]
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                format!("\"{hex}\"")
            })
            .collect()
    })
}

/// Whether the caller reached us over HTTPS (API Gateway says so in
/// `X-Forwarded-Proto`): the cookie is then `Secure`.
fn over_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

fn cookie(value: &str, max_age: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}")
}

/// `POST /portal/session`: opens a link (spending it) for a session
/// cookie. A link that does not open answers 401 saying why: expired, used
/// or not a link.
pub async fn open(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    body: Body<OpenInput>,
) -> Result<Response, Problem> {
    if !from_portal(&headers) {
        return Err(Problem::unauthorized());
    }
    let now = state.clock.now();
    let opened = portal::open(state.keys.as_ref(), body.value.link.trim(), now)
        .await
        .map_err(|e| super::subscriptions::refused(e, "portal link"))?;
    let (session, stored) = opened.map_err(|why: LinkRefusal| {
        tracing::info!(refused = why.code(), "portal link refused");
        Problem::new(StatusCode::UNAUTHORIZED, why.to_string()).at(format!("/link/{}", why.code()))
    })?;
    tracing::info!(party = %stored.party, session = %stored.id, "portal session opened");
    let max_age = portal::SESSION_TTL.num_seconds();
    let set = cookie(session.expose(), max_age, over_https(&headers));
    Ok((
        StatusCode::CREATED,
        [
            (header::SET_COOKIE, set),
            (header::CACHE_CONTROL, "no-store".into()),
        ],
        Json(SessionView {
            party: stored.party,
            expires_at: stored.expires_at,
        }),
    )
        .into_response())
}

/// `GET /portal/session`: whose session this is, and until when.
pub async fn session(
    Caller(party): Caller,
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
) -> Result<Json<SessionView>, Problem> {
    let id = session_cookie(&headers)
        .and_then(crate::party_key::id_of)
        .ok_or_else(Problem::unauthorized)?;
    let stored = state
        .keys
        .key(id)
        .await
        .map_err(|_| Problem::unavailable())?
        .filter(|k| k.purpose == Purpose::PortalSession)
        .ok_or_else(Problem::unauthorized)?;
    Ok(Json(SessionView {
        party,
        expires_at: stored.expires_at,
    }))
}

/// `DELETE /portal/session`: signs out: the session is revoked and its
/// cookie cleared.
pub async fn close(
    _: Caller,
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    if let Some(id) = session_cookie(&headers).and_then(crate::party_key::id_of)
        && let Err(e) = state.keys.revoke(id, state.clock.now()).await
    {
        tracing::error!(session = %id, error = %e, "could not revoke a portal session");
        return Err(Problem::unavailable());
    }
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, cookie("", 0, over_https(&headers)))],
    )
        .into_response())
}

/// A portal link to make.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PortalLinkInput {
    /// The one party the link opens the portal for.
    pub party: Party,
    /// How long the link may wait to be opened, in seconds: default 3600,
    /// at most 86400. The session it opens lasts 8 hours.
    #[serde(default)]
    pub ttl_seconds: Option<i64>,
}

/// A portal link just made: give `url` to the party; it opens once.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PortalLink {
    /// The link's key id (`/v1/admin/keys/{id}/revoke` withdraws it).
    pub id: String,
    pub party: Party,
    pub url: String,
    pub expires_at: Timestamp,
}

/// The portal's address for a link key, under the API's `base` URL. The
/// key travels in the fragment, which browsers send to no server: it stays
/// out of access logs, proxies and `Referer`.
pub fn link_url(base: &str, key: &str) -> String {
    format!("{}/portal/enter#{key}", base.trim_end_matches('/'))
}

/// The API's base URL as the caller reached it.
fn base_of(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let scheme = if over_https(headers) { "https" } else { "http" };
    format!("{scheme}://{host}")
}

/// `POST /v1/admin/portal-links`.
pub async fn create_link(
    _: Operator,
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    body: Body<PortalLinkInput>,
) -> Result<Response, Problem> {
    let ttl = match body.value.ttl_seconds {
        None => portal::DEFAULT_LINK_TTL,
        Some(s) => {
            let ttl = chrono::Duration::seconds(s);
            portal::check_ttl(ttl).map_err(|e| Problem::invalid("/ttlSeconds", e))?;
            ttl
        }
    };
    let now = state.clock.now();
    let (key, stored) = portal::create_link(state.keys.as_ref(), body.value.party, ttl, now)
        .await
        .map_err(|e| super::subscriptions::refused(e, "portal link"))?;
    let link = PortalLink {
        id: stored.id.clone(),
        party: stored.party,
        url: link_url(&base_of(&headers), key.expose()),
        expires_at: stored.expires_at.unwrap_or(now),
    };
    Ok((
        StatusCode::CREATED,
        [(header::CACHE_CONTROL, "no-store")],
        Json(link),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_read_among_others_and_written_strict() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; hh_portal=hhk_x_y"),
        );
        h.append(header::COOKIE, HeaderValue::from_static("b=2"));
        assert_eq!(session_cookie(&h), Some("hhk_x_y"));
        let mut other = HeaderMap::new();
        other.append(header::COOKIE, HeaderValue::from_static("xhh_portal=1"));
        assert_eq!(session_cookie(&other), None);
        assert_eq!(
            cookie("v", 60, true),
            "hh_portal=v; Path=/; Max-Age=60; HttpOnly; SameSite=Strict; Secure"
        );
        assert_eq!(
            link_url("https://api.example/", "hhk_a_b"),
            "https://api.example/portal/enter#hhk_a_b"
        );
    }

    #[test]
    fn every_asset_is_served_with_its_type_and_the_policy() {
        for (name, kind, content) in ASSETS {
            assert!(!content.is_empty(), "{name}");
            assert!(kind.contains('/'), "{name}");
        }
        // No inline script or style in the page: the policy would block it.
        assert!(!INDEX.contains("<script>") && !INDEX.contains("style="));
        assert!(!INDEX.contains("http://") && !INDEX.contains("https://"));
    }
}
