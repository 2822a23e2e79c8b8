//! `hubhooks replay` sends again, from the attempt log, what a
//! subscription was sent (or what failed) in a time window, on the local
//! stack: the runner delivers to a real receiver, the log is read back
//! from moto, the replayed deliveries go through the delivery queue.
use hubhooks::adapters::attempt_log::DynamoAttemptSearch;
use hubhooks::adapters::config_writer::ConfigWriter;
use hubhooks::adapters::sqs::SqsDeliveryQueue;
use hubhooks::operations::Scope;
use hubhooks::operations::deliveries::{Window, plan_window, send_plan};
use hubhooks::replay::Which;
use hubhooks::timestamp::Timestamp;
use hubhooks_cli::local::provision::QueueSettings;
use hubhooks_tests::*;
use serde_json::json;
use std::time::Duration;

const PARTNER: i64 = 1413;
const GUID: &str = "7a1f0c44-5e2b-4b8a-9d3e-2c6f1e0a9b17";
const WAIT: Duration = Duration::from_secs(40);

fn status(id: i64) -> serde_json::Value {
    fixtures::status(91, GUID, id, &format!("k{id}"))
}

#[tokio::test]
async fn a_time_window_is_replayed_from_the_attempt_log_with_the_same_ids() {
    // GIVEN `acme`'s receiver took two webhooks, then failed a third until
    // it was dead-lettered (2 attempts), and `other` got its own
    let rx = TestReceiver::start(200).await.unwrap();
    let other = TestReceiver::start(200).await.unwrap();
    let s = Stack::start(QueueSettings {
        visibility_timeout_secs: 1,
        ..QueueSettings::default()
    })
    .await
    .unwrap();
    let sub = |id: &str, url: String| {
        json!({"id": id, "kind": "subscription", "party": {"type": "partner", "id": PARTNER},
               "eventTypes": ["newStatus"], "maxAttempts": 2,
               "destination": {"method": "POST", "url": url}})
    };
    s.put_config(&[sub("acme", rx.url("/h")), sub("other", other.url("/h"))])
        .await
        .unwrap();
    s.put_case(&json!({"guid": GUID, "id": 91, "partnerId": PARTNER, "serviceProviderId": 1004}))
        .await
        .unwrap();
    let _runner = s.run().await.unwrap();
    let since = Timestamp::now();
    s.put_status(&status(1)).await.unwrap();
    rx.wait_for(1, WAIT).await;
    s.put_status(&status(2)).await.unwrap();
    rx.wait_for(2, WAIT).await;
    rx.set_status(500);
    s.put_status(&status(3)).await.unwrap();
    assert_eq!(s.dead_letters(WAIT).await.unwrap().len(), 1);
    rx.set_status(200);
    let first = rx.received();
    assert_eq!(
        first.iter().map(|r| r.answered).collect::<Vec<_>>(),
        [200, 200, 500, 500]
    );
    let search = DynamoAttemptSearch::new(s.ddb.clone(), s.stack.attempt_log_table.clone());
    let store = ConfigWriter::new(s.ddb.clone(), s.stack.tables.config.clone());
    let queue = SqsDeliveryQueue::new(s.sqs.clone(), s.stack.delivery_queue_url.clone());
    let window = |which| Window {
        subscription: "acme".into(),
        since,
        until: Timestamp::now(),
        which,
    };
    let plan = |which| {
        let (search, store) = (&search, &store);
        async move { plan_window(search, store, Scope::Operator, &window(which)).await }
    };
    // The whole window's plan once the log holds `n` attempts: the last
    // attempts reach the log when their batch ends.
    let all_with_attempts = |n: u32| async move {
        eventually(WAIT, || async {
            let p = plan(Which::All).await.ok()?;
            let attempts: u32 = p.deliveries.iter().map(|d| d.prior_attempts).sum();
            (attempts == n).then_some(p)
        })
        .await
    };
    let all = all_with_attempts(4)
        .await
        .expect("the window holds acme's three deliveries, four attempts");
    // A dry run (the plan) sends nothing.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(rx.received().len(), 4);
    let id = |r: &Received| r.header("webhook-id").unwrap().to_owned();
    let originals: Vec<String> = {
        let mut v: Vec<String> = first.iter().map(id).collect();
        v.dedup();
        v
    };
    assert_eq!(
        all.deliveries
            .iter()
            .map(|d| d.id.to_string())
            .collect::<Vec<_>>(),
        originals,
        "in the order first attempted"
    );
    assert!(all.without_envelope.is_empty());

    // WHEN only what failed in the window is replayed
    let failed = plan(Which::FailedOnly).await.unwrap();
    assert_eq!(
        failed
            .deliveries
            .iter()
            .map(|d| d.id.to_string())
            .collect::<Vec<_>>(),
        [originals[2].clone()]
    );
    assert_eq!(
        send_plan(&queue, &failed, Some(50), |_| {}).await.unwrap(),
        1
    );
    // THEN the third webhook comes again, as attempt 3, and is taken
    let got = rx.wait_for(5, WAIT).await;
    assert_eq!(id(&got[4]), originals[2]);
    assert_eq!(got[4].header("webhook-attempt"), Some("3"));
    assert_eq!(got[4].answered, 200);
    assert_eq!(got[4].body, first[2].body, "byte for byte");

    // WHEN the whole window is replayed (e.g. the receiver lost its data)
    let all = all_with_attempts(5)
        .await
        .expect("the replayed attempt is in the log");
    let mut progress = Vec::new();
    let sent = send_plan(&queue, &all, Some(50), |n| progress.push(n))
        .await
        .unwrap();
    assert_eq!(sent, 3);
    assert_eq!(progress, [3], "one call of ten");
    // THEN the receiver gets all three again: same ids, same bodies,
    // attempts counting on
    let got = rx.wait_for(8, WAIT).await;
    let mut again: Vec<(String, String)> = got[5..]
        .iter()
        .map(|r| (id(r), r.header("webhook-attempt").unwrap().to_owned()))
        .collect();
    again.sort();
    let mut expected = vec![
        (originals[0].clone(), "2".to_owned()),
        (originals[1].clone(), "2".to_owned()),
        (originals[2].clone(), "4".to_owned()),
    ];
    expected.sort();
    assert_eq!(again, expected);
    for r in &got[5..] {
        let original = first.iter().find(|f| id(f) == id(r)).unwrap();
        assert_eq!(r.body, original.body, "byte for byte");
    }
    // AND nothing else: `other` was never part of it
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(rx.received().len(), 8);
    assert_eq!(other.received().len(), 3);
}
