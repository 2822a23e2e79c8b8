//! A party's deliveries: search, page, one with its attempts.
use super::*;

#[tokio::test]
async fn a_party_searches_its_deliveries_a_page_at_a_time_and_reads_one_with_its_attempts() {
    let api = serve().await;
    let a = api.key(Party::partner(1413), |k| k).await;
    log_attempts(
        &api,
        &[
            ("d-1", "a-1", 1, "retrying", Some(503), "busy"),
            ("d-1", "a-1", 2, "delivered", Some(200), "ok"),
            (
                "d-2",
                "a-2",
                1,
                "deadLettered",
                Some(500),
                "<script>alert(1)</script>",
            ),
            ("d-3", "b-1", 1, "delivered", Some(200), "theirs"),
        ],
    )
    .await;
    let (status, _, all) = api.get("/v1/deliveries", Some(&a)).await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(ids(&all), ["d-2", "d-1"], "newest first, only its own");
    assert_eq!(all["data"][1]["attempts"], 2);
    assert_eq!(all["data"][1]["outcome"], "delivered");
    let (_, _, failed) = api.get("/v1/deliveries?outcome=failed", Some(&a)).await;
    assert_eq!(ids(&failed), ["d-2"]);
    let (_, _, by_sub) = api.get("/v1/deliveries?subscription=a-1", Some(&a)).await;
    assert_eq!(ids(&by_sub), ["d-1"]);
    let (_, _, by_case) = api
        .get(
            "/v1/deliveries?case=68ea1505-a44f-4434-be5a-dcc959be250e",
            Some(&a),
        )
        .await;
    assert_eq!(ids(&by_case), ["d-2", "d-1"]);
    // Another party's subscription: as a missing one.
    let foreign = api.get("/v1/deliveries?subscription=b-1", Some(&a)).await;
    let missing = api.get("/v1/deliveries?subscription=nope", Some(&a)).await;
    assert_eq!((foreign.0, &foreign.2), (404, &missing.2));
    // A page at a time, by a signed cursor.
    let (_, _, first) = api.get("/v1/deliveries?limit=1", Some(&a)).await;
    assert_eq!(ids(&first), ["d-2"]);
    let cursor = first["nextCursor"].as_str().unwrap().to_owned();
    let (_, _, second) = api
        .get(&format!("/v1/deliveries?limit=1&cursor={cursor}"), Some(&a))
        .await;
    assert_eq!(ids(&second), ["d-1"]);
    assert!(second["nextCursor"].is_null());
    let mut tampered = cursor.clone();
    tampered.replace_range(0..1, if cursor.starts_with('e') { "f" } else { "e" });
    for (what, path) in [
        (
            "tampered",
            format!("/v1/deliveries?limit=1&cursor={tampered}"),
        ),
        (
            "another query",
            format!("/v1/deliveries?limit=2&cursor={cursor}"),
        ),
    ] {
        let (status, _, body) = api.get(&path, Some(&a)).await;
        assert_eq!(
            (status, body["pointer"].as_str()),
            (400, Some("/cursor")),
            "{what}"
        );
    }
    let b = api.key(Party::partner(9999), |k| k).await;
    let (status, _, _) = api
        .get(&format!("/v1/deliveries?limit=1&cursor={cursor}"), Some(&b))
        .await;
    assert_eq!(status, 400, "another party's cursor");
    // One delivery, every attempt; the receiver's answer as text.
    let (status, _, one) = api.get("/v1/deliveries/d-1", Some(&a)).await;
    assert_eq!(status, 200, "{one}");
    let log = one["attemptLog"].as_array().unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0]["status"], 503);
    assert_eq!(log[0]["answer"], "busy");
    assert_eq!(log[0]["error"], "receiver answered 503");
    assert_eq!(log[1]["outcome"], "delivered");
    assert_eq!(log[1]["durationMs"], 12);
    let (_, _, two) = api.get("/v1/deliveries/d-2", Some(&a)).await;
    assert_eq!(two["attemptLog"][0]["answer"], "<script>alert(1)</script>");
    let foreign = api.get("/v1/deliveries/d-3", Some(&a)).await;
    let missing = api.get("/v1/deliveries/d-404", Some(&a)).await;
    assert_eq!(foreign.0, 404);
    assert_eq!(foreign, missing);
}
