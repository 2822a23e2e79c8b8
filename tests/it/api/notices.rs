//! `/v1/notice-destination`: a party sets where its notices go, sees it
//! (secrets as presence only), tests it against a real receiver (signed
//! with the key shown once, its token sent), replaces it under `If-Match`
//! and deletes it; another party never reaches it.
use super::journey::verifies;
use super::*;
use hubhooks_cli::local::runner::LOCAL_EGRESS;
use std::time::Duration;

const PATH: &str = "/v1/notice-destination";

#[tokio::test]
async fn a_party_sets_tests_replaces_and_deletes_its_notice_destination() {
    let api = serve_with(
        QueueSettings::default(),
        AllowList::parse(LOCAL_EGRESS).unwrap(),
    )
    .await;
    let rx = TestReceiver::start(200).await.unwrap();
    rx.set_answer_body("noted");
    let key = api.key(Party::partner(1413), |k| k).await;
    let other = api.key(Party::partner(9999), |k| k).await;

    // GIVEN a party with none
    assert_eq!(api.get(PATH, Some(&key)).await.0, 404);
    assert_eq!(
        api.json("POST", &format!("{PATH}/test"), &key, json!({}))
            .await
            .status,
        404
    );

    // WHEN it sets one with a bearer token
    let made = api
        .json(
            "PUT",
            PATH,
            &key,
            json!({"destination": {"method": "POST", "url": rx.url("/notices")},
                   "description": "ops inbox", "auth": {"bearerToken": "tok-1"}}),
        )
        .await;
    // THEN it is made, its signing key shown this once
    assert_eq!(made.status, 201, "{}", made.body);
    let signing = made.body["signingSecret"].as_str().unwrap().to_owned();
    assert!(signing.starts_with("whsec_"), "{signing}");
    assert_eq!(made.body["id"], "notices_partner_1413");
    assert_eq!(
        made.body["auth"],
        json!({"signing": true, "bearerToken": true, "xToken": false})
    );
    let (status, _, read) = api.get(PATH, Some(&key)).await;
    assert_eq!(status, 200);
    assert!(read.get("signingSecret").is_none());
    assert_eq!(read["description"], "ops inbox");
    assert_eq!(read["destination"]["url"], rx.url("/notices"));
    // AND the stored item names secrets, never holds a value
    let stored = api.stored("notices_partner_1413").await.unwrap();
    assert_eq!(stored["kind"], "noticeDestination");
    assert_eq!(stored["party"], json!({"type": "partner", "id": 1413}));
    assert!(!stored.to_string().contains("tok-1"));
    assert!(!stored.to_string().contains(&signing));

    // WHEN it sends a test
    let tested = api
        .json("POST", &format!("{PATH}/test"), &key, json!({}))
        .await;
    // THEN the receiver got one signed notice.test with the token
    assert_eq!(tested.status, 200, "{}", tested.body);
    assert_eq!(tested.body["delivered"], true);
    assert_eq!(tested.body["status"], 200);
    assert_eq!(tested.body["answer"], "noted");
    let got = rx.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 1);
    let notice = got[0].json();
    assert_eq!(notice["type"], "notice.test");
    assert_eq!(notice["party"], json!({"type": "partner", "id": 1413}));
    assert!(notice.get("subscriptionId").is_none());
    assert_eq!(
        got[0].header("webhook-id"),
        tested.body["noticeId"].as_str()
    );
    assert_eq!(got[0].header("authorization"), Some("Bearer tok-1"));
    assert!(verifies(&signing, &got[0]));

    // WHEN the receiver fails
    rx.set_status(503);
    rx.set_answer_body("down for maintenance");
    let failed = api
        .json("POST", &format!("{PATH}/test"), &key, json!({}))
        .await;
    // THEN the answer says so, once (a test is not retried)
    assert_eq!(failed.status, 200);
    assert_eq!(
        (
            &failed.body["delivered"],
            &failed.body["status"],
            &failed.body["answer"]
        ),
        (&json!(false), &json!(503), &json!("down for maintenance"))
    );
    assert_eq!(rx.received().len(), 2);

    // WHEN another party reaches for it: not found, nothing changed
    assert_eq!(api.get(PATH, Some(&other)).await.0, 404);
    let test_path = format!("{PATH}/test");
    let foreign_test = api.json("POST", &test_path, &other, json!({})).await;
    assert_eq!(foreign_test.status, 404);
    let del = api
        .call(reqwest::Method::DELETE, PATH, Some(&other), None, &[])
        .await;
    assert_eq!(del.status, 404);
    assert_eq!(rx.received().len(), 2);

    // WHEN it replaces it with a stale ETag: refused, nothing written
    let etag = api
        .call(reqwest::Method::GET, PATH, Some(&key), None, &[])
        .await
        .headers["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let body = json!({"destination": {"method": "PUT", "url": rx.url("/n2")}});
    let stale = api
        .call(
            reqwest::Method::PUT,
            PATH,
            Some(&key),
            Some(body.to_string().into_bytes()),
            &[("if-match", "\"stale\"")],
        )
        .await;
    assert_eq!(stale.status, 412, "{}", stale.body);
    // AND with the current one: replaced, keys kept, the token too
    let replaced = api
        .call(
            reqwest::Method::PUT,
            PATH,
            Some(&key),
            Some(body.to_string().into_bytes()),
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!(replaced.status, 200, "{}", replaced.body);
    assert!(replaced.body.get("signingSecret").is_none());
    assert_eq!(replaced.body["destination"]["method"], "PUT");
    assert_eq!(
        replaced.body["auth"],
        json!({"signing": true, "bearerToken": true, "xToken": false})
    );
    assert!(replaced.body.get("description").is_none());

    // WHEN it deletes it
    let deleted = api
        .call(reqwest::Method::DELETE, PATH, Some(&key), None, &[])
        .await;
    assert_eq!(deleted.status, 204);
    // THEN it is gone, with the secrets the API kept for it
    assert_eq!(api.get(PATH, Some(&key)).await.0, 404);
    assert!(api.stored("notices_partner_1413").await.is_none());
    let secrets = hubhooks::adapters::dynamo::DynamoSecrets::new(
        api.stack.ddb.clone(),
        api.stack.stack.secrets_table.clone(),
    );
    use hubhooks::ports::SecretStore;
    for what in ["signing", "bearer"] {
        let name = format!("api/notices_partner_1413/{what}");
        assert_eq!(secrets.secret(&name).await.unwrap(), None, "{name}");
    }
}

#[tokio::test]
async fn a_bad_notice_destination_is_refused_naming_its_field_and_nothing_is_made() {
    let api = serve().await;
    let key = api.key(Party::partner(1413), |k| k).await;
    // (body, pointer, words in the detail)
    let rows: Vec<(Value, &str, &str)> = vec![
        (json!({}), "/destination", "missing field `destination`"),
        (
            json!({"destination": {"method": "POST", "url": "http://169.254.169.254/latest"}}),
            "/destination/url",
            "cloud metadata address",
        ),
        (
            json!({"destination": {"method": "POST", "url": "ftp://x.example/"}}),
            "/destination/url",
            "scheme must be http or https",
        ),
        (
            json!({"destination": {"method": "POST", "url": "https://x.example/", "color": 1}}),
            "/destination/color",
            "unknown field `color`",
        ),
        (
            json!({"destination": {"method": "POST", "url": "https://x.example/"},
                   "party": {"type": "partner", "id": 9999}}),
            "/party",
            "unknown field `party`",
        ),
        (
            json!({"destination": {"method": "POST", "url": "https://x.example/"},
                   "auth": {"bearerToken": ""}}),
            "/auth/bearerToken",
            "must be 1 to 4096 characters",
        ),
    ];
    for (body, pointer, words) in rows {
        let a = api.json("PUT", PATH, &key, body.clone()).await;
        assert_eq!(a.status, 422, "{body}: {}", a.body);
        assert_eq!(a.kind, "application/problem+json", "{body}");
        assert_eq!(a.body["pointer"], json!(pointer), "{body}: {}", a.body);
        let detail = a.body["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(words), "{body}: {detail}");
    }
    // Nothing was made by any of them.
    assert_eq!(api.get(PATH, Some(&key)).await.0, 404);
    assert!(api.stored("notices_partner_1413").await.is_none());
}
