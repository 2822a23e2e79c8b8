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
}

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

    /// Every secret's name, value count and last change, by name.
    pub async fn list(&self) -> Result<Vec<SecretInfo>, IoError> {
        let mut out = Vec::new();
        let mut pages = self
            .client
            .scan()
            .table_name(&self.table)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| super::sdk_error(format!("Scan {}", self.table), e))?;
            for item in page.items() {
                let name = item.get(SECRETS_KEY).and_then(|v| v.as_s().ok());
                let Some(name) = name else { continue };
                let values = match (item.get("values"), item.get("value")) {
                    (Some(AttributeValue::L(l)), _) => l.len(),
                    (_, Some(AttributeValue::S(_))) => 1,
                    _ => 0,
                };
                out.push(SecretInfo {
                    name: name.clone(),
                    values,
                    updated_at: item.get("updatedAt").and_then(|v| v.as_s().ok()).cloned(),
                });
            }
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
