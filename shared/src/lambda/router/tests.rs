//! The router over in-memory ports, fed the `events/` samples: the rules of
//! a batch, in milliseconds.
use super::*;
use crate::delivery::delivery_id;
use crate::event::EventType;
use crate::memory::{MemoryCases, MemoryConfig, MemoryDeadLetters, MemoryPayloads, MemoryQueue};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

type Memory = Router;

struct World {
    router: Memory,
    queue: Arc<MemoryQueue>,
    dead_letters: Arc<MemoryDeadLetters>,
    payloads: Arc<MemoryPayloads>,
}

const STATUSES: &str = "hubhooks-dev-case-statuses";

fn world(subscriptions: &[&str]) -> World {
    let config = subscriptions
        .iter()
        .map(|id| {
            json!({"id": id, "kind": "subscription", "party": {"type": "partner", "id": 1413},
                   "eventTypes": ["newStatus"], "destination": {"method": "POST", "url": format!("https://example.com/{id}")}})
        })
        .collect();
    let cases = MemoryCases::default();
    cases.put_case(
        json!({"guid": "68ea1505-a44f-4434-be5a-dcc959be250e", "id": 1290485,
                          "partnerId": 1413, "serviceProviderId": 1004}),
    );
    let (queue, parked, payloads) = (
        Arc::<MemoryQueue>::default(),
        Arc::<MemoryDeadLetters>::default(),
        Arc::<MemoryPayloads>::default(),
    );
    World {
        router: Router {
            tables: TableNames::with_prefix("hubhooks-dev"),
            cases: Arc::new(cases),
            config: ConfigCache::new(Arc::new(MemoryConfig::new(config)), Duration::from_secs(60)),
            queue: queue.clone(),
            failures: parked.clone(),
            payloads: payloads.clone(),
            enqueued: EnqueuedIds::default(),
            backoff: Backoff {
                tries: 3,
                first: Duration::ZERO,
            },
        },
        queue,
        dead_letters: parked,
        payloads,
    }
}

/// The sample status record (events/status-insert.json).
fn status_record() -> EventRecord {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../events/status-insert.json");
    let text = std::fs::read_to_string(path).expect("events/status-insert.json");
    let event: Event = serde_json::from_str(&text).expect("a DynamoDB stream event");
    event.records.into_iter().next().expect("one record")
}

fn id_for(record: &EventRecord, subscription: &str) -> String {
    delivery_id(
        &format!("{STATUSES}/{}", record.event_id),
        subscription,
        EventType::NewStatus,
    )
    .to_string()
}

/// The queue refuses `subscription`'s delivery of `record` `times` times.
fn refuse(w: &World, record: &EventRecord, subscription: &str, times: u32) {
    let id = id_for(record, subscription);
    w.queue.fail_next.lock().unwrap().insert(id, times);
}

fn sent_to(queue: &MemoryQueue) -> Vec<String> {
    let mut subs: Vec<String> = queue
        .sent()
        .into_iter()
        .map(|d| d.subscription_id.to_string())
        .collect();
    subs.sort();
    subs
}

#[tokio::test]
async fn an_enqueue_that_fails_once_is_retried_within_the_invocation() {
    // GIVEN two subscribers, and a queue that refuses b's delivery once
    let (w, record) = (world(&["a", "b"]), status_record());
    refuse(&w, &record, "b", 1);
    // WHEN the record is routed
    let (response, summary) = w.router.route_batch(&[record]).await;
    // THEN both are enqueued once, and the batch succeeds
    assert!(response.batch_item_failures.is_empty(), "{summary:?}");
    assert_eq!(sent_to(&w.queue), ["a", "b"]);
}

#[tokio::test]
async fn a_retried_record_does_not_send_again_what_was_enqueued() {
    // GIVEN b's enqueue fails on every try of the first invocation
    let (w, record) = (world(&["a", "b"]), status_record());
    refuse(&w, &record, "b", 3);
    let (response, summary) = w.router.route_batch(std::slice::from_ref(&record)).await;
    // THEN the record is reported for retry with the cause
    assert_eq!(
        response.batch_item_failures[0].item_identifier,
        record.change.sequence_number
    );
    assert!(
        summary
            .failure
            .as_deref()
            .unwrap_or("")
            .starts_with("enqueueing delivery "),
        "{summary:?}"
    );
    assert_eq!(sent_to(&w.queue), ["a"]);
    // WHEN Lambda retries it
    let (response, summary) = w.router.route_batch(&[record]).await;
    // THEN only b goes out: a is not sent twice
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(summary.already_enqueued, 1);
    assert_eq!(sent_to(&w.queue), ["a", "b"]);
}

#[tokio::test]
async fn a_malformed_record_too_large_to_park_is_parked_trimmed_with_the_whole_in_the_bucket() {
    // GIVEN a status whose key is a number and whose name is 300 KB
    let w = world(&["a"]);
    let mut record = status_record();
    record
        .change
        .new_image
        .insert("key".into(), serde_dynamo::AttributeValue::N("100".into()));
    record.change.new_image.insert(
        "name".into(),
        serde_dynamo::AttributeValue::S("x".repeat(300 * 1024)),
    );
    // WHEN it is routed
    let (response, summary) = w.router.route_batch(&[record.clone()]).await;
    // THEN the shard goes on, and the letter fits a queue message
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(summary.dead_lettered, 1);
    let letters = w.dead_letters.letters();
    assert_eq!(letters.len(), 1);
    assert!(
        letters[0].reason.contains("attribute `key`"),
        "{}",
        letters[0].reason
    );
    let letter: Value = serde_json::from_str(&letters[0].body).unwrap();
    let key = format!("router-failures/{STATUSES}/{}.json", record.event_id);
    assert_eq!(letter["trimmedRecord"]["bodyRef"], key.as_str());
    assert_eq!(
        letter["trimmedRecord"]["keys"],
        json!({"caseId": 1290485, "id": 5005})
    );
    let stored = w.payloads.objects.lock().unwrap()[&key].clone();
    assert_eq!(
        serde_json::from_str::<EventRecord>(&stored).unwrap(),
        record
    );
    assert!(w.queue.sent().is_empty());
}

#[tokio::test]
async fn parking_that_keeps_failing_is_bounded_and_leaves_the_record_to_the_stream() {
    // GIVEN a malformed record and a failure queue that keeps failing
    let w = world(&["a"]);
    let mut record = status_record();
    record
        .change
        .new_image
        .insert("key".into(), serde_dynamo::AttributeValue::N("1".into()));
    *w.dead_letters.failures.lock().unwrap() = 100;
    // WHEN it is routed
    let (response, summary) = w.router.route_batch(&[record]).await;
    // THEN the park is tried three times, then the stream retries it
    assert_eq!(*w.dead_letters.calls.lock().unwrap(), 3);
    assert_eq!(response.batch_item_failures.len(), 1);
    assert!(
        summary
            .failure
            .as_deref()
            .unwrap_or("")
            .starts_with("could not park a malformed record"),
        "{summary:?}"
    );
}

#[tokio::test]
async fn an_envelope_is_sized_as_sent_and_offloaded_when_escapes_push_it_over() {
    // GIVEN a status whose name is 70,000 quotes: a ~140 KB body, a
    // ~280 KB queue message
    let w = world(&["a"]);
    let mut record = status_record();
    record.change.new_image.insert(
        "name".into(),
        serde_dynamo::AttributeValue::S("\"".repeat(70_000)),
    );
    let (response, _) = w.router.route_batch(&[record]).await;
    assert!(response.batch_item_failures.is_empty());
    let sent = w.queue.sent();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].body.is_empty());
    let key = sent[0].body_ref.clone().expect("offloaded");
    let body = w.payloads.objects.lock().unwrap()[&key].clone();
    assert!(
        body.len() < 200 * 1024,
        "the body alone is small: {}",
        body.len()
    );
}

/// The sample status, as the `n`th record of a batch with its own ids.
fn nth_status(n: u64, guid: &str) -> EventRecord {
    let mut r = status_record();
    r.event_id = format!("event-{n}");
    r.change.sequence_number = Some(format!("{}", 1000 + n));
    r.change.new_image.insert(
        "id".into(),
        serde_dynamo::AttributeValue::N(format!("{}", 5000 + n)),
    );
    r.change.new_image.insert(
        "guid".into(),
        serde_dynamo::AttributeValue::S(guid.to_owned()),
    );
    r
}

const GUID: &str = "68ea1505-a44f-4434-be5a-dcc959be250e";

#[tokio::test]
async fn a_batch_stops_at_the_first_record_worth_retrying_and_reports_it() {
    // GIVEN three records, the second for a case not written yet
    let w = world(&["a"]);
    let batch = [
        nth_status(1, GUID),
        nth_status(2, "not-written-yet"),
        nth_status(3, GUID),
    ];
    // WHEN the batch is routed
    let (response, summary) = w.router.route_batch(&batch).await;
    // THEN the first is delivered, and Lambda retries from the second
    assert_eq!(
        response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.clone())
            .collect::<Vec<_>>(),
        [Some("1002".to_owned())]
    );
    assert_eq!(
        summary.failure.as_deref(),
        Some("case `not-written-yet` of status 5002 not found")
    );
    let sent: Vec<String> = w.queue.sent().into_iter().map(|d| d.source).collect();
    assert_eq!(sent, [format!("{STATUSES}/event-1")]);
}

#[tokio::test]
async fn records_enqueued_whole_are_not_sent_again_when_their_batch_is_retried() {
    // GIVEN two subscriptions and a batch whose third record enqueues
    // only in part (b refused), so Lambda retries the batch
    let w = world(&["a", "b"]);
    let batch = [
        nth_status(1, GUID),
        nth_status(2, GUID),
        nth_status(3, GUID),
    ];
    refuse(&w, &batch[2], "b", 3);
    let (response, _) = w.router.route_batch(&batch).await;
    assert_eq!(response.batch_item_failures.len(), 1);
    assert_eq!(w.queue.sent().len(), 5);
    // WHEN the whole batch comes again
    let (response, summary) = w.router.route_batch(&batch).await;
    // THEN only the refused delivery goes: the whole records are
    // remembered as records, the partial one by its deliveries
    assert!(response.batch_item_failures.is_empty(), "{summary:?}");
    assert_eq!(summary.already_enqueued, 5);
    let sent: Vec<(String, String)> = w
        .queue
        .sent()
        .into_iter()
        .map(|d| (d.source, d.subscription_id.to_string()))
        .collect();
    assert_eq!(sent.len(), 6);
    assert_eq!(sent[5], (format!("{STATUSES}/event-3"), "b".to_owned()));
    // AND a third time nothing at all
    let (_, summary) = w.router.route_batch(&batch).await;
    assert_eq!((summary.already_enqueued, summary.deliveries), (6, 0));
    assert_eq!(w.queue.sent().len(), 6);
}

#[tokio::test]
async fn a_malformed_record_is_parked_and_the_records_after_it_go_on() {
    let w = world(&["a"]);
    let mut bad = nth_status(1, GUID);
    bad.change.new_image.insert(
        "createdAt".into(),
        serde_dynamo::AttributeValue::S("yesterday".into()),
    );
    let (response, summary) = w.router.route_batch(&[bad, nth_status(2, GUID)]).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!((summary.dead_lettered, summary.routed), (1, 1));
    let letters = w.dead_letters.letters();
    assert_eq!(letters[0].origin, format!("{STATUSES}/event-1"));
    assert_eq!(
        letters[0].reason,
        "status record: attribute `createdAt`: invalid timestamp `yesterday`: premature end of input"
    );
    assert_eq!(w.queue.sent().len(), 1);
}
