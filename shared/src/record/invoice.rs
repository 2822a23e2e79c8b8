//! An `Invoices` item.
use super::{RecordError, parse};
use crate::timestamp::Timestamp;
use serde::Deserialize;
use serde_json::{Map, Number, Value};

/// One invoice (`Invoices` table). Invoices come from the service provider
/// and are only ever sent to the partner.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invoice {
    pub id: i64,
    /// The case guid.
    pub guid: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub is_paid: bool,
    #[serde(default)]
    pub is_sent: bool,
    /// The provider's invoice status; its settings say which ones are sent.
    pub status: String,
    #[serde(default)]
    pub details: Vec<InvoiceLine>,
    #[serde(default)]
    pub due_date: Option<Timestamp>,
    pub currency: String,
    #[serde(default)]
    pub is_active: Option<bool>,
    pub price_net: Number,
    pub created_at: Timestamp,
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
    #[serde(default)]
    pub custom_data: Option<Map<String, Value>>,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub linked_invoice: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceLine {
    pub name: String,
    pub count: Number,
    pub vat_rate: Number,
    pub vat_amount: Number,
    pub price_excl_vat: Number,
    pub price_incl_vat: Number,
    pub total_amount_excl_vat: Number,
    pub total_amount_incl_vat: Number,
}

impl Invoice {
    pub fn from_json(value: Value) -> Result<Self, RecordError> {
        parse("invoice", value)
    }

    pub fn updated_at(&self) -> Timestamp {
        self.updated_at.unwrap_or(self.created_at)
    }
}
