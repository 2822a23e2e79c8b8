//! Paging cursors: what the next page starts after, signed (HMAC-SHA256)
//! with the deployment's cursor key and bound to the caller and the query,
//! so a cursor cannot be forged, altered, moved to another query or
//! another party, or used after it expires.
use super::Problem;
use crate::timestamp::Timestamp;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// A page's size when the caller names none, and the most it may name.
pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 100;

/// `limit` from a query string: 1 to [`MAX_LIMIT`], default [`DEFAULT_LIMIT`].
pub fn limit(q: &HashMap<String, String>) -> Result<usize, Problem> {
    match q.get("limit") {
        None => Ok(DEFAULT_LIMIT),
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            _ => Err(Problem::invalid(
                "/limit",
                format!("must be 1 to {MAX_LIMIT}"),
            )),
        },
    }
}

/// Refuses a parameter not in `known`, naming it.
pub fn known_only(q: &HashMap<String, String>, known: &[&str]) -> Result<(), Problem> {
    match q.keys().find(|k| !known.contains(&k.as_str())) {
        Some(unknown) => Err(Problem::invalid(
            format!("/{unknown}"),
            format!("unknown parameter (known: {})", known.join(", ")),
        )),
        None => Ok(()),
    }
}

/// The query a cursor is bound to: who asks and every parameter but the
/// cursor, in order.
pub fn fingerprint(who: &str, q: &HashMap<String, String>) -> String {
    let sorted: BTreeMap<&String, &String> = q.iter().filter(|(k, _)| *k != "cursor").collect();
    format!(
        "{who}?{}",
        serde_json::to_string(&sorted).unwrap_or_default()
    )
}

/// One page of `items` (sorted by key), after the cursor's position if
/// `q` gives one; the cursor of the next page when there is more.
pub fn page_of<T>(
    items: Vec<T>,
    key_of: impl Fn(&T) -> String,
    q: &HashMap<String, String>,
    who: &str,
    key: &ring::hmac::Key,
    now: Timestamp,
) -> Result<(Vec<T>, Option<String>), Problem> {
    let limit = limit(q)?;
    let query = fingerprint(who, q);
    let after = q
        .get("cursor")
        .map(|c| open(key, c, &query, now).map(|p| p.after))
        .transpose()?;
    let mut rest = items
        .into_iter()
        .filter(|i| after.as_ref().is_none_or(|a| key_of(i) > *a))
        .peekable();
    let page: Vec<T> = rest.by_ref().take(limit).collect();
    let next = match (page.last(), rest.peek()) {
        (Some(last), Some(_)) => Some(seal(
            key,
            &Position {
                query,
                after: key_of(last),
                expires: Timestamp(now.0 + LIFETIME),
            },
        )),
        _ => None,
    };
    Ok((page, next))
}

/// How long a cursor can be used.
pub const LIFETIME: chrono::Duration = chrono::Duration::hours(1);

/// What a cursor carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// The query it continues (caller and parameters, without the cursor).
    pub query: String,
    /// The last item of the page: its sort key.
    pub after: String,
    pub expires: Timestamp,
}

pub fn seal(key: &ring::hmac::Key, position: &Position) -> String {
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(position).unwrap_or_default());
    let tag = ring::hmac::sign(key, body.as_bytes());
    format!("{body}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

/// The position a cursor names, if it is one this deployment made for this
/// query and it has not expired.
pub fn open(
    key: &ring::hmac::Key,
    token: &str,
    query: &str,
    now: Timestamp,
) -> Result<Position, Problem> {
    let refused = || {
        Problem::new(
            axum::http::StatusCode::BAD_REQUEST,
            "the cursor is not one this query gave, or it expired: start again without it",
        )
        .at("/cursor")
    };
    let (body, tag) = token.split_once('.').ok_or_else(refused)?;
    let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| refused())?;
    ring::hmac::verify(key, body.as_bytes(), &tag).map_err(|_| refused())?;
    let bytes = URL_SAFE_NO_PAD.decode(body).map_err(|_| refused())?;
    let position: Position = serde_json::from_slice(&bytes).map_err(|_| refused())?;
    if position.query != query || position.expires <= now {
        return Err(refused());
    }
    Ok(position)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_opens_only_unchanged_for_its_query_before_it_expires() {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"k1");
        let other = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"k2");
        let now = Timestamp::parse("2026-12-05T10:00:00.000Z").unwrap();
        let p = Position {
            query: "partner:1413?subscription=a".into(),
            after: "2026-12-05T09:00:00.000Z d-1".into(),
            expires: Timestamp(now.0 + LIFETIME),
        };
        let token = seal(&key, &p);
        assert_eq!(open(&key, &token, &p.query, now).unwrap(), p);
        let mut tampered = token.clone();
        tampered.replace_range(3..4, if &token[3..4] == "A" { "B" } else { "A" });
        let later = Timestamp(now.0 + LIFETIME);
        for (what, key, token, query, at) in [
            ("tampered", &key, tampered.as_str(), p.query.as_str(), now),
            ("another key", &other, token.as_str(), p.query.as_str(), now),
            ("another query", &key, token.as_str(), "partner:9999?", now),
            ("expired", &key, token.as_str(), p.query.as_str(), later),
            ("no tag", &key, "abc", p.query.as_str(), now),
        ] {
            let e = open(key, token, query, at).unwrap_err();
            assert_eq!(e.code, 400, "{what}");
            assert_eq!(e.pointer.as_deref(), Some("/cursor"), "{what}");
        }
    }
}
