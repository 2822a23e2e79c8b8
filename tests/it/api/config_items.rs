//! `/v1/admin/config-items`: an operator writes any party's status
//! mappings, black lists, notice destinations and subscriptions by the
//! rules of `hubhooks config put` — each refusal naming its field, a
//! conflict with a stored item refused, a missing secret refused, a lost
//! race 412, a subscription's operational state kept — and lists, reads
//! and deletes them.
use super::*;

const PATH: &str = "/v1/admin/config-items";

fn mapping(id: &str, from: &str) -> Value {
    json!({"id": id, "kind": "statusMapping", "partnerId": 1413, "providerId": 1004,
           "statuses": {from: {"key": "accepted", "name": "Accepted"}}})
}

async fn put(api: &Api, id: &str, item: Value, if_match: Option<&str>) -> Answer {
    let headers: Vec<(&str, &str)> = if_match.map(|t| ("if-match", t)).into_iter().collect();
    api.call(
        reqwest::Method::PUT,
        &format!("{PATH}/{id}"),
        Some(OPERATOR),
        Some(item.to_string().into_bytes()),
        &headers,
    )
    .await
}

fn etag(a: &Answer) -> String {
    a.headers["etag"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_operator_writes_any_partys_config_items_by_the_rules_of_config_put() {
    let api = serve().await;

    // WHEN an operator puts a status mapping for partner 1413
    let made = put(&api, "map-1413", mapping("map-1413", "ACCEPTED"), None).await;
    // THEN it is made, stored as sent, with its location and tag
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!(made.headers["location"], "/v1/admin/config-items/map-1413");
    assert_eq!(made.body["kind"], "statusMapping");
    assert_eq!(
        Value::Object(made.body["item"].as_object().unwrap().clone()),
        mapping("map-1413", "ACCEPTED")
    );
    assert!(made.body.get("problem").is_none());
    let mut stored = api.stored("map-1413").await.unwrap();
    stored.as_object_mut().unwrap().remove("revision");
    assert_eq!(stored, mapping("map-1413", "ACCEPTED"));

    // AND a second mapping of the same key for the same partner and
    // provider is refused, naming the field, and not written
    let clash = put(&api, "map-2", mapping("map-2", "ACCEPTED"), None).await;
    assert_eq!(clash.status, 422, "{}", clash.body);
    assert_eq!(clash.body["pointer"], "/statuses/ACCEPTED");
    assert!(api.stored("map-2").await.is_none());

    // AND a replace under a stale tag is 412, under the current one 200
    let tag = etag(&made);
    let changed = mapping("map-1413", "DONE");
    let stale = put(&api, "map-1413", changed.clone(), Some("\"old\"")).await;
    assert_eq!(stale.status, 412);
    let replaced = put(&api, "map-1413", changed.clone(), Some(&tag)).await;
    assert_eq!(replaced.status, 200, "{}", replaced.body);
    assert_ne!(etag(&replaced), tag);
    assert_eq!(replaced.body["item"]["statuses"], changed["statuses"]);

    // AND a notice destination naming a secret that does not exist is
    // refused until the secret is made
    let notices = json!({"id": "notices-9999", "kind": "noticeDestination",
        "party": {"type": "partner", "id": 9999},
        "destination": {"method": "POST", "url": "https://ops.example/notices"},
        "auth": {"signingSecret": "ops-9999-signing"}});
    let missing = put(&api, "notices-9999", notices.clone(), None).await;
    assert_eq!(missing.status, 422, "{}", missing.body);
    assert_eq!(missing.body["pointer"], "/auth/signingSecret");
    assert!(
        missing.body["detail"]
            .as_str()
            .unwrap()
            .contains("secret `ops-9999-signing` does not exist")
    );
    hubhooks::adapters::secrets::SecretAdmin::new(
        api.stack.ddb.clone(),
        api.stack.stack.secrets_table.clone(),
    )
    .generate("ops-9999-signing", Timestamp::now())
    .await
    .unwrap();
    tokio::time::sleep(std::time::Duration::from_secs(3)).await; // past the cached absence
    let made = put(&api, "notices-9999", notices, None).await;
    assert_eq!(made.status, 201, "{}", made.body);

    // AND a subscription keeps its operational state when replaced
    let disabled = api
        .json(
            "POST",
            "/v1/admin/subscriptions/b-1/disable",
            OPERATOR,
            json!({"reason": "ERP down"}),
        )
        .await;
    assert_eq!(disabled.status, 200, "{}", disabled.body);
    let b1 = json!({"id": "b-1", "kind": "subscription", "party": {"type": "partner", "id": 9999},
        "eventTypes": ["newStatus", "newMessage"],
        "destination": {"method": "POST", "url": "https://x.example/"}});
    let kept = put(&api, "b-1", b1, None).await;
    assert_eq!(kept.status, 200, "{}", kept.body);
    assert_eq!(kept.body["item"]["disabledReason"], "ERP down");
    assert_eq!(
        kept.body["item"]["eventTypes"],
        json!(["newStatus", "newMessage"])
    );

    // AND what cannot be written is named, field by field, and not written
    let refusals = [
        (
            json!({"id": "other", "kind": "blackList", "party": {"type": "partner", "id": 1}, "keys": ["x"]}),
            "/id",
        ),
        (json!({"id": "bad", "kind": "whiteList"}), "/kind"),
        (
            json!({"id": "bad", "kind": "blackList", "party": {"type": "partner", "id": 1}, "keys": ["x"], "colour": 1}),
            "/colour",
        ),
        (
            json!({"id": "bad", "kind": "subscription", "party": {"type": "partner", "id": 1}, "eventTypes": ["newStatus"],
                "destination": {"method": "POST", "url": "http://169.254.169.254/latest"}}),
            "/destination/url",
        ),
    ];
    for (item, pointer) in refusals {
        let a = put(&api, "bad", item.clone(), None).await;
        assert_eq!(
            (a.status, &a.body["pointer"]),
            (422, &json!(pointer)),
            "{item}: {}",
            a.body
        );
    }
    assert!(api.stored("bad").await.is_none());

    // WHEN the operator lists by kind and by party
    let list = |q: &'static str| {
        let api = &api;
        async move { api.get(&format!("{PATH}?{q}"), Some(OPERATOR)).await }
    };
    // THEN each list holds what it asks for, by id
    assert_eq!(ids(&list("kind=statusMapping").await.2), ["map-1413"]);
    assert_eq!(ids(&list("party=provider:1004").await.2), ["map-1413"]);
    assert_eq!(
        ids(&list("party=partner:9999").await.2),
        ["b-1", "notices-9999"]
    );
    assert_eq!(
        ids(&list("limit=2").await.2),
        ["a-1", "a-2"],
        "a page at a time"
    );
    let bad = list("kind=nope").await;
    assert_eq!((bad.0, &bad.2["pointer"]), (422, &json!("/kind")));

    // WHEN it deletes the mapping
    let gone = api
        .call(
            reqwest::Method::DELETE,
            &format!("{PATH}/map-1413"),
            Some(OPERATOR),
            None,
            &[],
        )
        .await;
    // THEN it is gone
    assert_eq!(gone.status, 204);
    assert!(api.stored("map-1413").await.is_none());
    assert_eq!(
        api.get(&format!("{PATH}/map-1413"), Some(OPERATOR)).await.0,
        404
    );
}
