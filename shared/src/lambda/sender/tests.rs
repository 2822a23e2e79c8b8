//! The sender over in-memory ports: each verdict, and the rules that make
//! retries and replays follow the operator.
use super::message::{span, unreadable_state, unreadable_too_long};
use super::*;
use crate::clock::Clock;
use crate::memory::{
    self, MemoryAttemptLog, MemoryConfig, MemoryControl, MemoryDeadLetters, MemoryPayloads,
    MemoryRedelivery, MemorySecrets, MemoryTopic, ScriptedTransport,
};
use aws_lambda_events::event::sqs::SqsEvent;
use serde_json::{Value, json};
use std::sync::Arc;

struct World {
    sender: Sender,
    transport: Arc<ScriptedTransport>,
    dead_letters: Arc<MemoryDeadLetters>,
    log: Arc<MemoryAttemptLog>,
    redelivery: Arc<MemoryRedelivery>,
    control: Arc<MemoryControl>,
    topic: Arc<MemoryTopic>,
    clock: Arc<crate::clock::ManualClock>,
    config: Arc<MemoryConfig>,
    secrets: Arc<MemorySecrets>,
}

fn subscription(extra: Value) -> Value {
    let mut s = json!({"id": "s", "kind": "subscription", "party": {"type": "partner", "id": 1413},
                       "eventTypes": ["newStatus"],
                       "destination": {"method": "POST", "url": "https://example.com/now"}});
    s.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    s
}

fn world(config: Vec<Value>, transport: ScriptedTransport) -> World {
    let transport = Arc::new(transport);
    let (parked, log, redelivery) = (
        Arc::<MemoryDeadLetters>::default(),
        Arc::<MemoryAttemptLog>::default(),
        Arc::<MemoryRedelivery>::default(),
    );
    let (control, topic) = (
        Arc::<MemoryControl>::default(),
        Arc::<MemoryTopic>::default(),
    );
    let holds = Arc::<memory::MemoryHolds>::default();
    let clock = Arc::<crate::clock::ManualClock>::default();
    let secrets = Arc::<MemorySecrets>::default();
    secrets
        .values
        .lock()
        .unwrap()
        .insert(OPS_SECRET.into(), vec![OPS_KEY.into()]);
    let config = Arc::new(MemoryConfig::new(config));
    World {
        sender: Sender {
            transport: transport.clone(),
            dead_letters: parked.clone(),
            redelivery: redelivery.clone(),
            secrets: secrets.clone(),
            control: control.clone(),
            payloads: Arc::new(MemoryPayloads::default()),
            log: log.clone(),
            schedule: RetrySchedule::default(),
            config: ConfigCache::new(config.clone(), Duration::from_secs(60))
                .with_clock(clock.clone()),
            notices: topic.clone(),
            streaks: Streaks::new(
                crate::notice::DEFAULT_FAILURE_STREAK,
                Duration::from_secs(60),
            ),
            rates: Arc::new(memory::MemoryRates::default()),
            breakers: Breakers::default(),
            tokens: crate::oauth2::Tokens::new(Arc::new(memory::NoTokenEndpoint)),
            holds: holds.clone(),
            clock: clock.clone(),
            unreadable_limit: crate::settings::DEFAULT_UNREADABLE_LIMIT,
            due_notices: Default::default(),
            notice_budget: super::NOTICE_BUDGET,
        },
        clock,
        config,
        secrets,
        transport,
        dead_letters: parked,
        log,
        redelivery,
        control,
        topic,
    }
}

const OPS_SECRET: &str = "ops-signing";
const OPS_KEY: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// The notice destination of partner 1413 (the subscription's party).
fn operators() -> Value {
    json!({"id": "ops-1413", "kind": "noticeDestination", "party": {"type": "partner", "id": 1413},
           "destination": {"method": "POST", "url": "https://example.com/ops"},
           "auth": {"signingSecret": OPS_SECRET}})
}

fn types(topic: &MemoryTopic) -> Vec<&'static str> {
    topic
        .published()
        .iter()
        .map(|n| n.notice_type.as_str())
        .collect()
}

fn other_subscription() -> Value {
    json!({"id": "b", "kind": "subscription", "party": {"type": "partner", "id": 1413},
           "eventTypes": ["newStatus"],
           "destination": {"method": "POST", "url": "https://example.com/b"}})
}

#[tokio::test]
async fn a_receiver_that_timed_out_has_its_waiting_deliveries_deferred_not_attempted() {
    // GIVEN `s`'s receiver times out once
    let w = world(
        vec![subscription(json!({})), other_subscription()],
        ScriptedTransport::new(
            [Err(DeliveryError::Timeout(Duration::from_secs(10)))],
            memory::ok(),
        ),
    );
    assert_eq!(
        w.sender.process(&message(&envelope(), 1)).await,
        Settled::Failed
    );
    // WHEN another delivery of `s` (its third receipt) comes up
    let second = memory::delivery("d-2", "s", "https://example.com/x");
    assert_eq!(
        w.sender.process(&message(&second, 3)).await,
        Settled::Deferred
    );
    // THEN it is put back for the rest of the window, not attempted,
    // keeping its two earlier attempts
    assert_eq!(w.transport.attempts().len(), 1);
    let deferred = w.redelivery.deferred.lock().unwrap().clone();
    assert_eq!(deferred.len(), 1);
    assert_eq!(deferred[0].0.id.as_str(), "d-2");
    assert_eq!(deferred[0].0.spent_attempts, 2);
    assert_eq!(deferred[0].1, BREAKER_WINDOW, "the clock did not move");
    // AND another subscription's delivery goes out at once
    let other = memory::delivery("d-3", "b", "https://example.com/x");
    assert_eq!(
        w.sender.process(&message(&other, 1)).await,
        Settled::Delivered
    );
    assert_eq!(
        w.transport.attempts()[1].destination,
        "https://example.com/b"
    );
    // AND nothing was logged for the deferral (no attempt was made)
    let mut event = SqsEvent::default();
    event.records.push(message(
        &memory::delivery("d-4", "s", "https://example.com/x"),
        1,
    ));
    let response = w.sender.handle(event).await.unwrap();
    assert!(response.batch_item_failures.is_empty());
    // AND once the window has passed, `s` is attempted again
    w.clock.advance(BREAKER_WINDOW - Duration::from_millis(1));
    let d5 = memory::delivery("d-5", "s", "https://example.com/x");
    assert_eq!(w.sender.process(&message(&d5, 1)).await, Settled::Deferred);
    assert_eq!(
        w.redelivery.deferred.lock().unwrap().last().unwrap().1,
        Duration::from_millis(1)
    );
    w.clock.advance(Duration::from_millis(1));
    let d6 = memory::delivery("d-6", "s", "https://example.com/x");
    assert_eq!(w.sender.process(&message(&d6, 1)).await, Settled::Delivered);
    assert!(
        w.log
            .records()
            .iter()
            .all(|r| r.delivery_id.as_str() != "d-4")
    );
}

#[tokio::test]
async fn max_per_second_defers_the_excess_by_a_second() {
    // GIVEN a subscription allowed 2 deliveries a second
    let w = world(
        vec![subscription(json!({"maxPerSecond": 2}))],
        ScriptedTransport::accepting(),
    );
    // WHEN a batch of 3 comes (within one second)
    let mut event = SqsEvent::default();
    for i in 1..=3 {
        let mut m = message(&memory::delivery(&format!("d-{i}"), "s", "https://x/"), 1);
        m.message_id = Some(format!("m-{i}"));
        event.records.push(m);
    }
    let response = w.sender.handle(event).await.unwrap();
    // THEN two go out, one is put back for a second, none failed
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(w.transport.attempts().len(), 2);
    let deferred = w.redelivery.deferred.lock().unwrap().clone();
    assert_eq!(deferred.len(), 1);
    assert_eq!(deferred[0].1, Duration::from_secs(1));
    assert_eq!(deferred[0].0.spent_attempts, 0);
}

#[tokio::test]
async fn a_deferred_delivery_counts_its_spent_attempts_against_max_attempts() {
    // GIVEN a delivery deferred after two attempts, maxAttempts 3
    let w = world(
        vec![subscription(json!({"maxAttempts": 3}))],
        ScriptedTransport::new([], memory::answered(500)),
    );
    let deferred = Delivery {
        spent_attempts: 2,
        ..envelope()
    };
    // WHEN its copy fails on first receipt
    assert_eq!(
        w.sender.process(&message(&deferred, 1)).await,
        Settled::DeadLettered
    );
    // THEN that was attempt 3 of 3
    assert_eq!(
        w.transport.attempts()[0].header("webhook-attempt"),
        Some("3")
    );
    assert_eq!(
        w.dead_letters.letters()[0].reason,
        "gave up after 3 of 3 attempts; last error: receiver answered 500: "
    );
    let parked: Delivery = serde_json::from_str(&w.dead_letters.letters()[0].body).unwrap();
    assert_eq!((parked.prior_attempts, parked.spent_attempts), (3, 0));
}

/// A message of the ordered queue, as Lambda hands it over.
fn ordered_message(delivery: &Delivery, id: &str, received: u32) -> SqsMessage {
    let mut m = message(delivery, received);
    m.message_id = Some(id.into());
    m.receipt_handle = Some(format!("h-{id}"));
    m.event_source_arn =
        Some("arn:aws:sqs:eu-west-1:123456789012:hubhooks-dev-deliveries-ordered.fifo".into());
    m.attributes
        .insert("MessageGroupId".into(), delivery.order_group());
    let mut attr = aws_lambda_events::event::sqs::SqsMessageAttribute::default();
    attr.string_value = Some(delivery.id.to_string());
    m.message_attributes.insert("deliveryId".into(), attr);
    m
}

#[tokio::test]
async fn an_ordered_delivery_that_must_come_again_holds_back_its_case_only() {
    // GIVEN two ordered deliveries of case g and one of case h; the
    // receiver fails the first
    let w = world(
        vec![subscription(json!({"ordering": "perCase"}))],
        ScriptedTransport::new([memory::answered(500)], memory::ok()),
    );
    let on = |id: &str, case: &str| Delivery {
        ordered: true,
        case_guid: crate::ids::CaseGuid::new(case),
        ..memory::delivery(id, "s", "https://x/")
    };
    let (d1, d2, d3) = (on("d-1", "g"), on("d-2", "g"), on("d-3", "h"));
    let mut event = SqsEvent::default();
    event.records = vec![
        ordered_message(&d1, "m-1", 1),
        ordered_message(&d2, "m-2", 1),
        ordered_message(&d3, "m-3", 1),
    ];
    // WHEN the batch is handled
    let response = w.sender.handle(event).await.unwrap();
    // THEN d-2 is not attempted: held behind d-1, visible again at once
    // (d-1, hidden until its retry, keeps the group waiting), and the
    // hold is counted; case h's goes out
    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, ["m-1", "m-2"]);
    let mut sent: Vec<String> = w
        .transport
        .attempts()
        .iter()
        .map(|a| a.delivery_id.clone())
        .collect();
    sent.sort();
    assert_eq!(sent, ["d-1", "d-3"]);
    let delays = w.redelivery.delays.lock().unwrap().clone();
    assert!(
        delays
            .iter()
            .any(|(h, d)| h == "h-m-1" && *d >= Duration::from_secs(24)),
        "{delays:?}"
    );
    assert!(
        delays.contains(&("h-m-2".to_owned(), Duration::ZERO)),
        "{delays:?}"
    );
    // WHEN both come again, d-1 is taken
    let mut event = SqsEvent::default();
    event.records = vec![
        ordered_message(&d1, "m-1", 2),
        ordered_message(&d2, "m-2", 2),
    ];
    let response = w.sender.handle(event).await.unwrap();
    assert!(response.batch_item_failures.is_empty());
    // THEN d-2's second receipt is its first attempt
    let attempts = w.transport.attempts();
    let d2_attempt = attempts.iter().find(|a| a.delivery_id == "d-2").unwrap();
    assert_eq!(d2_attempt.header("webhook-attempt"), Some("1"));
    let d1_again = attempts
        .iter()
        .filter(|a| a.delivery_id == "d-1")
        .nth(1)
        .unwrap();
    assert_eq!(d1_again.header("webhook-attempt"), Some("2"));
}

#[tokio::test]
async fn a_receivers_first_failure_marks_the_streak_once_and_a_success_ends_it() {
    // GIVEN a receiver that fails twice, then answers
    let w = world(
        vec![subscription(json!({}))],
        ScriptedTransport::new([memory::answered(500), memory::answered(503)], memory::ok()),
    );
    // WHEN the first attempt fails
    assert_eq!(
        w.sender.process(&message(&envelope(), 1)).await,
        Settled::Failed
    );
    // THEN the streak is marked and the operators told, once
    let since = *w.control.failing.lock().unwrap().get("s").expect("marked");
    assert_eq!(types(&w.topic), ["delivery.failing"]);
    let notice = &w.topic.published()[0];
    assert_eq!(notice.failing_since, Some(since));
    assert_eq!(notice.delivery.as_ref().unwrap().attempt, 1);
    assert_eq!(
        notice.reason,
        "attempt 1 of delivery d-1 failed: receiver answered 500: "
    );
    // WHEN the second fails: the same streak, no second notice
    assert_eq!(
        w.sender.process(&message(&envelope(), 2)).await,
        Settled::Failed
    );
    assert_eq!(w.control.failing.lock().unwrap().get("s"), Some(&since));
    assert_eq!(types(&w.topic), ["delivery.failing"]);
    // WHEN the third is delivered: the streak is over
    assert_eq!(
        w.sender.process(&message(&envelope(), 3)).await,
        Settled::Delivered
    );
    assert!(w.control.failing.lock().unwrap().is_empty());
    assert!(w.control.disabled.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_subscription_failing_past_the_limit_is_disabled_and_its_operators_told_signed() {
    // GIVEN a subscription failing for six days, and its party's
    // notice destination
    // (as stored: to the millisecond)
    let since =
        Timestamp::from_millis((chrono::Utc::now() - chrono::Duration::days(6)).timestamp_millis())
            .unwrap();
    let w = world(
        vec![
            subscription(json!({"failingSince": since.to_contract_string()})),
            operators(),
        ],
        // The receiver fails; the operators' endpoint answers.
        ScriptedTransport::new([memory::answered(503)], memory::ok()),
    );
    w.control.failing.lock().unwrap().insert("s".into(), since);
    // WHEN another attempt fails
    assert_eq!(
        w.sender.process(&message(&envelope(), 4)).await,
        Settled::Failed
    );
    // THEN the subscription is disabled with the reason recorded
    let disabled = w.control.disabled.lock().unwrap().clone();
    let reason = format!(
        "every attempt failed since {since} (the limit is 120 hours); last error: receiver answered 503: "
    );
    assert_eq!(disabled, [("s".to_owned(), reason.clone())]);
    // AND the topic and the party's operators hear of it, signed
    assert_eq!(types(&w.topic), ["subscription.disabled"]);
    let notice = &w.topic.published()[0];
    assert_eq!(notice.reason, reason);
    assert_eq!(notice.failing_since, Some(since));
    let sent = w.transport.attempts();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[1].destination, "https://example.com/ops");
    assert_eq!(sent[1].header("event-type"), Some("subscription.disabled"));
    assert_eq!(sent[1].header("webhook-id"), Some(notice.id.as_str()));
    assert_eq!(sent[1].body, notice.to_json());
    let timestamp: i64 = sent[1]
        .header("webhook-timestamp")
        .unwrap()
        .parse()
        .unwrap();
    let expected =
        crate::signature::sign(&[OPS_KEY.into()], &notice.id, timestamp, &sent[1].body).unwrap();
    assert_eq!(sent[1].header("webhook-signature"), Some(expected.as_str()));
}

#[tokio::test]
async fn a_streak_ended_elsewhere_disables_nothing() {
    // GIVEN a stale config saying the subscription fails since six
    // days, while another instance's success ended that streak
    // (as stored: to the millisecond)
    let since =
        Timestamp::from_millis((chrono::Utc::now() - chrono::Duration::days(6)).timestamp_millis())
            .unwrap();
    let w = world(
        vec![subscription(
            json!({"failingSince": since.to_contract_string()}),
        )],
        ScriptedTransport::new([], memory::answered(503)),
    );
    // WHEN an attempt fails
    assert_eq!(
        w.sender.process(&message(&envelope(), 2)).await,
        Settled::Failed
    );
    // THEN nothing is disabled: the disable is conditional on that streak
    assert!(w.control.disabled.lock().unwrap().is_empty());
    assert!(types(&w.topic).is_empty());
}

#[tokio::test]
async fn refusals_of_our_own_are_not_the_receivers_failures_but_dead_letters_are_told() {
    // GIVEN a destination the SSRF guard refuses, and the operators
    let w = world(
        vec![subscription(json!({})), operators()],
        ScriptedTransport::new(
            [Err(DeliveryError::Refused(
                "10.0.0.7 is a private address".into(),
            ))],
            memory::ok(),
        ),
    );
    // WHEN it is tried
    assert_eq!(
        w.sender.process(&message(&envelope(), 1)).await,
        Settled::DeadLettered
    );
    // THEN no streak begins, and the dead letter is told
    assert!(w.control.failing.lock().unwrap().is_empty());
    assert_eq!(types(&w.topic), ["delivery.deadLettered"]);
    let notice = &w.topic.published()[0];
    assert_eq!(
        notice.reason,
        "attempt 1: refused: 10.0.0.7 is a private address"
    );
    assert_eq!(
        notice.delivery.as_ref().unwrap().delivery_id.as_str(),
        "d-1"
    );
    let sent = w.transport.attempts();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].header("event-type"), Some("delivery.deadLettered"));
}

/// The message SQS hands over on receive number `received`.
fn message(delivery: &Delivery, received: u32) -> SqsMessage {
    let mut m = SqsMessage::default();
    m.message_id = Some("m-1".into());
    m.receipt_handle = Some("h-1".into());
    m.body = Some(delivery.to_message());
    m.attributes
        .insert("ApproximateReceiveCount".into(), received.to_string());
    m
}

fn envelope() -> Delivery {
    memory::delivery("d-1", "s", "https://example.com/when-routed")
}

#[tokio::test]
async fn a_delivery_goes_where_the_subscription_points_now() {
    let w = world(
        vec![subscription(json!({}))],
        ScriptedTransport::accepting(),
    );
    let outcome = w.sender.process(&message(&envelope(), 1)).await;
    assert_eq!(outcome, Settled::Delivered);
    let sent = w.transport.attempts();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].destination, "https://example.com/now");
}

#[tokio::test]
async fn a_disabled_subscription_is_sent_nothing_and_the_delivery_waits_in_the_dlq() {
    let w = world(
        vec![subscription(
            json!({"enabled": false, "disabledReason": "receiver down"}),
        )],
        ScriptedTransport::accepting(),
    );
    let outcome = w.sender.process(&message(&envelope(), 3)).await;
    assert_eq!(outcome, Settled::DeadLettered);
    assert!(w.transport.attempts().is_empty());
    let letters = w.dead_letters.letters();
    assert_eq!(
        letters[0].reason,
        "subscription `s` is disabled (receiver down); not sent"
    );
    // Dead-lettered with its count, so a replay counts on: two attempts
    // were made, this third receipt was none.
    let parked: Delivery = serde_json::from_str(&letters[0].body).unwrap();
    assert_eq!(parked.prior_attempts, 2);
    w.sender.log.flush().await.unwrap();
    assert!(w.log.records().is_empty(), "no attempt logged");
}

#[tokio::test]
async fn a_deleted_subscription_is_sent_nothing() {
    let w = world(vec![], ScriptedTransport::accepting());
    assert_eq!(
        w.sender.process(&message(&envelope(), 1)).await,
        Settled::DeadLettered
    );
    assert!(w.transport.attempts().is_empty());
    assert_eq!(
        w.dead_letters.letters()[0].reason,
        "subscription `s` no longer exists; not sent"
    );
}

#[tokio::test]
async fn a_replayed_delivery_counts_its_attempts_on() {
    let w = world(
        vec![subscription(json!({}))],
        ScriptedTransport::accepting(),
    );
    let replayed = Delivery {
        prior_attempts: 2,
        ..envelope()
    };
    let mut event = SqsEvent::default();
    event.records.push(message(&replayed, 1));
    w.sender.handle(event).await.unwrap();
    assert_eq!(
        w.transport.attempts()[0].header("webhook-attempt"),
        Some("3")
    );
    let log = w.log.records();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].attempt, 3);
}

#[tokio::test]
async fn a_failed_attempt_is_hidden_for_the_schedules_delay_even_with_retry_after_zero() {
    let w = world(
        vec![subscription(json!({}))],
        ScriptedTransport::new(
            [Err(DeliveryError::Rejected {
                status: 429,
                excerpt: String::new(),
                latency: Duration::from_millis(1),
                retry_after: Some(Duration::ZERO),
            })],
            memory::ok(),
        ),
    );
    assert_eq!(
        w.sender.process(&message(&envelope(), 1)).await,
        Settled::Failed
    );
    let delays = w.redelivery.delays.lock().unwrap().clone();
    assert_eq!(delays.len(), 1);
    assert!(delays[0].1 >= Duration::from_secs(24), "{delays:?}");
}

#[tokio::test]
async fn the_last_allowed_attempt_dead_letters_with_the_last_error() {
    let w = world(
        vec![subscription(json!({"maxAttempts": 2}))],
        ScriptedTransport::new([], memory::answered(500)),
    );
    assert_eq!(
        w.sender.process(&message(&envelope(), 2)).await,
        Settled::DeadLettered
    );
    assert_eq!(
        w.dead_letters.letters()[0].reason,
        "gave up after 2 of 2 attempts; last error: receiver answered 500: "
    );
}

#[tokio::test]
async fn a_subscriptions_own_retry_schedule_replaces_the_deployments() {
    let w = world(
        vec![subscription(json!({"retry": [5, 3600]}))],
        ScriptedTransport::new([], memory::answered(503)),
    );
    for received in 1..=2 {
        assert_eq!(
            w.sender.process(&message(&envelope(), received)).await,
            Settled::Failed
        );
    }
    let delays: Vec<u64> = w
        .redelivery
        .delays
        .lock()
        .unwrap()
        .iter()
        .map(|(_, d)| d.as_secs())
        .collect();
    // ±20% jitter around 5 s, then an hour (the deployment's would be 30 s, 2 min).
    assert!((4..=6).contains(&delays[0]), "{delays:?}");
    assert!((2880..=4320).contains(&delays[1]), "{delays:?}");
    assert_eq!(
        w.sender.process(&message(&envelope(), 3)).await,
        Settled::DeadLettered
    );
    assert_eq!(
        w.dead_letters.letters()[0].reason,
        "gave up after 3 of 3 attempts; last error: receiver answered 503: "
    );
}

/// Counts deliveries in flight at once, per subscription.
#[derive(Default)]
struct Gauge {
    now: std::sync::Mutex<std::collections::HashMap<String, usize>>,
    peak: std::sync::Mutex<std::collections::HashMap<String, usize>>,
}

#[async_trait::async_trait]
impl crate::ports::Transport for Gauge {
    async fn deliver(
        &self,
        outgoing: &Outgoing<'_>,
    ) -> Result<crate::outcome::Receipt, DeliveryError> {
        let sub = outgoing.subscription_id.to_owned();
        {
            let mut now = self.now.lock().unwrap();
            let n = now.entry(sub.clone()).or_default();
            *n += 1;
            let mut peak = self.peak.lock().unwrap();
            let p = peak.entry(sub.clone()).or_default();
            *p = (*p).max(*n);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        *self.now.lock().unwrap().get_mut(&sub).unwrap() -= 1;
        memory::ok()
    }
}

#[tokio::test]
async fn a_batch_of_100_reaches_each_subscription_10_at_a_time() {
    // GIVEN a batch of 100: 60 deliveries for `a`, 40 for `b`
    let mut w = world(
        vec![
            subscription(json!({"id": "a"})),
            subscription(json!({"id": "b"})),
        ],
        ScriptedTransport::accepting(),
    );
    let gauge = Arc::new(Gauge::default());
    w.sender.transport = gauge.clone();
    let mut event = SqsEvent::default();
    for i in 0..100 {
        let sub = if i < 60 { "a" } else { "b" };
        let mut m = message(
            &Delivery {
                id: crate::ids::DeliveryId::new(format!("d-{i}")),
                subscription_id: crate::ids::SubscriptionId::new(sub),
                ..envelope()
            },
            1,
        );
        m.message_id = Some(format!("m-{i}"));
        let mut attribute = aws_lambda_events::event::sqs::SqsMessageAttribute::default();
        attribute.string_value = Some(sub.into());
        m.message_attributes.insert(
            crate::delivery::attributes::SUBSCRIPTION_ID.into(),
            attribute,
        );
        event.records.push(m);
    }
    // WHEN it is handled
    let response = w.sender.handle(event).await.unwrap();
    // THEN all are delivered, never more than 10 at once to either,
    // and both subscriptions were served side by side
    assert!(response.batch_item_failures.is_empty());
    let peak = gauge.peak.lock().unwrap().clone();
    assert_eq!(peak.get("a"), Some(&PER_SUBSCRIPTION_IN_FLIGHT));
    assert_eq!(peak.get("b"), Some(&PER_SUBSCRIPTION_IN_FLIGHT));
    assert_eq!(w.log.records().len(), 100);
}

#[tokio::test]
async fn a_batch_reports_only_the_messages_to_retry() {
    // GIVEN a batch: one delivered, one the receiver refuses with 503,
    // one that is not a delivery at all
    let w = world(
        vec![subscription(json!({}))],
        ScriptedTransport::new([memory::ok(), memory::answered(503)], memory::ok()),
    );
    let mut first = message(&envelope(), 1);
    first.message_id = Some("ok".into());
    let mut second = message(
        &Delivery {
            id: crate::ids::DeliveryId::new("d-2"),
            ..envelope()
        },
        1,
    );
    second.message_id = Some("retry".into());
    let mut third = message(&envelope(), 1);
    third.message_id = Some("junk".into());
    third.body = Some("{not json".into());
    let mut event = SqsEvent::default();
    event.records = vec![first, second, third];
    // WHEN it is handled
    let response = w.sender.handle(event).await.unwrap();
    // THEN only the 503 comes back; the junk waits in the DLQ
    let failed: Vec<String> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(failed, ["retry"]);
    let letters = w.dead_letters.letters();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].body, "{not json");
    assert!(
        letters[0].reason.starts_with("not a delivery: "),
        "{}",
        letters[0].reason
    );
}

#[tokio::test]
async fn gone_disables_the_subscription_and_dead_letters_the_delivery() {
    let w = world(
        vec![subscription(json!({}))],
        ScriptedTransport::new([], memory::answered(410)),
    );
    assert_eq!(
        w.sender.process(&message(&envelope(), 1)).await,
        Settled::DeadLettered
    );
    assert_eq!(
        types(&w.topic),
        ["subscription.disabled", "delivery.deadLettered"]
    );
    let disabled = w.control.disabled.lock().unwrap().clone();
    assert_eq!(
        disabled,
        [(
            "s".to_owned(),
            "attempt 1: receiver answered 410: ; the subscription is disabled".to_owned()
        )]
    );
}

/// GIVEN a signed subscription WHEN something of ours cannot be read
/// THEN nothing is attempted: the delivery is put back with our own
/// backoff, its attempts unspent, nothing logged, no streak marked.
#[tokio::test]
async fn what_we_cannot_read_is_put_back_unattempted() {
    let signed = subscription(json!({"auth": {"signingSecret": "acme"}}));
    // (what fails, the reason's start)
    let cases: [(&str, &str); 3] = [
        ("config", "the config could not be read: "),
        (
            "secret",
            "secret `acme` named by auth.signingSecret does not exist",
        ),
        ("body", "the stored body could not be read: "),
    ];
    for (fails, _) in cases {
        let w = world(vec![signed.clone()], ScriptedTransport::accepting());
        let mut d = envelope();
        match fails {
            "config" => *w.config.failing.lock().unwrap() = 1,
            "body" => d.body_ref = Some("bodies/nowhere.json".into()),
            _ => {}
        }
        if fails != "secret" {
            w.secrets
                .values
                .lock()
                .unwrap()
                .insert("acme".into(), vec!["whsec_AAAA".into()]);
        }
        let outcome = w.sender.process(&message(&d, 1)).await;
        assert_eq!(outcome, Settled::Deferred, "{fails}");
        assert!(w.transport.attempts().is_empty(), "{fails}: nothing sent");
        w.sender.log.flush().await.unwrap();
        assert!(w.log.records().is_empty(), "{fails}: no attempt logged");
        assert!(w.dead_letters.letters().is_empty(), "{fails}");
        assert!(
            w.control.failing.lock().unwrap().is_empty(),
            "{fails}: no streak"
        );
        let deferred = w.redelivery.deferred.lock().unwrap().clone();
        let (again, wait) = &deferred[0];
        assert_eq!(again.spent_attempts, 0, "{fails}");
        assert_eq!(
            again.unreadable,
            Some(crate::delivery::Unreadable {
                since: w.clock.now(),
                times: 1
            }),
            "{fails}"
        );
        assert!((1..=3).contains(&wait.as_secs()), "{fails}: {wait:?}");
    }
}

#[tokio::test]
async fn a_delivery_put_back_is_attempt_one_once_ours_can_be_read() {
    let w = world(
        vec![subscription(json!({}))],
        ScriptedTransport::accepting(),
    );
    *w.config.failing.lock().unwrap() = 1;
    w.sender.process(&message(&envelope(), 1)).await;
    let (again, _) = w.redelivery.deferred.lock().unwrap()[0].clone();
    // The put-back message, received once.
    let outcome = w.sender.process(&message(&again, 1)).await;
    assert_eq!(outcome, Settled::Delivered);
    let sent = w.transport.attempts();
    assert_eq!(sent[0].header("webhook-attempt"), Some("1"));
    w.sender.log.flush().await.unwrap();
    assert_eq!(w.log.records()[0].attempt, 1);
}

#[tokio::test]
async fn a_delivery_unreadable_past_the_limit_is_dead_lettered_unsent() {
    let w = world(
        vec![subscription(json!({"auth": {"bearerSecret": "gone"}}))],
        ScriptedTransport::accepting(),
    );
    let since = w.clock.now();
    let mut d = envelope();
    d.prior_attempts = 2;
    d.unreadable = Some(crate::delivery::Unreadable { since, times: 20 });
    w.clock
        .advance(crate::settings::DEFAULT_UNREADABLE_LIMIT + Duration::from_secs(1));
    assert_eq!(
        w.sender.process(&message(&d, 1)).await,
        Settled::DeadLettered
    );
    assert!(w.transport.attempts().is_empty());
    let letter = &w.dead_letters.letters()[0];
    assert_eq!(
        letter.reason,
        format!(
            "never reached the receiver: secret `gone` named by auth.bearerSecret does not \
             exist or is empty; unreadable since {since}, over the limit of 72 hours"
        )
    );
    let parked: Delivery = serde_json::from_str(&letter.body).unwrap();
    assert_eq!(parked.prior_attempts, 2, "no attempt added");
    assert_eq!(types(&w.topic), ["delivery.deadLettered"]);
}

#[test]
fn an_unreadable_spell_goes_on_only_in_a_put_back_message_received_once() {
    // Whole milliseconds, as SQS's SentTimestamp.
    let now = Timestamp::from_millis(Timestamp::now().0.timestamp_millis()).unwrap();
    let earlier = Timestamp(now.0 - chrono::Duration::seconds(60));
    let before = Some(crate::delivery::Unreadable {
        since: earlier,
        times: 4,
    });
    // (envelope's spell, receipts, ordered, sent, → since, times)
    let table = [
        (None, 1, false, None, now, 1),
        (before, 1, false, None, earlier, 5),
        // Received again: attempted meanwhile, a new spell.
        (before, 2, false, None, now, 1),
        // The ordered queue: the message's age and receipts.
        (None, 3, true, Some(earlier), earlier, 3),
        (None, 1, true, None, now, 1),
    ];
    for (spell, receipts, ordered, sent, since, times) in table {
        let mut d = envelope();
        d.unreadable = spell;
        let mut m = message(&d, receipts);
        if let Some(sent) = sent {
            m.attributes.insert(
                "SentTimestamp".into(),
                sent.0.timestamp_millis().to_string(),
            );
        }
        let got = unreadable_state(&d, &m, ordered, now);
        assert_eq!(
            got,
            crate::delivery::Unreadable { since, times },
            "{spell:?} {receipts} {ordered}"
        );
    }
    let limit = Duration::from_secs(60);
    assert!(!unreadable_too_long(earlier, now, limit));
    assert!(unreadable_too_long(earlier, now, Duration::from_secs(59)));
    assert_eq!(span(Duration::from_secs(72 * 3600)), "72 hours");
    assert_eq!(span(Duration::from_secs(3)), "3 seconds");
}

#[tokio::test]
async fn a_refused_destination_is_dead_lettered_at_once() {
    let w = world(
        vec![subscription(json!({}))],
        ScriptedTransport::new(
            [],
            Err(DeliveryError::Refused(
                "10.0.0.7 is a private address".into(),
            )),
        ),
    );
    assert_eq!(
        w.sender.process(&message(&envelope(), 1)).await,
        Settled::DeadLettered
    );
    assert_eq!(
        w.dead_letters.letters()[0].reason,
        "attempt 1: refused: 10.0.0.7 is a private address"
    );
    assert!(w.redelivery.delays.lock().unwrap().is_empty());
}

#[tokio::test]
async fn the_sample_sqs_event_is_delivered_with_its_identity_headers() {
    // GIVEN the sample event (events/deliveries.json) and its subscription
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../events/deliveries.json");
    let event: SqsEvent = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let w = world(
        vec![
            json!({"id": "fixit-provider-status", "kind": "subscription",
                    "party": {"type": "provider", "id": 1004}, "eventTypes": ["newStatus"],
                    "destination": {"method": "POST", "url": "https://fixit.example/hooks"}}),
        ],
        ScriptedTransport::accepting(),
    );
    // WHEN the sender handles it
    let response = w.sender.handle(event).await.unwrap();
    // THEN it is delivered once, with the delivery id and type
    assert!(response.batch_item_failures.is_empty());
    let sent = w.transport.attempts();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].destination, "https://fixit.example/hooks");
    assert_eq!(
        sent[0].header("webhook-id"),
        Some("8b0e2a5c-6a8e-5a7e-9d7c-0f3e1c2b4a11")
    );
    assert_eq!(sent[0].header("event-type"), Some("newStatus"));
    assert!(
        sent[0].body.contains("\"key\":\"repair_done\""),
        "{}",
        sent[0].body
    );
}

/// Answers by destination: `/now` (subscription `s`) 500, `/ops` (the
/// notice destination) never, anything else 200.
struct SilentOps;

#[async_trait::async_trait]
impl crate::ports::Transport for SilentOps {
    async fn deliver(
        &self,
        outgoing: &Outgoing<'_>,
    ) -> Result<crate::outcome::Receipt, DeliveryError> {
        let crate::config::Destination::Http(dest) = outgoing.destination else {
            return memory::ok();
        };
        match dest.url.rsplit('/').next() {
            Some("now") => memory::answered(500),
            Some("ops") => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                memory::ok()
            }
            _ => memory::ok(),
        }
    }
}

/// GIVEN a batch with a delivery dead-lettered at its only attempt, whose
/// party's notice destination never answers, and another subscription's
/// delivery WHEN the batch is handled THEN it is answered within the
/// notice budget (the notice went to the topic; its destination had the
/// budget), not after three tries of a silent destination.
#[tokio::test(start_paused = true)]
async fn a_silent_notice_destination_holds_up_no_batch() {
    let mut w = world(
        vec![
            subscription(json!({"maxAttempts": 1})),
            other_subscription(),
            operators(),
        ],
        ScriptedTransport::accepting(),
    );
    w.sender.transport = Arc::new(SilentOps);
    let mut event = SqsEvent::default();
    event.records.push(message(&envelope(), 1));
    let mut other = message(&memory::delivery("d-b", "b", "https://example.com/b"), 1);
    other.message_id = Some("m-2".into());
    event.records.push(other);
    let started = tokio::time::Instant::now();
    let response = w.sender.handle(event).await.unwrap();
    let took = started.elapsed();
    assert!(took <= super::NOTICE_BUDGET, "the batch took {took:?}");
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(w.dead_letters.letters().len(), 1);
    assert_eq!(
        types(&w.topic),
        ["delivery.failing", "delivery.deadLettered"]
    );
}

/// GIVEN a test send (`hubhooks send-test`) WHEN the receiver answers 410
/// THEN the real subscription stays enabled and nobody is told it was
/// disabled; the attempt log says so, and the letter is tagged a test.
#[tokio::test]
async fn a_test_answered_410_leaves_the_subscription_enabled_and_says_so() {
    let w = world(
        vec![subscription(json!({})), operators()],
        ScriptedTransport::new([], memory::answered(410)),
    );
    let test = envelope().test();
    assert_eq!(
        w.sender.process(&message(&test, 1)).await,
        Settled::DeadLettered
    );
    assert!(w.control.disabled.lock().unwrap().is_empty());
    assert!(types(&w.topic).is_empty(), "{:?}", types(&w.topic));
    w.sender.log.flush().await.unwrap();
    let log = w.log.records();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].outcome, crate::attempt::AttemptOutcome::Gone);
    assert_eq!(
        log[0].error.as_deref(),
        Some(
            "attempt 1: receiver answered 410: ; a test send: the subscription stays enabled (a webhook answered 410 disables it)"
        )
    );
    let letter: Delivery = serde_json::from_str(&w.dead_letters.letters()[0].body).unwrap();
    assert!(letter.test);
}

/// GIVEN a test send WHEN something of ours is missing (its secret) or our
/// guard refuses the destination THEN it is not put back to wait: the
/// attempt log says at once that we refused it and the receiver was not
/// contacted.
#[tokio::test]
async fn a_test_we_refuse_is_logged_as_ours_at_once() {
    // (transport's answer, subscription extra, the logged error)
    let cases = [
        (
            memory::ok(),
            json!({"auth": {"signingSecret": "missing"}}),
            "attempt 1: not sent: secret `missing` named by auth.signingSecret does not exist or is empty",
        ),
        (
            Err(DeliveryError::Refused(
                "10.0.0.7 is a private address".into(),
            )),
            json!({}),
            "attempt 1: refused: 10.0.0.7 is a private address",
        ),
    ];
    for (answer, extra, error) in cases {
        let w = world(
            vec![subscription(extra)],
            ScriptedTransport::new([], answer),
        );
        assert_eq!(
            w.sender.process(&message(&envelope().test(), 1)).await,
            Settled::DeadLettered,
            "{error}"
        );
        assert!(w.redelivery.delays.lock().unwrap().is_empty(), "{error}");
        w.sender.log.flush().await.unwrap();
        let log = w.log.records();
        assert_eq!(log.len(), 1, "{error}");
        assert_eq!(log[0].outcome, crate::attempt::AttemptOutcome::Refused);
        assert_eq!(log[0].status, None);
        assert_eq!(log[0].error.as_deref(), Some(error));
    }
}
