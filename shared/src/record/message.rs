//! A `Messages` item.
use super::{RecordError, parse};
use crate::party::PartyKind;
use crate::timestamp::Timestamp;
use serde::Deserialize;
use serde_json::Value;

/// One message of a case (`Messages` table). `senderType` says which side
/// wrote it: the other side is told of it, and the writer of its
/// confirmation.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub id: i64,
    #[serde(default)]
    pub external_id: Option<String>,
    /// The case guid.
    pub guid: String,
    pub content: String,
    #[serde(default)]
    pub user_name: Option<String>,
    #[serde(default)]
    pub user_email: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    pub sender_type: PartyKind,
    #[serde(default)]
    pub parent_message_id: Option<i64>,
    #[serde(default)]
    pub sender_account_id: Option<i64>,
    pub created_at: Timestamp,
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
    #[serde(default)]
    pub declared_at: Option<Timestamp>,
    #[serde(default)]
    pub confirmed_at: Option<Timestamp>,
}

impl Message {
    pub fn from_json(value: Value) -> Result<Self, RecordError> {
        parse("message", value)
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
    fn sender_type_must_be_a_side() {
        let err = Message::from_json(json!({"id": 1, "guid": "g", "content": "c", "type": "t",
            "senderType": "hub", "createdAt": "2019-11-25T10:33:54.283Z"}))
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "message: attribute `senderType`: unknown variant `hub`, expected `partner` or `provider`"
        );
    }
}
