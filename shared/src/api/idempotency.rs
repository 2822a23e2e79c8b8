//! `Idempotency-Key` on creates: the same key with the same body gets the
//! same answer (the first request's, replayed, `Idempotent-Replayed:
//! true`); the same key with another body is refused (422); a key whose
//! first request is still running answers 409. Keys are the caller's own
//! (scoped by party) and kept a day. Only a success is kept: after a
//! refusal or a failure the key is free again, so a corrected retry runs.
use super::{ApiState, Problem};
use crate::ports::{Claim, KeptAnswer};
use crate::timestamp::Timestamp;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ring::digest::{SHA256, digest};

/// The header.
pub const HEADER: &str = "idempotency-key";
/// How long a key holds its answer.
pub const KEPT: chrono::Duration = chrono::Duration::hours(24);
/// The longest key taken.
const MAX_KEY: usize = 255;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The key as sent, if any; a malformed one is refused.
pub fn key(headers: &HeaderMap) -> Result<Option<String>, Problem> {
    let Some(v) = headers.get(HEADER) else {
        return Ok(None);
    };
    let refused = || {
        Problem::new(
            StatusCode::BAD_REQUEST,
            format!("Idempotency-Key must be 1 to {MAX_KEY} printable ASCII characters"),
        )
    };
    let k = v.to_str().map_err(|_| refused())?.trim();
    if k.is_empty() || k.len() > MAX_KEY || !k.chars().all(|c| (' '..='~').contains(&c)) {
        return Err(refused());
    }
    Ok(Some(k.to_owned()))
}

/// Runs `create` once per (owner, key, body): the first time, keeping
/// its answer if it succeeded; after that, the kept answer.
pub async fn once<F, Fut>(
    state: &ApiState,
    owner: &str,
    key: Option<String>,
    path: &str,
    raw: &[u8],
    create: F,
) -> Result<Response, Problem>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<Response, Problem>>,
{
    let Some(key) = key else {
        return create().await;
    };
    // The store never sees the key itself, only its hash under the party.
    let id = format!("{owner}/{}", hex(digest(&SHA256, key.as_bytes()).as_ref()));
    let request = [b"POST ", path.as_bytes(), b"\n", raw].concat();
    let request = hex(digest(&SHA256, &request).as_ref());
    let now = state.clock.now();
    let claim = state
        .idempotency
        .claim(&id, &request, now, Timestamp(now.0 + KEPT))
        .await
        .map_err(unavailable)?;
    match claim {
        Claim::Claimed => {}
        Claim::Pending { digest } | Claim::Done { digest, .. } if digest != request => {
            return Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "this Idempotency-Key was used for another request: use a new key for a new request",
            ));
        }
        Claim::Pending { .. } => {
            return Err(Problem::conflict(
                "a request with this Idempotency-Key is still being run, or was interrupted: try again shortly; if it persists, see GET /v1/subscriptions and use a new key",
            ));
        }
        Claim::Done { answer, .. } => return Ok(replay(answer)),
    }
    let answer = create().await;
    let response = match answer {
        Ok(r) if r.status().is_success() => r,
        other => {
            if let Err(e) = state.idempotency.release(&id).await {
                tracing::error!(error = %e, "could not release an idempotency key");
            }
            return other;
        }
    };
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, super::body::MAX_BODY * 4)
        .await
        .map_err(|_| Problem::unavailable())?;
    let text = |name| {
        parts
            .headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .map(str::to_owned)
    };
    let kept = KeptAnswer {
        status: parts.status.as_u16(),
        body: String::from_utf8_lossy(&bytes).into_owned(),
        location: text(header::LOCATION),
        etag: text(header::ETAG),
    };
    if let Err(e) = state.idempotency.complete(&id, &kept).await {
        // Done but not kept: a retry with this key will say it is running
        // until the key expires; the creation itself stands.
        tracing::error!(error = %e, "could not keep an idempotent answer");
    }
    Ok(Response::from_parts(parts, Body::from(bytes)))
}

/// A kept answer, as first given.
fn replay(answer: KeptAnswer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut r = (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        answer.body,
    )
        .into_response();
    let h = r.headers_mut();
    for (name, value) in [
        (header::LOCATION, answer.location),
        (header::ETAG, answer.etag),
    ] {
        if let Some(v) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            h.insert(name, v);
        }
    }
    h.insert("idempotent-replayed", HeaderValue::from_static("true"));
    r
}

fn unavailable(e: impl std::fmt::Display) -> Problem {
    tracing::error!(error = %e, "the idempotency store could not be reached");
    Problem::unavailable()
}
