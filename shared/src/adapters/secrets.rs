//! The secrets table as operators manage it: store, generate, list (names
//! and dates, never values) and delete. One implementation for the CLI and
//! the management API; the sender reads through [`super::dynamo::DynamoSecrets`].
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

use crate::ports::IoError;
use crate::tables::SECRETS_KEY;
use crate::timestamp::Timestamp;

/// What `secret list` shows of a secret: never a value.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretInfo {
    pub name: String,
    /// How many values it holds (more than one while keys rotate).
    pub values: usize,
    pub updated_at: Option<String>,
    /// While a rotation's old key still signs: when it stops.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retire_at: Option<String>,
}

pub use crate::ports::RotateError;

pub struct SecretAdmin {
    client: Client,
    table: String,
}

impl SecretAdmin {
    pub fn new(client: Client, table: String) -> Self {
        SecretAdmin { client, table }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Stores `values` (newest first) under `name`, replacing what it held.
    pub async fn put(&self, name: &str, values: &[String], now: Timestamp) -> Result<(), IoError> {
        let list = values
            .iter()
            .map(|v| AttributeValue::S(v.clone()))
            .collect();
        self.client
            .put_item()
            .table_name(&self.table)
            .item(SECRETS_KEY, AttributeValue::S(name.to_owned()))
            .item("values", AttributeValue::L(list))
            .item("updatedAt", AttributeValue::S(now.to_contract_string()))
            .send()
            .await
            .map_err(|e| super::sdk_error(format!("PutItem {} {name}", self.table), e))?;
        Ok(())
    }

    /// A fresh signing key stored under `name`; the caller shows it once.
    /// Refuses a name that exists: replacing a key in use would break every
    /// receiver verifying with it.
    pub async fn generate(&self, name: &str, now: Timestamp) -> Result<Option<String>, IoError> {
        let key = crate::signature::generate_key()
            .map_err(|e| IoError::new(format!("generating a key for {name}"), e))?;
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(SECRETS_KEY, AttributeValue::S(name.to_owned()))
            .item(
                "values",
                AttributeValue::L(vec![AttributeValue::S(key.clone())]),
            )
            .item("updatedAt", AttributeValue::S(now.to_contract_string()))
            .condition_expression("attribute_not_exists(#k)")
            .expression_attribute_names("#k", SECRETS_KEY)
            .send()
            .await;
        match put {
            Ok(_) => Ok(Some(key)),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(super::sdk_error(
                format!("PutItem {} {name}", self.table),
                e,
            )),
        }
    }

    /// Rotates `name` to a fresh signing key, the current one signing
    /// beside it for `grace` (`crate::rotation`); the new key, for the
    /// caller to show once. Written on condition that nothing changed the
    /// secret since it was read.
    pub async fn rotate(
        &self,
        name: &str,
        grace: std::time::Duration,
        now: Timestamp,
    ) -> Result<(String, crate::rotation::Rotated), RotateError> {
        let read = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(SECRETS_KEY, AttributeValue::S(name.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| super::sdk_error(format!("GetItem {} {name}", self.table), e))?;
        let item = read
            .item
            .ok_or_else(|| RotateError::Missing(name.to_owned()))?;
        let (values, retire_at) = super::dynamo::stored_secret(&item);
        let previous = crate::rotation::current(values, retire_at, now);
        let key = crate::signature::generate_key()
            .map_err(|e| IoError::new(format!("generating a key for {name}"), e))?;
        let rotated = crate::rotation::rotate(&previous, key.clone(), grace, now)?;
        let list = rotated
            .values
            .iter()
            .map(|v| AttributeValue::S(v.clone()))
            .collect();
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(SECRETS_KEY, AttributeValue::S(name.to_owned()))
            .item("values", AttributeValue::L(list))
            .item("updatedAt", AttributeValue::S(now.to_contract_string()));
        if let Some(at) = rotated.retire_at {
            put = put.item(
                super::dynamo::RETIRE_AT,
                AttributeValue::S(at.to_contract_string()),
            );
        }
        put = match item.get("updatedAt") {
            Some(at) => put
                .condition_expression("updatedAt = :at")
                .expression_attribute_values(":at", at.clone()),
            None => put.condition_expression("attribute_not_exists(updatedAt)"),
        };
        match put.send().await {
            Ok(_) => Ok((key, rotated)),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Err(RotateError::Raced(name.to_owned()))
            }
            Err(e) => Err(super::sdk_error(format!("PutItem {} {name}", self.table), e).into()),
        }
    }

    /// Every secret's name, value count and last change, by name.
    pub async fn list(&self) -> Result<Vec<SecretInfo>, IoError> {
        let mut out = Vec::new();
        for item in &super::dynamo::scan_all(&self.client, &self.table).await? {
            let name = item.get(SECRETS_KEY).and_then(|v| v.as_s().ok());
            let Some(name) = name else { continue };
            let (values, retire_at) = super::dynamo::stored_secret(item);
            let now = Timestamp::now();
            // Past its retirement an old key no longer counts.
            let values = crate::rotation::current(values, retire_at, now).len();
            let retire_at = retire_at
                .filter(|at| *at > now)
                .map(|at| at.to_contract_string());
            out.push(SecretInfo {
                name: name.clone(),
                values,
                updated_at: item.get("updatedAt").and_then(|v| v.as_s().ok()).cloned(),
                retire_at,
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Deletes `name`; false if there was none.
    pub async fn delete(&self, name: &str) -> Result<bool, IoError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(SECRETS_KEY, AttributeValue::S(name.to_owned()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| super::sdk_error(format!("DeleteItem {} {name}", self.table), e))?;
        Ok(out.attributes.is_some())
    }
}

#[async_trait::async_trait]
impl crate::ports::SecretWriter for SecretAdmin {
    async fn generate(&self, name: &str, now: Timestamp) -> Result<Option<String>, IoError> {
        SecretAdmin::generate(self, name, now).await
    }

    async fn put(&self, name: &str, values: &[String], now: Timestamp) -> Result<(), IoError> {
        SecretAdmin::put(self, name, values, now).await
    }

    async fn rotate(
        &self,
        name: &str,
        grace: std::time::Duration,
        now: Timestamp,
    ) -> Result<(String, crate::rotation::Rotated), RotateError> {
        SecretAdmin::rotate(self, name, grace, now).await
    }

    async fn delete(&self, name: &str) -> Result<bool, IoError> {
        SecretAdmin::delete(self, name).await
    }
}
