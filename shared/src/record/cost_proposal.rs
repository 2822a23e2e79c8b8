//! A `CostProposals` item.
use super::{RecordError, parse};
use crate::ids::ProviderId;
use crate::party::Actor;
use crate::timestamp::Timestamp;
use serde::Deserialize;
use serde_json::{Number, Value};

/// One cost proposal (`CostProposals` table). Prices keep the number the
/// table holds (`280` stays `280`, `162.5` stays `162.5`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CostProposal {
    pub id: i64,
    /// The case guid.
    pub guid: String,
    #[serde(default)]
    pub external_id: Option<String>,
    pub name: String,
    pub price_net: Number,
    pub currency: String,
    #[serde(default)]
    pub is_active: Option<bool>,
    #[serde(default)]
    pub date_valid_until: Option<Timestamp>,
    #[serde(default)]
    pub reaction: Option<String>,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub reaction_date: Option<Timestamp>,
    #[serde(default)]
    pub reaction_name: Option<String>,
    #[serde(default)]
    pub details: Vec<CostLine>,
    pub created_at: Timestamp,
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
    pub service_provider_id: ProviderId,
    /// Who added it; absent, the service provider (who makes proposals).
    #[serde(default)]
    pub changed_by: Option<Actor>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CostLine {
    pub line: i64,
    pub text: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub price_net: Number,
    pub quantity: Number,
}

impl CostProposal {
    pub fn from_json(value: Value) -> Result<Self, RecordError> {
        parse("cost proposal", value)
    }

    pub fn updated_at(&self) -> Timestamp {
        self.updated_at.unwrap_or(self.created_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn errors_name_the_attribute_path() {
        let err = CostProposal::from_json(json!({
            "id": 1, "guid": "g", "name": "RUR", "priceNet": 1, "currency": "SEK",
            "createdAt": "2019-11-25T11:30:29.000Z", "serviceProviderId": 1,
            "details": [{"line": 1, "text": "t", "type": "RUR", "priceNet": "280", "quantity": 1}]
        }))
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "cost proposal: attribute `details[0].priceNet`: invalid type: string \"280\", expected a JSON number"
        );
    }
}
