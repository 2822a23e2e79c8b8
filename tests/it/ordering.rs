//! Per-case ordering (`ordering: "perCase"`), end to end on the
//! local stack: the router sends the subscription's webhooks to the
//! ordered (FIFO) queue on moto, grouped by subscription and case; the
//! sender delivers a case's in order, a failing one holding back the later
//! ones of its case only, and a dead-lettered one letting them go on.
use hubhooks_cli::local::provision::QueueSettings;
use hubhooks_tests::*;
use serde_json::json;
use std::time::Duration;

const PARTNER: i64 = 1413;
const CASE_A: &str = "a0000000-0000-4000-8000-00000000000a";
const CASE_B: &str = "b0000000-0000-4000-8000-00000000000b";
const WAIT: Duration = Duration::from_secs(60);

fn status(guid: &str, case_id: i64, id: i64) -> serde_json::Value {
    fixtures::status(case_id, guid, id, &format!("k{id}"))
}

#[tokio::test]
async fn a_cases_webhooks_arrive_in_order_across_failures_and_a_dead_letter() {
    // GIVEN an ordered subscription (3 attempts) whose receiver fails
    // case A's second webhook twice and its fourth every time
    let rx = TestReceiver::start(200).await.unwrap();
    rx.fail_matching("\"id\":2002,", 500, 2);
    rx.fail_matching("\"id\":2004,", 503, 99);
    let s = Stack::start(QueueSettings::default()).await.unwrap();
    s.put_config(&[json!({"id": "ordered", "kind": "subscription",
        "party": {"type": "partner", "id": PARTNER}, "eventTypes": ["newStatus"],
        "ordering": "perCase", "maxAttempts": 3,
        "destination": {"method": "POST", "url": rx.url("/ordered")}})])
        .await
        .unwrap();
    for (guid, id) in [(CASE_A, 1), (CASE_B, 2)] {
        s.put_case(
            &json!({"guid": guid, "id": id, "partnerId": PARTNER, "serviceProviderId": 1004}),
        )
        .await
        .unwrap();
    }
    let _runner = s.run().await.unwrap();
    // WHEN case A gets six statuses, then case B three
    for id in 2001..=2006 {
        s.put_status(&status(CASE_A, 1, id)).await.unwrap();
    }
    for id in 3001..=3003 {
        s.put_status(&status(CASE_B, 2, id)).await.unwrap();
    }
    // THEN case A's arrive in order, each only after the one before was
    // taken or dead-lettered: 2002 on its third attempt, 2004 three times
    // then dead-lettered, 2005 and 2006 after it
    let got = rx.wait_for(13, WAIT).await;
    let of = |guid: &str| -> Vec<(i64, String, u16)> {
        got.iter()
            .filter(|r| r.body.contains(guid))
            .map(|r| {
                (
                    r.json()["id"].as_i64().unwrap(),
                    r.header("webhook-attempt").unwrap().to_owned(),
                    r.answered,
                )
            })
            .collect()
    };
    let a = |id: i64, attempt: &str, status: u16| (id, attempt.to_owned(), status);
    assert_eq!(
        of(CASE_A),
        [
            a(2001, "1", 200),
            a(2002, "1", 500),
            a(2002, "2", 500),
            a(2002, "3", 200),
            a(2003, "1", 200),
            a(2004, "1", 503),
            a(2004, "2", 503),
            a(2004, "3", 503),
            a(2005, "1", 200),
            a(2006, "1", 200),
        ]
    );
    // AND case B's, in order, first attempts, not held behind case A's
    assert_eq!(
        of(CASE_B),
        [a(3001, "1", 200), a(3002, "1", 200), a(3003, "1", 200)]
    );
    let arrival = |guid: &str, id: i64| {
        got.iter()
            .position(|r| r.body.contains(guid) && r.json()["id"] == id)
            .unwrap()
    };
    assert!(
        arrival(CASE_B, 3003) < arrival(CASE_A, 2005),
        "case B waited for case A"
    );
    // AND the DLQ holds 2004, saying its case went on without it
    let letters = s.dead_letters(WAIT).await.unwrap();
    assert_eq!(letters.len(), 1);
    let reason = reason(&letters[0]);
    assert_eq!(
        reason,
        format!(
            "gave up after 3 of 3 attempts; last error: receiver answered 503: ; the later webhooks of case {CASE_A} to this subscription go on without it"
        )
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(rx.received().len(), 13);
}
