//! `kind: "blackList"`: status keys a party never sees.
use super::{ConfigError, require_id, require_party};
use crate::party::Party;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Status keys a party never sees: nothing fires for them and they are
/// skipped when finding the previous status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BlackList {
    pub id: String,
    pub party: Party,
    pub keys: BTreeSet<String>,
}

impl BlackList {
    pub fn validate(&self) -> Result<(), ConfigError> {
        require_id(&self.id)?;
        require_party(&self.id, "party", &self.party)?;
        if self.keys.iter().any(|k| k.trim().is_empty()) {
            return Err(ConfigError::new(
                &self.id,
                "keys",
                "a key must not be empty",
            ));
        }
        Ok(())
    }
}
