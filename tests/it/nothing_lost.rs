//! Delivery integrity under faults and odd inputs, end to end (moto, real
//! receivers, the real handlers): nothing lost, nothing duplicated by the
//! router, nothing sent that the operator has just stopped or fixed.
use hubhooks::tables::CaseTable;
use hubhooks_cli::dlq::{Replay, Selection};
use hubhooks_cli::items::{self, Family};
use hubhooks_cli::local::provision::QueueSettings;
use hubhooks_tests::*;
use serde_json::{Value, json};
use std::time::Duration;

use hubhooks_tests::fixtures::PARTNER;
const GUID: &str = "5f0c3c8e-94b5-4a35-b1f2-7d1e64d0a9c1";
const WAIT: Duration = Duration::from_secs(40);
const GRACE: Duration = Duration::from_millis(2500);

fn case() -> Value {
    fixtures::case_with(GUID, 4242, json!({"orderData": {"refNo": "INT-1"}}))
}

fn status(id: i64, key: Value) -> Value {
    json!({"caseId": 4242, "id": id, "guid": GUID, "key": key, "name": "a status",
           "createdAt": "2024-05-01T10:00:00.000Z"})
}

fn partner_sub(id: &str, types: Value, url: &str, extra: Value) -> Value {
    let mut s = json!({"id": id, "kind": "subscription", "party": {"type": "partner", "id": PARTNER},
                       "eventTypes": types, "destination": {"method": "POST", "url": url}});
    s.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    s
}

/// Replays everything in the DLQ, as `hubhooks dlq replay` does.
async fn replay_all(s: &Stack) -> hubhooks_cli::dlq::ReplayReport {
    let (letters, back) = hubhooks_cli::dlq::queues(
        &s.sqs,
        &s.stack.delivery_dlq_url,
        &s.stack.delivery_queue_url,
        false,
    );
    Replay {
        letters: &letters,
        back: &back,
        selection: Selection::default(),
        dry_run: false,
        rate: None,
        hold: Duration::from_secs(30),
        policy: Default::default(),
        clock: &hubhooks::clock::SystemClock,
    }
    .run(|_, _| {})
    .await
    .unwrap()
}

async fn stack() -> Stack {
    Stack::start(QueueSettings {
        visibility_timeout_secs: 1,
        ..QueueSettings::default()
    })
    .await
    .unwrap()
}

/// The body is embedded in the queue message as a JSON string,
/// so quotes double again there. 70,000 quotes in the case make a 140 KB
/// transition body (under any body-size rule) but a 280 KB queue message
/// (over SQS's 256 KiB). Before: the record was retried until parked, the
/// small newStatus delivery of the same record was enqueued on every retry
/// (received 6 times) and the transition never arrived.
#[tokio::test]
async fn an_envelope_that_escaping_pushes_over_the_sqs_limit_is_offloaded_and_each_webhook_arrives_once()
 {
    let s = stack().await;
    let rx = TestReceiver::start(200).await.unwrap();
    s.put_config(&[
        partner_sub("new", json!(["newStatus"]), &rx.url("/new"), json!({})),
        partner_sub(
            "transition",
            json!(["statusTransition"]),
            &rx.url("/transition"),
            json!({"transitions": [{"to": "final"}]}),
        ),
    ])
    .await
    .unwrap();
    let mut quoted = case();
    quoted["orderData"]["notes"] = json!("\"".repeat(70_000));
    s.put_case(&quoted).await.unwrap();
    let _runner = s.run().await.unwrap();
    s.put_status(&status(1, json!("final"))).await.unwrap();
    let got = rx.wait_for(2, WAIT).await;
    tokio::time::sleep(GRACE).await;
    let got = if got.len() >= 2 { rx.received() } else { got };
    let paths: Vec<&str> = got.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths.iter().filter(|p| **p == "/new").count(),
        1,
        "{paths:?}"
    );
    assert_eq!(
        paths.iter().filter(|p| **p == "/transition").count(),
        1,
        "{paths:?}"
    );
    let transition = got.iter().find(|r| r.path == "/transition").unwrap();
    assert_eq!(transition.json()["case"], quoted);
    assert_eq!(
        s.drain(&s.stack.router_failure_queue_url).await.unwrap(),
        vec![]
    );
}

/// A record retried until the shard gives up is parked with the
/// reason it kept failing for, not only "retries exhausted".
#[tokio::test]
async fn a_record_that_keeps_failing_is_parked_with_its_real_cause() {
    let s = stack().await;
    let rx = TestReceiver::start(200).await.unwrap();
    s.put_config(&[partner_sub(
        "new",
        json!(["newStatus"]),
        &rx.url("/new"),
        json!({}),
    )])
    .await
    .unwrap();
    let _runner = s.run().await.unwrap();
    // No case item is ever written for this status.
    s.put_status(&status(1, json!("registered"))).await.unwrap();
    let parked = eventually(WAIT, || async {
        let p = s.drain(&s.stack.router_failure_queue_url).await.ok()?;
        (!p.is_empty()).then_some(p)
    })
    .await
    .expect("parked");
    assert_eq!(parked.len(), 1);
    assert_eq!(
        reason(&parked[0]),
        format!("retries exhausted (6 attempts); last error: case `{GUID}` of status 1 not found")
    );
}

/// A malformed record whose images are larger than a queue
/// message can hold is parked trimmed (its full record in the payload
/// bucket), and the valid record behind it on the same shard is delivered.
/// Before: the park was refused and retried without pause, for ever.
#[tokio::test]
async fn a_malformed_record_too_large_to_park_does_not_block_its_shard() {
    let s = stack().await;
    let rx = TestReceiver::start(200).await.unwrap();
    s.put_config(&[partner_sub(
        "updates",
        json!(["caseUpdated"]),
        &rx.url("/updates"),
        json!({}),
    )])
    .await
    .unwrap();
    // 150 KB of notes: old and new image together are ~300 KB.
    let mut big = case();
    big["orderData"]["notes"] = json!("n".repeat(150_000));
    s.put_case(&big).await.unwrap();
    // Another case of the same table (the same stream shard on moto).
    let mut other = case();
    other["guid"] = json!("0b6f3d2a-1c1e-4a8e-9a55-3f2f8c1d7e21");
    s.put_case(&other).await.unwrap();
    let _runner = s.run().await.unwrap();
    let mut broken = big.clone();
    broken["orderData"]["refNo"] = json!("INT-2");
    broken["partnerId"] = json!("not a number");
    s.put_case(&broken).await.unwrap();
    let mut fine = other.clone();
    fine["orderData"]["refNo"] = json!("INT-3");
    fine["changedBy"] = json!({"type": "provider", "via": "api"});
    s.put_case(&fine).await.unwrap();
    let got = rx.wait_for(1, WAIT).await;
    assert_eq!(got.len(), 1, "the valid update behind the bad one arrives");
    assert_eq!(got[0].json()["orderData"]["refNo"], "INT-3");
    let parked = eventually(WAIT, || async {
        let p = s.drain(&s.stack.router_failure_queue_url).await.ok()?;
        (!p.is_empty()).then_some(p)
    })
    .await
    .expect("parked");
    assert_eq!(parked.len(), 1, "parked once: {:?}", reason(&parked[0]));
    assert!(
        reason(&parked[0]).contains("attribute `partnerId`"),
        "{}",
        reason(&parked[0])
    );
    let letter: Value = serde_json::from_str(&parked[0].0).unwrap();
    let trimmed = &letter["trimmedRecord"];
    assert_eq!(trimmed["eventName"], "MODIFY");
    assert_eq!(trimmed["keys"], json!({"guid": GUID}));
    assert!(
        trimmed["sizeBytes"].as_u64().unwrap() > 262_144,
        "{trimmed}"
    );
    let key = trimmed["bodyRef"].as_str().unwrap();
    let stored = hubhooks::adapters::s3::client(&s.sdk)
        .get_object()
        .bucket(&s.stack.payload_bucket)
        .key(key)
        .send()
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes();
    let record: Value = serde_json::from_slice(&stored).unwrap();
    assert_eq!(
        record["dynamodb"]["NewImage"]["partnerId"],
        json!({"S": "not a number"})
    );
}

/// The sender asks the current config before each attempt, so
/// a subscription disabled or deleted while its delivery is retrying stops
/// receiving at once (within the config cache's TTL), and the delivery
/// waits in the DLQ with that reason. Before: 21 more requests.
/// A replay sends each letter at most once a run. A letter whose
/// subscription is deleted comes straight back to the DLQ (the sender sends
/// it nothing and dead-letters it again within a second); the replay leaves
/// it there and ends. It once sent such letters again and again, ~1,000
/// times each in 240 s, each loop writing an attempt and a notice.
#[tokio::test]
async fn a_replay_sends_each_letter_once_even_when_it_comes_straight_back() {
    let s = stack().await;
    let rx = TestReceiver::start(500).await.unwrap();
    let sub = partner_sub(
        "gone",
        json!(["newStatus"]),
        &rx.url("/gone"),
        json!({"maxAttempts": 1}),
    );
    s.put_config(&[sub]).await.unwrap();
    s.put_case(&case()).await.unwrap();
    let _runner = s.run().await.unwrap();
    for id in 1..=3 {
        s.put_status(&status(id, json!(format!("k{id}"))))
            .await
            .unwrap();
    }
    let dlq = &s.stack.delivery_dlq_url;
    eventually(WAIT, || async {
        (s.depth(dlq).await.ok()? >= 3).then_some(())
    })
    .await
    .expect("three dead letters");
    items::delete(
        &s.ddb,
        &s.stack.tables.config,
        Family::Subscriptions,
        "gone",
    )
    .await
    .unwrap();
    // The local config TTL is 1 s.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let report = tokio::time::timeout(Duration::from_secs(60), replay_all(&s))
        .await
        .expect("the replay ends");
    assert_eq!((report.replayed, report.came_back), (3, 3), "{report:?}");
    let why: Vec<&str> = report
        .came_back_why
        .keys()
        .map(|r| r.split(": ").nth(1).unwrap_or(r))
        .collect();
    assert_eq!(why, ["subscription `gone` no longer exists; not sent"]);
    let letters = s.drain(dlq).await.unwrap();
    assert_eq!(letters.len(), 3, "each letter once, left in the DLQ");
    assert_eq!(rx.received().len(), 3, "only the first attempts reached it");
}

#[tokio::test]
async fn disabling_or_deleting_a_subscription_stops_its_retries() {
    let s = stack().await;
    let rx = TestReceiver::start(500).await.unwrap();
    s.put_config(&[
        partner_sub(
            "to-disable",
            json!(["newStatus"]),
            &rx.url("/disable"),
            json!({"maxAttempts": 20}),
        ),
        partner_sub(
            "to-delete",
            json!(["newStatus"]),
            &rx.url("/delete"),
            json!({"maxAttempts": 20}),
        ),
    ])
    .await
    .unwrap();
    s.put_case(&case()).await.unwrap();
    let _runner = s.run().await.unwrap();
    s.put_status(&status(1, json!("registered"))).await.unwrap();
    rx.wait_for(4, WAIT).await;
    let table = &s.stack.tables.config;
    items::set_enabled(&s.ddb, table, "to-disable", false, Some("receiver down"))
        .await
        .unwrap();
    items::delete(&s.ddb, table, Family::Subscriptions, "to-delete")
        .await
        .unwrap();
    // The local config TTL is 1 s; one attempt may already be under way.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = rx.received().len();
    let mut parked = Vec::new();
    let deadline = std::time::Instant::now() + WAIT;
    while parked.len() < 2 && std::time::Instant::now() < deadline {
        parked.extend(s.drain(&s.stack.delivery_dlq_url).await.unwrap());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(rx.received().len(), before, "nothing sent after the change");
    let mut reasons: Vec<String> = parked.iter().map(|m| reason(m).to_owned()).collect();
    reasons.sort();
    assert_eq!(
        reasons
            .iter()
            .map(|r| r.split(": ").nth(1).unwrap_or(r))
            .collect::<Vec<_>>(),
        [
            "subscription `to-delete` no longer exists; not sent",
            "subscription `to-disable` is disabled (receiver down); not sent",
        ],
        "{reasons:?}"
    );
}

/// A replay after the operator fixed the URL goes to the new
/// URL. Before: 24 requests to the old URL, none to the new one.
#[tokio::test]
async fn a_replay_after_fixing_the_url_goes_to_the_new_url() {
    let s = stack().await;
    let old = TestReceiver::start(500).await.unwrap();
    let new = TestReceiver::start(200).await.unwrap();
    s.put_config(&[partner_sub(
        "moving",
        json!(["newStatus"]),
        &old.url("/old"),
        json!({"maxAttempts": 2}),
    )])
    .await
    .unwrap();
    s.put_case(&case()).await.unwrap();
    let _runner = s.run().await.unwrap();
    s.put_status(&status(1, json!("registered"))).await.unwrap();
    eventually(WAIT, || async {
        (s.depth(&s.stack.delivery_dlq_url).await.ok()? > 0).then_some(())
    })
    .await
    .expect("dead-lettered");
    assert_eq!(old.received().len(), 2);
    s.put_config(&[partner_sub(
        "moving",
        json!(["newStatus"]),
        &new.url("/new"),
        json!({"maxAttempts": 2}),
    )])
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let report = replay_all(&s).await;
    assert_eq!(report.replayed, 1);
    let got = new.wait_for(1, WAIT).await;
    tokio::time::sleep(GRACE).await;
    assert_eq!(got.len(), 1);
    assert_eq!(old.received().len(), 2, "nothing more to the old URL");
}

/// A replayed delivery keeps counting its attempts (header and
/// attempt log), and no attempt record is overwritten. Before: the replay
/// sent `webhook-attempt: 1` again and the log kept 2 items for 3 attempts.
#[tokio::test]
async fn a_replay_keeps_counting_attempts_and_never_overwrites_the_attempt_log() {
    let s = stack().await;
    let rx = TestReceiver::start(500).await.unwrap();
    s.put_config(&[partner_sub(
        "flaky",
        json!(["newStatus"]),
        &rx.url("/flaky"),
        json!({"maxAttempts": 2}),
    )])
    .await
    .unwrap();
    s.put_case(&case()).await.unwrap();
    let _runner = s.run().await.unwrap();
    s.put_status(&status(1, json!("registered"))).await.unwrap();
    eventually(WAIT, || async {
        (s.depth(&s.stack.delivery_dlq_url).await.ok()? > 0).then_some(())
    })
    .await
    .expect("dead-lettered");
    rx.set_status(200);
    replay_all(&s).await;
    let got = rx.wait_for(3, WAIT).await;
    tokio::time::sleep(GRACE).await;
    assert_eq!(
        got.iter()
            .map(|r| r.header("webhook-attempt").unwrap())
            .collect::<Vec<_>>(),
        ["1", "2", "3"]
    );
    let id = got[0].header("webhook-id").unwrap().to_owned();
    let log = hubhooks_cli::attempts::query(
        &s.ddb,
        &s.stack.attempt_log_table,
        &hubhooks_cli::attempts::Filter::Delivery(id),
        None,
    )
    .await
    .unwrap();
    let outcomes: Vec<(u32, String)> = log
        .iter()
        .map(|a| {
            (
                a.attempt,
                serde_json::to_value(a.outcome)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            (1, "retrying".to_owned()),
            (2, "deadLettered".to_owned()),
            (3, "delivered".to_owned())
        ]
    );
}

/// A status item that cannot be read (its key is a number) is
/// parked, and skipped when the next status looks for its predecessor, so
/// the case's later statuses keep flowing. Before: every later status of
/// the case was parked with `earlier status 2 … invalid type`.
#[tokio::test]
async fn an_unreadable_earlier_status_does_not_block_later_statuses() {
    let s = stack().await;
    let rx = TestReceiver::start(200).await.unwrap();
    s.put_config(&[partner_sub(
        "statuses",
        json!(["newStatus", "statusTransition"]),
        &rx.url("/statuses"),
        json!({"transitions": [{"from": "registered", "to": "final"}]}),
    )])
    .await
    .unwrap();
    s.put_case(&case()).await.unwrap();
    let _runner = s.run().await.unwrap();
    s.put_status(&status(1, json!("registered"))).await.unwrap();
    rx.wait_for(1, WAIT).await;
    s.put(CaseTable::CaseStatuses, &status(2, json!(100)))
        .await
        .unwrap();
    s.put_status(&status(3, json!("final"))).await.unwrap();
    let got = rx.wait_for(3, WAIT).await;
    tokio::time::sleep(GRACE).await;
    let got = if got.len() >= 3 { rx.received() } else { got };
    let mut seen: Vec<(String, Value, Value)> = got
        .iter()
        .map(|r| {
            let body = r.json();
            (
                r.header("event-type").unwrap().to_owned(),
                body["key"].clone(),
                body.get("prevKey").cloned().unwrap_or(Value::Null),
            )
        })
        .collect();
    seen.sort_by_key(|(t, k, _)| (k.to_string(), t.clone()));
    assert_eq!(
        seen,
        [
            ("newStatus".to_owned(), json!("final"), Value::Null),
            (
                "statusTransition".to_owned(),
                json!("final"),
                json!("registered")
            ),
            ("newStatus".to_owned(), json!("registered"), Value::Null),
        ],
        "{got:#?}"
    );
    let parked = s.drain(&s.stack.router_failure_queue_url).await.unwrap();
    assert_eq!(parked.len(), 1, "only the unreadable status is parked");
    assert!(
        reason(&parked[0]).contains("attribute `key`"),
        "{}",
        reason(&parked[0])
    );
}

/// The attempt log never overwrites: records are appended, even
/// one with a number already logged (a message whose count restarted).
/// A batch's attempts for one subscription are one page; only
/// failures get items of their own, and the day's directory entry is
/// written once per instance.
#[tokio::test]
async fn the_attempt_log_appends_a_page_per_batch_and_subscription() {
    use hubhooks::adapters::dynamo::DynamoAttemptLog;
    use hubhooks::attempt::AttemptRecord;
    use hubhooks::ports::{AttemptLog, Receipt};
    use hubhooks::retry::{Failure, Verdict};
    use hubhooks_cli::attempts::{Filter, query};
    let s = stack().await;
    let table = s.stack.attempt_log_table.clone();
    let log = DynamoAttemptLog::new(s.ddb.clone(), table.clone(), 30, true);
    let delivered = Verdict::Delivered(Receipt {
        status: 200,
        latency: Duration::from_millis(3),
        excerpt: String::new(),
    });
    let now = hubhooks::timestamp::Timestamp::now;
    // GIVEN a batch: ten successes for `sub` (enough for a page of its
    // own), one retry for `other`
    for i in 0..10 {
        let d = hubhooks::memory::delivery(&format!("d-{i}"), "sub", "https://example.com/");
        log.record(&AttemptRecord::new(&d, 1, &delivered, now()), &d)
            .await
            .unwrap();
    }
    let failing = hubhooks::memory::delivery("d-x", "other", "https://example.com/");
    let retry = Verdict::Retry {
        delay: Duration::from_secs(30),
        error: Failure {
            message: "503 Service Unavailable".into(),
            status: Some(503),
            latency: Some(Duration::from_millis(4)),
            excerpt: String::new(),
        },
    };
    log.record(&AttemptRecord::new(&failing, 1, &retry, now()), &failing)
        .await
        .unwrap();
    // WHEN it is flushed
    log.flush().await.unwrap();
    // THEN `sub`'s page, a mixed page with `other`'s record, one failure
    // item and two directory entries were written
    let count = |s: &Stack| {
        let (ddb, table) = (s.ddb.clone(), table.clone());
        async move {
            let items = ddb
                .scan()
                .table_name(&table)
                .send()
                .await
                .unwrap()
                .items
                .unwrap_or_default();
            let mut kinds: Vec<String> = items
                .iter()
                .map(|i| {
                    i["pk"]
                        .as_s()
                        .unwrap()
                        .split('#')
                        .next()
                        .unwrap()
                        .to_owned()
                })
                .collect();
            kinds.sort();
            kinds
        }
    };
    assert_eq!(count(&s).await, ["failed", "mixed", "sub", "subs", "subs"]);
    // AND a record with a number already logged is appended (on a mixed
    // page: one record), not written over
    let again = hubhooks::memory::delivery("d-0", "sub", "https://example.com/");
    log.record(&AttemptRecord::new(&again, 1, &delivered, now()), &again)
        .await
        .unwrap();
    log.flush().await.unwrap();
    assert_eq!(
        count(&s).await.len(),
        6,
        "one more page, no new directory entry"
    );
    let d0 = query(&s.ddb, &table, &Filter::Delivery("d-0".into()), None)
        .await
        .unwrap();
    assert_eq!(d0.iter().map(|a| a.attempt).collect::<Vec<_>>(), [1, 1]);
    // AND every query finds what it should
    let by_sub = query(&s.ddb, &table, &Filter::Subscription("sub".into()), None)
        .await
        .unwrap();
    assert_eq!(by_sub.len(), 11);
    let by_case = query(
        &s.ddb,
        &table,
        &Filter::Case(failing.case_guid.to_string()),
        None,
    )
    .await
    .unwrap();
    assert_eq!(by_case.len(), 12);
    let failed = query(&s.ddb, &table, &Filter::Failed, None).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].delivery_id.as_str(), "d-x");
    assert_eq!(failed[0].status, Some(503));
}

/// Re-putting the config file does not silently re-enable a
/// subscription that a receiver's 410 disabled; `subscriptions enable` is
/// the explicit way back. Before: `put` replaced the item and `enabled`
/// defaulted to true.
#[tokio::test]
async fn putting_config_again_does_not_undo_a_receivers_410() {
    use hubhooks::adapters::dynamo::{DynamoConfigSource, DynamoSubscriptionControl};
    use hubhooks::config::{ConfigItem, ConfigSet, RawConfigItem};
    use hubhooks::event::EventType;
    use hubhooks::ports::{ConfigSource, SubscriptionControl};
    let s = stack().await;
    let table = s.stack.tables.config.clone();
    let declared = partner_sub(
        "acme",
        json!(["newStatus"]),
        "https://acme.example/hooks",
        json!({}),
    );
    let items = vec![
        ConfigItem::parse(&RawConfigItem {
            id: "acme".into(),
            value: declared,
        })
        .unwrap(),
    ];
    hubhooks_cli::config::put_items(&s.sdk, &table, &items)
        .await
        .unwrap();
    // The sender, on a 410.
    DynamoSubscriptionControl::new(s.ddb.clone(), table.clone())
        .disable(
            &hubhooks::ids::SubscriptionId::new("acme"),
            "attempt 1: receiver answered 410: ; the subscription is disabled",
        )
        .await
        .unwrap();
    let current = || async {
        let raw = DynamoConfigSource::new(s.ddb.clone(), table.clone())
            .load()
            .await
            .unwrap();
        hubhooks::routing::current_route(&ConfigSet::from_raw(raw), "acme", EventType::NewStatus)
            .map(|_| ())
    };
    // The operator re-puts the unchanged file.
    hubhooks_cli::config::put_items(&s.sdk, &table, &items)
        .await
        .unwrap();
    assert_eq!(
        current().await,
        Err("subscription `acme` is disabled (attempt 1: receiver answered 410: ; the subscription is disabled); not sent".into())
    );
    let item = s.config_item("acme").await.unwrap();
    assert!(item["disabledAt"].as_str().is_some(), "{item}");
    // Enabling is explicit.
    hubhooks_cli::items::set_enabled(&s.ddb, &table, "acme", true, None)
        .await
        .unwrap();
    assert_eq!(current().await, Ok(()));
}

/// Restarting `hubhooks local run` goes on where it stopped
/// (stream positions are checkpointed in the local stack) instead of
/// re-reading every stream from the start and re-sending old webhooks.
#[tokio::test]
async fn a_restarted_local_runner_goes_on_where_it_stopped() {
    let s = stack().await;
    let rx = TestReceiver::start(200).await.unwrap();
    s.put_config(&[partner_sub(
        "new",
        json!(["newStatus"]),
        &rx.url("/new"),
        json!({}),
    )])
    .await
    .unwrap();
    s.put_case(&case()).await.unwrap();
    let runner = s.run().await.unwrap();
    s.put_status(&status(1, json!("registered"))).await.unwrap();
    assert_eq!(rx.wait_for(1, WAIT).await.len(), 1);
    tokio::time::sleep(GRACE).await;
    drop(runner);
    let _runner = s.run().await.unwrap();
    s.put_status(&status(2, json!("arrived"))).await.unwrap();
    rx.wait_for(2, WAIT).await;
    tokio::time::sleep(GRACE).await;
    let keys: Vec<Value> = rx
        .received()
        .iter()
        .map(|r| r.json()["key"].clone())
        .collect();
    assert_eq!(keys, [json!("registered"), json!("arrived")]);
}
