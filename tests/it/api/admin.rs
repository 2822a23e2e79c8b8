//! `/v1/admin/…`: an operator (the local token here; IAM in AWS, see
//! `lambda`) makes, lists and revokes party keys and reaches every party's
//! subscriptions; a party key reaches none of it.
use super::*;

#[tokio::test]
async fn an_operator_makes_lists_and_revokes_party_keys_and_reaches_every_party() {
    let api = serve().await;
    // A key made over the API works on the party's routes at once.
    let made = api
        .json(
            "POST",
            "/v1/admin/keys",
            OPERATOR,
            json!({"party": {"type": "partner", "id": 1413}}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let key = made.body["key"].as_str().unwrap().to_owned();
    let id = made.body["id"].as_str().unwrap().to_owned();
    assert_eq!(made.body["state"], "active");
    assert_eq!(
        made.headers["location"].to_str().unwrap(),
        format!("/v1/admin/keys/{id}")
    );
    let (status, _, mine) = api.get("/v1/subscriptions", Some(&key)).await;
    assert_eq!(
        (status, ids(&mine)),
        (200, vec!["a-1".into(), "a-2".into()])
    );
    // Listed without the key or its hash; filtered by party.
    let (status, _, listed) = api
        .get("/v1/admin/keys?party=partner:1413", Some(OPERATOR))
        .await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(ids(&listed), std::slice::from_ref(&id));
    assert!(listed["data"][0].get("hash").is_none(), "{listed}");
    assert!(!listed.to_string().contains(&key));
    // Revoked: refused from then on; revoking again is a conflict.
    let revoke = format!("/v1/admin/keys/{id}/revoke");
    let revoked = api.json("POST", &revoke, OPERATOR, json!({})).await;
    assert_eq!(revoked.status, 204);
    assert_eq!(api.get("/v1/subscriptions", Some(&key)).await.0, 401);
    assert_eq!(
        api.json("POST", &revoke, OPERATOR, json!({})).await.status,
        409
    );
    let missing = api
        .json(
            "POST",
            "/v1/admin/keys/0000000000000000/revoke",
            OPERATOR,
            json!({}),
        )
        .await;
    assert_eq!(missing.status, 404);

    // Every party's subscriptions, or one party's.
    let (_, _, all) = api.get("/v1/admin/subscriptions", Some(OPERATOR)).await;
    assert_eq!(ids(&all), ["a-1", "a-2", "b-1"]);
    let (_, _, theirs) = api
        .get("/v1/admin/subscriptions?party=partner:9999", Some(OPERATOR))
        .await;
    assert_eq!(ids(&theirs), ["b-1"]);
    let disabled = api
        .json(
            "POST",
            "/v1/admin/subscriptions/b-1/disable",
            OPERATOR,
            json!({"reason": "their receiver is down"}),
        )
        .await;
    assert_eq!(disabled.status, 200, "{}", disabled.body);
    assert_eq!(
        (&disabled.body["enabled"], &disabled.body["disabledReason"]),
        (&json!(false), &json!("their receiver is down"))
    );
    let (_, _, one) = api.get("/v1/admin/subscriptions/b-1", Some(OPERATOR)).await;
    assert_eq!(one["enabled"], false);
    let enabled = api
        .json(
            "POST",
            "/v1/admin/subscriptions/b-1/enable",
            OPERATOR,
            json!({}),
        )
        .await;
    assert_eq!(
        (enabled.status, &enabled.body["enabled"]),
        (200, &json!(true))
    );
    let bad = api
        .get("/v1/admin/subscriptions?party=partner:x", Some(OPERATOR))
        .await;
    assert_eq!((bad.0, bad.2["pointer"].as_str()), (422, Some("/party")));
}

/// A party key, no credentials or a wrong token: 401 on every admin route,
/// and nothing changes.
#[tokio::test]
async fn a_party_key_or_no_operator_credentials_reach_no_admin_route() {
    let api = serve().await;
    let party = api.key(Party::partner(1413), |k| k).await;
    let before = api.stored("b-1").await;
    let body = || Some(br#"{"reason": "x", "party": {"type": "partner", "id": 1}}"#.to_vec());
    let routes: [(reqwest::Method, &str); 7] = [
        (reqwest::Method::GET, "/v1/admin/keys"),
        (reqwest::Method::POST, "/v1/admin/keys"),
        (
            reqwest::Method::POST,
            "/v1/admin/keys/0000000000000000/revoke",
        ),
        (reqwest::Method::GET, "/v1/admin/subscriptions"),
        (reqwest::Method::GET, "/v1/admin/subscriptions/b-1"),
        (reqwest::Method::POST, "/v1/admin/subscriptions/b-1/enable"),
        (reqwest::Method::POST, "/v1/admin/subscriptions/b-1/disable"),
    ];
    let mut cases = 0;
    for (method, route) in routes {
        for who in [
            Some(party.as_str()),
            None,
            Some("hho_wrong"),
            Some(OPERATOR.trim_end_matches('n')),
        ] {
            let a = api.call(method.clone(), route, who, body(), &[]).await;
            assert_eq!(a.status, 401, "{method} {route} as {who:?}: {}", a.body);
            assert!(
                a.body["detail"]
                    .as_str()
                    .unwrap()
                    .contains("operator credentials")
            );
            cases += 1;
        }
    }
    assert_eq!(cases, 28);
    assert_eq!(api.stored("b-1").await, before);
    let (_, _, keys) = api.get("/v1/admin/keys", Some(OPERATOR)).await;
    assert_eq!(
        keys["data"].as_array().unwrap().len(),
        1,
        "only the party's own: {keys}"
    );
}
