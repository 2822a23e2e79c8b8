//! Where a deployment's tables, queues, bucket and topic are: read from a
//! CloudFormation stack's outputs (`--stack`, a deployed stage, whose case
//! tables may be the hub's own), or derived from a prefix (`--prefix`, the
//! local stack: `hubhooks-local-cases`, …). The one place their names are
//! spelled in the command.
use anyhow::{Context, Result, bail};
use hubhooks::tables::{CaseTable, TableNames};
use std::collections::HashMap;

/// Where the names came from; errors about a missing table or queue say it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Prefix(String),
    Stack(String),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Prefix(p) => write!(f, "--prefix {p}"),
            Origin::Stack(s) => write!(f, "--stack {s}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Deployment {
    /// The prefix, or the stack's name: what local resources of the CLI's
    /// own (the runner's checkpoints) are named after.
    pub prefix: String,
    pub origin: Origin,
    tables: TableNames,
    secrets: String,
    /// None: a stack deployed before the template had one.
    party_keys: Option<String>,
    /// The management API's `Idempotency-Key`s (absent on older stacks).
    idempotency: Option<String>,
    attempt_log: String,
    delivery_queue: String,
    ordered_queue: String,
    dead_letter_queue: String,
    ordered_dead_letter_queue: String,
    router_failures: String,
    payload_bucket: String,
    /// A deployed stack's own: its functions, streams and topics.
    pub stack: Option<StackFacts>,
}

/// What only a deployed stack has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackFacts {
    pub router_function: String,
    pub sender_function: String,
    /// The stream each case table's mapping reads, in [`CaseTable::ALL`] order.
    pub streams: Vec<String>,
    pub notice_topic: Option<String>,
    pub alarm_topic: Option<String>,
    /// The management API's base URL (portal links point there).
    pub api_url: Option<String>,
}

/// The stack outputs the CLI reads (template.yaml, `Outputs`).
pub mod output {
    pub const CONFIG_TABLE: &str = "ConfigTableName";
    pub const SECRETS_TABLE: &str = "SecretsTableName";
    pub const PARTY_KEYS_TABLE: &str = "PartyKeysTableName";
    pub const IDEMPOTENCY_TABLE: &str = "IdempotencyTableName";
    pub const ATTEMPT_LOG_TABLE: &str = "DeliveryLogTableName";
    pub const PAYLOAD_BUCKET: &str = "PayloadBucketName";
    pub const DELIVERY_QUEUE: &str = "DeliveryQueueUrl";
    pub const DEAD_LETTER_QUEUE: &str = "DeliveryDeadLetterQueueUrl";
    pub const ORDERED_QUEUE: &str = "OrderedDeliveryQueueUrl";
    pub const ORDERED_DEAD_LETTER_QUEUE: &str = "OrderedDeliveryDeadLetterQueueUrl";
    pub const ROUTER_FAILURE_QUEUE: &str = "RouterFailureQueueUrl";
    pub const ROUTER_FUNCTION: &str = "RouterFunctionName";
    pub const SENDER_FUNCTION: &str = "SenderFunctionName";
    pub const NOTICE_TOPIC: &str = "NoticeTopicArn";
    pub const ALARM_TOPIC: &str = "AlarmTopicArn";
    pub const API_URL: &str = "ManagementApiUrl";

    /// `CasesTableName`, … (the template's logical id, `Table` → `TableName`).
    pub fn table(t: hubhooks::tables::CaseTable) -> String {
        format!("{}Name", t.template_resource())
    }

    /// `CasesStreamArn`, …
    pub fn stream(t: hubhooks::tables::CaseTable) -> String {
        format!(
            "{}StreamArn",
            t.template_resource().trim_end_matches("Table")
        )
    }
}

impl Deployment {
    /// The names the local stack uses: `<prefix>-cases`, …
    pub fn new(prefix: impl Into<String>) -> Self {
        let prefix = prefix.into();
        Deployment {
            tables: TableNames::with_prefix(&prefix),
            secrets: format!("{prefix}-secrets"),
            party_keys: Some(format!("{prefix}-party-keys")),
            idempotency: Some(format!("{prefix}-idempotency")),
            attempt_log: format!("{prefix}-delivery-log"),
            delivery_queue: format!("{prefix}-deliveries"),
            ordered_queue: format!("{prefix}-deliveries-ordered.fifo"),
            dead_letter_queue: format!("{prefix}-deliveries-dlq"),
            ordered_dead_letter_queue: format!("{prefix}-deliveries-ordered-dlq.fifo"),
            router_failures: format!("{prefix}-router-failures"),
            payload_bucket: format!("{prefix}-payloads"),
            origin: Origin::Prefix(prefix.clone()),
            prefix,
            stack: None,
        }
    }

    /// The names a stack's outputs give; a missing output is named.
    pub fn from_outputs(stack: &str, outputs: &HashMap<String, String>) -> Result<Self> {
        let get = |key: &str| -> Result<String> {
            match outputs.get(key) {
                Some(v) if !v.is_empty() => Ok(v.clone()),
                _ => bail!(
                    "stack {stack} has no output {key}: is it a hubhooks stack, deployed from this version's template.yaml?"
                ),
            }
        };
        let optional = |key: &str| outputs.get(key).filter(|v| !v.is_empty()).cloned();
        // A queue URL's last segment is its name.
        let queue = |key: &str| -> Result<String> {
            let url = get(key)?;
            Ok(url.rsplit('/').next().unwrap_or(&url).to_owned())
        };
        let tables = TableNames::try_new(|t| get(&output::table(t)), get(output::CONFIG_TABLE)?)?;
        let streams = CaseTable::ALL
            .into_iter()
            .map(|t| get(&output::stream(t)))
            .collect::<Result<_>>()?;
        Ok(Deployment {
            prefix: stack.to_owned(),
            origin: Origin::Stack(stack.to_owned()),
            tables,
            secrets: get(output::SECRETS_TABLE)?,
            party_keys: optional(output::PARTY_KEYS_TABLE),
            idempotency: optional(output::IDEMPOTENCY_TABLE),
            attempt_log: get(output::ATTEMPT_LOG_TABLE)?,
            delivery_queue: queue(output::DELIVERY_QUEUE)?,
            ordered_queue: queue(output::ORDERED_QUEUE)?,
            dead_letter_queue: queue(output::DEAD_LETTER_QUEUE)?,
            ordered_dead_letter_queue: queue(output::ORDERED_DEAD_LETTER_QUEUE)?,
            router_failures: queue(output::ROUTER_FAILURE_QUEUE)?,
            payload_bucket: get(output::PAYLOAD_BUCKET)?,
            stack: Some(StackFacts {
                router_function: get(output::ROUTER_FUNCTION)?,
                sender_function: get(output::SENDER_FUNCTION)?,
                streams,
                notice_topic: optional(output::NOTICE_TOPIC),
                alarm_topic: optional(output::ALARM_TOPIC),
                api_url: optional(output::API_URL),
            }),
        })
    }

    /// The names in the outputs of the stack `name`.
    pub async fn from_stack(sdk: &aws_config::SdkConfig, name: &str) -> Result<Self> {
        let cfn = aws_sdk_cloudformation::Client::new(sdk);
        let stacks = cfn
            .describe_stacks()
            .stack_name(name)
            .send()
            .await
            .map_err(|e| {
                use aws_sdk_cloudformation::error::ProvideErrorMetadata;
                match e.message() {
                    Some(m) => anyhow::anyhow!("{m}"),
                    None => crate::aws::sdk_err(e),
                }
            })
            .with_context(|| {
                format!(
                    "reading stack {name} (--stack; is it deployed in this account and region?)"
                )
            })?;
        let stack = stacks
            .stacks()
            .first()
            .with_context(|| format!("no stack {name}"))?;
        let outputs = stack
            .outputs()
            .iter()
            .filter_map(|o| {
                Some((
                    o.output_key()?.to_owned(),
                    o.output_value().unwrap_or_default().to_owned(),
                ))
            })
            .collect();
        Self::from_outputs(name, &outputs)
    }

    /// How to point the command elsewhere, for errors about a missing name.
    pub fn hint(&self) -> String {
        match &self.origin {
            Origin::Prefix(p) => format!(
                "the names come from --prefix {p}; for a deployed stage give --stack STACK_NAME (or HUBHOOKS_STACK), for another local stack --prefix"
            ),
            Origin::Stack(s) => format!(
                "the names come from the outputs of stack {s}; check --stack, --region and --profile"
            ),
        }
    }

    pub fn tables(&self) -> TableNames {
        self.tables.clone()
    }

    pub fn config_table(&self) -> String {
        self.tables.config.clone()
    }

    pub fn secrets_table(&self) -> String {
        self.secrets.clone()
    }

    /// The management API's idempotency table; a stack deployed before
    /// the template had one is told to redeploy.
    pub fn idempotency_table(&self) -> Result<String> {
        self.idempotency.clone().with_context(|| {
            format!(
                "{}: no idempotency table (output {}): deploy this version's template.yaml",
                self.hint(),
                output::IDEMPOTENCY_TABLE
            )
        })
    }

    /// The party keys table (`crate::cmd::keys`); a stack deployed before
    /// the template had one is told to redeploy.
    pub fn party_keys_table(&self) -> Result<String> {
        self.party_keys.clone().with_context(|| {
            format!(
                "{}: no party keys table (output {}): deploy this version's template.yaml",
                self.hint(),
                output::PARTY_KEYS_TABLE
            )
        })
    }

    pub fn attempt_log_table(&self) -> String {
        self.attempt_log.clone()
    }

    pub fn delivery_queue(&self) -> String {
        self.delivery_queue.clone()
    }

    /// The ordered (FIFO) delivery queue of `ordering: perCase`
    /// subscriptions.
    pub fn ordered_delivery_queue(&self) -> String {
        self.ordered_queue.clone()
    }

    pub fn dead_letter_queue(&self) -> String {
        self.dead_letter_queue.clone()
    }

    pub fn router_failure_queue(&self) -> String {
        self.router_failures.clone()
    }

    /// The ordered queue's own dead-letter queue (SQS's safety net).
    pub fn ordered_dead_letter_queue(&self) -> String {
        self.ordered_dead_letter_queue.clone()
    }

    /// Bodies too large for a queue message.
    pub fn payload_bucket(&self) -> String {
        self.payload_bucket.clone()
    }

    /// The local stack's notice topic, and the queue subscribed to it.
    pub fn notices(&self) -> String {
        format!("{}-notices", self.prefix)
    }

    /// The local runner's place in each stream shard.
    pub fn checkpoints_table(&self) -> String {
        format!("{}-runner-checkpoints", self.prefix)
    }

    /// A queue's URL by its name; a missing queue says where the name
    /// came from.
    pub async fn queue_url(&self, sqs: &aws_sdk_sqs::Client, name: &str) -> Result<String> {
        crate::aws::queue_url(sqs, name)
            .await
            .with_context(|| self.hint())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outputs() -> HashMap<String, String> {
        let mut o: HashMap<String, String> = [
            (output::CONFIG_TABLE, "hubhooks-prod-config"),
            (output::SECRETS_TABLE, "hubhooks-prod-secrets"),
            (output::PARTY_KEYS_TABLE, "hubhooks-prod-party-keys"),
            (output::ATTEMPT_LOG_TABLE, "hubhooks-prod-delivery-log"),
            (output::PAYLOAD_BUCKET, "hubhooks-prod-payloads-1-eu"),
            (
                output::DELIVERY_QUEUE,
                "https://sqs.eu-west-1.amazonaws.com/1/hubhooks-prod-deliveries",
            ),
            (output::DEAD_LETTER_QUEUE, "https://q/1/dlq"),
            (output::ORDERED_QUEUE, "https://q/1/o.fifo"),
            (output::ORDERED_DEAD_LETTER_QUEUE, "https://q/1/odlq.fifo"),
            (output::ROUTER_FAILURE_QUEUE, "https://q/1/rf"),
            (output::ROUTER_FUNCTION, "hubhooks-prod-router"),
            (output::SENDER_FUNCTION, "hubhooks-prod-sender"),
            (output::NOTICE_TOPIC, ""),
            (output::ALARM_TOPIC, "arn:aws:sns:eu-west-1:1:ops"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        for t in CaseTable::ALL {
            o.insert(output::table(t), format!("hub-{}", t.suffix()));
            o.insert(output::stream(t), format!("arn:s/{}", t.suffix()));
        }
        o
    }

    #[test]
    fn a_stacks_outputs_name_every_resource_and_attached_tables_keep_the_hubs_names() {
        let d = Deployment::from_outputs("hubhooks-prod", &outputs()).unwrap();
        assert_eq!(d.tables().cases(), "hub-cases");
        assert_eq!(d.tables().name(CaseTable::Files), "hub-files");
        assert_eq!(d.delivery_queue(), "hubhooks-prod-deliveries");
        assert_eq!(d.ordered_delivery_queue(), "o.fifo");
        assert_eq!(d.payload_bucket(), "hubhooks-prod-payloads-1-eu");
        let facts = d.stack.unwrap();
        assert_eq!(facts.notice_topic, None);
        assert_eq!(
            facts.alarm_topic.as_deref(),
            Some("arn:aws:sns:eu-west-1:1:ops")
        );
        assert_eq!(facts.streams[1], "arn:s/case-statuses");
        assert_eq!(d.origin, Origin::Stack("hubhooks-prod".into()));
    }

    #[test]
    fn a_missing_output_is_named() {
        let mut o = outputs();
        o.remove("CaseStatusesStreamArn");
        let e = Deployment::from_outputs("s", &o).unwrap_err().to_string();
        assert!(
            e.contains("stack s has no output CaseStatusesStreamArn"),
            "{e}"
        );
    }

    #[test]
    fn the_template_declares_every_output_the_command_reads() {
        let template: serde_yaml::Value =
            serde_yaml::from_str(include_str!("../../template.yaml")).unwrap();
        for key in outputs().keys() {
            assert!(
                !template["Outputs"][key.as_str()].is_null(),
                "template.yaml has no output {key}"
            );
        }
    }
}
