//! Routing, end to end: stream records of the case tables become exactly the
//! webhooks the contract says (mapping, repeats, the black list,
//! transitions), poison records and messages are set aside without holding
//! up the rest, ids are stable on reprocessing, each message carries its
//! fair-queue group. moto (DynamoDB, Streams, SQS), the local runner calling
//! the Lambda handlers, and real HTTP receivers on 127.0.0.1:0.
use aws_lambda_events::event::dynamodb::Event as StreamEvent;
use aws_lambda_events::event::sqs::SqsEvent;
use hubhooks::lambda::sender::AwsSender;
use hubhooks_cli::local::provision::QueueSettings;
use hubhooks_cli::local::runner::{RunnerOptions, local_sender_settings};
use hubhooks_tests::*;
use serde_json::{Value, json};
use std::time::Duration;

const PARTNER: i64 = 1413;
const PROVIDER: i64 = 1004;
const GUID: &str = "68ea1505-a44f-4434-be5a-dcc959be250e";
const CASE_ID: i64 = 1290485;
const WAIT: Duration = Duration::from_secs(30);
/// After the expected webhooks arrived, how long nothing more may arrive.
const GRACE: Duration = Duration::from_millis(2500);

fn case() -> Value {
    json!({
        "guid": GUID, "id": CASE_ID, "partnerId": PARTNER, "serviceProviderId": PROVIDER,
        "currentStatus": "registered", "createdAt": "2023-01-10T10:22:14.558Z",
        "orderData": {"refNo": "10-1862", "consents": ["ConsentTerms", "ConsentRepair"], "integrationsFinished": true},
        "productData": {"model": "TESTTEST", "serial": "5557779900"},
        "customer": null, "consumer": null, "pickupDst": null, "returnDst": null, "sender": null,
        "productTypeId": 1001, "servicePartner": {"id": PARTNER, "name": "Partner's name"}
    })
}

fn status(id: i64, key: &str, name: &str) -> Value {
    json!({
        "caseId": CASE_ID, "id": id, "guid": GUID, "key": key, "name": name,
        "createdAt": format!("2023-01-25T13:11:{:02}.258Z", id % 60),
        "updatedAt": format!("2023-01-25T13:12:{:02}.000Z", id % 60),
        "declaredAt": "2023-01-25T13:10:00.000Z"
    })
}

fn sub(id: &str, party: (&str, i64), types: Value, dest: Value, transitions: Value) -> Value {
    json!({
        "id": id, "kind": "subscription", "party": {"type": party.0, "id": party.1},
        "eventTypes": types, "destination": dest, "transitions": transitions
    })
}

fn new_status_body(id: i64, key: &str, name: &str) -> String {
    format!(
        r#"{{"id":{id},"caseId":{CASE_ID},"guid":"{GUID}","name":"{name}","key":"{key}","createdAt":"2023-01-25T13:11:{s:02}.258Z","updatedAt":"2023-01-25T13:12:{s:02}.000Z","declaredAt":"2023-01-25T13:10:00.000Z"}}"#,
        s = id % 60
    )
}

fn transition_body(id: i64, key: &str, name: &str, prev: &str) -> String {
    format!(
        r#"{{"id":{id},"caseId":{CASE_ID},"guid":"{GUID}","name":"{name}","key":"{key}","prevKey":"{prev}","createdAt":"2023-01-25T13:11:{s:02}.258Z","updatedAt":"2023-01-25T13:12:{s:02}.000Z","declaredAt":"2023-01-25T13:10:00.000Z","case":{case}}}"#,
        s = id % 60,
        case = serde_json::to_string(&case()).unwrap()
    )
}

fn by_path<'a>(got: &'a [Received], path: &str) -> Vec<&'a Received> {
    let mut v: Vec<&Received> = got.iter().filter(|r| r.path == path).collect();
    v.sort_by_key(|r| r.json()["id"].as_i64());
    v
}

async fn settle(receiver: &TestReceiver, n: usize) -> Vec<Received> {
    let got = receiver.wait_for(n, WAIT).await;
    assert!(
        got.len() >= n,
        "expected {n} webhooks, got {}: {got:#?}",
        got.len()
    );
    tokio::time::sleep(GRACE).await;
    receiver.received()
}

#[tokio::test]
async fn new_status_and_transition_arrive_exactly_as_the_contract_says() {
    let s = Stack::start(QueueSettings::default()).await.unwrap();
    let rx = TestReceiver::start(200).await.unwrap();
    s.put_config(&[
        sub("p-status", ("partner", PARTNER), json!(["newStatus"]),
            json!({"method": "POST", "url": rx.url("/partner/status"), "headers": {"X-Api-Key": "secret-1"}}), json!([])),
        sub("p-final", ("partner", PARTNER), json!(["statusTransition"]),
            json!({"method": "PATCH", "url": rx.url("/partner/final")}), json!([{"to": "final"}])),
        sub("s-status", ("provider", PROVIDER), json!(["newStatus"]),
            json!({"method": "PUT", "url": rx.url("/provider/status")}), json!([])),
        // Another partner's subscription hears nothing of this case.
        sub("other", ("partner", 9999), json!(["newStatus"]), json!({"method": "POST", "url": rx.url("/other")}), json!([])),
        // An invalid item is refused; every other item keeps working.
        sub("broken", ("partner", PARTNER), json!(["newStatus"]), json!({"method": "POST", "url": "not a url"}), json!([])),
        json!({"id": "map", "kind": "statusMapping", "partnerId": PARTNER,
               "statuses": {"prod_recv": {"key": "arrived", "name": "Product arrived"}, "repair_done": {"key": "final", "name": "Repair finished"}}}),
    ])
    .await
    .unwrap();
    let _runner = s.run().await.unwrap();
    s.put_case(&case()).await.unwrap();
    s.put_status(&status(101, "prod_recv", "Received at workshop"))
        .await
        .unwrap();
    s.put_status(&status(102, "repair_done", "Repair done"))
        .await
        .unwrap();

    let got = settle(&rx, 5).await;
    assert_eq!(got.len(), 5, "{got:#?}");

    let partner = by_path(&got, "/partner/status");
    assert_eq!(partner.len(), 2);
    assert_eq!(
        partner[0].body,
        new_status_body(101, "arrived", "Product arrived")
    );
    assert_eq!(
        partner[1].body,
        new_status_body(102, "final", "Repair finished")
    );
    for r in &partner {
        assert_eq!(r.method, "POST");
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.header("x-api-key"), Some("secret-1"));
        assert_eq!(r.header("event-type"), Some("newStatus"));
        assert_eq!(r.header("webhook-attempt"), Some("1"));
        let id = r.header("webhook-id").unwrap();
        assert_eq!(uuid_version(id), Some(5), "{id}");
    }
    assert_ne!(
        partner[0].header("webhook-id"),
        partner[1].header("webhook-id")
    );

    let transition = by_path(&got, "/partner/final");
    assert_eq!(transition.len(), 1);
    assert_eq!(transition[0].method, "PATCH");
    assert_eq!(transition[0].header("event-type"), Some("statusTransition"));
    assert_eq!(
        transition[0].body,
        transition_body(102, "final", "Repair finished", "arrived")
    );
    assert_eq!(
        transition[0].json()["case"],
        case(),
        "numbers stay numbers, nulls stay null"
    );

    let provider = by_path(&got, "/provider/status");
    assert_eq!(provider.len(), 2);
    assert_eq!(provider[0].method, "PUT");
    assert_eq!(
        provider[0].body,
        new_status_body(101, "prod_recv", "Received at workshop")
    );
    assert_eq!(
        provider[1].body,
        new_status_body(102, "repair_done", "Repair done")
    );
    assert_eq!(provider[0].header("x-api-key"), None);
    assert!(by_path(&got, "/other").is_empty());
}

fn uuid_version(id: &str) -> Option<u32> {
    let parts: Vec<&str> = id.split('-').collect();
    (parts.len() == 5 && id.len() == 36)
        .then(|| parts[2].chars().next().and_then(|c| c.to_digit(16)))?
}

#[tokio::test]
async fn repeated_status_fires_no_new_status_and_black_listed_status_is_invisible() {
    let s = Stack::start(QueueSettings::default()).await.unwrap();
    let rx = TestReceiver::start(200).await.unwrap();
    s.put_config(&[
        sub("p-status", ("partner", PARTNER), json!(["newStatus"]), json!({"method": "POST", "url": rx.url("/p")}), json!([])),
        sub("p-trans", ("partner", PARTNER), json!(["statusTransition"]), json!({"method": "POST", "url": rx.url("/p/t")}),
            json!([{"from": "arrived"}])),
        sub("s-status", ("provider", PROVIDER), json!(["newStatus"]), json!({"method": "POST", "url": rx.url("/s")}), json!([])),
        json!({"id": "map", "kind": "statusMapping", "partnerId": PARTNER, "statuses": {"prod_recv": {"key": "arrived"}}}),
        json!({"id": "bl", "kind": "blackList", "party": {"type": "partner", "id": PARTNER}, "keys": ["internal_qc"]}),
    ])
    .await
    .unwrap();
    let _runner = s.run().await.unwrap();
    s.put_case(&case()).await.unwrap();
    for (id, key) in [
        (201, "prod_recv"),
        (202, "prod_recv"),
        (203, "internal_qc"),
        (204, "repair_done"),
    ] {
        s.put_status(&status(id, key, "N")).await.unwrap();
    }
    // Partner: 201 arrived, 204 repair_done (+ transition arrived → repair_done,
    // internal_qc skipped). Provider: 201, 203, 204 (202 repeats 201).
    let got = settle(&rx, 6).await;
    let keys = |path: &str| -> Vec<(i64, String)> {
        by_path(&got, path)
            .iter()
            .map(|r| {
                (
                    r.json()["id"].as_i64().unwrap(),
                    r.json()["key"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    assert_eq!(
        keys("/p"),
        vec![(201, "arrived".into()), (204, "repair_done".into())]
    );
    assert_eq!(
        keys("/s"),
        vec![
            (201, "prod_recv".into()),
            (203, "internal_qc".into()),
            (204, "repair_done".into())
        ]
    );
    let t = by_path(&got, "/p/t");
    assert_eq!(t.len(), 1, "{got:#?}");
    assert_eq!(
        t[0].json()["prevKey"],
        "arrived",
        "the black-listed internal_qc is skipped"
    );
    assert_eq!(t[0].json()["key"], "repair_done");
    assert_eq!(got.len(), 6);
}

/// The queue's redrive policy is the safety net below the sender's own
/// attempt limit: set under a subscription's `maxAttempts` (here 3 < 8), it
/// still moves the delivery to the DLQ, untouched.
#[tokio::test]
async fn the_queue_redrive_is_a_safety_net_below_the_attempt_limit() {
    let s = Stack::start(QueueSettings {
        visibility_timeout_secs: 1,
        max_receive_count: 3,
    })
    .await
    .unwrap();
    let rx = TestReceiver::start(500).await.unwrap();
    s.put_config(&[sub(
        "p",
        ("partner", PARTNER),
        json!(["newStatus"]),
        json!({"method": "POST", "url": rx.url("/fail")}),
        json!([]),
    )])
    .await
    .unwrap();
    let _runner = s.run().await.unwrap();
    s.put_case(&case()).await.unwrap();
    s.put_status(&status(301, "arrived", "Arrived"))
        .await
        .unwrap();

    let dlq = &s.stack.delivery_dlq_url;
    let in_dlq = eventually(Duration::from_secs(40), || async {
        (s.depth(dlq).await.unwrap_or(0) > 0).then_some(())
    })
    .await;
    assert!(
        in_dlq.is_some(),
        "nothing reached the DLQ; receiver saw {:#?}",
        rx.received()
    );
    tokio::time::sleep(GRACE).await;
    let got = rx.received();
    let attempts: Vec<&str> = got
        .iter()
        .map(|r| r.header("webhook-attempt").unwrap())
        .collect();
    assert_eq!(
        attempts,
        vec!["1", "2", "3"],
        "exactly maxReceiveCount attempts"
    );
    let ids: Vec<&str> = got
        .iter()
        .map(|r| r.header("webhook-id").unwrap())
        .collect();
    assert!(
        ids.iter().all(|i| *i == ids[0]),
        "same delivery id on every attempt: {ids:?}"
    );
    assert!(
        got.iter()
            .all(|r| r.body == new_status_body(301, "arrived", "Arrived"))
    );

    let parked = s.drain(dlq).await.unwrap();
    assert_eq!(parked.len(), 1);
    let delivery: Value = serde_json::from_str(&parked[0].0).unwrap();
    assert_eq!(delivery["id"], ids[0]);
    assert_eq!(delivery["subscriptionId"], "p");
    assert_eq!(delivery["body"], new_status_body(301, "arrived", "Arrived"));
    assert!(
        parked[0]
            .1
            .contains(&("deliveryId".into(), ids[0].to_owned())),
        "{:?}",
        parked[0].1
    );
    assert_eq!(s.depth(&s.stack.delivery_queue_url).await.unwrap(), 0);
}

/// The sample stream event, retargeted at this stack's statuses table.
fn status_event(s: &Stack, records: usize) -> StreamEvent {
    let mut event: StreamEvent = sample_event("status-insert.json");
    let template = event.records[0].clone();
    event.records = (0..records)
        .map(|i| {
            let mut r = template.clone();
            r.event_source_arn = Some(format!(
                "arn:aws:dynamodb:us-east-1:123456789012:table/{}/stream/x",
                s.stack.tables.case_statuses()
            ));
            r.event_id = format!("event-{i}");
            r.change.sequence_number = Some(format!("{}", 1000 + i));
            r.change.new_image.insert(
                "id".into(),
                serde_dynamo::AttributeValue::N(format!("{}", 6000 + i)),
            );
            r
        })
        .collect();
    event
}

/// A stack with the test case and one partner subscription (to a closed port:
/// these tests drive the router directly and only read the queues).
async fn stack_with_case_and_one_subscription() -> Stack {
    let s = Stack::start(QueueSettings::default()).await.unwrap();
    s.put_config(&[sub(
        "p",
        ("partner", PARTNER),
        json!(["newStatus"]),
        json!({"method": "POST", "url": "http://127.0.0.1:9/x"}),
        json!([]),
    )])
    .await
    .unwrap();
    s.put_case(&case()).await.unwrap();
    s
}

#[tokio::test]
async fn a_malformed_stream_record_is_parked_with_its_reason_and_the_rest_are_routed() {
    let s = stack_with_case_and_one_subscription().await;
    let mut event = status_event(&s, 3);
    event.records[1].change.new_image.remove("key");
    let router = s.router_to(&s.stack.delivery_queue_url);
    let response = router.handle(event).await.unwrap();
    assert!(response.batch_item_failures.is_empty(), "{response:?}");

    let parked = s.drain(&s.stack.router_failure_queue_url).await.unwrap();
    assert_eq!(parked.len(), 1);
    assert_eq!(
        attribute(&parked[0], "hubhooksReason"),
        Some("status record: missing field `key`")
    );
    assert_eq!(
        attribute(&parked[0], "hubhooksOrigin"),
        Some(format!("{}/event-1", s.stack.tables.case_statuses()).as_str())
    );
    let record: Value = serde_json::from_str(&parked[0].0).unwrap();
    assert_eq!(
        record["eventID"], "event-1",
        "the whole record is kept for replay"
    );

    let queued = s.drain(&s.stack.delivery_queue_url).await.unwrap();
    let mut ids: Vec<i64> = queued
        .iter()
        .map(|(b, _)| {
            let d: Value = serde_json::from_str(b).unwrap();
            serde_json::from_str::<Value>(d["body"].as_str().unwrap()).unwrap()["id"]
                .as_i64()
                .unwrap()
        })
        .collect();
    ids.sort();
    assert_eq!(ids, vec![6000, 6002]);
}

#[tokio::test]
async fn reprocessing_a_batch_gives_the_same_delivery_ids() {
    let s = stack_with_case_and_one_subscription().await;
    let router = s.router_to(&s.stack.delivery_queue_url);
    let ids = |q: Vec<(String, Vec<(String, String)>)>| -> Vec<String> {
        let mut v: Vec<String> = q
            .iter()
            .map(|(b, _)| {
                serde_json::from_str::<Value>(b).unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        v.sort();
        v
    };
    router.handle(status_event(&s, 12)).await.unwrap();
    let first = ids(s.drain(&s.stack.delivery_queue_url).await.unwrap());
    // The same warm instance remembers what it enqueued: nothing again.
    router.handle(status_event(&s, 12)).await.unwrap();
    assert_eq!(s.drain(&s.stack.delivery_queue_url).await.unwrap(), vec![]);
    // Another instance (a cold start) enqueues them again, with the same ids.
    let cold = s.router_to(&s.stack.delivery_queue_url);
    cold.handle(status_event(&s, 12)).await.unwrap();
    let second = ids(s.drain(&s.stack.delivery_queue_url).await.unwrap());
    assert_eq!(
        first.len(),
        12,
        "12 records, one subscription: 12 deliveries in two SendMessageBatch calls"
    );
    assert_eq!(first, second);
}

#[tokio::test]
async fn a_failed_enqueue_reports_the_first_failing_record_for_retry() {
    let s = stack_with_case_and_one_subscription().await;
    // The delivery queue does not exist: every enqueue fails, and the batch
    // is reported failed from its first record.
    s.put_case(&case()).await.unwrap();
    let missing_queue = format!("{}/000000000000/no-such-queue", s.moto.endpoint);
    let router = s.router_to(&missing_queue);
    let event = status_event(&s, 3);
    let response = router.handle(event).await.unwrap();
    let failed: Vec<Option<String>> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(failed, vec![Some("1000".to_owned())]);

    // A record whose case is missing stops the batch at that record.
    let router = s.router_to(&s.stack.delivery_queue_url);
    let mut event = status_event(&s, 3);
    event.records[1].change.new_image.insert(
        "guid".into(),
        serde_dynamo::AttributeValue::S("no-such-case".into()),
    );
    let response = router.handle(event).await.unwrap();
    let failed: Vec<Option<String>> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(failed, vec![Some("1001".to_owned())]);
    assert_eq!(
        s.drain(&s.stack.delivery_queue_url).await.unwrap().len(),
        1,
        "record 0 was routed"
    );
}

#[tokio::test]
async fn a_malformed_queue_message_goes_to_the_dlq_and_never_holds_up_the_batch() {
    let s = Stack::start(QueueSettings::default()).await.unwrap();
    let rx = TestReceiver::start(200).await.unwrap();
    let sender = AwsSender::from_aws(
        &s.sdk,
        local_sender_settings(&s.stack, &RunnerOptions::default()),
    )
    .unwrap();
    let mut event: SqsEvent = sample_event("deliveries.json");
    let mut good = event.records[0].clone();
    let mut delivery: Value = serde_json::from_str(good.body.as_deref().unwrap()).unwrap();
    delivery["destination"]["url"] = json!(rx.url("/ok"));
    good.body = Some(delivery.to_string());
    good.message_id = Some("good".into());
    let mut bad = event.records[0].clone();
    bad.body = Some("{\"v\":1,\"id\":\"x\"".into());
    bad.message_id = Some("bad".into());
    let mut failing = good.clone();
    failing.message_id = Some("failing".into());
    let mut d2 = delivery.clone();
    d2["subscriptionId"] = json!("unreachable");
    d2["destination"]["url"] = json!("http://127.0.0.1:9/refused");
    failing.body = Some(d2.to_string());
    event.records = vec![bad, good, failing];
    // The sender follows the subscriptions as configured now.
    let sub = |id: &str, url: &str| {
        json!({"id": id, "kind": "subscription", "party": {"type": "provider", "id": 1004},
               "eventTypes": ["newStatus"], "destination": {"method": "POST", "url": url}})
    };
    s.put_config(&[
        sub("fixit-provider-status", &rx.url("/ok")),
        sub("unreachable", "http://127.0.0.1:9/refused"),
    ])
    .await
    .unwrap();

    let response = sender.handle(event).await.unwrap();
    let failed: Vec<String> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(
        failed,
        vec!["failing"],
        "only the unreachable delivery is retried"
    );
    let got = rx.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body, delivery["body"].as_str().unwrap());
    assert_eq!(got[0].header("webhook-attempt"), Some("1"));

    let parked = s.drain(&s.stack.delivery_dlq_url).await.unwrap();
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].0, "{\"v\":1,\"id\":\"x\"");
    let reason = attribute(&parked[0], "hubhooksReason").unwrap();
    assert!(
        reason.starts_with("not a delivery: EOF while parsing"),
        "{reason:?}"
    );
}

#[test]
fn sample_events_deserialize() {
    let e: StreamEvent = sample_event("status-insert.json");
    assert_eq!(e.records[0].event_name, "INSERT");
    assert_eq!(e.records[0].change.size_bytes, 312);
    let e: StreamEvent = sample_event("case-modify.json");
    assert_eq!(e.records[0].event_name, "MODIFY");
    assert!(!e.records[0].change.old_image.is_empty());
    let e: SqsEvent = sample_event("deliveries.json");
    let d: hubhooks::delivery::Delivery =
        serde_json::from_str(e.records[0].body.as_deref().unwrap()).unwrap();
    assert_eq!(d.subscription_id, "fixit-provider-status");
}

/// Every delivery message carries its subscription as its
/// message group (SQS fair queues on the standard queue), so one slow or
/// failing receiver's backlog does not hold up the others' messages.
/// moto accepts and returns the group on a standard queue but does not
/// model fairness: this checks what the router sends.
#[tokio::test]
async fn each_delivery_message_carries_its_subscription_as_its_fair_queue_group() {
    use aws_sdk_sqs::types::MessageSystemAttributeName as A;
    let s = stack_with_case_and_one_subscription().await;
    s.put_config(&[sub(
        "p2",
        ("partner", PARTNER),
        json!(["newStatus"]),
        json!({"method": "POST", "url": "http://127.0.0.1:9/y"}),
        json!([]),
    )])
    .await
    .unwrap();
    let router = s.router_to(&s.stack.delivery_queue_url);
    let response = router.handle(status_event(&s, 3)).await.unwrap();
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    let mut groups = Vec::new();
    loop {
        let got = s
            .sqs
            .receive_message()
            .queue_url(&s.stack.delivery_queue_url)
            .max_number_of_messages(10)
            .message_system_attribute_names(A::MessageGroupId)
            .visibility_timeout(30)
            .send()
            .await
            .unwrap();
        let messages = got.messages.unwrap_or_default();
        if messages.is_empty() {
            break;
        }
        for m in messages {
            let d: Value = serde_json::from_str(m.body().unwrap()).unwrap();
            let group = m
                .attributes()
                .and_then(|a| a.get(&A::MessageGroupId))
                .cloned();
            assert_eq!(group.as_deref(), d["subscriptionId"].as_str());
            groups.push(group.unwrap());
        }
    }
    groups.sort();
    assert_eq!(groups, ["p", "p", "p", "p2", "p2", "p2"]);
}

/// The Lambdas build their SDK config from what Lambda puts in their
/// environment (not aws-config's chain): with it, the router reads the case
/// from DynamoDB and enqueues on SQS, and the sender delivers and writes
/// its attempt log, against moto.
#[tokio::test]
async fn the_lambdas_sdk_config_from_their_environment_reaches_every_service() {
    use hubhooks::lambda::router::AwsRouter;
    use hubhooks::settings::{AwsEnvironment, RouterSettings};
    use std::collections::HashMap;
    let s = Stack::start(QueueSettings::default()).await.unwrap();
    let rx = TestReceiver::start(204).await.unwrap();
    s.put_config(&[sub(
        "p",
        ("partner", PARTNER),
        json!(["newStatus"]),
        json!({"method": "POST", "url": rx.url("/hook")}),
        json!([]),
    )])
    .await
    .unwrap();
    s.put_case(&case()).await.unwrap();
    let lambda_env: HashMap<String, String> = [
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "ASIAEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "example"),
        ("AWS_SESSION_TOKEN", "session"),
        ("AWS_ENDPOINT_URL", s.moto.endpoint.as_str()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let sdk = hubhooks::adapters::aws_sdk_config(&AwsEnvironment::read(&lambda_env).unwrap());

    let router = AwsRouter::from_aws(
        &sdk,
        RouterSettings {
            tables: s.stack.tables.clone(),
            delivery_queue_url: s.stack.delivery_queue_url.clone(),
            ordered_queue_url: Some(s.stack.ordered_queue_url.clone()),
            failure_queue_url: s.stack.router_failure_queue_url.clone(),
            config_ttl: Duration::from_secs(30),
            payload_bucket: s.stack.payload_bucket.clone(),
        },
    );
    let response = router.handle(status_event(&s, 2)).await.unwrap();
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    let queued = s.drain(&s.stack.delivery_queue_url).await.unwrap();
    assert_eq!(queued.len(), 2);

    let sender = AwsSender::from_aws(
        &sdk,
        local_sender_settings(&s.stack, &RunnerOptions::default()),
    )
    .unwrap();
    let mut event: SqsEvent = sample_event("deliveries.json");
    let template = event.records[0].clone();
    event.records = queued
        .iter()
        .enumerate()
        .map(|(i, (body, _))| {
            let mut m = template.clone();
            m.message_id = Some(format!("m-{i}"));
            m.body = Some(body.clone());
            m
        })
        .collect();
    let response = sender.handle(event).await.unwrap();
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    assert_eq!(rx.received().len(), 2);
    let logged = s
        .ddb
        .scan()
        .table_name(&s.stack.attempt_log_table)
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default();
    assert!(!logged.is_empty(), "the attempt log was written");
}

/// Filters, end to end: statuses only of key `final`, case updates only
/// when `orderData.region` becomes `north` (a case update carries what
/// changed, so the region is in the body when it changed).
#[tokio::test]
async fn a_subscriptions_filter_lets_through_exactly_the_webhooks_it_names() {
    let s = Stack::start(QueueSettings::default()).await.unwrap();
    let rx = TestReceiver::start(200).await.unwrap();
    let mut filtered = sub(
        "p-filtered",
        ("partner", PARTNER),
        json!(["newStatus", "caseUpdated"]),
        json!({"method": "POST", "url": rx.url("/partner")}),
        json!([]),
    );
    filtered["filter"] = json!({"path": "key", "in": ["final"]});
    filtered["perType"] = json!({"caseUpdated": {"filter": {"all": [
        {"path": "orderData.region", "equals": "north"},
        {"not": {"path": "orderData.refNo", "prefix": "TEST-"}}]}}});
    s.put_config(&[filtered]).await.unwrap();
    let mut case = case();
    case["orderData"]["region"] = json!("south");
    s.put_case(&case).await.unwrap();
    let _runner = s.run().await.unwrap();
    s.put_status(&status(1, "registered", "Registered"))
        .await
        .unwrap();
    s.put_status(&status(2, "final", "Repair finished"))
        .await
        .unwrap();
    case["orderData"]["region"] = json!("north");
    s.put_case(&case).await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    case["orderData"]["region"] = json!("south");
    s.put_case(&case).await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    case["orderData"]["region"] = json!("north");
    case["orderData"]["refNo"] = json!("TEST-1");
    s.put_case(&case).await.unwrap();
    let got = settle(&rx, 2).await;
    let bodies: Vec<String> = got.iter().map(|r| r.body.clone()).collect();
    assert_eq!(got.len(), 2, "{bodies:#?}");
    assert!(
        bodies.contains(&new_status_body(2, "final", "Repair finished")),
        "{bodies:#?}"
    );
    assert!(
        bodies.contains(&format!(
            r#"{{"guid":"{GUID}","orderData":{{"region":"north"}}}}"#
        )),
        "{bodies:#?}"
    );
}

#[tokio::test]
async fn a_filtered_out_webhook_is_not_enqueued_and_is_counted() {
    let s = Stack::start(QueueSettings::default()).await.unwrap();
    let mut finals = sub(
        "finals-only",
        ("partner", PARTNER),
        json!(["newStatus"]),
        json!({"method": "POST", "url": "http://127.0.0.1:9/f"}),
        json!([]),
    );
    finals["filter"] = json!({"path": "key", "equals": "final"});
    let every = sub(
        "every",
        ("partner", PARTNER),
        json!(["newStatus"]),
        json!({"method": "POST", "url": "http://127.0.0.1:9/e"}),
        json!([]),
    );
    s.put_config(&[finals, every]).await.unwrap();
    s.put_case(&case()).await.unwrap();
    let router = s.router_to(&s.stack.delivery_queue_url);
    // Three statuses of key `repair_done`: not `final`.
    let event = status_event(&s, 3);
    let (response, summary) = router.invoke(&event.records).await;
    assert!(response.batch_item_failures.is_empty(), "{summary:?}");
    assert_eq!(
        (summary.deliveries, summary.filtered),
        (3, 3),
        "{summary:?}"
    );
    let queued = s.drain(&s.stack.delivery_queue_url).await.unwrap();
    let subs: Vec<String> = queued
        .iter()
        .map(|(b, _)| {
            serde_json::from_str::<Value>(b).unwrap()["subscriptionId"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(subs, vec!["every"; 3]);
}
