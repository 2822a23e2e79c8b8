//! Issue 13.2: one slow receiver does not hold back the others. On the
//! local stack (two queue pollers, batches of 10, as the runner plays the
//! sender's event source), a receiver that accepts connections and never
//! answers is given 40 webhooks beside a healthy one.
use hubhooks_cli::provision::QueueSettings;
use hubhooks_tests::*;
use serde_json::json;
use std::time::{Duration, Instant};

const PARTNER: i64 = 1413;
const GUID: &str = "c3d9b1e2-6a47-4f0e-8b5d-91e2f7a0c6d3";
const TIMEOUT: Duration = Duration::from_secs(2);
const STATUSES: i64 = 40;

/// Accepts connections and never answers: a receiver that hangs for the
/// whole timeout of every attempt. Counts the connections.
async fn silent_receiver() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hangs", listener.local_addr().unwrap());
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            held.push(socket);
        }
    });
    (url, accepted)
}

#[tokio::test]
async fn a_receiver_that_hangs_delays_another_subscription_by_at_most_one_timeout() {
    // GIVEN `slow`, whose receiver never answers (timeout 2 s), and `fast`
    let (slow_url, connections) = silent_receiver().await;
    let fast = TestReceiver::start(200).await.unwrap();
    let s = Stack::start(QueueSettings::default()).await.unwrap();
    let sub = |id: &str, url: String, timeout_ms: u64| {
        json!({"id": id, "kind": "subscription", "party": {"type": "partner", "id": PARTNER},
               "eventTypes": ["newStatus"],
               "destination": {"method": "POST", "url": url, "timeoutMs": timeout_ms}})
    };
    s.put_config(&[
        sub("slow", slow_url, TIMEOUT.as_millis() as u64),
        sub("fast", fast.url("/fast"), 5000),
    ])
    .await
    .unwrap();
    s.put_case(&json!({"guid": GUID, "id": 5, "partnerId": PARTNER, "serviceProviderId": 1004}))
        .await
        .unwrap();
    let _runner = s.run().await.unwrap();
    // WHEN 40 statuses are written (80 webhooks, half to the hanging receiver)
    let mut written = std::collections::HashMap::new();
    for id in 1..=STATUSES {
        written.insert(id, Instant::now());
        s.put_status(
            &json!({"caseId": 5, "id": id, "guid": GUID, "key": format!("k{id}"),
                             "name": "a status", "createdAt": "2024-05-01T10:00:00.000Z"}),
        )
        .await
        .unwrap();
    }
    // THEN every one of `fast`'s arrives within one receiver timeout (plus
    // 2 s for the stream, the queue and the polls) of being written
    let got = fast
        .wait_for(STATUSES as usize, Duration::from_secs(60))
        .await;
    assert_eq!(got.len(), STATUSES as usize);
    let mut worst = Duration::ZERO;
    for r in &got {
        let id = r.json()["id"].as_i64().unwrap();
        worst = worst.max(r.at.duration_since(written[&id]));
    }
    let bound = TIMEOUT + Duration::from_secs(2);
    assert!(
        worst <= bound,
        "the slowest took {worst:?} (bound {bound:?})"
    );
    // AND the hanging receiver was not hammered: after its first timeouts
    // its deliveries were put back (not attempted, no attempt spent)
    let n = connections.load(std::sync::atomic::Ordering::SeqCst);
    println!("fast's slowest delivery: {worst:?}; connections to the silent receiver: {n}");
    assert!(
        (1..=20).contains(&n),
        "{n} connections for {STATUSES} deliveries"
    );
}
