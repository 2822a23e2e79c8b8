//! Function settings from the environment (set by template.yaml, or by the
//! local runner).
use crate::tables::TableNames;
use std::time::Duration;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("environment variable {name}: {problem}")]
pub struct SettingsError {
    pub name: &'static str,
    pub problem: String,
}

/// Where settings come from: the process environment in a Lambda, a map
/// in tests (which check template.yaml sets every variable).
pub trait Env {
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Env for std::collections::HashMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

fn required(env: &dyn Env, name: &'static str) -> Result<String, SettingsError> {
    match env.get(name) {
        Some(v) if !v.trim().is_empty() => Ok(v),
        Some(_) => Err(SettingsError {
            name,
            problem: "is empty".into(),
        }),
        None => Err(SettingsError {
            name,
            problem: "is not set".into(),
        }),
    }
}

/// What the SDK needs, as Lambda sets it: the execution role's keys
/// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`) and
/// `AWS_REGION`; `AWS_ENDPOINT_URL` points every client elsewhere (the local
/// stack, where keys may be absent and harmless local ones are used).
#[derive(Clone, PartialEq, Eq)]
pub struct AwsEnvironment {
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    pub endpoint_url: Option<String>,
}

impl std::fmt::Debug for AwsEnvironment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the keys.
        f.debug_struct("AwsEnvironment")
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("endpoint_url", &self.endpoint_url)
            .finish_non_exhaustive()
    }
}

impl AwsEnvironment {
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::read(&ProcessEnv)
    }

    pub fn read(env: &dyn Env) -> Result<Self, SettingsError> {
        let endpoint_url = optional(env, "AWS_ENDPOINT_URL");
        let region =
            match optional(env, "AWS_REGION").or_else(|| optional(env, "AWS_DEFAULT_REGION")) {
                Some(r) => r,
                None if endpoint_url.is_some() => "us-east-1".to_owned(),
                None => required(env, "AWS_REGION")?,
            };
        let (access_key_id, secret_access_key) = match optional(env, "AWS_ACCESS_KEY_ID") {
            Some(id) => (id, required(env, "AWS_SECRET_ACCESS_KEY")?),
            None if endpoint_url.is_some() => ("local".to_owned(), "local".to_owned()),
            None => Err(SettingsError {
                name: "AWS_ACCESS_KEY_ID",
                problem: "is not set (Lambda sets it from the function's role)".into(),
            })?,
        };
        Ok(AwsEnvironment {
            region,
            access_key_id,
            secret_access_key,
            session_token: optional(env, "AWS_SESSION_TOKEN"),
            endpoint_url,
        })
    }
}

#[derive(Debug, Clone)]
pub struct RouterSettings {
    pub tables: TableNames,
    pub delivery_queue_url: String,
    /// The ordered (FIFO) queue (`ORDERED_DELIVERY_QUEUE_URL`); none: the
    /// deliveries of `ordering: perCase` subscriptions go unordered.
    pub ordered_queue_url: Option<String>,
    pub failure_queue_url: String,
    pub config_ttl: Duration,
    /// Where bodies too large for a queue message go.
    pub payload_bucket: String,
}

pub const DEFAULT_CONFIG_TTL: Duration = Duration::from_secs(30);

fn config_ttl(env: &dyn Env) -> Result<Duration, SettingsError> {
    match env.get("CONFIG_TTL_SECONDS") {
        None => Ok(DEFAULT_CONFIG_TTL),
        Some(s) => Ok(Duration::from_secs(s.parse().map_err(|e| {
            SettingsError {
                name: "CONFIG_TTL_SECONDS",
                problem: format!("`{s}` is not a whole number of seconds: {e}"),
            }
        })?)),
    }
}

/// A variable that may be absent or empty.
fn optional(env: &dyn Env, name: &str) -> Option<String> {
    env.get(name)
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

impl RouterSettings {
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from(&ProcessEnv)
    }

    pub fn from(env: &dyn Env) -> Result<Self, SettingsError> {
        let var = |name| required(env, name);
        let config_ttl = config_ttl(env)?;
        Ok(RouterSettings {
            tables: TableNames::try_new(|t| var(t.env_var()), var("CONFIG_TABLE")?)?,
            delivery_queue_url: var("DELIVERY_QUEUE_URL")?,
            ordered_queue_url: optional(env, "ORDERED_DELIVERY_QUEUE_URL"),
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
    /// The ordered (FIFO) queue it reads too (`ORDERED_DELIVERY_QUEUE_URL`).
    pub ordered_queue_url: Option<String>,
    /// Where a `410 Gone` disables the subscription.
    pub config_table: String,
    /// Token, signing and broker secrets, by name.
    pub secrets_table: String,
    pub payload_bucket: String,
    pub retry_schedule: crate::retry::RetrySchedule,
    /// Internal networks deliveries may reach anyway.
    pub egress: crate::egress::AllowList,
    /// The attempt log.
    pub attempt_log_table: String,
    /// Days an attempt stays in the log (DynamoDB TTL).
    pub attempt_log_days: u32,
    /// Whether the log's pages keep the envelopes attempted, for
    /// `hubhooks replay` (`ATTEMPT_LOG_BODIES`, default true).
    pub attempt_log_bodies: bool,
    /// How long the subscription state each attempt checks may be stale.
    pub config_ttl: Duration,
    /// An explicit HTTP proxy for deliveries (`DELIVERY_PROXY`); the
    /// environment's `HTTP_PROXY` and friends are never used.
    pub proxy: Option<String>,
    /// A subscription failing this long is disabled
    /// (`FAILURE_STREAK_HOURS`, default 120; 0 turns the rule off).
    pub failure_streak: Duration,
    /// The SNS topic operational notices are published to
    /// (`NOTICE_TOPIC_ARN`; none when empty).
    pub notice_topic_arn: Option<String>,
    /// How long a delivery may stay unreadable (its config, a secret or
    /// its stored body not answering or missing) before it is
    /// dead-lettered unsent (`UNREADABLE_LIMIT_HOURS`, default 72).
    pub unreadable_limit: Duration,
    /// How long a batch spends on its notices once its deliveries are
    /// settled (`lambda::sender::NOTICE_BUDGET`; the local stack's tests
    /// shorten it).
    pub notice_budget: Duration,
}

pub const DEFAULT_ATTEMPT_LOG_DAYS: u32 = 30;

/// How long a batch spends on its notices after its deliveries are settled
/// (all of them at once): what has not gone by then is logged, and the
/// notice topic has it.
pub const NOTICE_BUDGET: Duration = Duration::from_secs(5);

/// Three days: a store down over a long weekend costs no delivery. At most
/// the delivery queues' retention (14 days) less a day, as the ordered
/// queue keeps its message while it waits.
pub const DEFAULT_UNREADABLE_LIMIT: Duration = Duration::from_secs(72 * 3600);
pub const MAX_UNREADABLE_LIMIT_HOURS: u64 = 13 * 24;

/// A whole number of hours from `name`, `default` when unset.
fn hours(env: &dyn Env, name: &'static str, default: Duration) -> Result<Duration, SettingsError> {
    match env.get(name) {
        None => Ok(default),
        Some(s) => s
            .trim()
            .parse::<u64>()
            .map(|h| Duration::from_secs(h.saturating_mul(3600)))
            .map_err(|e| SettingsError {
                name,
                problem: format!("`{s}` is not a whole number of hours: {e}"),
            }),
    }
}

impl SenderSettings {
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from(&ProcessEnv)
    }

    pub fn from(env: &dyn Env) -> Result<Self, SettingsError> {
        let var = |name| required(env, name);
        let retry_schedule = match env.get("RETRY_SCHEDULE_SECONDS") {
            None => crate::retry::RetrySchedule::default(),
            Some(s) => crate::retry::RetrySchedule::parse(&s).map_err(|e| SettingsError {
                name: "RETRY_SCHEDULE_SECONDS",
                problem: e.to_string(),
            })?,
        };
        let egress = egress(env)?;
        Ok(SenderSettings {
            dead_letter_queue_url: var("DELIVERY_DLQ_URL")?,
            delivery_queue_url: var("DELIVERY_QUEUE_URL")?,
            ordered_queue_url: optional(env, "ORDERED_DELIVERY_QUEUE_URL"),
            config_table: var("CONFIG_TABLE")?,
            secrets_table: var("SECRETS_TABLE")?,
            payload_bucket: var("PAYLOAD_BUCKET")?,
            retry_schedule,
            egress,
            attempt_log_table: var("ATTEMPT_LOG_TABLE")?,
            config_ttl: config_ttl(env)?,
            proxy: proxy(env)?,
            failure_streak: hours(
                env,
                "FAILURE_STREAK_HOURS",
                crate::notice::DEFAULT_FAILURE_STREAK,
            )?,
            unreadable_limit: match hours(env, "UNREADABLE_LIMIT_HOURS", DEFAULT_UNREADABLE_LIMIT)?
            {
                limit if limit.is_zero() || limit.as_secs() > MAX_UNREADABLE_LIMIT_HOURS * 3600 => {
                    return Err(SettingsError {
                        name: "UNREADABLE_LIMIT_HOURS",
                        problem: format!(
                            "{} hours is outside 1 … {MAX_UNREADABLE_LIMIT_HOURS} (the queues keep a message 14 days)",
                            limit.as_secs() / 3600
                        ),
                    });
                }
                limit => limit,
            },
            notice_topic_arn: optional(env, "NOTICE_TOPIC_ARN"),
            notice_budget: NOTICE_BUDGET,
            attempt_log_bodies: match env.get("ATTEMPT_LOG_BODIES").as_deref().map(str::trim) {
                None | Some("") | Some("true") => true,
                Some("false") => false,
                Some(other) => {
                    return Err(SettingsError {
                        name: "ATTEMPT_LOG_BODIES",
                        problem: format!("`{other}`: expected true or false"),
                    });
                }
            },
            attempt_log_days: attempt_log_days(env)?,
        })
    }
}

/// `DELIVERY_PROXY`: the HTTP proxy deliveries (and notices) go through.
fn proxy(env: &dyn Env) -> Result<Option<String>, SettingsError> {
    match env.get("DELIVERY_PROXY") {
        Some(p) if !p.trim().is_empty() => {
            reqwest::Url::parse(p.trim()).map_err(|e| SettingsError {
                name: "DELIVERY_PROXY",
                problem: format!("`{p}` is not a URL: {e}"),
            })?;
            Ok(Some(p.trim().to_owned()))
        }
        _ => Ok(None),
    }
}

/// `EGRESS_ALLOW`: what the sender may reach beyond public addresses.
fn egress(env: &dyn Env) -> Result<crate::egress::AllowList, SettingsError> {
    crate::egress::AllowList::parse(&env.get("EGRESS_ALLOW").unwrap_or_default()).map_err(|e| {
        SettingsError {
            name: "EGRESS_ALLOW",
            problem: e.to_string(),
        }
    })
}

fn attempt_log_days(env: &dyn Env) -> Result<u32, SettingsError> {
    match env.get("ATTEMPT_LOG_DAYS") {
        None => Ok(DEFAULT_ATTEMPT_LOG_DAYS),
        Some(s) => s.parse().map_err(|e| SettingsError {
            name: "ATTEMPT_LOG_DAYS",
            problem: format!("`{s}` is not a whole number of days: {e}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> HashMap<String, String> {
        vars.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_unreadable_limit_is_whole_hours_within_the_queues_retention() {
        let base = [
            ("DELIVERY_DLQ_URL", "q"),
            ("DELIVERY_QUEUE_URL", "q"),
            ("CONFIG_TABLE", "c"),
            ("SECRETS_TABLE", "s"),
            ("PAYLOAD_BUCKET", "b"),
            ("ATTEMPT_LOG_TABLE", "d"),
        ];
        let limit = |value: Option<&str>| {
            let mut vars = env(&base);
            if let Some(v) = value {
                vars.insert("UNREADABLE_LIMIT_HOURS".into(), v.into());
            }
            SenderSettings::from(&vars).map(|s| s.unreadable_limit.as_secs() / 3600)
        };
        assert_eq!(limit(None), Ok(72));
        assert_eq!(limit(Some("312")), Ok(312));
        assert_eq!(limit(Some(" 1 ")), Ok(1));
        for bad in ["0", "313", "-1", "3d", "", "99999999999999999999"] {
            let e = limit(Some(bad)).unwrap_err();
            assert_eq!(e.name, "UNREADABLE_LIMIT_HOURS", "{bad}");
        }
    }

    #[test]
    fn a_lambdas_aws_environment_is_its_roles_keys_and_region() {
        let lambda = env(&[
            ("AWS_REGION", "eu-central-1"),
            ("AWS_ACCESS_KEY_ID", "ASIA1"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_SESSION_TOKEN", "token"),
        ]);
        let aws = AwsEnvironment::read(&lambda).unwrap();
        assert_eq!(
            aws,
            AwsEnvironment {
                region: "eu-central-1".into(),
                access_key_id: "ASIA1".into(),
                secret_access_key: "secret".into(),
                session_token: Some("token".into()),
                endpoint_url: None,
            }
        );
        assert!(!format!("{aws:?}").contains("secret"), "{aws:?}");
        assert!(!format!("{aws:?}").contains("token"), "{aws:?}");
    }

    #[test]
    fn without_keys_or_region_only_a_local_endpoint_will_do() {
        let err = AwsEnvironment::read(&env(&[("AWS_REGION", "eu-central-1")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable AWS_ACCESS_KEY_ID: is not set (Lambda sets it from the function's role)"
        );
        let err = AwsEnvironment::read(&env(&[
            ("AWS_ACCESS_KEY_ID", "A"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
        ]))
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable AWS_REGION: is not set"
        );
        let err = AwsEnvironment::read(&env(&[("AWS_REGION", "r"), ("AWS_ACCESS_KEY_ID", "A")]))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable AWS_SECRET_ACCESS_KEY: is not set"
        );
        let local =
            AwsEnvironment::read(&env(&[("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")])).unwrap();
        assert_eq!(
            (
                local.region.as_str(),
                local.access_key_id.as_str(),
                local.endpoint_url.as_deref()
            ),
            ("us-east-1", "local", Some("http://127.0.0.1:5000"))
        );
    }
}

/// The api Lambda's settings (template.yaml sets each).
#[derive(Debug, Clone)]
pub struct ApiSettings {
    pub party_keys_table: String,
    pub config_table: String,
    pub secrets_table: String,
    pub attempt_log_table: String,
    pub attempt_log_days: u32,
    /// Where test sends, resends and replays go (`DELIVERY_QUEUE_URL`).
    pub delivery_queue_url: String,
    /// The delivery dead-letter queue an operator lists and replays
    /// (`DELIVERY_DLQ_URL`).
    pub dead_letter_queue_url: String,
    /// The ordered queue (`ORDERED_DELIVERY_QUEUE_URL`) and its own DLQ
    /// (`ORDERED_DLQ_URL`): listed and replayed too when both are set.
    pub ordered_queue_url: Option<String>,
    pub ordered_dead_letter_queue_url: Option<String>,
    /// Creates' `Idempotency-Key`s (`IDEMPOTENCY_TABLE`).
    pub idempotency_table: String,
    /// What the sender may reach: destinations are checked against it
    /// when a party writes them.
    pub egress: crate::egress::AllowList,
    /// The proxy a notice destination's test goes through, as the
    /// sender's notices do (`DELIVERY_PROXY`).
    pub proxy: Option<String>,
}

impl ApiSettings {
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from(&ProcessEnv)
    }

    pub fn from(env: &dyn Env) -> Result<Self, SettingsError> {
        let var = |name| required(env, name);
        Ok(ApiSettings {
            party_keys_table: var("PARTY_KEYS_TABLE")?,
            config_table: var("CONFIG_TABLE")?,
            secrets_table: var("SECRETS_TABLE")?,
            attempt_log_table: var("ATTEMPT_LOG_TABLE")?,
            attempt_log_days: attempt_log_days(env)?,
            delivery_queue_url: var("DELIVERY_QUEUE_URL")?,
            dead_letter_queue_url: var("DELIVERY_DLQ_URL")?,
            ordered_queue_url: optional(env, "ORDERED_DELIVERY_QUEUE_URL"),
            ordered_dead_letter_queue_url: optional(env, "ORDERED_DLQ_URL"),
            idempotency_table: var("IDEMPOTENCY_TABLE")?,
            egress: egress(env)?,
            proxy: proxy(env)?,
        })
    }
}
