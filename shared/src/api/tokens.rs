//! What a party gives to be recognised by its receiver: token values and
//! OAuth2 client credentials, stored write-only in the secrets table under
//! `api/<id>/…` (a party never names a secret: it could name another
//! party's).
use super::{ApiState, Problem};
use crate::config::{Auth, ClientAuth, OAuth2};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Token values, stored in the secrets table and sent as headers, and
/// OAuth2 client credentials for the receiver's token endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthInput {
    /// Sent as `Authorization: Bearer <value>`; replaces `oauth2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_token: Option<String>,
    /// Sent as `X-Token: <value>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_token: Option<String>,
    /// An access token from your token endpoint (client credentials),
    /// sent as `Authorization: Bearer`; replaces `bearerToken` (and a
    /// `bearerToken` given later replaces it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth2: Option<OAuth2Input>,
}

/// OAuth2 client credentials as a party gives them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OAuth2Input {
    /// Your token endpoint (https).
    pub token_url: String,
    pub client_id: String,
    /// Write-only (never shown): required when OAuth2 is first set; left
    /// out, the stored one is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// `basic` (default) or `post`.
    #[serde(default)]
    pub client_auth: ClientAuth,
}

/// The secret name the API keeps a subscription's `what` under.
pub(super) fn secret_name(id: &str, what: &str) -> String {
    format!("api/{id}/{what}")
}

/// What the API keeps for item `id`, each a secret of its own.
const KEPT: [&str; 4] = ["signing", "bearer", "x-token", "oauth2-client"];

/// `auth` naming the secrets the API keeps for item `id`'s tokens, where
/// `given` sets any (one `Authorization` at a time: a bearer token and
/// OAuth2 replace each other); none when it names nothing. A first OAuth2
/// without its client secret is refused.
pub(super) fn with_tokens(
    auth: Option<Auth>,
    id: &str,
    given: Option<&AuthInput>,
) -> Result<Option<Auth>, Problem> {
    let mut auth = auth.unwrap_or_default();
    if let Some(given) = given {
        if given.bearer_token.is_some() {
            auth.bearer_secret = Some(secret_name(id, "bearer"));
            auth.oauth2 = None;
        }
        if given.x_token.is_some() {
            auth.x_token_secret = Some(secret_name(id, "x-token"));
        }
        if let Some(o) = &given.oauth2 {
            if o.client_secret.is_none() && auth.oauth2.is_none() {
                return Err(Problem::invalid(
                    "/auth/oauth2/clientSecret",
                    "required when OAuth2 is first set",
                ));
            }
            auth.bearer_secret = None;
            auth.oauth2 = Some(OAuth2 {
                token_url: o.token_url.clone(),
                client_id: o.client_id.clone(),
                client_secret: secret_name(id, "oauth2-client"),
                scopes: o.scopes.clone(),
                audience: o.audience.clone(),
                client_auth: o.client_auth,
            });
        }
    }
    Ok(Some(auth).filter(|a| a.names().next().is_some()))
}

/// Stores the token values given (write-only).
pub(super) async fn store_tokens(
    state: &ApiState,
    id: &str,
    tokens: Option<&AuthInput>,
) -> Result<(), Problem> {
    let Some(tokens) = tokens else { return Ok(()) };
    let now = state.clock.now();
    let client_secret = tokens
        .oauth2
        .as_ref()
        .and_then(|o| o.client_secret.as_ref());
    for (what, field, value) in [
        ("bearer", "bearerToken", tokens.bearer_token.as_ref()),
        ("x-token", "xToken", tokens.x_token.as_ref()),
        ("oauth2-client", "oauth2/clientSecret", client_secret),
    ] {
        if let Some(value) = value {
            if value.is_empty() || value.len() > 4096 {
                return Err(Problem::invalid(
                    format!("/auth/{field}"),
                    "must be 1 to 4096 characters",
                ));
            }
            state
                .secrets
                .put(&secret_name(id, what), std::slice::from_ref(value), now)
                .await
                .map_err(|e| {
                    tracing::error!(error = %e, "a store could not be reached");
                    Problem::unavailable()
                })?;
        }
    }
    Ok(())
}

/// Removes the secrets the API kept for a subscription (best effort: a
/// leftover secret names nothing and is listed by `secret list`).
pub(super) async fn forget_secrets(state: &ApiState, id: &str) {
    for what in KEPT {
        if let Err(e) = state.secrets.delete(&secret_name(id, what)).await {
            tracing::warn!(subscription = id, error = %e, "a secret was left behind");
        }
    }
}
