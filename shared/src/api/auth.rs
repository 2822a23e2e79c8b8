//! Who is calling: a party, by its key (`Authorization: Bearer hhk_…`), or
//! by its portal session (the portal's cookie, on requests that carry the
//! portal's header: a cross-site form cannot set one, so together with the
//! `SameSite=Strict` cookie no other site can write as the party).
//! Every refusal is the same 401; the key never reaches a log or an error.
use super::{ApiState, Problem};
use crate::operations::Scope;
use crate::operations::portal;
use crate::party::Party;
use crate::party_key::{self, Purpose};
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use std::sync::Arc;

/// The party a request speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller(pub Party);

impl FromRequestParts<Arc<ApiState>> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<ApiState>,
    ) -> Result<Self, Self::Rejection> {
        let (presented, purpose) = presented(parts).ok_or_else(Problem::unauthorized)?;
        let id = party_key::id_of(presented).ok_or_else(Problem::unauthorized)?;
        let stored = state.keys.key(id).await.map_err(|e| {
            tracing::error!(key_id = %id, error = %e, "could not read the party key");
            Problem::unavailable()
        })?;
        let now = state.clock.now();
        match portal::decide(presented, stored.as_ref(), purpose, now) {
            Ok(party) => {
                if let Err(e) = state.keys.used(id, now).await {
                    tracing::warn!(key_id = %id, error = %e, "could not note the key's use");
                }
                Ok(Caller(party))
            }
            Err(why) => {
                tracing::info!(key_id = %id, refused = %why, "party key refused");
                Err(Problem::unauthorized())
            }
        }
    }
}

/// The key a request presents, and what it must have been made for: a
/// bearer key, else the portal's session cookie with the portal's header.
fn presented(parts: &Parts) -> Option<(&str, Purpose)> {
    if let Some(v) = parts.headers.get(AUTHORIZATION) {
        let key = v.to_str().ok()?.strip_prefix("Bearer ")?.trim();
        return Some((key, Purpose::Api));
    }
    if !super::portal::from_portal(&parts.headers) {
        return None;
    }
    super::portal::session_cookie(&parts.headers).map(|k| (k, Purpose::PortalSession))
}

/// On whose behalf a request acts: under `/v1/admin/` an operator (every
/// party's items), elsewhere the party of its key (only its own). The same
/// handler serves both; the operations draw the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scoped(pub Scope);

/// Routes an operator reaches with the party routes' handlers.
pub const ADMIN_PREFIX: &str = "/v1/admin/";

impl Scoped {
    /// Where this caller's routes are: `/v1` or `/v1/admin`.
    pub fn base(self) -> &'static str {
        match self.0 {
            Scope::Operator => "/v1/admin",
            Scope::Party(_) => "/v1",
        }
    }

    /// Who asks, as a paging cursor or an idempotency key is bound to.
    pub fn label(self) -> String {
        match self.0 {
            Scope::Operator => "operator".to_owned(),
            Scope::Party(p) => p.to_string(),
        }
    }
}

impl FromRequestParts<Arc<ApiState>> for Scoped {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<ApiState>,
    ) -> Result<Self, Self::Rejection> {
        if parts.uri.path().starts_with(ADMIN_PREFIX) {
            let who = super::operator::Operator::from_request_parts(parts, state).await?;
            // Who changed what across parties is the operators' record.
            tracing::info!(operator = %who.0, method = %parts.method, path = parts.uri.path(), "operator request");
            return Ok(Scoped(Scope::Operator));
        }
        let Caller(party) = Caller::from_request_parts(parts, state).await?;
        Ok(Scoped(Scope::Party(party)))
    }
}
