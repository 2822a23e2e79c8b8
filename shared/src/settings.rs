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
        })
    }
}

#[derive(Debug, Clone)]
pub struct SenderSettings {
    pub dead_letter_queue_url: String,
}

impl SenderSettings {
    pub fn from_env() -> Result<Self, SettingsError> {
        Ok(SenderSettings {
            dead_letter_queue_url: var("DELIVERY_DLQ_URL")?,
        })
    }
}
