//! In-memory implementations of every port, for the handlers' unit tests
//! and the benchmark: no AWS, no network, answers in microseconds. Each one
//! keeps what it was given so a test can assert exact contents and counts,
//! and the queues enforce SQS's size limit the way SQS does, so a test sees
//! the same refusals production would.
use crate::attempt::AttemptRecord;
use crate::config::RawConfigItem;
use crate::delivery::{Delivery, QUEUE_MESSAGE_LIMIT};
use crate::ids::{CaseId, DeliveryId, StatusId, SubscriptionId};
use crate::ports::{
    AttemptLog, CaseStore, CaseStoreError, ConfigSource, DeadLetter, DeadLetters, DeliveryError,
    DeliveryQueue, EarlierStatuses, IoError, Outgoing, PayloadStore, Receipt, Redelivery,
    SecretStore, SubscriptionControl, Transport,
};
use crate::record::CaseRecord;
use crate::timestamp::Timestamp;
use async_trait::async_trait;
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

/// Locks a mutex whose data stays usable after a panicking test thread.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The case tables, as JSON items (so unreadable ones can be stored too).
#[derive(Default)]
pub struct MemoryCases {
    cases: Mutex<HashMap<String, Value>>,
    statuses: Mutex<Vec<Value>>,
    /// Calls to fail with an I/O error before answering again.
    pub failures: Mutex<u32>,
}

impl MemoryCases {
    pub fn put_case(&self, case: Value) {
        let guid = case["guid"].as_str().unwrap_or_default().to_owned();
        lock(&self.cases).insert(guid, case);
    }

    pub fn put_status(&self, status: Value) {
        lock(&self.statuses).push(status);
    }

    fn fail(&self) -> Result<(), IoError> {
        let mut f = lock(&self.failures);
        if *f > 0 {
            *f -= 1;
            return Err(IoError::new("memory case store", "scripted failure"));
        }
        Ok(())
    }
}

#[async_trait]
impl CaseStore for MemoryCases {
    async fn case(&self, guid: &str) -> Result<Option<CaseRecord>, CaseStoreError> {
        self.fail()?;
        let Some(v) = lock(&self.cases).get(guid).cloned() else {
            return Ok(None);
        };
        CaseRecord::from_json(v)
            .map(Some)
            .map_err(|e| CaseStoreError::Malformed(format!("case `{guid}`: {e}")))
    }

    async fn previous_statuses(
        &self,
        case_id: CaseId,
        before_id: StatusId,
    ) -> Result<EarlierStatuses, CaseStoreError> {
        self.fail()?;
        let mut items: Vec<Value> = lock(&self.statuses)
            .iter()
            .filter(|s| s["caseId"].as_i64() == Some(case_id.0))
            .filter(|s| s["id"].as_i64().is_some_and(|id| id < before_id.0))
            .cloned()
            .collect();
        items.sort_by_key(|s| std::cmp::Reverse(s["id"].as_i64()));
        Ok(EarlierStatuses::from_items(case_id, items))
    }
}

/// The config table.
#[derive(Default)]
pub struct MemoryConfig {
    items: Mutex<Vec<RawConfigItem>>,
    pub loads: Mutex<u32>,
    /// How many more loads fail, as a config table that does not answer.
    pub failing: Mutex<u32>,
}

impl MemoryConfig {
    pub fn new(items: Vec<Value>) -> Self {
        let config = MemoryConfig::default();
        config.set(items);
        config
    }

    /// Replaces every item (each keyed by its `id`).
    pub fn set(&self, items: Vec<Value>) {
        *lock(&self.items) = items
            .into_iter()
            .map(|value| RawConfigItem {
                id: value["id"].as_str().unwrap_or_default().to_owned(),
                value,
            })
            .collect();
    }
}

#[async_trait]
impl ConfigSource for MemoryConfig {
    async fn load(&self) -> Result<Vec<RawConfigItem>, IoError> {
        *lock(&self.loads) += 1;
        let mut failing = lock(&self.failing);
        if *failing > 0 {
            *failing -= 1;
            return Err(IoError::new("Scan config", "InternalServerError"));
        }
        Ok(lock(&self.items).clone())
    }
}

/// The delivery queue. `fail_next` scripts failures per delivery id.
#[derive(Default)]
pub struct MemoryQueue {
    pub sent: Mutex<Vec<Delivery>>,
    /// Delivery id → how many more sends of it fail.
    pub fail_next: Mutex<HashMap<String, u32>>,
    /// Every send call's size, refused or not.
    pub calls: Mutex<u32>,
}

impl MemoryQueue {
    pub fn sent(&self) -> Vec<Delivery> {
        lock(&self.sent).clone()
    }
}

#[async_trait]
impl DeliveryQueue for MemoryQueue {
    async fn enqueue(&self, deliveries: &[Delivery]) -> Vec<Result<(), IoError>> {
        *lock(&self.calls) += 1;
        deliveries
            .iter()
            .map(|d| {
                if let Some(n) = lock(&self.fail_next).get_mut(d.id.as_str())
                    && *n > 0
                {
                    *n -= 1;
                    return Err(IoError::new("memory queue", "scripted failure"));
                }
                let size = d.queue_message_bytes();
                if size > QUEUE_MESSAGE_LIMIT {
                    return Err(IoError::new(
                        "memory queue",
                        format!("message of {size} bytes is over the SQS limit"),
                    ));
                }
                lock(&self.sent).push(d.clone());
                Ok(())
            })
            .collect()
    }
}

/// A dead-letter queue: refuses letters over SQS's message size, as SQS does.
#[derive(Default)]
pub struct MemoryDeadLetters {
    pub letters: Mutex<Vec<DeadLetter>>,
    /// Park calls, refused or not.
    pub calls: Mutex<u32>,
    /// How many more parks fail with an I/O error.
    pub failures: Mutex<u32>,
}

impl MemoryDeadLetters {
    pub fn letters(&self) -> Vec<DeadLetter> {
        lock(&self.letters).clone()
    }
}

#[async_trait]
impl DeadLetters for MemoryDeadLetters {
    async fn dead_letter(&self, letter: DeadLetter) -> Result<(), IoError> {
        *lock(&self.calls) += 1;
        {
            let mut f = lock(&self.failures);
            if *f > 0 {
                *f -= 1;
                return Err(IoError::new("memory dead letters", "scripted failure"));
            }
        }
        let size = letter.queue_message_bytes();
        if size > QUEUE_MESSAGE_LIMIT {
            return Err(IoError::new(
                "memory dead letters",
                format!("message of {size} bytes is over the SQS limit"),
            ));
        }
        lock(&self.letters).push(letter);
        Ok(())
    }
}

/// The payload bucket.
#[derive(Default)]
pub struct MemoryPayloads {
    pub objects: Mutex<HashMap<String, String>>,
}

#[async_trait]
impl PayloadStore for MemoryPayloads {
    async fn put(&self, key: &str, body: &str) -> Result<(), IoError> {
        lock(&self.objects).insert(key.to_owned(), body.to_owned());
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<String, IoError> {
        lock(&self.objects)
            .get(key)
            .cloned()
            .ok_or_else(|| IoError::new(format!("memory payloads {key}"), "no such key"))
    }
}

/// A transport answering from a script, then with `then` for ever; it keeps
/// every attempt it was handed (delivery id, destination URL or exchange,
/// headers, body).
pub struct ScriptedTransport {
    script: Mutex<VecDeque<Result<Receipt, DeliveryError>>>,
    then: Result<Receipt, DeliveryError>,
    pub attempts: Mutex<Vec<SentAttempt>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SentAttempt {
    pub delivery_id: String,
    pub destination: String,
    pub headers: Vec<(crate::attempt::Header, String)>,
    pub body: String,
}

impl SentAttempt {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A receiver's `200` after 1 ms.
pub fn ok() -> Result<Receipt, DeliveryError> {
    Ok(Receipt {
        status: 200,
        latency: Duration::from_millis(1),
        excerpt: String::new(),
    })
}

/// A receiver's error answer.
pub fn answered(status: u16) -> Result<Receipt, DeliveryError> {
    Err(DeliveryError::Rejected {
        status,
        excerpt: String::new(),
        latency: Duration::from_millis(1),
        retry_after: None,
    })
}

impl ScriptedTransport {
    pub fn new(
        script: impl IntoIterator<Item = Result<Receipt, DeliveryError>>,
        then: Result<Receipt, DeliveryError>,
    ) -> Self {
        ScriptedTransport {
            script: Mutex::new(script.into_iter().collect()),
            then,
            attempts: Mutex::default(),
        }
    }

    /// Answers 200 to everything.
    pub fn accepting() -> Self {
        ScriptedTransport::new([], ok())
    }

    pub fn attempts(&self) -> Vec<SentAttempt> {
        lock(&self.attempts).clone()
    }
}

#[async_trait]
impl Transport for ScriptedTransport {
    async fn deliver(&self, outgoing: &Outgoing<'_>) -> Result<Receipt, DeliveryError> {
        use crate::config::Destination;
        let destination = match &outgoing.destination {
            Destination::Http(h) => h.url.clone(),
            Destination::Amqp(a) => format!("amqp exchange {}", a.exchange),
        };
        lock(&self.attempts).push(SentAttempt {
            delivery_id: outgoing.id.to_owned(),
            destination,
            headers: outgoing.headers.clone(),
            body: outgoing.body.to_owned(),
        });
        lock(&self.script)
            .pop_front()
            .unwrap_or_else(|| self.then.clone())
    }
}

/// Remembers the delays asked for, by receipt handle.
#[derive(Default)]
pub struct MemoryRedelivery {
    pub delays: Mutex<Vec<(String, Duration)>>,
    /// Deliveries sent back to the queue, with their delays.
    pub deferred: Mutex<Vec<(Delivery, Duration)>>,
}

#[async_trait]
impl Redelivery for MemoryRedelivery {
    async fn retry_later(
        &self,
        receipt_handle: &str,
        delay: Duration,
        _ordered: bool,
    ) -> Result<(), IoError> {
        lock(&self.delays).push((receipt_handle.to_owned(), delay));
        Ok(())
    }

    async fn defer(&self, delivery: &Delivery, delay: Duration) -> Result<(), IoError> {
        lock(&self.deferred).push((delivery.clone(), delay));
        Ok(())
    }
}

/// Held-back receipts by delivery id.
#[derive(Default)]
pub struct MemoryHolds {
    pub counts: Mutex<HashMap<String, u32>>,
}

#[async_trait]
impl crate::ports::Holds for MemoryHolds {
    async fn hold(&self, delivery_id: &DeliveryId) -> Result<(), IoError> {
        *lock(&self.counts)
            .entry(delivery_id.to_string())
            .or_default() += 1;
        Ok(())
    }

    async fn held(&self, delivery_id: &DeliveryId) -> Result<u32, IoError> {
        Ok(lock(&self.counts)
            .get(delivery_id.as_str())
            .copied()
            .unwrap_or(0))
    }
}

/// Per-second counters, as the attempt log's rate items keep them.
#[derive(Default)]
pub struct MemoryRates {
    pub counts: Mutex<HashMap<(String, i64), u32>>,
}

#[async_trait]
impl crate::ports::RateLimits for MemoryRates {
    async fn admit(
        &self,
        subscription_id: &SubscriptionId,
        per_second: u32,
        now: Timestamp,
    ) -> Result<bool, IoError> {
        let second = now.0.timestamp();
        let mut counts = lock(&self.counts);
        let n = counts
            .entry((subscription_id.to_string(), second))
            .or_default();
        *n += 1;
        Ok(*n <= per_second)
    }
}

/// Named secrets.
#[derive(Default)]
pub struct MemorySecrets {
    pub values: Mutex<HashMap<String, Vec<String>>>,
}

#[async_trait]
impl SecretStore for MemorySecrets {
    async fn secret(&self, name: &str) -> Result<Option<Vec<String>>, IoError> {
        Ok(lock(&self.values).get(name).cloned())
    }
}

/// Records the subscriptions disabled, with their reasons, and the failure
/// streaks marked, as the config table's attributes would.
#[derive(Default)]
pub struct MemoryControl {
    pub disabled: Mutex<Vec<(String, String)>>,
    pub failing: Mutex<HashMap<String, Timestamp>>,
}

#[async_trait]
impl SubscriptionControl for MemoryControl {
    async fn disable(&self, subscription_id: &SubscriptionId, reason: &str) -> Result<(), IoError> {
        lock(&self.disabled).push((subscription_id.to_string(), reason.to_owned()));
        Ok(())
    }

    async fn failing(
        &self,
        subscription_id: &SubscriptionId,
        at: Timestamp,
    ) -> Result<(Timestamp, bool), IoError> {
        let mut failing = lock(&self.failing);
        match failing.get(subscription_id.as_str()) {
            Some(since) => Ok((*since, false)),
            None => {
                failing.insert(subscription_id.to_string(), at);
                Ok((at, true))
            }
        }
    }

    async fn recovered(&self, subscription_id: &SubscriptionId) -> Result<(), IoError> {
        lock(&self.failing).remove(subscription_id.as_str());
        Ok(())
    }

    async fn disable_failing(
        &self,
        subscription_id: &SubscriptionId,
        since: Timestamp,
        reason: &str,
    ) -> Result<bool, IoError> {
        if lock(&self.failing).get(subscription_id.as_str()) != Some(&since) {
            return Ok(false);
        }
        self.disable(subscription_id, reason).await?;
        Ok(true)
    }
}

/// The notice topic: what was published, in order.
#[derive(Default)]
pub struct MemoryTopic {
    pub published: Mutex<Vec<crate::notice::Notice>>,
}

impl MemoryTopic {
    pub fn published(&self) -> Vec<crate::notice::Notice> {
        lock(&self.published).clone()
    }
}

#[async_trait]
impl crate::ports::NoticeTopic for MemoryTopic {
    async fn publish(&self, notice: &crate::notice::Notice) -> Result<(), IoError> {
        lock(&self.published).push(notice.clone());
        Ok(())
    }
}

/// The attempt log: records appended in the order written, never
/// overwritten; held back until `flush`, as the table's log does.
#[derive(Default)]
pub struct MemoryAttemptLog {
    /// Each record with the envelope attempted.
    pub logged: Mutex<Vec<(AttemptRecord, Delivery)>>,
    pending: Mutex<Vec<(AttemptRecord, Delivery)>>,
}

impl MemoryAttemptLog {
    /// What was flushed.
    pub fn records(&self) -> Vec<AttemptRecord> {
        lock(&self.logged).iter().map(|(r, _)| r.clone()).collect()
    }
}

#[async_trait]
impl AttemptLog for MemoryAttemptLog {
    async fn record(&self, attempt: &AttemptRecord, delivery: &Delivery) -> Result<(), IoError> {
        lock(&self.pending).push((attempt.clone(), delivery.clone()));
        Ok(())
    }

    async fn flush(&self) -> Result<(), IoError> {
        let pending = std::mem::take(&mut *lock(&self.pending));
        lock(&self.logged).extend(pending);
        Ok(())
    }
}

/// A newStatus delivery to `url`, for handler and transport tests.
pub fn delivery(id: &str, subscription_id: &str, url: &str) -> Delivery {
    use crate::config::{Destination, HttpDestination, HttpMethod};
    Delivery {
        v: crate::delivery::ENVELOPE_VERSION,
        id: DeliveryId::new(id),
        subscription_id: SubscriptionId::new(subscription_id),
        event_type: crate::event::EventType::NewStatus,
        party: crate::party::Party::partner(1413),
        case_guid: crate::ids::CaseGuid::new("68ea1505-a44f-4434-be5a-dcc959be250e"),
        destination: Destination::Http(HttpDestination {
            method: HttpMethod::Post,
            url: url.to_owned(),
            headers: Default::default(),
            timeout_ms: None,
        }),
        body: r#"{"key":"registered"}"#.to_owned(),
        body_ref: None,
        max_attempts: 8,
        prior_attempts: 0,
        spent_attempts: 0,
        unreadable: None,
        ordered: false,
        auth: None,
        signature: None,
        test: false,
        source: "statuses/e1".to_owned(),
        created_at: crate::timestamp::Timestamp::now(),
    }
}

/// Party keys (and portal links and sessions), by id.
#[derive(Default)]
pub struct MemoryPartyKeys {
    keys: Mutex<Vec<crate::party_key::PartyKey>>,
}

#[async_trait]
impl crate::ports::PartyKeyStore for MemoryPartyKeys {
    async fn key(&self, id: &str) -> Result<Option<crate::party_key::PartyKey>, IoError> {
        Ok(lock(&self.keys).iter().find(|k| k.id == id).cloned())
    }

    async fn used(&self, id: &str, at: Timestamp) -> Result<(), IoError> {
        if let Some(k) = lock(&self.keys).iter_mut().find(|k| k.id == id) {
            k.last_used_at = Some(at);
        }
        Ok(())
    }

    async fn add(&self, key: &crate::party_key::PartyKey) -> Result<(), IoError> {
        let mut keys = lock(&self.keys);
        if keys.iter().any(|k| k.id == key.id) {
            return Err(IoError::new("add key", format!("key `{}` exists", key.id)));
        }
        keys.push(key.clone());
        Ok(())
    }

    async fn all(&self) -> Result<Vec<crate::party_key::PartyKey>, IoError> {
        Ok(lock(&self.keys).clone())
    }

    async fn revoke(&self, id: &str, at: Timestamp) -> Result<bool, IoError> {
        Ok(match lock(&self.keys).iter_mut().find(|k| k.id == id) {
            Some(k) if k.revoked_at.is_none() => {
                k.revoked_at = Some(at);
                true
            }
            _ => false,
        })
    }
}

/// A token endpoint for tests that need none: every request is refused.
pub struct NoTokenEndpoint;

#[async_trait]
impl crate::oauth2::TokenEndpoint for NoTokenEndpoint {
    async fn request(
        &self,
        _: &crate::oauth2::TokenRequest<'_>,
    ) -> Result<crate::oauth2::TokenAnswer, crate::ports::DeliveryError> {
        Err(crate::ports::DeliveryError::Refused(
            "no token endpoint in this test".into(),
        ))
    }
}
