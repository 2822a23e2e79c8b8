//! `kind: "invoiceSettings"`: a provider's invoice statuses, and which of
//! them send the invoice to the partner.
use super::{ConfigError, require_id};
use crate::ids::ProviderId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A service provider's invoice statuses (its settings in the hub): an
/// invoice webhook goes to the partner only while the invoice is in a status
/// flagged `sendToClient`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InvoiceSettings {
    pub id: String,
    pub provider_id: ProviderId,
    pub statuses: BTreeMap<String, InvoiceStatus>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InvoiceStatus {
    /// The "Send to client" flag.
    pub send_to_client: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl InvoiceSettings {
    pub fn sends(&self, status: &str) -> bool {
        self.statuses.get(status).is_some_and(|s| s.send_to_client)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        require_id(&self.id)?;
        if self.provider_id.0 <= 0 {
            return Err(ConfigError::new(
                &self.id,
                "providerId",
                "must be a positive hub id",
            ));
        }
        if self.statuses.keys().any(|k| k.trim().is_empty()) {
            return Err(ConfigError::new(
                &self.id,
                "statuses",
                "a status key must not be empty",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::config::ConfigItem;
    use crate::config::tests::raw;
    use serde_json::json;

    #[test]
    fn invoice_settings_validate() {
        let ok = raw(
            json!({"id": "inv", "kind": "invoiceSettings", "providerId": 1004,
            "statuses": {"ready": {"sendToClient": true}, "draft": {"sendToClient": false}}}),
        );
        let ConfigItem::InvoiceSettings(i) = ConfigItem::parse(&ok).unwrap() else {
            panic!()
        };
        assert!(i.sends("ready"));
        assert!(!i.sends("draft"));
        assert!(!i.sends("unknown"));
        let bad = raw(
            json!({"id": "inv", "kind": "invoiceSettings", "providerId": 1004,
            "statuses": {"ready": {"sendToClient": "yes"}}}),
        );
        assert_eq!(
            ConfigItem::parse(&bad).unwrap_err().to_string(),
            "config item `inv`, field `statuses.ready.sendToClient`: invalid type: string \"yes\", expected a boolean"
        );
    }
}
