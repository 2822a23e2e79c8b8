//! Another party's ids, on every route: 404 as a missing one, nothing changed.
use super::*;

/// Party A's key on party B's subscription and delivery, over every route
/// that takes an id: 404 as for a missing id, nothing of B's changes and
/// nothing is sent.
#[tokio::test]
async fn another_partys_ids_are_not_found_on_every_route_and_unchanged() {
    let api = serve().await;
    let a = api.key(Party::partner(1413), |k| k).await;
    log_attempts(&api, &[("d-b", "b-1", 1, "delivered", Some(200), "ok")]).await;
    let before = api.stored("b-1").await.unwrap();
    let hour_ago = Timestamp(Timestamp::now().0 - chrono::Duration::hours(1));
    let replay = json!({"since": hour_ago.to_contract_string()})
        .to_string()
        .into_bytes();
    let body = a_subscription().to_string().into_bytes();
    let reason = br#"{"reason": "x"}"#.to_vec();
    let routes: Vec<(reqwest::Method, &str, Option<Vec<u8>>)> = vec![
        (reqwest::Method::GET, "/v1/subscriptions/{id}", None),
        (
            reqwest::Method::PUT,
            "/v1/subscriptions/{id}",
            Some(body.clone()),
        ),
        (
            reqwest::Method::PATCH,
            "/v1/subscriptions/{id}",
            Some(b"{}".to_vec()),
        ),
        (reqwest::Method::DELETE, "/v1/subscriptions/{id}", None),
        (reqwest::Method::POST, "/v1/subscriptions/{id}/enable", None),
        (
            reqwest::Method::POST,
            "/v1/subscriptions/{id}/disable",
            Some(reason),
        ),
        (
            reqwest::Method::POST,
            "/v1/subscriptions/{id}/secret/rotate",
            Some(b"{}".to_vec()),
        ),
        (
            reqwest::Method::POST,
            "/v1/subscriptions/{id}/test",
            Some(b"{}".to_vec()),
        ),
        (
            reqwest::Method::POST,
            "/v1/subscriptions/{id}/replay",
            Some(replay),
        ),
        (
            reqwest::Method::GET,
            "/v1/deliveries?subscription={id}",
            None,
        ),
        (reqwest::Method::GET, "/v1/deliveries/{delivery}", None),
        (
            reqwest::Method::POST,
            "/v1/deliveries/{delivery}/resend",
            None,
        ),
    ];
    let queue = api.stack.stack.delivery_queue_url.clone();
    let mut cases = 0;
    for (method, route, body) in routes {
        let foreign = api
            .call(
                method.clone(),
                &route.replace("{id}", "b-1").replace("{delivery}", "d-b"),
                Some(&a),
                body.clone(),
                &[],
            )
            .await;
        let missing = api
            .call(
                method.clone(),
                &route
                    .replace("{id}", "nope")
                    .replace("{delivery}", "d-nope"),
                Some(&a),
                body,
                &[],
            )
            .await;
        assert_eq!(foreign.status, 404, "{method} {route}: {}", foreign.body);
        assert_eq!(
            (foreign.kind, foreign.body),
            (missing.kind, missing.body),
            "{method} {route}"
        );
        assert_eq!(api.stored("b-1").await.unwrap(), before, "{method} {route}");
        assert_eq!(
            api.stack.depth(&queue).await.unwrap(),
            0,
            "{method} {route}"
        );
        cases += 1;
    }
    assert_eq!(cases, 12);
}
