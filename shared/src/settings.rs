//! Function settings from the environment (set by template.yaml, or by the
//! local runner).
use crate::tables::TableNames;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
#[error("environment variable {name}: {problem}")]
pub struct SettingsError {
    pub name: &'static str,
    pub problem: String,
}

fn var(name: &'static str) -> Result<String, SettingsError> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => Ok(v),
        Ok(_) => Err(SettingsError {
            name,
            problem: "is empty".into(),
        }),
        Err(_) => Err(SettingsError {
            name,
            problem: "is not set".into(),
        }),
    }
}

#[derive(Debug, Clone)]
pub struct RouterSettings {
    pub tables: TableNames,
    pub delivery_queue_url: String,
    pub failure_queue_url: String,
    pub config_ttl: Duration,
    /// Where bodies too large for a queue message go.
    pub payload_bucket: String,
}

pub const DEFAULT_CONFIG_TTL: Duration = Duration::from_secs(30);

impl RouterSettings {
    pub fn from_env() -> Result<Self, SettingsError> {
        let config_ttl = match std::env::var("CONFIG_TTL_SECONDS") {
            Err(_) => DEFAULT_CONFIG_TTL,
            Ok(s) => Duration::from_secs(s.parse().map_err(|e| SettingsError {
                name: "CONFIG_TTL_SECONDS",
                problem: format!("`{s}` is not a whole number of seconds: {e}"),
            })?),
        };
        Ok(RouterSettings {
            tables: TableNames::try_new(|t| var(t.env_var()), var("CONFIG_TABLE")?)?,
            delivery_queue_url: var("DELIVERY_QUEUE_URL")?,
            failure_queue_url: var("ROUTER_FAILURE_QUEUE_URL")?,
            config_ttl,
            payload_bucket: var("PAYLOAD_BUCKET")?,
        })
    }
}

#[derive(Debug, Clone)]
pub struct SenderSettings {
    pub dead_letter_queue_url: String,
    /// The queue the sender reads, for retry delays (ChangeMessageVisibility).
    pub delivery_queue_url: String,
    /// Where a `410 Gone` disables the subscription.
    pub config_table: String,
    /// Token, signing and broker secrets, by name.
    pub secrets_table: String,
    pub payload_bucket: String,
    pub retry_schedule: crate::retry::RetrySchedule,
    /// Internal networks deliveries may reach anyway.
    pub egress: crate::egress::AllowList,
}

impl SenderSettings {
    pub fn from_env() -> Result<Self, SettingsError> {
        let retry_schedule = match std::env::var("RETRY_SCHEDULE_SECONDS") {
            Err(_) => crate::retry::RetrySchedule::default(),
            Ok(s) => crate::retry::RetrySchedule::parse(&s).map_err(|problem| SettingsError {
                name: "RETRY_SCHEDULE_SECONDS",
                problem,
            })?,
        };
        let egress =
            crate::egress::AllowList::parse(&std::env::var("EGRESS_ALLOW").unwrap_or_default())
                .map_err(|problem| SettingsError {
                    name: "EGRESS_ALLOW",
                    problem,
                })?;
        Ok(SenderSettings {
            dead_letter_queue_url: var("DELIVERY_DLQ_URL")?,
            delivery_queue_url: var("DELIVERY_QUEUE_URL")?,
            config_table: var("CONFIG_TABLE")?,
            secrets_table: var("SECRETS_TABLE")?,
            payload_bucket: var("PAYLOAD_BUCKET")?,
            retry_schedule,
            egress,
        })
    }
}
