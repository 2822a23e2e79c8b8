//! `kind: "statusMapping"`: how a partner names a provider's statuses.
use super::{ConfigError, require_id};
use crate::ids::{PartnerId, ProviderId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Provider status key → the partner's key (and name) for that status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StatusMapping {
    pub id: String,
    pub partner_id: PartnerId,
    /// Limits the mapping to one provider's statuses; absent, it applies to
    /// every provider the partner works with. A provider-specific entry wins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_id: Option<ProviderId>,
    pub statuses: BTreeMap<String, MappedStatus>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MappedStatus {
    pub key: String,
    /// The partner's name for the status; absent, the provider's name is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl StatusMapping {
    pub fn validate(&self) -> Result<(), ConfigError> {
        require_id(&self.id)?;
        if self.partner_id.0 <= 0 {
            return Err(ConfigError::new(
                &self.id,
                "partnerId",
                "must be a positive hub id",
            ));
        }
        if matches!(self.provider_id, Some(p) if p.0 <= 0) {
            return Err(ConfigError::new(
                &self.id,
                "providerId",
                "must be a positive hub id",
            ));
        }
        if self.statuses.is_empty() {
            return Err(ConfigError::new(
                &self.id,
                "statuses",
                "must map at least one status key",
            ));
        }
        for (from, to) in &self.statuses {
            if from.trim().is_empty() {
                return Err(ConfigError::new(
                    &self.id,
                    "statuses",
                    "a provider key must not be empty",
                ));
            }
            if to.key.trim().is_empty() {
                return Err(ConfigError::new(
                    &self.id,
                    format!("statuses.{from}.key"),
                    "must not be empty",
                ));
            }
        }
        Ok(())
    }
}
