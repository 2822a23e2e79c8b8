//! AMQP delivery against the machine's real RabbitMQ (127.0.0.1:5672,
//! guest/guest; `scripts/rabbitmq.sh` starts it when absent). These tests run
//! one at a time (.config/nextest.toml): one of them stops the broker.
use hubhooks_cli::local::provision::QueueSettings;
use hubhooks_tests::*;
use lapin::options::{BasicGetOptions, QueueDeclareOptions, QueueDeleteOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Connection, ConnectionProperties};
use serde_json::{Value, json};
use std::time::Duration;

const BROKER: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";
use hubhooks_tests::fixtures::PARTNER;
const GUID: &str = "68ea1505-a44f-4434-be5a-dcc959be250e";
const WAIT: Duration = Duration::from_secs(60);

fn case() -> Value {
    fixtures::case(GUID, 1290485)
}

fn status(id: i64, key: &str) -> Value {
    json!({"caseId": 1290485, "id": id, "guid": GUID, "key": key, "name": key,
           "createdAt": "2023-01-25T13:11:18.000Z"})
}

/// A durable queue of its own for each test, removed at the end.
struct TestQueue {
    name: String,
    channel: lapin::Channel,
}

impl TestQueue {
    async fn declare(name: &str) -> TestQueue {
        let conn = Connection::connect(BROKER, ConnectionProperties::default())
            .await
            .expect("RabbitMQ on 127.0.0.1:5672 (scripts/rabbitmq.sh starts it)");
        let channel = conn.create_channel().await.unwrap();
        let name = format!("{name}-{}", std::process::id());
        channel
            .queue_declare(
                name.as_str().into(),
                QueueDeclareOptions {
                    durable: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await
            .unwrap();
        TestQueue { name, channel }
    }

    /// Every message now in the queue, acknowledged.
    async fn take_all(&self) -> Vec<lapin::message::BasicGetMessage> {
        let mut out = Vec::new();
        while let Some(m) = self
            .channel
            .basic_get(self.name.as_str().into(), BasicGetOptions { no_ack: true })
            .await
            .unwrap()
        {
            out.push(m);
        }
        out
    }

    async fn wait_for(&self, n: usize) -> Vec<lapin::message::BasicGetMessage> {
        let deadline = std::time::Instant::now() + WAIT;
        let mut got = Vec::new();
        while got.len() < n && std::time::Instant::now() < deadline {
            got.extend(self.take_all().await);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        got
    }

    /// Messages until `n` distinct statuses have come (a status may come
    /// twice: delivery is at least once).
    async fn wait_for_statuses(&self, n: usize) -> Vec<lapin::message::BasicGetMessage> {
        let deadline = std::time::Instant::now() + WAIT;
        let mut got = Vec::new();
        while statuses(&got).len() < n && std::time::Instant::now() < deadline {
            got.extend(self.take_all().await);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        got
    }

    async fn delete(self) {
        let _ = self
            .channel
            .queue_delete(self.name.as_str().into(), QueueDeleteOptions::default())
            .await;
    }
}

async fn stack_with_amqp_subscription(queue: &str, extra: Value) -> Stack {
    let s = Stack::start(QueueSettings {
        visibility_timeout_secs: 1,
        ..QueueSettings::default()
    })
    .await
    .unwrap();
    s.put_secret("partner-broker", &[BROKER]).await.unwrap();
    let mut sub = json!({"id": "amqp-sub", "kind": "subscription", "party": {"type": "partner", "id": PARTNER},
        "eventTypes": ["newStatus"],
        "destination": {"transport": "amqp", "uriSecret": "partner-broker", "routingKey": queue}});
    sub.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    s.put_config(&[sub]).await.unwrap();
    s.put_case(&case()).await.unwrap();
    s
}

fn header(m: &lapin::message::BasicGetMessage, name: &str) -> Option<String> {
    let headers = m.delivery.properties.headers().as_ref()?;
    match headers.inner().get(name)? {
        AMQPValue::LongString(s) => Some(s.to_string()),
        other => Some(format!("{other:?}")),
    }
}

#[tokio::test]
async fn the_exact_body_and_properties_arrive_in_the_queue() {
    let q = TestQueue::declare("hubhooks-exact").await;
    let s = stack_with_amqp_subscription(
        &q.name,
        json!({"auth": {"signingSecret": "partner-signing"}}),
    )
    .await;
    s.put_secret(
        "partner-signing",
        &["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    )
    .await
    .unwrap();
    let _runner = s.run().await.unwrap();
    s.put_status(&status(1, "registered")).await.unwrap();
    let got = q.wait_for(1).await;
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(
        String::from_utf8(m.delivery.data.clone()).unwrap(),
        format!(
            r#"{{"id":1,"caseId":1290485,"guid":"{GUID}","name":"registered","key":"registered","createdAt":"2023-01-25T13:11:18.000Z","updatedAt":"2023-01-25T13:11:18.000Z","declaredAt":null}}"#
        )
    );
    let p = &m.delivery.properties;
    assert_eq!(
        p.content_type().as_ref().map(|s| s.as_str()),
        Some("application/json")
    );
    assert_eq!(*p.delivery_mode(), Some(2), "persistent");
    assert_eq!(p.kind().as_ref().map(|s| s.as_str()), Some("newStatus"));
    assert_eq!(p.app_id().as_ref().map(|s| s.as_str()), Some("hubhooks"));
    let id = p.message_id().as_ref().unwrap().to_string();
    assert_eq!(header(m, "webhook-id").as_deref(), Some(id.as_str()));
    assert_eq!(header(m, "event-type").as_deref(), Some("newStatus"));
    assert_eq!(header(m, "webhook-attempt").as_deref(), Some("1"));
    assert!(header(m, "webhook-timestamp").is_some());
    assert!(header(m, "webhook-signature").unwrap().starts_with("v1,"));
    q.delete().await;
}

#[tokio::test]
async fn an_unroutable_message_is_retried_then_dead_lettered_with_why() {
    let s = stack_with_amqp_subscription("no-such-queue-anywhere", json!({"maxAttempts": 2})).await;
    let _runner = s.run().await.unwrap();
    s.put_status(&status(1, "registered")).await.unwrap();
    let parked = s.dead_letters(WAIT).await.unwrap();
    let reason = reason(&parked[0]);
    assert_eq!(
        reason,
        "gave up after 2 of 2 attempts; last error: request failed: broker 127.0.0.1:5672 returned the message as unroutable (312 NO_ROUTE): nothing bound to exchange `` with routing key `no-such-queue-anywhere`"
    );
    assert!(!reason.contains("guest:guest"));
}

/// Restarts the broker even when the test fails half-way.
struct BrokerGuard;

impl Drop for BrokerGuard {
    fn drop(&mut self) {
        let _ = std::process::Command::new(workspace_root().join("scripts/rabbitmq.sh")).status();
    }
}

fn rabbitmqctl(what: &str) {
    let status = std::process::Command::new("rabbitmqctl")
        .arg(what)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("rabbitmqctl");
    assert!(status.success(), "rabbitmqctl {what}");
}

/// The distinct status ids the messages carry.
fn statuses(messages: &[lapin::message::BasicGetMessage]) -> std::collections::BTreeSet<i64> {
    messages
        .iter()
        .filter_map(|m| serde_json::from_slice::<Value>(&m.delivery.data).ok()?["id"].as_i64())
        .collect()
}

/// The status ids the messages carry, sorted, each once; a status that
/// arrived more than once (delivery is at least once) arrived with one
/// webhook-id (the message id), as the contract promises.
fn once_each(messages: &[lapin::message::BasicGetMessage]) -> Vec<i64> {
    let mut ids: std::collections::BTreeMap<i64, std::collections::BTreeSet<String>> =
        Default::default();
    for m in messages {
        let status = serde_json::from_slice::<Value>(&m.delivery.data).unwrap()["id"]
            .as_i64()
            .unwrap();
        let webhook_id = m
            .delivery
            .properties
            .message_id()
            .as_ref()
            .map(|id| id.to_string())
            .unwrap_or_default();
        ids.entry(status).or_default().insert(webhook_id);
    }
    for (status, webhook_ids) in &ids {
        assert_eq!(webhook_ids.len(), 1, "status {status}: {webhook_ids:?}");
    }
    ids.into_keys().collect()
}

#[tokio::test]
async fn stopping_the_broker_mid_run_loses_nothing_once_it_is_back() {
    let q = TestQueue::declare("hubhooks-outage").await;
    let s = stack_with_amqp_subscription(&q.name, json!({"maxAttempts": 20})).await;
    let _runner = s.run().await.unwrap();
    for id in 1..=5 {
        s.put_status(&status(id, &format!("k{id}"))).await.unwrap();
    }
    let before = q.wait_for_statuses(5).await;
    // At least once: a message published twice (SQS's visibility timeout
    // ran out while the broker confirmed) must carry the same webhook-id.
    assert_eq!(once_each(&before), (1..=5).collect::<Vec<_>>());

    let _guard = BrokerGuard;
    rabbitmqctl("stop_app");
    for id in 6..=15 {
        s.put_status(&status(id, &format!("k{id}"))).await.unwrap();
    }
    // Let the deliveries fail against the stopped broker for a while.
    tokio::time::sleep(Duration::from_secs(4)).await;
    rabbitmqctl("start_app");

    let q = TestQueue::declare("hubhooks-outage").await;
    let after = q.wait_for_statuses(10).await;
    assert_eq!(
        once_each(&after),
        (6..=15).collect::<Vec<_>>(),
        "every status after the outage"
    );
    assert_eq!(s.depth(&s.stack.delivery_dlq_url).await.unwrap(), 0);
    q.delete().await;
}

/// A broker that accepts TCP but never answers must not stall
/// deliveries to a healthy broker, nor pile up a connection per delivery.
/// Before: one lock was held across every connect, so the healthy broker's
/// deliveries timed out behind the silent one's, and each delivery to the
/// silent broker opened (and leaked) a connection.
#[tokio::test]
async fn a_silent_broker_neither_stalls_a_healthy_one_nor_piles_up_connections() {
    use hubhooks::adapters::amqp::AmqpTransport;
    use hubhooks::config::{AmqpDestination, Destination};
    use hubhooks::egress::AllowList;
    use hubhooks::ports::{Outgoing, Transport};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    // A peer that accepts and then says nothing, keeping every socket.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_uri = format!("amqp://guest:guest@{}/%2f", silent.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let closed = Arc::new(AtomicUsize::new(0));
    let (count, ended) = (accepted.clone(), closed.clone());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = silent.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let ended = ended.clone();
            // Reads (and never answers) until the client closes.
            tokio::spawn(async move {
                use tokio::io::AsyncReadExt;
                let mut buf = [0u8; 1024];
                while matches!(socket.read(&mut buf).await, Ok(n) if n > 0) {}
                ended.fetch_add(1, Ordering::SeqCst);
            });
        }
    });
    let queue = TestQueue::declare("hubhooks-it-silent").await;
    let transport = AmqpTransport::new(AllowList::parse("127.0.0.1/32").unwrap());
    let delivery = |i: usize, to_silent: bool| {
        let mut d = hubhooks::memory::delivery(&format!("d-{i}"), "sub", "http://unused");
        d.destination = Destination::Amqp(AmqpDestination {
            uri_secret: "broker".into(),
            exchange: String::new(),
            routing_key: queue.name.clone(),
            timeout_ms: Some(1500),
        });
        (
            d,
            if to_silent {
                silent_uri.clone()
            } else {
                BROKER.to_owned()
            },
        )
    };
    let jobs: Vec<_> = (0..40).map(|i| delivery(i, i % 2 == 0)).collect();
    let started = std::time::Instant::now();
    let results = futures::future::join_all(jobs.iter().map(|(d, uri)| {
        let transport = &transport;
        async move {
            let outgoing = Outgoing::of(d, &d.body, vec![], Some(uri.clone()));
            transport.deliver(&outgoing).await
        }
    }))
    .await;
    let elapsed = started.elapsed();
    let healthy_failures: Vec<String> = results
        .iter()
        .enumerate()
        .filter(|(i, r)| i % 2 == 1 && r.is_err())
        .map(|(_, r)| format!("{r:?}"))
        .collect();
    assert_eq!(healthy_failures, Vec::<String>::new(), "after {elapsed:?}");
    assert!(results.iter().step_by(2).all(Result::is_err));
    assert_eq!(queue.wait_for(20).await.len(), 20);
    // One connect in flight to the silent broker, not one per delivery; and
    // after it failed, deliveries fail fast for a while without another.
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        1,
        "connections to the silent broker"
    );
    let (d, uri) = delivery(99, true);
    let again = transport
        .deliver(&Outgoing::of(&d, &d.body, vec![], Some(uri)))
        .await;
    assert!(format!("{again:?}").contains("not answering"), "{again:?}");
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
    // The abandoned handshake's connection is closed, not left open.
    let closed_in_time = eventually(Duration::from_secs(5), || async {
        (closed.load(Ordering::SeqCst) == 1).then_some(())
    })
    .await;
    assert!(
        closed_in_time.is_some(),
        "the silent broker's socket is still open"
    );
    queue.delete().await;
}
