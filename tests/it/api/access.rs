//! Who may call: party keys, 401 alike for every refusal, the catalogue.
use super::*;

#[tokio::test]
async fn a_party_sees_its_own_subscriptions_and_another_partys_id_is_not_found() {
    let api = serve().await;
    let a = api.key(Party::partner(1413), |k| k).await;
    let (status, _, body) = api.get("/v1/subscriptions", Some(&a)).await;
    assert_eq!(status, 200);
    assert_eq!(ids(&body), ["a-1", "a-2"]);
    let (status, _, body) = api.get("/v1/subscriptions/a-2", Some(&a)).await;
    assert_eq!((status, body["id"].as_str()), (200, Some("a-2")));
    // Another party's id answers exactly as a missing one.
    let foreign = api.get("/v1/subscriptions/b-1", Some(&a)).await;
    let missing = api.get("/v1/subscriptions/nope", Some(&a)).await;
    assert_eq!(foreign, missing);
    assert_eq!(foreign.0, 404);
    assert_eq!(foreign.1, "application/problem+json");
    assert_eq!(
        foreign.2,
        json!({"title": "Not Found", "status": 404, "detail": "no subscription with this id"})
    );
    // The key's use is noted.
    let id = party_key::id_of(&a).unwrap();
    assert!(
        api.keys
            .get(id)
            .await
            .unwrap()
            .unwrap()
            .last_used_at
            .is_some()
    );
}

#[tokio::test]
async fn no_key_a_malformed_revoked_expired_or_unknown_one_is_401_alike() {
    let api = serve().await;
    let past = Timestamp::parse("2026-01-01T00:00:00.000Z").unwrap();
    let revoked = api
        .key(Party::partner(1413), |k| PartyKey {
            revoked_at: Some(past),
            ..k
        })
        .await;
    let expired = api
        .key(Party::partner(1413), |k| PartyKey {
            expires_at: Some(past),
            ..k
        })
        .await;
    let (unknown, _) = party_key::create(Party::partner(1413), None, Timestamp::now()).unwrap();
    let good = api.key(Party::partner(1413), |k| k).await;
    let mut forged = good.clone();
    forged.replace_range(good.len() - 2.., "xx");
    let refused = [
        None,
        Some("hhk_nonsense"),
        Some(revoked.as_str()),
        Some(expired.as_str()),
        Some(unknown.expose()),
        Some(forged.as_str()),
    ];
    let mut answers = Vec::new();
    for key in refused {
        let answer = api.get("/v1/subscriptions", key).await;
        assert_eq!(answer.0, 401, "{key:?}");
        assert_eq!(answer.1, "application/problem+json");
        answers.push(answer.2);
    }
    answers.dedup();
    assert_eq!(answers.len(), 1, "every refusal reads alike: {answers:?}");
    // No presented key comes back.
    for key in refused.iter().flatten() {
        assert!(!answers[0].to_string().contains(key), "{key}");
    }
    assert_eq!(api.get("/v1/subscriptions", Some(&good)).await.0, 200);
}

#[tokio::test]
async fn the_catalogue_of_event_types_is_served_from_the_payload_types() {
    let api = serve().await;
    let key = api.key(Party::provider(1004), |k| k).await;
    let (status, _, body) = api.get("/v1/event-types", Some(&key)).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"].as_array().unwrap().len(), 8);
    let (status, _, body) = api.get("/v1/event-types/caseUpdated", Some(&key)).await;
    assert_eq!(status, 200);
    let versions: Vec<&str> = body["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["v3", "v2"]);
    assert_eq!(api.get("/v1/event-types/nothing", Some(&key)).await.0, 404);
    assert_eq!(api.get("/v1/nowhere", Some(&key)).await.0, 404);
}

/// Every operation the OpenAPI document lists is routed: without a key it
/// answers 401 (the document itself 200, to anyone), never the router's
/// 404 or 405; and an answer unlike the document is caught by `conforms`.
#[tokio::test]
async fn every_documented_operation_is_routed_and_answers_are_held_to_the_document() {
    let api = serve().await;
    let doc = hubhooks::api::openapi::document();
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let concrete = path.replace("{id}", "a-1").replace("{name}", "newStatus");
        for method in item.as_object().unwrap().keys() {
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let a = api.call(m, &concrete, None, None, &[]).await;
            let public = item[method]["security"] == json!([]);
            assert_eq!(a.status, if public { 200 } else { 401 }, "{method} {path}");
            operations += 1;
        }
    }
    assert_eq!(operations, 46);
    let (_, _, served) = api.get("/v1/openapi.json", None).await;
    assert_eq!(served, doc);
    let wrong = Answer {
        status: 200,
        kind: "application/json".into(),
        headers: Default::default(),
        body: json!({"data": [{"id": 5}]}),
    };
    let e = conforms("GET", "/v1/subscriptions", &wrong, "x").unwrap_err();
    assert!(e.contains("at /data/0"), "{e}");
    let undocumented = Answer {
        status: 418,
        ..wrong
    };
    assert!(conforms("GET", "/v1/subscriptions", &undocumented, "x").is_err());
}
