//! Our own outages are not the receiver's attempts, end to end (moto with
//! injected faults, real receivers): a delivery whose secret, config or
//! stored body cannot be read right now is put back with a backoff of ours,
//! spends none of the receiver's `maxAttempts`, and arrives as attempt 1
//! once the store answers again. Only past the unreadable limit is it
//! dead-lettered, saying it never reached the receiver.
use hubhooks_cli::local::provision::QueueSettings;
use hubhooks_cli::local::runner::RunnerOptions;
use hubhooks_tests::*;
use serde_json::{Value, json};
use std::time::Duration;

use hubhooks_tests::fixtures::PARTNER;
const GUID: &str = "68ea1505-a44f-4434-be5a-dcc959be250e";
const WAIT: Duration = Duration::from_secs(90);
/// Standard Webhooks' specification test key.
const SIGNING_KEY: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn case() -> Value {
    fixtures::case_with(GUID, 1290485, json!({"orderData": {"refNo": "10-1862"}}))
}

fn status(id: i64) -> Value {
    fixtures::status(1290485, GUID, id, &format!("k{id}"))
}

/// A stack whose subscription `signed` (three attempts at most) signs with
/// the secret `acme-signing`, stored, and a case to write statuses of. The
/// queues hide a received message for 30 s, longer than the SDK's own
/// retries of a failing read take (as Lambda's 540 s are).
async fn signed_stack(rx: &TestReceiver) -> Stack {
    let s = Stack::start(QueueSettings::default()).await.unwrap();
    s.put_secret("acme-signing", &[SIGNING_KEY]).await.unwrap();
    s.put_config(&[json!({
        "id": "signed", "kind": "subscription", "party": {"type": "partner", "id": PARTNER},
        "eventTypes": ["newStatus"], "maxAttempts": 3,
        "destination": {"method": "POST", "url": rx.url("/signed")},
        "auth": {"signingSecret": "acme-signing"}
    })])
    .await
    .unwrap();
    s.put_case(&case()).await.unwrap();
    s
}

/// Every webhook arrived once, as attempt 1, and nothing was dead-lettered.
async fn all_first_attempts(s: &Stack, rx: &TestReceiver, n: usize) {
    let got = rx.wait_for(n, WAIT).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let got = if got.len() >= n { rx.received() } else { got };
    let parked = s.drain(&s.stack.delivery_dlq_url).await.unwrap();
    assert!(parked.is_empty(), "nothing dead-lettered: {parked:#?}");
    let attempts: Vec<&str> = got
        .iter()
        .map(|r| r.header("webhook-attempt").unwrap_or("-"))
        .collect();
    assert_eq!(attempts, vec!["1"; n], "every webhook as attempt 1");
    let mut ids: Vec<&str> = got.iter().filter_map(|r| r.header("webhook-id")).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n, "{n} distinct webhooks");
}

#[tokio::test]
async fn a_secrets_table_outage_spends_none_of_the_receivers_attempts() {
    let rx = TestReceiver::start(200).await.unwrap();
    let s = signed_stack(&rx).await;
    s.moto
        .fail("GetItem", &s.stack.secrets_table, Duration::from_secs(15))
        .unwrap();
    let _runner = s.run().await.unwrap();
    for id in 1..=10 {
        s.put_status(&status(id)).await.unwrap();
    }
    all_first_attempts(&s, &rx, 10).await;
}

#[tokio::test]
async fn a_secret_deleted_and_written_again_delivers_as_attempt_one() {
    let rx = TestReceiver::start(200).await.unwrap();
    let s = signed_stack(&rx).await;
    s.ddb
        .delete_item()
        .table_name(&s.stack.secrets_table)
        .key(
            "id",
            aws_sdk_dynamodb::types::AttributeValue::S("acme-signing".into()),
        )
        .send()
        .await
        .unwrap();
    let _runner = s.run().await.unwrap();
    for id in 1..=10 {
        s.put_status(&status(id)).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(3100)).await;
    for id in 11..=20 {
        s.put_status(&status(id)).await.unwrap();
    }
    s.put_secret("acme-signing", &[SIGNING_KEY]).await.unwrap();
    all_first_attempts(&s, &rx, 20).await;
}

#[tokio::test]
async fn a_secret_missing_past_the_unreadable_limit_is_dead_lettered_unsent() {
    let rx = TestReceiver::start(200).await.unwrap();
    let s = Stack::start(QueueSettings {
        visibility_timeout_secs: 1,
        ..QueueSettings::default()
    })
    .await
    .unwrap();
    s.put_config(&[json!({
        "id": "sub", "kind": "subscription", "party": {"type": "partner", "id": PARTNER},
        "eventTypes": ["newStatus"], "destination": {"method": "POST", "url": rx.url("/x")},
        "auth": {"bearerSecret": "nobody-wrote-this"}
    })])
    .await
    .unwrap();
    s.put_case(&case()).await.unwrap();
    let _runner = s
        .run_with(RunnerOptions {
            unreadable_limit: Duration::from_secs(3),
            ..RunnerOptions::default()
        })
        .await
        .unwrap();
    s.put_status(&status(1)).await.unwrap();
    let parked = s.dead_letters(WAIT).await.unwrap();
    assert_eq!(parked.len(), 1);
    let why = reason(&parked[0]);
    assert!(
        why.starts_with(
            "never reached the receiver: secret `nobody-wrote-this` named by auth.bearerSecret \
             does not exist or is empty; unreadable since "
        ) && why.ends_with(", over the limit of 3 seconds"),
        "{why}"
    );
    assert!(rx.received().is_empty());
    let letter: Value = serde_json::from_str(&parked[0].0).unwrap();
    assert_eq!(letter.get("priorAttempts"), None, "no attempt was made");
}
