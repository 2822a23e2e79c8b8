//! A party's subscriptions: create, read, change, disable, enable, delete,
//! rotate the signing key.
use super::*;

#[tokio::test]
async fn a_party_creates_reads_changes_disables_enables_and_deletes_a_subscription() {
    let api = serve().await;
    let key = api.key(Party::partner(1413), |k| k).await;
    // GIVEN a new subscription
    let created = api
        .json("POST", "/v1/subscriptions", &key, a_subscription())
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("sub_"), "{id}");
    assert_eq!(
        created.headers["location"].to_str().unwrap(),
        format!("/v1/subscriptions/{id}")
    );
    // THEN its signing secret is shown once, and the stored item names
    // only secrets the API keeps for it.
    let secret = created.body["signingSecret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    let stored = api.stored(&id).await.unwrap();
    assert_eq!(
        stored["auth"],
        json!({"signingSecret": format!("api/{id}/signing"), "bearerSecret": format!("api/{id}/bearer")})
    );
    assert_eq!(stored["party"], json!({"type": "partner", "id": 1413}));
    let read = api
        .call(
            reqwest::Method::GET,
            &format!("/v1/subscriptions/{id}"),
            Some(&key),
            None,
            &[],
        )
        .await;
    assert_eq!(read.status, 200);
    assert!(read.body.get("signingSecret").is_none());
    assert!(!read.body.to_string().contains("erp-token-1"));
    assert_eq!(
        read.body["auth"],
        json!({"signing": true, "bearerToken": true, "xToken": false})
    );
    assert_eq!(read.body["enabled"], json!(true));
    let etag = read.headers["etag"].to_str().unwrap().to_owned();
    assert_eq!(created.headers["etag"].to_str().unwrap(), etag);

    // WHEN it is patched with the ETag read
    let path = format!("/v1/subscriptions/{id}");
    let patched = api
        .call(
            reqwest::Method::PATCH,
            &path,
            Some(&key),
            Some(br#"{"eventTypes": ["newStatus"], "description": null}"#.to_vec()),
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.body["eventTypes"], json!(["newStatus"]));
    assert!(patched.body.get("description").is_none());
    assert_eq!(
        patched.body["destination"]["url"],
        "https://erp.example/hooks"
    );
    let new_etag = patched.headers["etag"].to_str().unwrap().to_owned();
    assert_ne!(new_etag, etag);
    // THEN a write with the old ETag lost the race: 412, nothing changed.
    let stale = api
        .call(
            reqwest::Method::PUT,
            &path,
            Some(&key),
            Some(a_subscription().to_string().into_bytes()),
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!(stale.status, 412, "{}", stale.body);
    assert_eq!(stale.kind, "application/problem+json");
    assert_eq!(
        api.stored(&id).await.unwrap()["eventTypes"],
        json!(["newStatus"])
    );
    // A replace with the current one is taken.
    let replaced = api
        .call(
            reqwest::Method::PUT,
            &path,
            Some(&key),
            Some(a_subscription().to_string().into_bytes()),
            &[("if-match", &new_etag)],
        )
        .await;
    assert_eq!(replaced.status, 200, "{}", replaced.body);
    assert_eq!(
        replaced.body["eventTypes"],
        json!(["newStatus", "newMessage"])
    );

    // Disable with a reason, then enable: the reason shows, then goes.
    let disabled = api
        .json(
            "POST",
            &format!("{path}/disable"),
            &key,
            json!({"reason": "ERP maintenance"}),
        )
        .await;
    assert_eq!(disabled.status, 200, "{}", disabled.body);
    assert_eq!(disabled.body["enabled"], json!(false));
    assert_eq!(disabled.body["disabledReason"], "ERP maintenance");
    assert!(disabled.body["disabledAt"].is_string());
    let enabled = api
        .call(
            reqwest::Method::POST,
            &format!("{path}/enable"),
            Some(&key),
            None,
            &[],
        )
        .await;
    assert_eq!(enabled.status, 200, "{}", enabled.body);
    assert_eq!(enabled.body["enabled"], json!(true));
    assert!(enabled.body.get("disabledReason").is_none());

    // Delete: gone, with the secrets the API kept for it.
    let deleted = api
        .call(reqwest::Method::DELETE, &path, Some(&key), None, &[])
        .await;
    assert_eq!(deleted.status, 204);
    assert!(api.stored(&id).await.is_none());
    assert_eq!(api.get(&path, Some(&key)).await.0, 404);
    let secrets = hubhooks::adapters::secrets::SecretAdmin::new(
        api.stack.ddb.clone(),
        api.stack.stack.secrets_table.clone(),
    )
    .list()
    .await
    .unwrap();
    assert!(secrets.iter().all(|s| !s.name.contains(&id)), "{secrets:?}");
}

#[tokio::test]
async fn a_party_rotates_its_signing_key_with_a_grace_period_it_picks() {
    let api = serve().await;
    let a = api.key(Party::partner(1413), |k| k).await;
    let created = api
        .json("POST", "/v1/subscriptions", &a, a_subscription())
        .await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let first = created.body["signingSecret"].as_str().unwrap().to_owned();
    let path = format!("/v1/subscriptions/{id}/secret/rotate");
    let too_long = api
        .json("POST", &path, &a, json!({"graceSeconds": 604_801}))
        .await;
    assert_eq!(
        (too_long.status, too_long.body["pointer"].as_str()),
        (422, Some("/graceSeconds"))
    );
    let rotated = api
        .json("POST", &path, &a, json!({"graceSeconds": 3600}))
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let new = rotated.body["signingSecret"].as_str().unwrap().to_owned();
    assert!(new.starts_with("whsec_") && new != first);
    let retire = Timestamp::parse(rotated.body["previousKeyRetiresAt"].as_str().unwrap()).unwrap();
    let in_an_hour = Timestamp::now().0 + chrono::Duration::hours(1);
    assert!((retire.0 - in_an_hour).num_seconds().abs() < 60, "{retire}");
    // Both keys sign until then, the new one first (the sender's reading).
    use hubhooks::ports::SecretStore;
    let held = hubhooks::adapters::dynamo::DynamoSecrets::new(
        api.stack.ddb.clone(),
        api.stack.stack.secrets_table.clone(),
    )
    .secret(&format!("api/{id}/signing"))
    .await
    .unwrap()
    .unwrap();
    assert_eq!(held, [new, first]);
    // Another party: as a missing subscription; an operator's shared key:
    // refused.
    let b = api.key(Party::partner(9999), |k| k).await;
    let foreign = api.json("POST", &path, &b, json!({})).await;
    assert_eq!(foreign.status, 404);
}

/// A create with an `Idempotency-Key` happens once: the same key and body
/// get the first answer (the same id and signing key), another body with
/// the key is refused, a refused create frees its key, and keys are each
/// party's own.
#[tokio::test]
async fn a_create_with_an_idempotency_key_happens_once() {
    let api = serve().await;
    let a = api.key(Party::partner(1413), |k| k).await;
    let post = |key: String, body: Value, idem: &'static str| {
        let api = &api;
        async move {
            api.call(
                reqwest::Method::POST,
                "/v1/subscriptions",
                Some(&key),
                Some(body.to_string().into_bytes()),
                &[("idempotency-key", idem)],
            )
            .await
        }
    };
    let first = post(a.clone(), a_subscription(), "order-7").await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert!(first.headers.get("idempotent-replayed").is_none());
    let again = post(a.clone(), a_subscription(), "order-7").await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(again.body, first.body, "the same id and signing key");
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.headers["location"], first.headers["location"]);
    assert_eq!(again.headers["etag"], first.headers["etag"]);
    let (_, _, listed) = api.get("/v1/subscriptions", Some(&a)).await;
    assert_eq!(ids(&listed).len(), 3, "a-1, a-2 and one new: {listed}");
    // The key with another body: refused, nothing made.
    let mut other = a_subscription();
    other["description"] = json!("another");
    let reused = post(a.clone(), other, "order-7").await;
    assert_eq!(reused.status, 422, "{}", reused.body);
    assert!(
        reused.body["detail"]
            .as_str()
            .unwrap()
            .contains("another request")
    );
    // A refused create frees its key for the corrected one.
    let mut bad = a_subscription();
    bad["eventTypes"] = json!(["newThing"]);
    assert_eq!(post(a.clone(), bad, "order-8").await.status, 422);
    assert_eq!(
        post(a.clone(), a_subscription(), "order-8").await.status,
        201
    );
    // Another party's same key is its own.
    let b = api.key(Party::partner(9999), |k| k).await;
    let theirs = post(b, a_subscription(), "order-7").await;
    assert_eq!(theirs.status, 201, "{}", theirs.body);
    assert_ne!(theirs.body["id"], first.body["id"]);
    // A key that is no key.
    let long: &'static str = Box::leak("k".repeat(256).into_boxed_str());
    assert_eq!(post(a.clone(), a_subscription(), long).await.status, 400);
    let (_, _, listed) = api.get("/v1/subscriptions", Some(&a)).await;
    assert_eq!(ids(&listed).len(), 4, "{listed}");
}

/// A party chooses its receiver's signature scheme over the API as in
/// config: echoed back, refused naming the field when it cannot be sent.
#[tokio::test]
async fn a_party_sets_a_migration_signature_scheme() {
    let api = serve().await;
    let key = api.key(Party::partner(1413), |k| k).await;
    let made =
        new_status_subscription(&api, &key, json!({"signature": {"format": "hmacSha256"}})).await;
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!(
        made.body["signature"],
        json!({"format": "hmacSha256", "header": "X-Hub-Signature-256",
               "encoding": "hex", "prefix": "sha256="})
    );
    let path = format!("/v1/subscriptions/{}", made.body["id"].as_str().unwrap());
    let bad = api
        .json(
            "PATCH",
            &path,
            &key,
            json!({"signature": {"format": "hmacSha256", "header": "webhook-id"}}),
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert_eq!(bad.body["pointer"], "/signature/header");
    let back = api
        .json("PATCH", &path, &key, json!({"signature": null}))
        .await;
    assert_eq!(back.status, 200, "{}", back.body);
    assert_eq!(back.body.get("signature"), None);
}

#[tokio::test]
async fn a_party_sets_its_own_retry_schedule_within_the_bounds() {
    let api = serve().await;
    let key = api.key(Party::partner(1413), |k| k).await;
    let made = new_status_subscription(&api, &key, json!({"retry": [10, 60, 600]})).await;
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!(made.body["retry"], json!([10, 60, 600]));
    let path = format!("/v1/subscriptions/{}", made.body["id"].as_str().unwrap());
    let bad = api
        .json("PATCH", &path, &key, json!({"retry": [10, 86400]}))
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert_eq!(bad.body["pointer"], "/retry/1");
    assert_eq!(
        bad.body["detail"],
        "86400 s is outside 1 … 43200 s (12 h, the longest SQS hides a message)"
    );
    let too_many = api
        .json("PATCH", &path, &key, json!({"retry": vec![60; 20]}))
        .await;
    assert_eq!(too_many.status, 422, "{}", too_many.body);
    assert_eq!(too_many.body["pointer"], "/retry");
}

#[tokio::test]
async fn a_party_filters_its_webhooks_and_a_path_its_types_lack_is_refused() {
    let api = serve().await;
    let key = api.key(Party::partner(1413), |k| k).await;
    let made = new_status_subscription(
        &api,
        &key,
        json!({"filter": {"path": "key", "in": ["final", "arrived"]}}),
    )
    .await;
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!(
        made.body["filter"],
        json!({"path": "key", "in": ["final", "arrived"]})
    );
    let bad = new_status_subscription(
        &api,
        &key,
        json!({"filter": {"any": [{"path": "key", "equals": "final"},
                                      {"path": "orderData.region", "equals": "north"}]}}),
    )
    .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert_eq!(bad.body["pointer"], "/filter/any/1/path");
    assert_eq!(
        bad.body["detail"],
        "`orderData.region` is not in a newStatus v3 webhook: `orderData` is not in the body (there: caseId, createdAt, declaredAt, guid, id, key, name, updatedAt)"
    );
}

/// Creates a subscription to new statuses at https://x.example/ with
/// `extra` fields; the answer.
async fn new_status_subscription(api: &Api, key: &str, extra: Value) -> Answer {
    let mut body = json!({"eventTypes": ["newStatus"],
                          "destination": {"method": "POST", "url": "https://x.example/"}});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    api.json("POST", "/v1/subscriptions", key, body).await
}

/// A party gives its token endpoint's client credentials: the secret is
/// kept write-only under the subscription's own name, never shown, kept
/// when a change leaves it out, and a bearer token replaces OAuth2.
#[tokio::test]
async fn a_party_sets_oauth2_client_credentials_whose_secret_is_write_only() {
    use hubhooks::ports::SecretStore;
    let api = serve().await;
    let key = api.key(Party::partner(1413), |k| k).await;
    let grant = |secret: Option<&str>| {
        let mut g = json!({"tokenUrl": "https://login.acme.example/oauth/token",
                           "clientId": "hubhooks", "scopes": ["webhooks.write"]});
        if let Some(s) = secret {
            g["clientSecret"] = json!(s);
        }
        json!({"auth": {"oauth2": g}})
    };
    let first = new_status_subscription(&api, &key, grant(None)).await;
    assert_eq!(first.status, 422, "{}", first.body);
    assert_eq!(first.body["pointer"], "/auth/oauth2/clientSecret");

    let made = new_status_subscription(&api, &key, grant(Some("cl1ent-s3cret"))).await;
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!(
        made.body["auth"],
        json!({"signing": true, "bearerToken": false, "xToken": false,
               "oauth2": {"tokenUrl": "https://login.acme.example/oauth/token",
                          "clientId": "hubhooks", "scopes": ["webhooks.write"], "clientAuth": "basic"}})
    );
    assert!(!made.body.to_string().contains("cl1ent-s3cret"));
    let id = made.body["id"].as_str().unwrap().to_owned();
    let name = format!("api/{id}/oauth2-client");
    let stored = api.stored(&id).await.unwrap();
    assert_eq!(stored["auth"]["oauth2"]["clientSecret"], json!(name));
    let secrets = hubhooks::adapters::dynamo::DynamoSecrets::new(
        api.stack.ddb.clone(),
        api.stack.stack.secrets_table.clone(),
    );
    assert_eq!(
        secrets.secret(&name).await.unwrap(),
        Some(vec!["cl1ent-s3cret".to_owned()])
    );

    // A change that leaves the secret out keeps it; an http token URL is refused.
    let path = format!("/v1/subscriptions/{id}");
    let mut scopes = grant(None);
    scopes["auth"]["oauth2"]["scopes"] = json!(["webhooks.write", "cases.read"]);
    let changed = api.json("PATCH", &path, &key, scopes).await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(
        changed.body["auth"]["oauth2"]["scopes"],
        json!(["webhooks.write", "cases.read"])
    );
    assert_eq!(
        secrets.secret(&name).await.unwrap(),
        Some(vec!["cl1ent-s3cret".to_owned()])
    );
    let mut plain = grant(None);
    plain["auth"]["oauth2"]["tokenUrl"] = json!("http://login.acme.example/token");
    let refused = api.json("PATCH", &path, &key, plain).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_eq!(refused.body["pointer"], "/auth/oauth2/tokenUrl");

    // One Authorization at a time: a bearer token replaces OAuth2.
    let bearer = api
        .json(
            "PATCH",
            &path,
            &key,
            json!({"auth": {"bearerToken": "t0ken"}}),
        )
        .await;
    assert_eq!(bearer.status, 200, "{}", bearer.body);
    assert_eq!(bearer.body["auth"]["bearerToken"], json!(true));
    assert_eq!(bearer.body["auth"].get("oauth2"), None);
}
