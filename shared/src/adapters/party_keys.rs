//! Party keys in DynamoDB (`<prefix>-party-keys`, key `id`): one item per
//! key, holding its hash and dates, never the key (`crate::party_key`).
use crate::party_key::PartyKey;
use crate::ports::IoError;
use crate::timestamp::Timestamp;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

pub struct DynamoPartyKeys {
    client: Client,
    table: String,
}

impl DynamoPartyKeys {
    pub fn new(client: Client, table: String) -> Self {
        DynamoPartyKeys { client, table }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Stores a new key; an id already taken is an error (ids are random:
    /// a clash means a bug, never an overwrite).
    pub async fn put(&self, key: &PartyKey) -> Result<(), IoError> {
        let item = serde_dynamo::to_item(key)
            .map_err(|e| IoError::new(format!("encoding key {}", key.id), e))?;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(id)")
            .send()
            .await
            .map_err(|e| super::sdk_error(format!("PutItem {} {}", self.table, key.id), e))?;
        Ok(())
    }

    pub async fn get(&self, id: &str) -> Result<Option<PartyKey>, IoError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("id", AttributeValue::S(id.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| super::sdk_error(format!("GetItem {} {id}", self.table), e))?;
        out.item
            .map(|item| {
                serde_dynamo::from_item(item)
                    .map_err(|e| IoError::new(format!("key {id} in {}", self.table), e))
            })
            .transpose()
    }

    /// Every key, oldest first; an item that is no key is skipped and logged.
    pub async fn list(&self) -> Result<Vec<PartyKey>, IoError> {
        let mut out = Vec::new();
        for item in super::dynamo::scan_all(&self.client, &self.table).await? {
            match serde_dynamo::from_item::<_, PartyKey>(item) {
                Ok(key) => out.push(key),
                Err(e) => {
                    tracing::warn!(table = %self.table, error = %e, "not a party key; skipped")
                }
            }
        }
        out.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(out)
    }

    /// Revokes `id` from `now`; false when there is no such key or it was
    /// revoked already (the first revocation's time stays).
    pub async fn revoke(&self, id: &str, now: Timestamp) -> Result<bool, IoError> {
        self.set_once(id, "revokedAt", now, "attribute_not_exists(revokedAt)")
            .await
    }

    /// Notes that `id` was used at `now` (an authenticated call).
    pub async fn touch(&self, id: &str, now: Timestamp) -> Result<bool, IoError> {
        self.set_once(id, "lastUsedAt", now, "attribute_exists(id)")
            .await
    }

    async fn set_once(
        &self,
        id: &str,
        attribute: &str,
        at: Timestamp,
        condition: &str,
    ) -> Result<bool, IoError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("id", AttributeValue::S(id.to_owned()))
            .update_expression("SET #a = :at")
            .condition_expression(format!("attribute_exists(id) AND {condition}"))
            .expression_attribute_names("#a", attribute)
            .expression_attribute_values(":at", AttributeValue::S(at.to_contract_string()))
            .send()
            .await;
        match out {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(super::sdk_error(
                format!("UpdateItem {} {id}", self.table),
                e,
            )),
        }
    }
}

#[async_trait::async_trait]
impl crate::ports::PartyKeyStore for DynamoPartyKeys {
    async fn key(&self, id: &str) -> Result<Option<PartyKey>, IoError> {
        self.get(id).await
    }

    async fn used(&self, id: &str, at: Timestamp) -> Result<(), IoError> {
        self.touch(id, at).await.map(|_| ())
    }

    async fn add(&self, key: &PartyKey) -> Result<(), IoError> {
        self.put(key).await
    }

    async fn all(&self) -> Result<Vec<PartyKey>, IoError> {
        self.list().await
    }

    async fn revoke(&self, id: &str, at: Timestamp) -> Result<bool, IoError> {
        DynamoPartyKeys::revoke(self, id, at).await
    }
}
