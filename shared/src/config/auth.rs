//! How a subscription's receiver recognises hubhooks: by names of secrets,
//! never by their values (those stay in the secrets table, read only by the
//! sender).
use super::FieldError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Auth {
    /// Sent as `X-Token: <value>` (docs/operations.md, "Secrets").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_token_secret: Option<String>,
    /// Sent as `Authorization: Bearer <value>` (docs/operations.md, "Secrets").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_secret: Option<String>,
    /// `whsec_…` keys: Standard Webhooks signatures (`webhook-signature`),
    /// one per key while keys rotate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_secret: Option<String>,
    /// An OAuth2 access token (client credentials), sent as
    /// `Authorization: Bearer`; instead of `bearerSecret`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth2: Option<super::OAuth2>,
    /// A client certificate presented to HTTPS receivers (mutual TLS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtls: Option<Mtls>,
}

/// Mutual TLS: secrets holding PEM text, by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Mtls {
    /// The client certificate, then any intermediates (PEM).
    pub certificate_secret: String,
    /// The certificate's private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key_secret: String,
    /// The CA that signed the receiver's server certificate, when it is a
    /// private one (PEM); then only that CA is trusted for this receiver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_ca_secret: Option<String>,
}

impl Auth {
    /// Every secret named, with its field.
    pub fn names(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("xTokenSecret", self.x_token_secret.as_deref()),
            ("bearerSecret", self.bearer_secret.as_deref()),
            ("signingSecret", self.signing_secret.as_deref()),
            (
                "oauth2.clientSecret",
                self.oauth2.as_ref().map(|o| o.client_secret.as_str()),
            ),
            (
                "mtls.certificateSecret",
                self.mtls.as_ref().map(|m| m.certificate_secret.as_str()),
            ),
            (
                "mtls.keySecret",
                self.mtls.as_ref().map(|m| m.key_secret.as_str()),
            ),
            (
                "mtls.serverCaSecret",
                self.mtls
                    .as_ref()
                    .and_then(|m| m.server_ca_secret.as_deref()),
            ),
        ]
        .into_iter()
        .filter_map(|(f, n)| n.map(|n| (f, n)))
    }

    pub fn validate(&self) -> Result<(), FieldError> {
        if self.names().next().is_none() {
            return Err(FieldError::new(
                "",
                "name at least one of xTokenSecret, bearerSecret, signingSecret, oauth2, mtls",
            ));
        }
        if let Some(o) = &self.oauth2 {
            if self.bearer_secret.is_some() {
                return Err(FieldError::new(
                    "oauth2",
                    "both send Authorization: Bearer; give oauth2 or bearerSecret, not both",
                ));
            }
            o.validate().map_err(|e| e.under("oauth2"))?;
        }
        for (field, name) in self.names() {
            validate_secret_name(name).map_err(|e| FieldError::new(field, e.to_string()))?;
        }
        Ok(())
    }
}

/// Secret names are ids, not values: a short run of letters, digits and
/// `._-/`. Anything else is most likely a pasted secret.
/// A secret name that looks like a value, or is no name at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "must name a secret in the secrets table (letters, digits, `._-/`, at most 128), not hold its value"
)]
pub struct SecretNameError;

pub fn validate_secret_name(name: &str) -> Result<(), SecretNameError> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && !name.starts_with("whsec_")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'));
    if ok { Ok(()) } else { Err(SecretNameError) }
}
