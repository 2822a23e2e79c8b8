//! Test support: a moto server per test, the local stack on it, and helpers
//! to write case data and read queues. Everything is real: moto speaks the
//! AWS APIs, receivers are real HTTP servers, the handlers are the Lambdas'.
use anyhow::{Context, Result};
use aws_config::SdkConfig;
use hubhooks::lambda::router::AwsRouter;
use hubhooks::settings::RouterSettings;
use hubhooks::tables::CaseTable;
use hubhooks_cli::local::provision::{LocalStack, QueueSettings, provision};
use serde_json::Value;
use std::time::{Duration, Instant};

pub use hubhooks_cli::config::put_json;
pub use hubhooks_cli::local::runner::{Runner, RunnerOptions};
pub use hubhooks_testkit::moto::Moto;
pub use hubhooks_testkit::receiver::{Received, TestReceiver};

pub use hubhooks_testkit::moto::workspace_root;

pub mod rehearsal;
pub mod tls_receiver;

/// A provisioned stack on its own moto server.
pub struct Stack {
    pub moto: Moto,
    pub sdk: SdkConfig,
    pub stack: LocalStack,
    pub ddb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
}

impl Stack {
    pub async fn start(queues: QueueSettings) -> Result<Stack> {
        Stack::start_named("t", queues).await
    }

    /// A stack whose tables are `<prefix>-cases`, … (the sample events name
    /// `hubhooks-dev`).
    pub async fn start_named(prefix: &str, queues: QueueSettings) -> Result<Stack> {
        let moto = Moto::start()?;
        let sdk = hubhooks_cli::aws::sdk_config(Some(&moto.endpoint)).await;
        let stack = provision(&sdk, prefix, &queues).await?;
        Ok(Stack {
            ddb: aws_sdk_dynamodb::Client::new(&sdk),
            sqs: aws_sdk_sqs::Client::new(&sdk),
            moto,
            sdk,
            stack,
        })
    }

    /// Writes config items given as JSON (validated like `hubhooks config put`).
    pub async fn put_config(&self, items: &[Value]) -> Result<()> {
        for v in items {
            put_json(&self.ddb, &self.stack.tables.config, v).await?;
        }
        Ok(())
    }

    /// Writes (creates or replaces) an item of a case table.
    pub async fn put(&self, table: CaseTable, item: &Value) -> Result<()> {
        put_json(&self.ddb, self.stack.tables.name(table), item).await
    }

    pub async fn put_case(&self, case: &Value) -> Result<()> {
        self.put(CaseTable::Cases, case).await
    }

    pub async fn put_status(&self, status: &Value) -> Result<()> {
        self.put(CaseTable::CaseStatuses, status).await
    }

    /// The router as the Lambda builds it, sending to `delivery_queue_url`.
    pub fn router_to(&self, delivery_queue_url: &str) -> AwsRouter {
        AwsRouter::from_aws(
            &self.sdk,
            RouterSettings {
                tables: self.stack.tables.clone(),
                delivery_queue_url: delivery_queue_url.to_owned(),
                ordered_queue_url: Some(self.stack.ordered_queue_url.clone()),
                failure_queue_url: self.stack.router_failure_queue_url.clone(),
                config_ttl: Duration::from_secs(30),
                payload_bucket: self.stack.payload_bucket.clone(),
            },
        )
    }

    pub async fn run(&self) -> Result<Runner> {
        Runner::start(&self.sdk, &self.stack, RunnerOptions::default()).await
    }

    pub async fn run_with(&self, options: RunnerOptions) -> Result<Runner> {
        Runner::start(&self.sdk, &self.stack, options).await
    }

    /// Stores a secret (values newest first) in the secrets table.
    pub async fn put_secret(&self, name: &str, values: &[&str]) -> Result<()> {
        put_json(
            &self.ddb,
            &self.stack.secrets_table,
            &serde_json::json!({"id": name, "values": values}),
        )
        .await
    }

    /// A config item as stored now.
    pub async fn config_item(&self, id: &str) -> Result<Value> {
        let item = self
            .ddb
            .get_item()
            .table_name(&self.stack.tables.config)
            .key("id", aws_sdk_dynamodb::types::AttributeValue::S(id.into()))
            .consistent_read(true)
            .send()
            .await?
            .item
            .context("no such item")?;
        Ok(serde_dynamo::from_item(item)?)
    }

    /// Drains a queue: every message's body and string message attributes.
    pub async fn drain(&self, queue_url: &str) -> Result<Vec<(String, Vec<(String, String)>)>> {
        let mut out = Vec::new();
        loop {
            let got = self
                .sqs
                .receive_message()
                .queue_url(queue_url)
                .max_number_of_messages(10)
                .message_attribute_names("All")
                .wait_time_seconds(0)
                .send()
                .await?;
            let messages = got.messages.unwrap_or_default();
            if messages.is_empty() {
                return Ok(out);
            }
            for m in messages {
                let mut attrs: Vec<(String, String)> = m
                    .message_attributes
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k, v.string_value.unwrap_or_default()))
                    .collect();
                attrs.sort();
                out.push((m.body.unwrap_or_default(), attrs));
                if let Some(h) = m.receipt_handle {
                    self.sqs
                        .delete_message()
                        .queue_url(queue_url)
                        .receipt_handle(h)
                        .send()
                        .await?;
                }
            }
        }
    }

    /// Waits until the delivery DLQ holds something and drains it.
    pub async fn dead_letters(
        &self,
        timeout: Duration,
    ) -> Result<Vec<(String, Vec<(String, String)>)>> {
        let found = eventually(timeout, || async {
            let p = self.drain(&self.stack.delivery_dlq_url).await.ok()?;
            (!p.is_empty()).then_some(p)
        })
        .await;
        found.context("nothing reached the DLQ")
    }

    /// Approximate visible + in-flight count of a queue.
    pub async fn depth(&self, queue_url: &str) -> Result<u64> {
        use aws_sdk_sqs::types::QueueAttributeName as A;
        let attrs = self
            .sqs
            .get_queue_attributes()
            .queue_url(queue_url)
            .attribute_names(A::ApproximateNumberOfMessages)
            .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await?
            .attributes
            .unwrap_or_default();
        let n = |k: &A| {
            attrs
                .get(k)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        Ok(n(&A::ApproximateNumberOfMessages) + n(&A::ApproximateNumberOfMessagesNotVisible))
    }
}

/// A string attribute of a drained message.
pub fn attribute<'a>(message: &'a (String, Vec<(String, String)>), name: &str) -> Option<&'a str> {
    message
        .1
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The `hubhooksReason` attribute of a drained message ("" when absent).
pub fn reason(message: &(String, Vec<(String, String)>)) -> &str {
    attribute(message, "hubhooksReason").unwrap_or("")
}

/// A sample Lambda event from events/.
pub fn sample_event<T: serde::de::DeserializeOwned>(name: &str) -> T {
    let path = workspace_root().join("events").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Polls `check` until it returns Some or `timeout` passes.
pub async fn eventually<T, F, Fut>(timeout: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return Some(v);
        }
        if Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Accepts connections and never answers: a receiver that hangs for the
/// whole timeout of every attempt. Counts the connections.
pub async fn silent_receiver() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hangs", listener.local_addr().unwrap());
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            held.push(socket);
        }
    });
    (url, accepted)
}

/// The case data the end-to-end tests write: one case of partner
/// [`fixtures::PARTNER`] and provider [`fixtures::PROVIDER`], in the shape
/// of the hub's case table.
pub mod fixtures {
    use serde_json::{Value, json};

    pub const PARTNER: i64 = 1413;
    pub const PROVIDER: i64 = 1004;

    /// Case `id` (`guid`) of the partner and the provider.
    pub fn case(guid: &str, id: i64) -> Value {
        case_with(guid, id, json!({}))
    }

    /// Status `id` of case `case_id` (`guid`), its key `key`: the shape of
    /// the hub's status table.
    pub fn status(case_id: i64, guid: &str, id: i64, key: &str) -> Value {
        json!({"caseId": case_id, "id": id, "guid": guid, "key": key, "name": "a status",
               "createdAt": "2024-05-01T10:00:00.000Z"})
    }

    /// The same case with `extra` attributes (its `orderData`, …).
    pub fn case_with(guid: &str, id: i64, extra: Value) -> Value {
        let mut case = json!({"guid": guid, "id": id, "partnerId": PARTNER,
                              "serviceProviderId": PROVIDER});
        if let (Some(case), Some(extra)) = (case.as_object_mut(), extra.as_object()) {
            case.extend(extra.clone());
        }
        case
    }
}
