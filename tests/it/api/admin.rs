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
    // Every admin operation the document lists, on another party's ids.
    let doc = hubhooks::api::openapi::document();
    let mut routes = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/v1/admin/") {
            continue;
        }
        let id = if path.contains("/keys/") {
            "0000000000000000"
        } else {
            "b-1"
        };
        for method in item.as_object().unwrap().keys() {
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            routes.push((m, path.replace("{id}", id)));
        }
    }
    let mut cases = 0;
    for (method, route) in &routes {
        let route = route.as_str();
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
    assert_eq!(cases, 96);
    assert_eq!(api.stored("b-1").await, before);
    let queue = api.stack.stack.delivery_queue_url.clone();
    assert_eq!(api.stack.depth(&queue).await.unwrap(), 0);
    let (_, _, keys) = api.get("/v1/admin/keys", Some(OPERATOR)).await;
    assert_eq!(
        keys["data"].as_array().unwrap().len(),
        1,
        "only the party's own: {keys}"
    );
}

/// An operator writes any party's subscriptions with the party routes'
/// handlers under `/v1/admin`: create for a party it names, change,
/// delete; a party cannot name another.
#[tokio::test]
async fn an_operator_creates_changes_and_deletes_any_partys_subscription() {
    let api = serve().await;
    let theirs = api.key(Party::partner(9999), |k| k).await;
    let mine = api.key(Party::partner(1413), |k| k).await;
    let body = json!({"eventTypes": ["newStatus"],
                      "destination": {"method": "POST", "url": "https://x.example/ops"}});

    // WHEN an operator creates one for partner 9999
    let made = api
        .json(
            "POST",
            "/v1/admin/subscriptions?party=partner:9999",
            OPERATOR,
            body.clone(),
        )
        .await;
    // THEN it is 9999's, its key shown once, at an admin location
    assert_eq!(made.status, 201, "{}", made.body);
    let id = made.body["id"].as_str().unwrap().to_owned();
    assert_eq!(made.body["party"], json!({"type": "partner", "id": 9999}));
    assert!(
        made.body["signingSecret"]
            .as_str()
            .unwrap()
            .starts_with("whsec_")
    );
    assert_eq!(
        made.headers["location"].to_str().unwrap(),
        format!("/v1/admin/subscriptions/{id}")
    );
    let (_, _, listed) = api.get("/v1/subscriptions", Some(&theirs)).await;
    assert_eq!(ids(&listed), ["b-1".to_owned(), id.clone()]);
    assert_eq!(
        api.get(&format!("/v1/subscriptions/{id}"), Some(&mine))
            .await
            .0,
        404
    );

    // WHEN it names no party, or a party names one
    let none = api
        .json("POST", "/v1/admin/subscriptions", OPERATOR, body.clone())
        .await;
    let named = api
        .json(
            "POST",
            "/v1/subscriptions?party=partner:9999",
            &mine,
            body.clone(),
        )
        .await;
    // THEN both are refused, naming `party`
    for a in [&none, &named] {
        assert_eq!(
            (a.status, &a.body["pointer"]),
            (422, &json!("/party")),
            "{}",
            a.body
        );
    }

    // WHEN it patches another party's and deletes the one it made
    let patched = api
        .json(
            "PATCH",
            "/v1/admin/subscriptions/a-1",
            OPERATOR,
            json!({"description": "set by ops"}),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(
        api.stored("a-1").await.unwrap()["description"],
        "set by ops"
    );
    assert_eq!(
        api.stored("a-1").await.unwrap()["party"],
        json!({"type": "partner", "id": 1413})
    );
    let gone = api
        .call(
            reqwest::Method::DELETE,
            &format!("/v1/admin/subscriptions/{id}"),
            Some(OPERATOR),
            None,
            &[],
        )
        .await;
    assert_eq!(gone.status, 204);
    assert!(api.stored(&id).await.is_none());

    // AND it searches every party's deliveries (none here)
    let (status, _, found) = api.get("/v1/admin/deliveries", Some(OPERATOR)).await;
    assert_eq!((status, &found["data"]), (200, &json!([])));
}
