//! Failure-streak disable and operational notices, end to end
//! on the local stack: the router and sender on moto, a receiver that keeps
//! failing, the party's notice destination (a real HTTP receiver) and the
//! notice topic (SNS on moto, read through the queue subscribed to it).
use hubhooks_cli::local::provision::QueueSettings;
use hubhooks_cli::local::runner::RunnerOptions;
use hubhooks_tests::*;
use serde_json::{Value, json};
use std::time::Duration;

const PARTNER: i64 = 1413;
const GUID: &str = "0d7e3a52-2f4b-4c1e-9a55-3b8f0e6c1d24";
const WAIT: Duration = Duration::from_secs(40);
const OPS_SECRET: &str = "ops-signing";
const OPS_KEY: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// The stack, its config, a case, and the runner with a failure-streak
/// limit of 3 seconds.
async fn world(receiver_url: &str, ops_url: &str) -> (Stack, hubhooks_cli::local::runner::Runner) {
    let s = Stack::start(QueueSettings {
        visibility_timeout_secs: 1,
        ..QueueSettings::default()
    })
    .await
    .unwrap();
    acme_and_its_operators(&s, receiver_url, ops_url, json!({})).await;
    let runner = s
        .run_with(RunnerOptions {
            failure_streak: Duration::from_secs(3),
            ..RunnerOptions::default()
        })
        .await
        .unwrap();
    (s, runner)
}

/// Subscription `acme` (with `extra` fields), the partner's signed notice
/// destination, and case 77.
async fn acme_and_its_operators(s: &Stack, receiver_url: &str, ops_url: &str, extra: Value) {
    let mut acme = json!({"id": "acme", "kind": "subscription", "party": {"type": "partner", "id": PARTNER},
                          "eventTypes": ["newStatus"], "destination": {"method": "POST", "url": receiver_url}});
    acme.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    s.put_secret(OPS_SECRET, &[OPS_KEY]).await.unwrap();
    s.put_config(&[
        acme,
        json!({"id": "acme-ops", "kind": "noticeDestination", "party": {"type": "partner", "id": PARTNER},
               "destination": {"method": "POST", "url": ops_url},
               "auth": {"signingSecret": OPS_SECRET}}),
    ])
    .await
    .unwrap();
    s.put_case(&json!({"guid": GUID, "id": 77, "partnerId": PARTNER, "serviceProviderId": 1004}))
        .await
        .unwrap();
}

fn status() -> Value {
    json!({"caseId": 77, "id": 1, "guid": GUID, "key": "registered", "name": "Registered",
           "createdAt": "2024-05-01T10:00:00.000Z"})
}

/// The notices the operators' endpoint received, each checked: its
/// signature verifies with the party's key and its id is the body's.
fn notices(ops: &[Received]) -> Vec<Value> {
    ops.iter()
        .map(|r| {
            let body = r.json();
            let id = body["id"].as_str().unwrap();
            assert_eq!(r.header("webhook-id"), Some(id));
            assert_eq!(r.header("event-type"), body["type"].as_str());
            let ts: i64 = r.header("webhook-timestamp").unwrap().parse().unwrap();
            let expected = hubhooks::signature::sign(&[OPS_KEY.into()], id, ts, &r.body).unwrap();
            assert_eq!(r.header("webhook-signature"), Some(expected.as_str()));
            body
        })
        .collect()
}

fn types(notices: &[Value]) -> Vec<&str> {
    notices
        .iter()
        .map(|n| n["type"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_subscription_failing_past_the_streak_limit_is_disabled_and_both_channels_hear_it() {
    // GIVEN a receiver that always answers 503, a limit of 3 seconds, and
    // the party's notice destination
    let rx = TestReceiver::start(503).await.unwrap();
    let ops = TestReceiver::start(204).await.unwrap();
    let (s, _runner) = world(&rx.url("/hooks"), &ops.url("/ops")).await;
    // WHEN a status fires a webhook that keeps failing
    s.put_status(&status()).await.unwrap();
    // THEN the operators hear: failing, disabled, dead-lettered
    let got = notices(&ops.wait_for(3, WAIT).await);
    assert_eq!(
        types(&got),
        [
            "delivery.failing",
            "subscription.disabled",
            "delivery.deadLettered"
        ]
    );
    let item = s.config_item("acme").await.unwrap();
    let since = item["failingSince"].as_str().unwrap();
    let reason = item["disabledReason"].as_str().unwrap();
    assert!(
        reason.starts_with(&format!("every attempt failed since {since} (the limit is 3 seconds); last error: receiver answered 503")),
        "{reason}"
    );
    assert!(item["disabledAt"].as_str().is_some());
    for n in &got {
        assert_eq!(n["party"], json!({"type": "partner", "id": PARTNER}));
        assert_eq!(n["subscriptionId"], "acme");
        assert_eq!(n["delivery"]["eventType"], "newStatus");
        assert_eq!(n["delivery"]["caseGuid"], GUID);
    }
    assert_eq!(got[0]["failingSince"], since);
    assert_eq!(got[0]["delivery"]["attempt"], 1);
    assert_eq!(got[1]["failingSince"], since);
    assert_eq!(got[1]["reason"], reason);
    assert_eq!(
        got[2]["reason"],
        format!("subscription `acme` is disabled ({reason}); not sent")
    );
    // Every attempt the receiver saw failed, and none came after the disable.
    let attempts = rx.received();
    assert!(attempts.len() >= 2, "{}", attempts.len());
    assert!(attempts.iter().all(|a| a.answered == 503));
    assert_eq!(
        got[1]["delivery"]["attempt"].as_u64(),
        Some(attempts.len() as u64)
    );
    // The dead letter counts the attempts made: the receipt that found the
    // subscription disabled was none.
    assert_eq!(
        got[2]["delivery"]["attempt"].as_u64(),
        Some(attempts.len() as u64)
    );
    // AND the notice topic carries the same three notices
    let topic = eventually(WAIT, || async {
        let m = s.drain(&s.stack.notice_queue_url).await.ok()?;
        (!m.is_empty()).then_some(m)
    })
    .await
    .unwrap();
    let mut published: Vec<Value> = topic
        .iter()
        .map(|(body, _)| serde_json::from_str(body).unwrap())
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await;
    published.extend(
        s.drain(&s.stack.notice_queue_url)
            .await
            .unwrap()
            .iter()
            .map(|(body, _)| serde_json::from_str::<Value>(body).unwrap()),
    );
    let id = |v: &Value| v["id"].as_str().unwrap().to_owned();
    published.sort_by_key(id);
    let mut expected = got.clone();
    expected.sort_by_key(id);
    assert_eq!(published, expected);
    // AND the delivery waits in the DLQ, for a replay once it is fixed
    let letters = s.dead_letters(WAIT).await.unwrap();
    assert_eq!(letters.len(), 1);
}

#[tokio::test]
async fn a_success_ends_the_streak_and_nothing_is_disabled() {
    // GIVEN a receiver that fails once, then answers
    let rx = TestReceiver::start(200).await.unwrap();
    rx.script(&[500]);
    let ops = TestReceiver::start(204).await.unwrap();
    let (s, _runner) = world(&rx.url("/hooks"), &ops.url("/ops")).await;
    // WHEN a webhook fails once and is then delivered
    s.put_status(&status()).await.unwrap();
    let attempts = rx.wait_for(2, WAIT).await;
    assert_eq!(
        attempts.iter().map(|a| a.answered).collect::<Vec<_>>(),
        [500, 200]
    );
    // THEN the streak is marked, told once, and ended by the success
    let item = eventually(WAIT, || async {
        let item = s.config_item("acme").await.ok()?;
        item.get("failingSince").is_none().then_some(item)
    })
    .await
    .expect("the success removes failingSince");
    assert!(item.get("disabledAt").is_none(), "{item}");
    // Past the limit, no further notice comes.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let got = notices(&ops.received());
    assert_eq!(types(&got), ["delivery.failing"]);
    assert_eq!(got[0]["delivery"]["attempt"], 1);
}

/// Notices leave the delivery path: a party whose notice destination never
/// answers holds up nobody's deliveries. It once did: the tries of the
/// silent destination ran inside the dead-lettered delivery, so every
/// sender instance (the local stack has two pollers) sat on a batch of
/// `a-x`'s dead letters while another party's webhook waited in the queue.
/// Here each try of the silent destination takes 5 s; the notice budget is
/// 1 s.
#[tokio::test]
async fn a_silent_notice_destination_holds_up_no_other_delivery() {
    let s = Stack::start(QueueSettings::default()).await.unwrap();
    let failing = TestReceiver::start(500).await.unwrap();
    let good = TestReceiver::start(200).await.unwrap();
    let (silent, _) = silent_receiver().await;
    s.put_config(&[
        json!({"id": "a-x", "kind": "subscription", "party": {"type": "partner", "id": PARTNER},
               "eventTypes": ["newStatus"], "maxAttempts": 1,
               "destination": {"method": "POST", "url": failing.url("/a-x")}}),
        json!({"id": "a-ops", "kind": "noticeDestination", "party": {"type": "partner", "id": PARTNER},
               "destination": {"method": "POST", "url": silent, "timeoutMs": 5000}}),
        json!({"id": "b-good", "kind": "subscription", "party": {"type": "provider", "id": 1004},
               "eventTypes": ["newStatus"],
               "destination": {"method": "POST", "url": good.url("/b-good")}}),
    ])
    .await
    .unwrap();
    // Case 77 is a-x's alone; case 78 b-good's alone.
    let other = "9b7e3a52-2f4b-4c1e-9a55-3b8f0e6c1d25";
    s.put_case(&json!({"guid": GUID, "id": 77, "partnerId": PARTNER, "serviceProviderId": 2000}))
        .await
        .unwrap();
    s.put_case(&json!({"guid": other, "id": 78, "partnerId": 3000, "serviceProviderId": 1004}))
        .await
        .unwrap();
    let _runner = s
        .run_with(RunnerOptions {
            notice_budget: Duration::from_secs(1),
            ..RunnerOptions::default()
        })
        .await
        .unwrap();
    let status = |case: i64, guid: &str, id: i64| {
        json!({"caseId": case, "id": id, "guid": guid, "key": format!("k{id}"),
               "name": "a status", "createdAt": "2024-05-01T10:00:00.000Z"})
    };
    for id in 1..=20 {
        s.put_status(&status(77, GUID, id)).await.unwrap();
    }
    // Both pollers now hold batches of a-x's dead letters.
    failing.wait_for(12, WAIT).await;
    let written = std::time::Instant::now();
    s.put_status(&status(78, other, 100)).await.unwrap();
    let got = good.wait_for(1, WAIT).await;
    let waited = written.elapsed();
    assert_eq!(got.len(), 1);
    // Three tries of the silent destination take over 15 s; the budget 1 s.
    assert!(
        waited < Duration::from_secs(8),
        "b-good's webhook waited {waited:?} behind a-x's notices"
    );
}

/// A receiver that authenticates with `?token=…` puts a credential in its
/// URL; reqwest writes the URL into its errors, and those became the
/// dead-letter reason, the attempt log's error and the notice.
#[tokio::test]
async fn a_token_in_a_destination_url_is_masked_wherever_the_url_is_written() {
    // GIVEN a subscription whose URL carries a token, on a port nobody
    // listens on, and a notice destination
    let s = Stack::start(QueueSettings::default()).await.unwrap();
    let ops = TestReceiver::start(200).await.unwrap();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{closed}/hook?token=s3cr3t-t0ken&region=eu");
    acme_and_its_operators(&s, &url, &ops.url("/ops"), json!({"maxAttempts": 1})).await;
    let _runner = s.run().await.unwrap();
    // WHEN its one attempt fails and the delivery is dead-lettered
    s.put_status(&status()).await.unwrap();
    let letters = s.dead_letters(WAIT).await.unwrap();
    // THEN the reason names the URL with its query values hidden
    assert_eq!(letters.len(), 1);
    let why = reason(&letters[0]);
    let masked = format!("http://127.0.0.1:{closed}/hook?token=***&region=***");
    assert!(why.contains(&masked), "{why}");
    assert!(!why.contains("s3cr3t"), "{why}");
    // AND so does the notice
    let got = notices(&ops.wait_for(2, WAIT).await);
    let mut kinds = types(&got);
    kinds.sort();
    assert_eq!(kinds, ["delivery.deadLettered", "delivery.failing"]);
    for notice in got.iter().map(Value::to_string) {
        assert!(
            notice.contains(&masked) && !notice.contains("s3cr3t"),
            "{notice}"
        );
    }
    // AND the attempt log
    let log = s
        .ddb
        .scan()
        .table_name(&s.stack.attempt_log_table)
        .send()
        .await
        .unwrap();
    let pages: Vec<_> = log
        .items()
        .iter()
        .filter_map(|i| i.get("page")?.as_b().ok())
        .map(|blob| hubhooks::attempt_page::unpack(blob.as_ref()).unwrap())
        .collect();
    assert!(!pages.is_empty());
    let items = format!("{pages:?}");
    assert!(
        items.contains("token=***") && !items.contains("s3cr3t"),
        "{items}"
    );
}
