//! RFC 9457 problem details: every refusal of the API, as
//! `application/problem+json`, naming the field and the rule where there
//! is one; never an internal message or a stack trace.
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    #[serde(skip)]
    pub status: StatusCode,
    /// `about:blank`-style: the status's phrase.
    pub title: String,
    #[serde(rename = "status")]
    pub code: u16,
    pub detail: String,
    /// A JSON Pointer to the field refused, when a field was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
}

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Problem {
            status,
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            code: status.as_u16(),
            detail: detail.into(),
            pointer: None,
        }
    }

    /// No key, a malformed one, an unknown, revoked or expired one: all
    /// alike, so a caller learns nothing about keys it does not hold.
    pub fn unauthorized() -> Self {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "a valid party key is required: Authorization: Bearer hhk_…",
        )
    }

    /// Missing, or another party's: the same answer.
    pub fn not_found(what: &str) -> Self {
        Problem::new(StatusCode::NOT_FOUND, format!("no {what} with this id"))
    }

    /// Ours: said without its inner message (that is logged).
    pub fn unavailable() -> Self {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the service could not answer now; try again",
        )
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = serde_json::to_string(&self).unwrap_or_default();
        let mut response = (self.status, body).into_response();
        if let Ok(v) = header::HeaderValue::from_str("application/problem+json") {
            response.headers_mut().insert(header::CONTENT_TYPE, v);
        }
        if self.status == StatusCode::UNAUTHORIZED
            && let Ok(v) = header::HeaderValue::from_str("Bearer")
        {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        response
    }
}
