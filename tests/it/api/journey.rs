//! A party's whole journey over the management API, against a real
//! receiver with the local runner delivering: create a subscription, send
//! a test and read its delivery, rotate the signing key (the receiver
//! verifies either key during the grace period, only the new one after),
//! disable and enable, resend one delivery, replay a window with the
//! counts it asked for.
use super::*;
use std::time::Duration;

const GUID: &str = "7a1f0c44-5e2b-4b8a-9d3e-2c6f1e0a9b17";
const WAIT: Duration = Duration::from_secs(40);

/// Whether `r` verifies with `secret` (the Standard Webhooks library, as a
/// receiver would).
pub(super) fn verifies(secret: &str, r: &Received) -> bool {
    let mut headers = http::HeaderMap::new();
    for (k, v) in &r.headers {
        if let (Ok(k), Ok(v)) = (
            http::header::HeaderName::from_bytes(k.as_bytes()),
            http::HeaderValue::from_str(v),
        ) {
            headers.append(k, v);
        }
    }
    standardwebhooks::Webhook::new(secret)
        .and_then(|w| w.verify(r.body.as_bytes(), &headers))
        .is_ok()
}

#[tokio::test]
async fn a_party_tests_rotates_disables_resends_and_replays_through_the_api() {
    let api = serve_delivering().await;
    let rx = TestReceiver::start(200).await.unwrap();
    rx.set_answer_body(&format!("accepted {}", "x".repeat(2000)));
    let mut runner = Some(api.stack.run().await.unwrap());
    let key = api.key(Party::partner(1413), |k| k).await;

    // GIVEN a subscription the party made, with its signing key shown once
    let created = api
        .json(
            "POST",
            "/v1/subscriptions",
            &key,
            json!({"eventTypes": ["newStatus"],
                   "destination": {"method": "POST", "url": rx.url("/hooks")}}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let first_key = created.body["signingSecret"].as_str().unwrap().to_owned();
    let sub = format!("/v1/subscriptions/{id}");

    // WHEN it sends a test
    let test = api
        .json("POST", &format!("{sub}/test"), &key, json!({}))
        .await;
    // THEN the receiver's answer comes back: status, time, the first KiB
    assert_eq!(test.status, 200, "{}", test.body);
    let attempt = &test.body["attempt"];
    assert_eq!(
        (attempt["outcome"].as_str(), attempt["status"].as_u64()),
        (Some("delivered"), Some(200))
    );
    assert!(attempt["durationMs"].as_u64().is_some());
    let answer = attempt["answer"].as_str().unwrap();
    assert!(answer.starts_with("accepted xxx"), "{answer}");
    assert!(answer.len() <= 1024, "{}", answer.len());
    assert_eq!(test.body["eventType"], "newStatus");
    let got = rx.wait_for(1, WAIT).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].header("webhook-test"), Some("true"));
    assert!(verifies(&first_key, &got[0]));
    // AND the delivery is there with its attempt
    let test_id = test.body["deliveryId"].as_str().unwrap().to_owned();
    assert_eq!(
        test.headers["location"].to_str().unwrap(),
        format!("/v1/deliveries/{test_id}")
    );
    assert_eq!(got[0].header("webhook-id"), Some(test_id.as_str()));
    let (status, _, one) = api
        .get(&format!("/v1/deliveries/{test_id}"), Some(&key))
        .await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(
        (one["test"].as_bool(), one["attempts"].as_u64()),
        (Some(true), Some(1))
    );
    assert_eq!(one["attemptLog"].as_array().unwrap().len(), 1);
    // AND an operator reads the same delivery under /v1/admin
    let (status, _, seen) = api
        .get(&format!("/v1/admin/deliveries/{test_id}"), Some(OPERATOR))
        .await;
    assert_eq!((status, &seen), (200, &one));

    // WHEN it rotates the key with a grace period of 4 seconds
    let rotated = api
        .json(
            "POST",
            &format!("{sub}/secret/rotate"),
            &key,
            json!({"graceSeconds": 4}),
        )
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let new_key = rotated.body["signingSecret"].as_str().unwrap().to_owned();
    let retires = Timestamp::parse(rotated.body["previousKeyRetiresAt"].as_str().unwrap()).unwrap();
    // (A warm sender reads a key again within a minute; a new instance
    // reads it at once: the runner starts again, as Lambda would.)
    drop(runner.take());
    runner = Some(api.stack.run().await.unwrap());
    let test = api
        .json("POST", &format!("{sub}/test"), &key, json!({}))
        .await;
    assert_eq!(test.status, 200, "{}", test.body);
    // THEN during the grace period either key verifies
    let got = rx.wait_for(2, WAIT).await;
    assert!(
        Timestamp::now() < retires,
        "the grace period ended too soon to see it"
    );
    assert!(verifies(&new_key, &got[1]), "the new key signs");
    assert!(verifies(&first_key, &got[1]), "the old key signs beside it");
    // AND after it only the new one (the same warm sender)
    tokio::time::sleep(Duration::from_millis(
        u64::try_from((retires.0 - Timestamp::now().0).num_milliseconds()).unwrap_or(0) + 200,
    ))
    .await;
    let test = api
        .json("POST", &format!("{sub}/test"), &key, json!({}))
        .await;
    assert_eq!(test.status, 200, "{}", test.body);
    let got = rx.wait_for(3, WAIT).await;
    assert!(verifies(&new_key, &got[2]));
    assert!(!verifies(&first_key, &got[2]), "the old key retired");

    // WHEN it disables the subscription, a test is refused and nothing sent
    let disabled = api
        .json(
            "POST",
            &format!("{sub}/disable"),
            &key,
            json!({"reason": "maintenance"}),
        )
        .await;
    assert_eq!(disabled.status, 200, "{}", disabled.body);
    let refused = api
        .json("POST", &format!("{sub}/test"), &key, json!({}))
        .await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap()
            .contains("sends nothing"),
        "{}",
        refused.body
    );
    // AND enabled again, real webhooks flow
    let enabled = api
        .json("POST", &format!("{sub}/enable"), &key, json!({}))
        .await;
    assert_eq!(enabled.status, 200, "{}", enabled.body);
    let since = Timestamp::now();
    api.stack
        .put_case(&json!({"guid": GUID, "id": 91, "partnerId": 1413, "serviceProviderId": 1004}))
        .await
        .unwrap();
    for n in 1..=2 {
        api.stack
            .put_status(&fixtures::status(91, GUID, n, &format!("k{n}")))
            .await
            .unwrap();
        rx.wait_for(3 + n as usize, WAIT).await;
    }
    let got = rx.received();
    assert_eq!(got.len(), 5);
    let real: Vec<String> = got[3..]
        .iter()
        .map(|r| r.header("webhook-id").unwrap().to_owned())
        .collect();
    assert!(got[3..].iter().all(|r| r.header("webhook-test").is_none()));

    // WHEN it resends the first real delivery (once the log holds it)
    let first_real = format!("/v1/deliveries/{}/resend", real[0]);
    let resent = eventually(WAIT, || async {
        let a = api.json("POST", &first_real, &key, json!({})).await;
        (a.status != 404).then_some(a)
    })
    .await
    .expect("the delivery reaches the attempt log");
    assert_eq!(resent.status, 202, "{}", resent.body);
    assert_eq!(resent.body["priorAttempts"], 1);
    // THEN the same id comes again, as attempt 2
    let got = rx.wait_for(6, WAIT).await;
    assert_eq!(got[5].header("webhook-id"), Some(real[0].as_str()));
    assert_eq!(got[5].header("webhook-attempt"), Some("2"));
    assert_eq!(got[5].body, got[3].body, "byte for byte");

    // WHEN it replays the window: a dry run first, then for real
    let replay = format!("{sub}/replay");
    let window = |dry: bool, failed: bool| json!({"since": since.to_contract_string(), "dryRun": dry, "failedOnly": failed});
    let dry = eventually(WAIT, || async {
        let a = api.json("POST", &replay, &key, window(true, false)).await;
        (a.body["selected"] == 2).then_some(a)
    })
    .await
    .expect("both real deliveries are in the log");
    assert_eq!(dry.status, 200);
    assert_eq!(
        (
            &dry.body["replayed"],
            &dry.body["withoutEnvelope"],
            &dry.body["dryRun"]
        ),
        (&json!(0), &json!(0), &json!(true))
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(rx.received().len(), 6, "a dry run sends nothing");
    let failed = api.json("POST", &replay, &key, window(true, true)).await;
    assert_eq!(
        failed.body["selected"], 0,
        "nothing failed: {}",
        failed.body
    );
    let done = api.json("POST", &replay, &key, window(false, false)).await;
    assert_eq!(done.status, 202, "{}", done.body);
    assert_eq!(
        (&done.body["selected"], &done.body["replayed"]),
        (&json!(2), &json!(2))
    );
    // THEN both come again with their ids; test sends are never replayed
    let got = rx.wait_for(8, WAIT).await;
    let mut again: Vec<&str> = got[6..]
        .iter()
        .map(|r| r.header("webhook-id").unwrap())
        .collect();
    again.sort();
    let mut want: Vec<&str> = real.iter().map(String::as_str).collect();
    want.sort();
    assert_eq!(again, want);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(rx.received().len(), 8);
    drop(runner);
}
