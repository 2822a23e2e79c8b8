//! `kind: "noticeDestination"`: where a party's operators hear about its
//! subscriptions (disabled, a delivery dead-lettered, a streak of failures
//! begun). One per party; signed and authenticated as its webhooks are.
use super::{Auth, ConfigError, Destination, require_id, require_party};
use crate::party::Party;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NoticeDestination {
    pub id: String,
    /// The party whose subscriptions' notices go here.
    pub party: Party,
    /// An HTTP destination (notices are not sent over AMQP).
    pub destination: Destination,
    /// Token, bearer and signing secrets, by name, as for a subscription.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<Auth>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl NoticeDestination {
    pub fn validate(&self) -> Result<(), ConfigError> {
        require_id(&self.id)?;
        require_party(&self.id, "party", &self.party)?;
        self.destination
            .validate()
            .map_err(|e| e.under("destination").of_item(self.id.as_str()))?;
        if !matches!(self.destination, Destination::Http(_)) {
            return Err(ConfigError::new(
                &self.id,
                "destination",
                "notices go over HTTP: give a `url`",
            ));
        }
        if let Some(auth) = &self.auth {
            auth.validate()
                .map_err(|e| e.under("auth").of_item(self.id.as_str()))?;
            if auth.oauth2.is_some() || auth.mtls.is_some() {
                let field = if auth.oauth2.is_some() {
                    "auth.oauth2"
                } else {
                    "auth.mtls"
                };
                return Err(ConfigError::new(
                    &self.id,
                    field,
                    "notices carry tokens from the secrets table (bearerSecret, xTokenSecret); OAuth2 and mutual TLS are for subscriptions",
                ));
            }
        }
        Ok(())
    }
}
