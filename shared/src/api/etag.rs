//! Entity tags: `If-Match` on a write makes it conditional on the item not
//! having changed since the caller read it (a lost race answers 412).
use super::Problem;
use crate::ports::{Expect, StoredItem};
use axum::http::{HeaderMap, header};

/// What a write expects, given its `If-Match` and what is stored now: a
/// tag that is not the current one fails at once; one that is makes the
/// write conditional on it (a change in between still fails it).
pub fn expect(headers: &HeaderMap, stored: &StoredItem, what: &str) -> Result<Expect, Problem> {
    let Some(given) = headers.get(header::IF_MATCH) else {
        return Ok(Expect::Any);
    };
    let given = given
        .to_str()
        .map_err(|_| Problem::precondition_failed(what))?
        .trim();
    if given == "*" {
        return Ok(Expect::Any);
    }
    let matches = given
        .split(',')
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == stored.etag);
    if matches {
        Ok(Expect::Etag(stored.etag.clone()))
    } else {
        Err(Problem::precondition_failed(what))
    }
}
