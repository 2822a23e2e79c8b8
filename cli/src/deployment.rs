//! Where a deployment's tables and queues are, from its prefix:
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
        format!("{}-config", self.prefix)
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

    /// A queue's URL by its name.
    pub async fn queue_url(&self, sqs: &aws_sdk_sqs::Client, name: &str) -> Result<String> {
        crate::aws::queue_url(sqs, name).await
    }
}
