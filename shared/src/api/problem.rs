//! RFC 9457 problem details: every refusal of the API, as
//! `application/problem+json`, naming the field and the rule where there
//! is one; never an internal message or a stack trace.
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
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

    /// A field refused: where (a JSON Pointer into the body) and by which
    /// rule.
    pub fn invalid(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        Problem {
            pointer: Some(pointer.into()),
            ..Problem::new(StatusCode::UNPROCESSABLE_ENTITY, detail)
        }
    }

    /// The same problem, pointing at a field (or a query parameter).
    pub fn at(self, pointer: impl Into<String>) -> Self {
        Problem {
            pointer: Some(pointer.into()),
            ..self
        }
    }

    /// A body that is not JSON at all.
    pub fn malformed(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::BAD_REQUEST, detail)
    }

    /// An `If-Match` that no longer matches, or a create that lost a race.
    pub fn precondition_failed(what: &str) -> Self {
        Problem::new(
            StatusCode::PRECONDITION_FAILED,
            format!(
                "the {what} changed since it was read (its ETag is not the If-Match given); read it again"
            ),
        )
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::CONFLICT, detail)
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

/// A serde path (`destination.url`, `eventTypes[1]`) as a JSON Pointer
/// (`/destination/url`, `/eventTypes/1`), `~` and `/` escaped.
pub fn pointer(path: &str) -> String {
    let mut out = String::new();
    for part in path.split('.').filter(|p| !p.is_empty() && *p != "?") {
        let mut rest = part;
        // `name[1][2]`: the name, then each index.
        let name_end = rest.find('[').unwrap_or(rest.len());
        let (name, indexes) = rest.split_at(name_end);
        if !name.is_empty() {
            out.push('/');
            out.push_str(&name.replace('~', "~0").replace('/', "~1"));
        }
        rest = indexes;
        while let Some(open) = rest.find('[') {
            let close = rest[open..].find(']').map_or(rest.len(), |c| open + c);
            out.push('/');
            out.push_str(&rest[open + 1..close]);
            rest = rest.get(close + 1..).unwrap_or("");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::pointer;

    #[test]
    fn serde_paths_become_json_pointers() {
        for (path, want) in [
            ("", ""),
            (".", ""),
            ("destination.url", "/destination/url"),
            ("eventTypes[1]", "/eventTypes/1"),
            (
                "perType.newStatus.destination",
                "/perType/newStatus/destination",
            ),
            ("transitions[0].from", "/transitions/0/from"),
            ("headers.a/b~c", "/headers/a~1b~0c"),
        ] {
            assert_eq!(pointer(path), want, "{path}");
        }
    }
}
