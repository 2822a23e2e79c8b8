//! Delivery under failure and abuse, end to end (moto, real receivers):
//! retries with the same delivery id, the attempt limit and the DLQ's last
//! error, `Retry-After`, `410 Gone`, signatures checked by an independent
//! implementation, secrets kept out of the DLQ, the SSRF guard, large bodies.
use hubhooks::egress::AllowList;
use hubhooks_cli::local::provision::QueueSettings;
use hubhooks_cli::local::runner::RunnerOptions;
use hubhooks_tests::*;
use serde_json::{Value, json};
use std::time::Duration;

use hubhooks_tests::fixtures::PARTNER;
const GUID: &str = "68ea1505-a44f-4434-be5a-dcc959be250e";
const WAIT: Duration = Duration::from_secs(40);
const GRACE: Duration = Duration::from_millis(2500);
/// Standard Webhooks' specification test key.
const SIGNING_KEY: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn case() -> Value {
    fixtures::case_with(GUID, 1290485, json!({"orderData": {"refNo": "10-1862"}}))
}

fn status(id: i64, key: &str) -> Value {
    json!({"caseId": 1290485, "id": id, "guid": GUID, "key": key, "name": key,
           "createdAt": "2023-01-25T13:11:18.000Z"})
}

/// A partner subscription to new statuses at `url`, plus `extra` fields.
fn subscription(id: &str, url: &str, extra: Value) -> Value {
    let mut s = json!({"id": id, "kind": "subscription", "party": {"type": "partner", "id": PARTNER},
                       "eventTypes": ["newStatus"], "destination": {"method": "POST", "url": url}});
    s.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    s
}

/// A stack with one subscription, a case and one status written: one
/// delivery on its way.
async fn one_delivery(
    url: impl Fn(&TestReceiver) -> String,
    extra: Value,
) -> (Stack, TestReceiver) {
    let s = Stack::start(QueueSettings {
        visibility_timeout_secs: 1,
        ..QueueSettings::default()
    })
    .await
    .unwrap();
    let rx = TestReceiver::start(200).await.unwrap();
    s.put_config(&[subscription("sub", &url(&rx), extra)])
        .await
        .unwrap();
    s.put_case(&case()).await.unwrap();
    (s, rx)
}

#[tokio::test]
async fn a_receiver_failing_k_times_gets_the_webhook_with_one_delivery_id() {
    let (s, rx) = one_delivery(|rx| rx.url("/flaky"), json!({"maxAttempts": 5})).await;
    rx.script(&[500, 503, 502]);
    let _runner = s.run().await.unwrap();
    s.put_status(&status(1, "registered")).await.unwrap();
    let got = rx.wait_for(4, WAIT).await;
    tokio::time::sleep(GRACE).await;
    let got = if got.len() >= 4 { rx.received() } else { got };
    assert_eq!(got.len(), 4, "3 failures then success: {got:#?}");
    let ids: Vec<&str> = got
        .iter()
        .map(|r| r.header("webhook-id").unwrap())
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    let attempts: Vec<&str> = got
        .iter()
        .map(|r| r.header("webhook-attempt").unwrap())
        .collect();
    assert_eq!(attempts, ["1", "2", "3", "4"]);
    assert_eq!(
        got.iter().map(|r| r.answered).collect::<Vec<_>>(),
        [500, 503, 502, 200]
    );
    assert!(got.windows(2).all(|w| w[0].body == w[1].body));
    assert_eq!(s.depth(&s.stack.delivery_dlq_url).await.unwrap(), 0);
    assert_eq!(s.depth(&s.stack.delivery_queue_url).await.unwrap(), 0);
}

#[tokio::test]
async fn a_receiver_that_always_fails_leaves_the_delivery_in_the_dlq_with_its_last_error() {
    let (s, rx) = one_delivery(|rx| rx.url("/down"), json!({"maxAttempts": 3})).await;
    rx.set_status(500);
    let _runner = s.run().await.unwrap();
    s.put_status(&status(1, "registered")).await.unwrap();
    let parked = s.dead_letters(WAIT).await.unwrap();
    tokio::time::sleep(GRACE).await;
    assert_eq!(rx.received().len(), 3, "exactly maxAttempts attempts");
    assert_eq!(parked.len(), 1);
    assert_eq!(
        reason(&parked[0]),
        "gave up after 3 of 3 attempts; last error: receiver answered 500: "
    );
    let delivery: Value = serde_json::from_str(&parked[0].0).unwrap();
    assert_eq!(
        delivery["id"],
        rx.received()[0].header("webhook-id").unwrap()
    );
    assert_eq!(delivery["maxAttempts"], 3);
    assert_eq!(s.depth(&s.stack.delivery_queue_url).await.unwrap(), 0);
}

#[tokio::test]
async fn a_subscriptions_own_retry_schedule_sets_its_attempts_and_waits() {
    let (s, rx) = one_delivery(|rx| rx.url("/own"), json!({"retry": [1, 6]})).await;
    rx.set_status(503);
    let _runner = s.run().await.unwrap();
    s.put_status(&status(1, "registered")).await.unwrap();
    let parked = s.dead_letters(WAIT).await.unwrap();
    tokio::time::sleep(GRACE).await;
    let got = rx.received();
    assert_eq!(got.len(), 3, "one attempt, then one per delay");
    assert_eq!(
        reason(&parked[0]),
        "gave up after 3 of 3 attempts; last error: receiver answered 503: "
    );
    // The local runner's own schedule is 1 s, 1 s, 2 s (at most 2.4 s with
    // jitter): the subscription's 6 s, less 20% jitter and SQS's whole
    // seconds (4 s at least), shows it was followed.
    let waited = got[2].at - got[1].at;
    assert!(
        waited >= Duration::from_millis(3500),
        "retried after {waited:?}"
    );
    let delivery: Value = serde_json::from_str(&parked[0].0).unwrap();
    assert_eq!(delivery["maxAttempts"], 3);
}

#[tokio::test]
async fn retry_after_sets_the_next_attempt() {
    let (s, rx) = one_delivery(|rx| rx.url("/busy"), json!({})).await;
    rx.script(&[429]);
    rx.set_retry_after(Some("3"));
    let _runner = s.run().await.unwrap();
    s.put_status(&status(1, "registered")).await.unwrap();
    let got = rx.wait_for(2, WAIT).await;
    assert_eq!(got.len(), 2, "{got:#?}");
    // The local schedule would retry after about 1 s; the receiver asked for 3.
    let waited = got[1].at - got[0].at;
    assert!(waited >= Duration::from_secs(3), "retried after {waited:?}");
}

#[tokio::test]
async fn gone_disables_the_subscription_and_records_why() {
    let (s, rx) = one_delivery(|rx| rx.url("/gone"), json!({})).await;
    rx.set_status(410);
    let _runner = s.run().await.unwrap();
    s.put_status(&status(1, "registered")).await.unwrap();
    let parked = s.dead_letters(WAIT).await.unwrap();
    assert_eq!(
        reason(&parked[0]),
        "attempt 1: receiver answered 410: ; the subscription is disabled"
    );
    let item = s.config_item("sub").await.unwrap();
    // Operational state beside the declared config, which stays as written
    // (here without `enabled`: its default, true).
    assert!(item.get("enabled").is_none(), "{item}");
    assert_eq!(
        item["disabledReason"],
        "attempt 1: receiver answered 410: ; the subscription is disabled"
    );
    assert!(item["disabledAt"].as_str().unwrap().ends_with('Z'));
    // Once the router's config refreshes, nothing more is sent.
    tokio::time::sleep(Duration::from_secs(2)).await;
    s.put_status(&status(2, "final")).await.unwrap();
    tokio::time::sleep(GRACE).await;
    assert_eq!(rx.received().len(), 1);
}

#[tokio::test]
async fn signatures_verify_with_the_reference_library_and_secrets_stay_out_of_the_dlq() {
    let (s, rx) = one_delivery(
        |rx| rx.url("/signed"),
        json!({"maxAttempts": 2, "auth": {"signingSecret": "acme-signing", "bearerSecret": "acme-bearer",
                                          "xTokenSecret": "acme-token"}}),
    )
    .await;
    // Rotation: a new key first, the old one still signing.
    s.put_secret(
        "acme-signing",
        &["whsec_bmV3LWtleS0xMjM0NTY3ODkw", SIGNING_KEY],
    )
    .await
    .unwrap();
    s.put_secret("acme-bearer", &["bearer-value-0001"])
        .await
        .unwrap();
    s.put_secret("acme-token", &["x-token-value-0002"])
        .await
        .unwrap();
    rx.set_status(500);
    let _runner = s.run().await.unwrap();
    s.put_status(&status(1, "registered")).await.unwrap();
    let parked = s.dead_letters(WAIT).await.unwrap();
    let got = rx.received();
    assert_eq!(got.len(), 2);
    for r in &got {
        assert_eq!(r.header("authorization"), Some("Bearer bearer-value-0001"));
        assert_eq!(r.header("x-token"), Some("x-token-value-0002"));
        let signature = r.header("webhook-signature").unwrap();
        assert_eq!(signature.split(' ').count(), 2, "{signature}");
        assert!(signature.split(' ').all(|s| s.starts_with("v1,")));
        // Each key alone verifies (a receiver holding either one accepts
        // it), with the Python verifier docs/receiving-webhooks.md shows.
        for key in ["whsec_bmV3LWtleS0xMjM0NTY3ODkw", SIGNING_KEY] {
            let out = crate::receiving::verify_python(r, key, &r.body);
            assert!(out.0, "{key}: {}", out.1);
        }
        // A tampered body does not verify.
        let tampered = r.body.replace("registered", "final");
        assert!(!crate::receiving::verify_python(r, SIGNING_KEY, &tampered).0);
    }
    // The two attempts carry different timestamps' signatures but one id.
    assert_eq!(got[0].header("webhook-id"), got[1].header("webhook-id"));
    let dlq = format!("{parked:?}");
    for secret in [
        "bearer-value-0001",
        "x-token-value-0002",
        SIGNING_KEY,
        "bmV3LWtleS0xMjM0NTY3ODkw",
    ] {
        assert!(!dlq.contains(secret), "the DLQ holds a secret: {dlq}");
    }
    assert!(dlq.contains("acme-signing"), "names, not values: {dlq}");
}

#[tokio::test]
async fn loopback_and_metadata_destinations_are_refused_without_the_allow_list() {
    let s = Stack::start(QueueSettings::default()).await.unwrap();
    let rx = TestReceiver::start(200).await.unwrap();
    let port = rx.base_url.rsplit(':').next().unwrap().to_owned();
    s.put_config(&[
        subscription("loopback", &rx.url("/loopback"), json!({})),
        subscription(
            "by-name",
            &format!("http://localhost:{port}/by-name"),
            json!({}),
        ),
        subscription(
            "metadata",
            "http://169.254.169.254/latest/meta-data/",
            json!({}),
        ),
        subscription("private", "http://10.0.0.7/hook", json!({})),
    ])
    .await
    .unwrap();
    s.put_case(&case()).await.unwrap();
    let _runner = s
        .run_with(RunnerOptions {
            egress: AllowList::default(),
            ..RunnerOptions::default()
        })
        .await
        .unwrap();
    s.put_status(&status(1, "registered")).await.unwrap();
    let mut parked = Vec::new();
    let deadline = std::time::Instant::now() + WAIT;
    while parked.len() < 4 && std::time::Instant::now() < deadline {
        parked.extend(s.drain(&s.stack.delivery_dlq_url).await.unwrap());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(parked.len(), 4, "all four refused: {parked:#?}");
    let mut reasons: Vec<(String, String)> = parked
        .iter()
        .map(|m| {
            let d: Value = serde_json::from_str(&m.0).unwrap();
            (
                d["subscriptionId"].as_str().unwrap().to_owned(),
                reason(m).to_owned(),
            )
        })
        .collect();
    reasons.sort();
    assert_eq!(
        reasons,
        vec![
            (
                "by-name".into(),
                "attempt 1: refused: `localhost` resolves to 127.0.0.1 is a loopback address (not in the deployment's EGRESS_ALLOW list)".into()
            ),
            (
                "loopback".into(),
                "attempt 1: refused: 127.0.0.1 is a loopback address (not in the deployment's EGRESS_ALLOW list)".into()
            ),
            (
                "metadata".into(),
                "attempt 1: refused: 169.254.169.254 is a cloud metadata address (not in the deployment's EGRESS_ALLOW list)".into()
            ),
            (
                "private".into(),
                "attempt 1: refused: 10.0.0.7 is a private address (not in the deployment's EGRESS_ALLOW list)".into()
            ),
        ]
    );
    assert!(rx.received().is_empty(), "nothing reached the receiver");
}

#[tokio::test]
async fn a_body_too_large_for_sqs_goes_through_the_payload_store() {
    let s = Stack::start(QueueSettings::default()).await.unwrap();
    let rx = TestReceiver::start(200).await.unwrap();
    s.put_config(&[
        json!({"id": "big", "kind": "subscription", "party": {"type": "partner", "id": PARTNER},
        "eventTypes": ["statusTransition"], "transitions": [{"to": "final"}],
        "destination": {"method": "POST", "url": rx.url("/big")}}),
    ])
    .await
    .unwrap();
    // 300 KB of case data: the transition body carries it all.
    let mut big = case();
    big["orderData"]["notes"] = json!("x".repeat(300 * 1024));
    s.put_case(&big).await.unwrap();
    let _runner = s.run().await.unwrap();
    s.put_status(&status(1, "final")).await.unwrap();
    let got = rx.wait_for(1, WAIT).await;
    assert_eq!(got.len(), 1);
    let body = got[0].json();
    assert_eq!(body["case"], big);
    assert!(got[0].body.len() > 300 * 1024);
    let listed = hubhooks::adapters::s3::client(&s.sdk)
        .list_objects_v2()
        .bucket(&s.stack.payload_bucket)
        .send()
        .await
        .unwrap();
    let keys: Vec<String> = listed
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect();
    assert_eq!(
        keys,
        vec![format!(
            "bodies/{}.json",
            got[0].header("webhook-id").unwrap()
        )]
    );
}

/// 1,000 deliveries to three receivers that fail 30% of requests: every
/// delivery arrives (at least once), nothing is dead-lettered, and the
/// duplicates (a success whose deletion raced a redelivery) are reported.
/// They are enqueued in waves of 100 while earlier ones are still retrying.
/// `make chaos` does the same at 10,000 through the whole pipeline.
#[tokio::test]
async fn a_thousand_deliveries_to_flaky_receivers_all_arrive() {
    use hubhooks::adapters::sqs::SqsDeliveryQueue;
    use hubhooks::config::{Destination, HttpDestination, HttpMethod};
    use hubhooks::delivery::{Delivery, ENVELOPE_VERSION};
    use hubhooks::event::EventType;
    use hubhooks::party::Party;
    use hubhooks::ports::DeliveryQueue;
    use hubhooks::timestamp::Timestamp;
    use std::collections::HashMap;

    const N: usize = 1000;
    let s = Stack::start(QueueSettings {
        visibility_timeout_secs: 5,
        ..QueueSettings::default()
    })
    .await
    .unwrap();
    let receivers = [
        TestReceiver::start(200).await.unwrap(),
        TestReceiver::start(200).await.unwrap(),
        TestReceiver::start(200).await.unwrap(),
    ];
    for r in &receivers {
        r.fail_randomly(300);
    }
    // The sender follows the subscriptions as configured now.
    let subs: Vec<Value> = (0..3)
        .map(|i| {
            subscription(
                &format!("sub-{i}"),
                &receivers[i].url("/chaos"),
                json!({"maxAttempts": 20}),
            )
        })
        .collect();
    s.put_config(&subs).await.unwrap();
    let deliveries: Vec<Delivery> = (0..N)
        .map(|i| Delivery {
            v: ENVELOPE_VERSION,
            id: hubhooks::ids::DeliveryId::new(format!("chaos-{i:04}")),
            subscription_id: hubhooks::ids::SubscriptionId::new(format!("sub-{}", i % 3)),
            event_type: EventType::NewStatus,
            party: Party::partner(PARTNER),
            case_guid: hubhooks::ids::CaseGuid::new(GUID),
            destination: Destination::Http(HttpDestination {
                method: HttpMethod::Post,
                url: receivers[i % 3].url("/chaos"),
                headers: Default::default(),
                timeout_ms: None,
            }),
            body: format!(r#"{{"n":{i}}}"#),
            body_ref: None,
            max_attempts: 20,
            prior_attempts: 0,
            spent_attempts: 0,
            unreadable: None,
            ordered: false,
            auth: None,
            signature: None,
            test: false,
            source: format!("chaos/{i}"),
            created_at: Timestamp::now(),
        })
        .collect();
    let queue = SqsDeliveryQueue::new(s.sqs.clone(), s.stack.delivery_queue_url.clone());
    let _runner = s
        .run_with(RunnerOptions {
            queue_pollers: 4,
            ..RunnerOptions::default()
        })
        .await
        .unwrap();
    let delivered = |rx: &[TestReceiver]| -> HashMap<String, usize> {
        let mut ok: HashMap<String, usize> = HashMap::new();
        for r in rx.iter().flat_map(|r| r.received()) {
            if r.answered == 200 {
                *ok.entry(r.header("webhook-id").unwrap().to_owned())
                    .or_default() += 1;
            }
        }
        ok
    };
    for (wave, chunk) in deliveries.chunks(100).enumerate() {
        let results = queue.enqueue(chunk).await;
        assert!(results.iter().all(Result::is_ok));
        // Next wave once most of this one is through; its retries overlap.
        let target = wave * 100 + 70;
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while delivered(&receivers).len() < target && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while delivered(&receivers).len() < N && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    tokio::time::sleep(GRACE).await;
    let ok = delivered(&receivers);
    let requests: usize = receivers.iter().map(|r| r.received().len()).sum();
    let failed_answers: usize = receivers
        .iter()
        .flat_map(|r| r.received())
        .filter(|r| r.answered != 200)
        .count();
    let duplicates: usize = ok.values().map(|n| n - 1).sum();
    eprintln!(
        "chaos: {N} deliveries, {requests} requests, {failed_answers} answered 503, {} delivered, {duplicates} duplicate successes",
        ok.len()
    );
    let missing: Vec<String> = (0..N)
        .map(|i| format!("chaos-{i:04}"))
        .filter(|id| !ok.contains_key(id))
        .collect();
    assert!(missing.is_empty(), "never delivered: {missing:?}");
    assert!(
        failed_answers > 200,
        "the receivers did fail: {failed_answers}"
    );
    assert_eq!(s.depth(&s.stack.delivery_dlq_url).await.unwrap(), 0);
}
