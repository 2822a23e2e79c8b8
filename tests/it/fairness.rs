//! One slow receiver does not hold back the others. On the
//! local stack (two queue pollers, batches of 10, as the runner plays the
//! sender's event source), a receiver that accepts connections and never
//! answers is given 40 webhooks beside a healthy one.
use hubhooks_cli::local::provision::QueueSettings;
use hubhooks_cli::local::runner::RunnerOptions;
use hubhooks_tests::*;
use serde_json::json;
use std::time::{Duration, Instant};

use hubhooks_tests::fixtures::PARTNER;
const GUID: &str = "c3d9b1e2-6a47-4f0e-8b5d-91e2f7a0c6d3";
const TIMEOUT: Duration = Duration::from_secs(2);
const STATUSES: i64 = 40;

/// The one case every status belongs to.
fn case() -> serde_json::Value {
    fixtures::case(GUID, 5)
}

fn status(id: i64) -> serde_json::Value {
    fixtures::status(5, GUID, id, &format!("k{id}"))
}

/// Writes statuses `ids` and returns the worst time from a status's write
/// to its arrival at `fast`, once `fast` has `expect` in all.
async fn worst_latency(
    s: &Stack,
    fast: &TestReceiver,
    ids: std::ops::RangeInclusive<i64>,
    expect: usize,
) -> Duration {
    let mut written = std::collections::HashMap::new();
    for id in ids.clone() {
        written.insert(id, Instant::now());
        s.put_status(&status(id)).await.unwrap();
    }
    let got = fast.wait_for(expect, Duration::from_secs(90)).await;
    assert_eq!(got.len(), expect);
    got.iter()
        .filter_map(|r| {
            let id = r.json()["id"].as_i64().unwrap();
            written.get(&id).map(|w| r.at.duration_since(*w))
        })
        .max()
        .unwrap()
}

#[tokio::test]
async fn a_receiver_that_hangs_delays_another_subscription_by_at_most_one_timeout() {
    // GIVEN `fast`, a healthy receiver, alone: its worst latency for 40
    // webhooks written at once is the control
    let (slow_url, connections) = silent_receiver().await;
    let fast = TestReceiver::start(200).await.unwrap();
    let s = Stack::start(QueueSettings::default()).await.unwrap();
    let sub = |id: &str, url: String, timeout_ms: u64| {
        json!({"id": id, "kind": "subscription", "party": {"type": "partner", "id": PARTNER},
               "eventTypes": ["newStatus"],
               "destination": {"method": "POST", "url": url, "timeoutMs": timeout_ms}})
    };
    s.put_config(&[sub("fast", fast.url("/fast"), 5000)])
        .await
        .unwrap();
    s.put_case(&case()).await.unwrap();
    // Fairness is the sender's; the local runner's idle backoff (its
    // stream reads slow to one a second) would only add noise to both
    // measurements.
    let options = RunnerOptions {
        idle_poll_max: RunnerOptions::default().idle_poll,
        ..RunnerOptions::default()
    };
    let _runner = s.run_with(options).await.unwrap();
    let control = worst_latency(&s, &fast, 1..=STATUSES, STATUSES as usize).await;
    // WHEN `slow` subscribes too, with a receiver that never answers
    // (timeout 2 s), and 40 more statuses are written (80 webhooks)
    s.put_config(&[sub("slow", slow_url, TIMEOUT.as_millis() as u64)])
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await; // the runner's config TTL
    let worst = worst_latency(
        &s,
        &fast,
        STATUSES + 1..=2 * STATUSES,
        2 * STATUSES as usize,
    )
    .await;
    // THEN the hanging receiver adds at most one timeout to `fast`'s worst
    // latency, plus the time the local stack takes to drain what queued
    // during it (up to 3 s here: 80 messages, two pollers, moto)
    let n = connections.load(std::sync::atomic::Ordering::SeqCst);
    println!(
        "fast's worst latency: {control:?} alone, {worst:?} beside the hanging receiver; {n} connections to it"
    );
    let bound = control + TIMEOUT + Duration::from_secs(3);
    assert!(
        worst <= bound,
        "the slowest took {worst:?} (bound {bound:?})"
    );
    // AND the hanging receiver was not hammered: after its first timeouts
    // its deliveries were put back (not attempted, no attempt spent)
    assert!(
        (1..=20).contains(&n),
        "{n} connections for {STATUSES} deliveries"
    );
}

#[tokio::test]
async fn max_per_second_spreads_deliveries_out_without_spending_attempts() {
    // GIVEN a subscription allowed 2 deliveries a second
    let rx = TestReceiver::start(200).await.unwrap();
    let s = Stack::start(QueueSettings::default()).await.unwrap();
    s.put_config(&[json!({"id": "paced", "kind": "subscription",
        "party": {"type": "partner", "id": PARTNER}, "eventTypes": ["newStatus"],
        "maxPerSecond": 2, "destination": {"method": "POST", "url": rx.url("/paced")}})])
        .await
        .unwrap();
    s.put_case(&case()).await.unwrap();
    let _runner = s.run().await.unwrap();
    // WHEN 10 statuses are written at once
    for id in 1..=10 {
        s.put_status(&status(id)).await.unwrap();
    }
    // THEN all 10 arrive, each once and as its first attempt (the excess
    // was deferred, not failed), over at least five counting seconds: the
    // counters are per clock second, so the first may come at the end of
    // one and the last at the start of the fourth after it (about 3 s;
    // unlimited, all 10 arrived within 32 ms)
    let got = rx.wait_for(10, Duration::from_secs(60)).await;
    let mut ids: Vec<i64> = got
        .iter()
        .map(|r| r.json()["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, (1..=10).collect::<Vec<_>>());
    assert!(got.iter().all(|r| r.header("webhook-attempt") == Some("1")));
    let spread = got[9].at.duration_since(got[0].at);
    println!("10 deliveries at maxPerSecond 2 took {spread:?}");
    assert!(spread > Duration::from_millis(2800), "{spread:?}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(rx.received().len(), 10);
    assert_eq!(s.depth(&s.stack.delivery_dlq_url).await.unwrap(), 0);
}
