//! Where a deployment's tables, queues, bucket and topic are, from its
//! prefix (the one place their names are spelled in the command):
//! `hubhooks-<stage>` in AWS (template.yaml), `hubhooks-local` (or a test's
//! own prefix) on the local stack.
use anyhow::Result;
use hubhooks::tables::TableNames;

#[derive(Debug, Clone)]
pub struct Deployment {
    pub prefix: String,
}

impl Deployment {
    pub fn new(prefix: impl Into<String>) -> Self {
        Deployment {
            prefix: prefix.into(),
        }
    }

    pub fn tables(&self) -> TableNames {
        TableNames::with_prefix(&self.prefix)
    }

    pub fn config_table(&self) -> String {
        self.tables().config
    }

    pub fn secrets_table(&self) -> String {
        format!("{}-secrets", self.prefix)
    }

    pub fn attempt_log_table(&self) -> String {
        format!("{}-delivery-log", self.prefix)
    }

    pub fn delivery_queue(&self) -> String {
        format!("{}-deliveries", self.prefix)
    }

    /// The ordered (FIFO) delivery queue of `ordering: perCase`
    /// subscriptions.
    pub fn ordered_delivery_queue(&self) -> String {
        format!("{}-deliveries-ordered.fifo", self.prefix)
    }

    pub fn dead_letter_queue(&self) -> String {
        format!("{}-deliveries-dlq", self.prefix)
    }

    pub fn router_failure_queue(&self) -> String {
        format!("{}-router-failures", self.prefix)
    }

    /// The ordered queue's own dead-letter queue (SQS's safety net).
    pub fn ordered_dead_letter_queue(&self) -> String {
        format!("{}-deliveries-ordered-dlq.fifo", self.prefix)
    }

    /// Bodies too large for a queue message.
    pub fn payload_bucket(&self) -> String {
        format!("{}-payloads", self.prefix)
    }

    /// The notice topic, and on the local stack the queue subscribed to it.
    pub fn notices(&self) -> String {
        format!("{}-notices", self.prefix)
    }

    /// The local runner's place in each stream shard.
    pub fn checkpoints_table(&self) -> String {
        format!("{}-runner-checkpoints", self.prefix)
    }

    /// A queue's URL by its name.
    pub async fn queue_url(&self, sqs: &aws_sdk_sqs::Client, name: &str) -> Result<String> {
        crate::aws::queue_url(sqs, name).await
    }
}
